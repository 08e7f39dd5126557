package api

import (
	"encoding/json"
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
