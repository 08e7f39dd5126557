package api

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

var infoKeys = []string{"TicketId", "Title", "OwnerName", "CategoryName", "PriorityName", "TicketUrl",
	"PersonName", "ContactName", "TableRight", "FieldProperties"}

// xmlEscape escapes s for XML character data.
func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func TestCreateEveryRequestForm(t *testing.T) {
	e := shared(t)
	cases := []struct {
		name, ctype, path string
		body              func(data string) string
	}{
		{"json", "application/json", createPath, func(d string) string { return jsonBody(607, d) }},
		{"json camelCase", "application/json; charset=utf-8", createPath, func(d string) string {
			return strings.Replace(strings.Replace(jsonBody(607, d), `"MailboxId"`, `"mailboxId"`, 1), `"Data"`, `"data"`, 1)
		}},
		{"json string id and PersonId 0", "application/json", createPath, func(d string) string {
			return strings.Replace(jsonBody(607, d), `"MailboxId":607`, `"MAILBOXID":"607","personId":0`, 1)
		}},
		{"text/json", "text/json", createPath, func(d string) string { return jsonBody(607, d) }},
		{"application/xml", "application/xml", createPath, func(d string) string {
			return `<?xml version="1.0" encoding="utf-8"?><CreateTicketFromMailData><MailboxId>607</MailboxId><Data>` + xmlEscape(d) + `</Data></CreateTicketFromMailData>`
		}},
		{"text/xml camelCase", "text/xml", createPath, func(d string) string {
			return `<request xmlns="http://www.superoffice.net/ws/crm/NetServer"><mailboxId>607</mailboxId><data>` + xmlEscape(d) + `</data><personId>0</personId></request>`
		}},
		{"form", "application/x-www-form-urlencoded", createPath, func(d string) string {
			return url.Values{"mailboxId": {"607"}, "Data": {d}}.Encode()
		}},
		{"rfc822", "message/rfc822", createPath + "?MailboxId=607", func(d string) string { return d }},
		{"rfc822 camelCase query", "message/rfc822", createPath + "?mailboxId=607", func(d string) string { return d }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			subject := "Printer on fire via " + c.name
			r := e.do(t, req{path: c.path, ctype: c.ctype, auth: e.admin, body: c.body(mail("Jane Doe <jane@customer.example>", subject))})
			if r.code != http.StatusOK {
				t.Fatalf("status %d: %s", r.code, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			info := decodeInfo(t, r.body)
			for _, k := range infoKeys {
				if v, ok := info[k]; !ok || v == nil {
					t.Errorf("%s missing or null in %s", k, r.body)
				}
			}
			id, _ := info["TicketId"].(float64)
			want := map[string]any{
				"Title": subject, "CategoryName": "Technical Support", "PriorityName": "Medium",
				"OwnerName": "Sarah Johnson", "PersonName": "Jane Doe",
				"TicketUrl": fmt.Sprintf("%s/ticket/%d", e.srv.URL, int64(id)),
			}
			for k, v := range want {
				if info[k] != v {
					t.Errorf("%s = %v, want %v", k, info[k], v)
				}
			}
			if id <= 0 {
				t.Errorf("TicketId = %v", info["TicketId"])
			}
			if got := r.header.Get("X-Postdesk-Outcome"); got != "created" {
				t.Errorf("X-Postdesk-Outcome = %q", got)
			}
		})
	}
}

func TestDuplicateReturnsFirstTicket(t *testing.T) {
	e := shared(t)
	m := mail("dup@customer.example", "Same mail twice")
	first := decodeInfo(t, e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: jsonBody(607, m)}).body)
	r := e.do(t, req{path: createPath + "?MailboxId=607", ctype: "message/rfc822", auth: e.admin, body: m})
	if r.code != http.StatusOK || decodeInfo(t, r.body)["TicketId"] != first["TicketId"] || r.header.Get("X-Postdesk-Outcome") != "duplicate" {
		t.Fatalf("second import: %d %s %s, first %v", r.code, r.header.Get("X-Postdesk-Outcome"), r.body, first["TicketId"])
	}
}

