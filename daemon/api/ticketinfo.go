package api

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/postdesk/postdesk/internal/jsonenc"
	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/ticket"
)

// infoFields are TicketInfo's properties in SuperOffice's order, with the
// .NET type and length FieldProperties reports.
var infoFields = []struct {
	name   string
	typ    string
	length int
	system bool // set by postdesk, never updatable
}{
	{"TicketId", "System.Int32", 0, true},
	{"Title", "System.String", 255, false},
	{"OwnerName", "System.String", 255, false},
	{"CategoryName", "System.String", 255, false},
	{"PriorityName", "System.String", 255, false},
	{"TicketUrl", "System.String", 2048, true},
	{"PersonName", "System.String", 255, false},
	{"ContactName", "System.String", 255, false},
	{"TableRight", "", 0, true},
	{"FieldProperties", "", 0, true},
}

// Right is SuperOffice's rights pair: a flag mask by name and why it is
// restricted.
type Right struct {
	Mask   string `json:"Mask" xml:"Mask"`
	Reason string `json:"Reason" xml:"Reason"`
}

// FieldProperty describes one field's rights and type.
type FieldProperty struct {
	FieldRight  Right  `json:"FieldRight" xml:"FieldRight"`
	FieldType   string `json:"FieldType" xml:"FieldType"`
	FieldLength int    `json:"FieldLength" xml:"FieldLength"`
}

// Masks use SuperOffice's flag names, combined as it prints flags
// ("Select, Update"): ETableRight Select, Update, Insert, Delete, Filtering,
// RestrictedUpdate, all of them "FULL"; EFieldRight Read, Update,
// UIHintMandatory, UIHintReadOnly.

// tableRight is the TableRight of a ticket for role: an admin has every
// right; the import role may only insert (create tickets by import) and
// sees the TicketInfo of what it created.
func tableRight(role store.Role) Right {
	switch role {
	case store.RoleAdmin:
		return Right{Mask: "FULL"}
	case store.RoleImport:
		return Right{Mask: "Insert", Reason: "role import: may create tickets from mail only"}
	}
	return Right{Mask: "None", Reason: "no role"}
}

// fieldRight is the FieldRight of field for role.
func fieldRight(role store.Role, system bool) Right {
	switch {
	case role == store.RoleAdmin && !system:
		return Right{Mask: "Read, Update"}
	case role == store.RoleAdmin:
		return Right{Mask: "Read, UIHintReadOnly", Reason: "set by postdesk"}
	case role == store.RoleImport:
		return Right{Mask: "Read, UIHintReadOnly", Reason: "role import: read-only"}
	}
	return Right{Mask: "None", Reason: "no role"}
}

// fieldProps is the FieldProperties of a role, built and encoded once:
// they depend on the role alone, and encoding the map was most of the
// cost of a TicketInfo answer.
type fieldProps struct {
	m    map[string]FieldProperty
	json []byte
}

// MarshalJSON returns the encoding made once.
func (f *fieldProps) MarshalJSON() ([]byte, error) { return f.json, nil }

var fieldPropsByRole sync.Map // store.Role → *fieldProps

// fieldPropertiesOf returns role's FieldProperties.
func fieldPropertiesOf(role store.Role) *fieldProps {
	if v, ok := fieldPropsByRole.Load(role); ok {
		return v.(*fieldProps)
	}
	m := fieldProperties(role)
	b, err := json.Marshal(m)
	if err != nil {
		panic("api: encode FieldProperties: " + err.Error()) // strings and ints only
	}
	v, _ := fieldPropsByRole.LoadOrStore(role, &fieldProps{m: m, json: b})
	return v.(*fieldProps)
}

func fieldProperties(role store.Role) map[string]FieldProperty {
	fp := make(map[string]FieldProperty, len(infoFields))
	for _, f := range infoFields {
		if f.typ == "" {
			continue
		}
		fp[f.name] = FieldProperty{FieldRight: fieldRight(role, f.system), FieldType: f.typ, FieldLength: f.length}
	}
	return fp
}

