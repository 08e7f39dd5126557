package api

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/store"
)

// FieldProperties encoded once per role read exactly as the map they
// stand for, inside a TicketInfo too.
func TestFieldPropertiesEncodedOnce(t *testing.T) {
	for _, role := range []store.Role{store.RoleAdmin, store.RoleImport, ""} {
		want, err := json.Marshal(struct {
			Title           string
			FieldProperties map[string]FieldProperty
		}{"t", fieldProperties(role)})
		if err != nil {
			t.Fatal(err)
		}
		fp := fieldPropertiesOf(role)
		got, err := json.Marshal(struct {
			Title           string
			FieldProperties *fieldProps
		}{"t", fp})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("role %q:\n got %s\nwant %s", role, got, want)
		}
		if again := fieldPropertiesOf(role); again != fp {
			t.Errorf("role %q: encoded again", role)
		}
	}
	got, err := json.Marshal(infoDoc{})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"TicketId":null,"Title":null,"OwnerName":null,"CategoryName":null,"PriorityName":null,"TicketUrl":null,"PersonName":null,"ContactName":null,"TableRight":null,"FieldProperties":null}`; string(got) != want {
		t.Errorf("empty TicketInfo %s, want %s", got, want)
	}
}

// TestInfoJSONAsEncodingJSON holds the hand-written TicketInfo encoder to
// encoding/json's Encoder, byte for byte but for how U+FFFD is written,
// on random documents: strings of control characters, quotes, HTML
// characters, U+2028, invalid UTF-8.
func TestInfoJSONAsEncodingJSON(t *testing.T) {
	rnd := rand.New(rand.NewPCG(6, 7))
	pool := []string{"a", "Z", " ", "\"", "\\", "/", "<", ">", "&", "\x00", "\x01", "\x1f", "\b", "\f", "\n", "\r", "\t", "\x7f",
		"é", "€", "😀", "\u2028", "\u2029", "\xff", "\xe2\x82", "\xed\xa0\x80", "\u00a0", "\ufeff", "'"}
	str := func() *string {
		if rnd.IntN(5) == 0 {
			return nil
		}
		var sb strings.Builder
		for range rnd.IntN(12) {
			sb.WriteString(pool[rnd.IntN(len(pool))])
		}
		s := sb.String()
		return &s
	}
	roles := []store.Role{store.RoleAdmin, store.RoleImport, ""}
	for i := range 20000 {
		var d infoDoc
		if rnd.IntN(4) != 0 {
			id := rnd.Int64() - rnd.Int64()
			d.TicketId = &id
		}
		d.Title, d.OwnerName, d.CategoryName, d.PriorityName = str(), str(), str(), str()
		d.TicketUrl, d.PersonName, d.ContactName = str(), str(), str()
		if m, r := str(), str(); m != nil && r != nil {
			d.TableRight = &Right{Mask: *m, Reason: *r}
		}
		if rnd.IntN(3) != 0 {
			d.FieldProperties = fieldPropertiesOf(roles[rnd.IntN(len(roles))])
		}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(d); err != nil {
			t.Fatal(err)
		}
		// Go 1.26 escapes the U+FFFD that stands for invalid UTF-8,
		// 1.27 writes the character: the same JSON.
		got := d.appendJSON(nil)
		if norm := strings.NewReplacer(`\ufffd`, "\ufffd"); norm.Replace(string(got)) != norm.Replace(want.String()) {
			t.Fatalf("document %d:\n got %q\nwant %q", i, got, want.String())
		}
	}
}