func TestResponseXML(t *testing.T) {
	e := shared(t)
	for _, accept := range []string{"application/xml", "text/xml", "application/json;q=0.5, application/xml"} {
		t.Run(accept, func(t *testing.T) {
			r := e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin,
				body:   jsonBody(607, mail("xml@customer.example", "Answer in XML <&>")),
				header: map[string]string{"Accept": accept}})
			if r.code != http.StatusOK {
				t.Fatalf("status %d: %s", r.code, r.body)
			}
			wantType := "application/xml"
			if accept == "text/xml" {
				wantType = "text/xml"
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, wantType) {
				t.Errorf("Content-Type %q, want %s", ct, wantType)
			}
			var doc struct {
				XMLName      xml.Name
				TicketId     int64
				Title        string
				CategoryName string
				TableRight   struct{ Mask, Reason string }
				FieldProps   struct {
					Title struct {
						FieldRight  struct{ Mask string }
						FieldType   string
						FieldLength int
					}
					TicketId struct{ FieldType string }
				} `xml:"FieldProperties"`
			}
			if err := xml.Unmarshal([]byte(r.body), &doc); err != nil {
				t.Fatalf("not XML: %v\n%s", err, r.body)
			}
			if doc.XMLName.Local != "TicketInfo" || doc.TicketId <= 0 || doc.Title != "Answer in XML <&>" ||
				doc.CategoryName != "Technical Support" || doc.TableRight.Mask != "FULL" ||
				doc.FieldProps.Title.FieldRight.Mask != "Read, Update" || doc.FieldProps.Title.FieldType != "System.String" ||
				doc.FieldProps.Title.FieldLength != 255 || doc.FieldProps.TicketId.FieldType != "System.Int32" {
				t.Errorf("XML TicketInfo = %+v\n%s", doc, r.body)
			}
			for _, k := range infoKeys {
				if !strings.Contains(r.body, "<"+k+">") {
					t.Errorf("element %s missing", k)
				}
			}
		})
	}
}

func TestSelectNullsUnselectedFields(t *testing.T) {
	e := shared(t)
	r := e.do(t, req{path: createPath + "?$select=" + url.QueryEscape("title, TICKETID,category/id"), ctype: "application/json", auth: e.admin,
		body: jsonBody(607, mail("sel@customer.example", "Select me"))})
	if r.code != http.StatusOK {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	info := decodeInfo(t, r.body)
	for _, k := range infoKeys {
		v, present := info[k]
		if !present {
			t.Errorf("%s removed; unselected fields must be null", k)
			continue
		}
		selected := k == "Title" || k == "TicketId" || k == "CategoryName"
		if selected && v == nil {
			t.Errorf("selected %s is null", k)
		}
		if !selected && v != nil {
			t.Errorf("unselected %s = %v, want null", k, v)
		}
	}

	r = e.do(t, req{path: createPath + "?$select=TicketId", ctype: "application/json", auth: e.admin,
		body: jsonBody(607, mail("sel@customer.example", "Select in XML")), header: map[string]string{"Accept": "application/xml"}})
	if r.code != http.StatusOK || !strings.Contains(r.body, `<Title xsi:nil="true"></Title>`) || strings.Contains(r.body, `<TicketId xsi:nil`) {
		t.Errorf("XML $select: %d %s", r.code, r.body)
	}
}

func TestRightsFollowRole(t *testing.T) {
	e := shared(t)
	for _, c := range []struct {
		auth, table, title, id string
	}{
		{e.admin, "FULL", "Read, Update", "Read, UIHintReadOnly"},
		{e.importer, "Insert", "Read, UIHintReadOnly", "Read, UIHintReadOnly"},
	} {
		r := e.do(t, req{path: createPath, ctype: "application/json", auth: c.auth, body: jsonBody(607, mail("rights@customer.example", "Rights"))})
		if r.code != http.StatusOK {
			t.Fatalf("status %d: %s", r.code, r.body)
		}
		info := decodeInfo(t, r.body)
		tr := info["TableRight"].(map[string]any)
		fp := info["FieldProperties"].(map[string]any)
		title := fp["Title"].(map[string]any)["FieldRight"].(map[string]any)
		id := fp["TicketId"].(map[string]any)["FieldRight"].(map[string]any)
		if tr["Mask"] != c.table || title["Mask"] != c.title || id["Mask"] != c.id {
			t.Errorf("rights = %v / %v / %v, want %s / %s / %s", tr, title, id, c.table, c.title, c.id)
		}
		if len(fp) != 8 {
			t.Errorf("FieldProperties has %d fields, want the 8 data fields: %v", len(fp), fp)
		}
	}
}

func TestPersonId(t *testing.T) {
	e := shared(t)
	r := e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin,
		body: `{"MailboxId":607,"PersonId":999999,"Data":` + quote(mail("p@customer.example", "Unknown person")) + `}`})
	if r.code != http.StatusBadRequest {
		t.Fatalf("unknown PersonId: %d %s", r.code, r.body)
	}
	errorOf(t, r)

	first := decodeInfo(t, e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin,
		body: jsonBody(607, mail("Known Person <known@customer.example>", "First"))}).body)
	tk := e.do(t, req{method: http.MethodGet, path: fmt.Sprintf("/api/v1/Ticket/%d", int64(first["TicketId"].(float64))), auth: e.admin})
	var pid int64
	if _, err := fmt.Sscanf(tk.body[strings.Index(tk.body, `"PersonId":`):], `"PersonId":%d`, &pid); err != nil || pid <= 0 {
		t.Fatalf("PersonId of ticket: %v in %s", err, tk.body)
	}
	r = e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin,
		body: fmt.Sprintf(`{"mailboxId":607,"personId":%d,"data":%s}`, pid, quote(mail("someone.else@other.example", "On behalf")))})
	if r.code != http.StatusOK || decodeInfo(t, r.body)["PersonName"] != "Known Person" {
		t.Errorf("PersonId %d: %d %s", pid, r.code, r.body)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