// infoDoc is TicketInfo as the API answers it; nil fields are null.
type infoDoc struct {
	TicketId        *int64      `json:"TicketId"`
	Title           *string     `json:"Title"`
	OwnerName       *string     `json:"OwnerName"`
	CategoryName    *string     `json:"CategoryName"`
	PriorityName    *string     `json:"PriorityName"`
	TicketUrl       *string     `json:"TicketUrl"`
	PersonName      *string     `json:"PersonName"`
	ContactName     *string     `json:"ContactName"`
	TableRight      *Right      `json:"TableRight"`
	FieldProperties *fieldProps `json:"FieldProperties"`
}

// appendJSON appends d as encoding/json's Encoder writes it (HTML-safe
// escapes, a newline at the end; TestInfoJSONAsEncodingJSON), without its
// reflection and without checking FieldProperties' encoding made once
// again on every answer, which cost as much as the rest of the answer.
func (d *infoDoc) appendJSON(b []byte) []byte {
	b = append(b, `{"TicketId":`...)
	if d.TicketId == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, *d.TicketId, 10)
	}
	for _, f := range [...]struct {
		key string
		v   *string
	}{
		{`,"Title":`, d.Title}, {`,"OwnerName":`, d.OwnerName}, {`,"CategoryName":`, d.CategoryName},
		{`,"PriorityName":`, d.PriorityName}, {`,"TicketUrl":`, d.TicketUrl}, {`,"PersonName":`, d.PersonName},
		{`,"ContactName":`, d.ContactName},
	} {
		b = append(b, f.key...)
		if f.v == nil {
			b = append(b, "null"...)
		} else {
			b = jsonenc.AppendString(b, *f.v)
		}
	}
	b = append(b, `,"TableRight":`...)
	if d.TableRight == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"Mask":`...)
		b = jsonenc.AppendString(b, d.TableRight.Mask)
		b = append(b, `,"Reason":`...)
		b = jsonenc.AppendString(b, d.TableRight.Reason)
		b = append(b, '}')
	}
	b = append(b, `,"FieldProperties":`...)
	if d.FieldProperties == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, d.FieldProperties.json...)
	}
	return append(b, "}\n"...)
}

// parseSelect reads $select: a comma list of property names matched
// case-insensitively; "a/b" paths count by their first segment. nil means
// everything.
func parseSelect(q string) map[string]bool {
	if strings.TrimSpace(q) == "" {
		return nil
	}
	sel := map[string]bool{}
	for _, p := range strings.Split(q, ",") {
		p, _, _ = strings.Cut(strings.TrimSpace(p), "/")
		if p == "*" {
			return nil
		}
		sel[strings.ToLower(p)] = true
	}
	return sel
}

// infoDocument builds the answer for info as seen by the caller of r.
func (a *API) infoDocument(r *http.Request, info ticket.TicketInfo) infoDoc {
	rs := state(r)
	sel := parseSelect(r.URL.Query().Get("$select"))
	pick := func(name string) bool {
		// "category/id" selects CategoryName: a path's first segment names
		// the field with or without its "Name" suffix.
		return sel == nil || sel[strings.ToLower(name)] || sel[strings.ToLower(strings.TrimSuffix(name, "Name"))]
	}
	str := func(name, v string) *string {
		if !pick(name) {
			return nil
		}
		return &v
	}
	var d infoDoc
	if pick("TicketId") {
		d.TicketId = &info.TicketID
	}
	d.Title = str("Title", info.Title)
	d.OwnerName = str("OwnerName", info.OwnerName)
	d.CategoryName = str("CategoryName", a.lang.name(rs.prefs, info.CategoryName))
	d.PriorityName = str("PriorityName", a.lang.name(rs.prefs, info.PriorityName))
	d.TicketUrl = str("TicketUrl", a.absURL(info.TicketURL))
	d.PersonName = str("PersonName", info.PersonName)
	d.ContactName = str("ContactName", info.ContactName)
	if pick("TableRight") {
		tr := tableRight(rs.who.Role)
		d.TableRight = &tr
	}
	if pick("FieldProperties") {
		d.FieldProperties = fieldPropertiesOf(rs.who.Role)
	}
	return d
}

// absURL makes a TicketUrl the Service returned relative absolute.
func (a *API) absURL(u string) string {
	if u == "" || strings.Contains(u, "://") || a.publicURL == "" {
		return u
	}
	if !strings.HasPrefix(u, "/") {
		u = "/" + u
	}
	return a.publicURL + u
}

// writeInfo writes d as JSON or, when asked, XML with root <TicketInfo>.
func (a *API) writeInfo(w http.ResponseWriter, r *http.Request, status int, d infoDoc) {
	rs := state(r)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Language", a.lang.tag(rs.lang).String())
	if !rs.wantsXML {
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		w.Write(d.appendJSON(make([]byte, 0, 2048)))
		return
	}
	h.Set("Content-Type", rs.xmlType+"; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	_ = encodeInfoXML(xml.NewEncoder(w), d)
}

const xsiNS = "http://www.w3.org/2001/XMLSchema-instance"

// encodeInfoXML writes d as <TicketInfo>, null fields as xsi:nil elements
// (the .NET serializers' convention) and FieldProperties as one element per
// field.
func encodeInfoXML(e *xml.Encoder, d infoDoc) error {
	root := xml.StartElement{Name: xml.Name{Local: "TicketInfo"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns:xsi"}, Value: xsiNS}}}
	if err := e.EncodeToken(root); err != nil {
		return err
	}
	nilElem := func(name string) error {
		el := xml.StartElement{Name: xml.Name{Local: name}, Attr: []xml.Attr{{Name: xml.Name{Local: "xsi:nil"}, Value: "true"}}}
		if err := e.EncodeToken(el); err != nil {
			return err
		}
		return e.EncodeToken(el.End())
	}
	strElem := func(name string, v *string) error {
		if v == nil {
			return nilElem(name)
		}
		return e.EncodeElement(*v, xml.StartElement{Name: xml.Name{Local: name}})
	}
	var err error
	if d.TicketId == nil {
		err = nilElem("TicketId")
	} else {
		err = e.EncodeElement(strconv.FormatInt(*d.TicketId, 10), xml.StartElement{Name: xml.Name{Local: "TicketId"}})
	}
	for _, f := range []struct {
		n string
		v *string
	}{{"Title", d.Title}, {"OwnerName", d.OwnerName}, {"CategoryName", d.CategoryName}, {"PriorityName", d.PriorityName},
		{"TicketUrl", d.TicketUrl}, {"PersonName", d.PersonName}, {"ContactName", d.ContactName}} {
		if err == nil {
			err = strElem(f.n, f.v)
		}
	}
	if err != nil {
		return err
	}
	if d.TableRight == nil {
		err = nilElem("TableRight")
	} else {
		err = e.EncodeElement(d.TableRight, xml.StartElement{Name: xml.Name{Local: "TableRight"}})
	}
	if err != nil {
		return err
	}
	if d.FieldProperties == nil {
		err = nilElem("FieldProperties")
	} else {
		fp := xml.StartElement{Name: xml.Name{Local: "FieldProperties"}}
		err = e.EncodeToken(fp)
		for _, f := range infoFields {
			p, ok := d.FieldProperties.m[f.name]
			if ok && err == nil {
				err = e.EncodeElement(p, xml.StartElement{Name: xml.Name{Local: f.name}})
			}
		}
		if err == nil {
			err = e.EncodeToken(fp.End())
		}
	}
	if err == nil {
		err = e.EncodeToken(root.End())
	}
	if err == nil {
		err = e.Flush()
	}
	return err
}
