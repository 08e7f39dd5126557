package api

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/ticket"
)

// ticketDoc is GET /api/v1/Ticket/{id}: a ticket with its messages. Dates
// are RFC 3339 in the caller's SO-TimeZone (UTC by default).
type ticketDoc struct {
	XMLName      xml.Name     `json:"-" xml:"Ticket"`
	TicketId     int64        `json:"TicketId"`
	MailboxId    int64        `json:"MailboxId"`
	Title        string       `json:"Title"`
	Status       string       `json:"Status"`
	CategoryName string       `json:"CategoryName"`
	PriorityName string       `json:"PriorityName"`
	OwnerName    string       `json:"OwnerName"`
	PersonId     int64        `json:"PersonId"`
	PersonName   string       `json:"PersonName"`
	PersonEmail  string       `json:"PersonEmail"`
	ContactName  string       `json:"ContactName"`
	Automatic    bool         `json:"Automatic"`
	CreatedAt    string       `json:"CreatedAt"`
	UpdatedAt    string       `json:"UpdatedAt"`
	TicketUrl    string       `json:"TicketUrl"`
	Messages     []messageDoc `json:"Messages" xml:"Messages>Message"`
}

type messageDoc struct {
	Id                int64           `json:"Id"`
	InternetMessageId string          `json:"InternetMessageId"`
	From              string          `json:"From"`
	To                []string        `json:"To" xml:"To>Address"`
	Cc                []string        `json:"Cc" xml:"Cc>Address"`
	Subject           string          `json:"Subject"`
	Date              string          `json:"Date"`
	ReceivedAt        string          `json:"ReceivedAt"`
	Automatic         bool            `json:"Automatic"`
	Source            string          `json:"Source"`
	TextBody          string          `json:"TextBody"`
	HTMLBody          string          `json:"HtmlBody" xml:"HtmlBody"`
	RawSize           int64           `json:"RawSize"`
	RawUrl            string          `json:"RawUrl"`
	Attachments       []attachmentDoc `json:"Attachments" xml:"Attachments>Attachment"`
}

type attachmentDoc struct {
	Id          int64  `json:"Id"`
	Filename    string `json:"Filename"`
	ContentType string `json:"ContentType"`
	Inline      bool   `json:"Inline"`
	Size        int64  `json:"Size"`
	Url         string `json:"Url"`
}

// pathID reads a positive id path value.
func pathID(r *http.Request, name string) (int64, *apiError) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, &apiError{status: http.StatusNotFound, typ: typeNotFound, msg: msgBadID}
	}
	return id, nil
}

// loadTicket reads ticket {id} of the request path.
func (a *API) loadTicket(w http.ResponseWriter, r *http.Request) (*store.TicketDetail, bool) {
	id, ok := a.readID(w, r, "id")
	if !ok {
		return nil, false
	}
	d, err := a.store.TicketDetail(r.Context(), id)
	if err != nil {
		a.fail(w, r, importError(err))
		return nil, false
	}
	return d, true
}

func (a *API) ticketURL(id int64) string {
	return a.publicURL + "/ticket/" + strconv.FormatInt(id, 10)
}

func (a *API) attachmentURL(ticketID, id int64) string {
	return a.ticketURL(ticketID) + "/attachments/" + strconv.FormatInt(id, 10)
}

func (a *API) rawURL(ticketID, messageID int64) string {
	return a.ticketURL(ticketID) + "/messages/" + strconv.FormatInt(messageID, 10) + "/raw"
}

// getTicket is GET /api/v1/Ticket/{id}.
func (a *API) getTicket(w http.ResponseWriter, r *http.Request) {
	d, ok := a.loadTicket(w, r)
	if !ok {
		return
	}
	rs := state(r)
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(rs.culture.zone).Format(time.RFC3339)
	}
	doc := ticketDoc{
		TicketId: d.ID, MailboxId: d.MailboxID, Title: d.Title, Status: string(d.Status),
		CategoryName: a.lang.name(rs.prefs, d.Category), PriorityName: a.lang.name(rs.prefs, d.Priority),
		OwnerName: d.Owner, Automatic: d.Automatic,
		CreatedAt: stamp(d.CreatedAt), UpdatedAt: stamp(d.UpdatedAt), TicketUrl: a.ticketURL(d.ID),
		Messages: []messageDoc{},
	}
	if d.Person != nil {
		doc.PersonId, doc.PersonName, doc.PersonEmail = d.Person.ID, d.Person.Name, d.Person.Email
	}
	if d.Company != nil {
		doc.ContactName = d.Company.Name
	}
	for _, m := range d.Messages {
		md := messageDoc{
			Id: m.ID, InternetMessageId: m.MessageID, From: m.From.String(),
			To: addrs(m.To), Cc: addrs(m.Cc), Subject: m.Subject,
			Date: stamp(m.Date), ReceivedAt: stamp(m.CreatedAt), Automatic: m.Automatic, Source: string(m.Source),
			TextBody: m.TextBody, HTMLBody: a.sanitize(m.HTMLBody), RawSize: m.RawSize, RawUrl: a.rawURL(d.ID, m.ID),
			Attachments: []attachmentDoc{},
		}
		for _, at := range m.Attachments {
			md.Attachments = append(md.Attachments, attachmentDoc{
				Id: at.ID, Filename: at.Filename, ContentType: at.ContentType, Inline: at.Inline,
				Size: at.Size, Url: a.attachmentURL(d.ID, at.ID),
			})
		}
		doc.Messages = append(doc.Messages, md)
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if rs.wantsXML {
		h.Set("Content-Type", rs.xmlType+"; charset=utf-8")
		w.Write([]byte(xml.Header))
		_ = xml.NewEncoder(w).Encode(doc)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(doc)
}

func addrs(as []ticket.Address) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}

// attachment is GET /ticket/{id}/attachments/{aid}: always a download
// (Content-Disposition: attachment), never rendered by the browser.
func (a *API) attachment(w http.ResponseWriter, r *http.Request) {
	tid, aid, ok := a.ticketPart(w, r, "aid")
	if !ok {
		return
	}
	at, data, err := a.store.TicketAttachment(r.Context(), tid, aid)
	if err != nil {
		a.failPart(w, r, err)
		return
	}
	name := at.Filename
	if name == "" {
		name = "attachment-" + strconv.FormatInt(aid, 10)
	}
	download(w, r, downloadType(at.ContentType), name, data)
}

// ticketPart reads the ids of ticket {id} and of the path value name, for a
// download of something that one of the ticket's messages holds. The store
// answers for that part alone, within the ticket: an id of another
// ticket's is not reachable through this one, and a download does not read
// the ticket's other messages.
func (a *API) ticketPart(w http.ResponseWriter, r *http.Request, name string) (ticketID, id int64, ok bool) {
	if ticketID, ok = a.readID(w, r, "id"); !ok {
		return 0, 0, false
	}
	id, e := pathID(r, name)
	if e != nil {
		a.fail(w, r, e)
		return 0, 0, false
	}
	return ticketID, id, true
}

// readID checks that r reads (GET or HEAD) and reads its id path value
// name, answering the request when either fails.
func (a *API) readID(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		a.methodNotAllowed(w, r, "GET, HEAD")
		return 0, false
	}
	id, e := pathID(r, name)
	if e != nil {
		a.fail(w, r, e)
		return 0, false
	}
	return id, true
}

// failPart answers a download that failed: 404 for a part the ticket does
// not hold (or no such ticket).
func (a *API) failPart(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ticket.ErrNotFound) {
		a.fail(w, r, &apiError{status: http.StatusNotFound, typ: typeNotFound, msg: msgNoRoute, err: err})
		return
	}
	a.fail(w, r, importError(err))
}

// download answers with data as a file to save (Content-Disposition:
// attachment), which the browser neither sniffs nor renders.
func download(w http.ResponseWriter, r *http.Request, contentType, name string, data []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(data)
}

// rawMessage is GET /ticket/{id}/messages/{mid}/raw: the mail as it came,
// byte for byte, always a download.
func (a *API) rawMessage(w http.ResponseWriter, r *http.Request) {
	tid, mid, ok := a.ticketPart(w, r, "mid")
	if !ok {
		return
	}
	raw, err := a.store.TicketRawMessage(r.Context(), tid, mid)
	if err != nil {
		a.failPart(w, r, err)
		return
	}
	download(w, r, "message/rfc822", "message-"+strconv.FormatInt(mid, 10)+".eml", raw)
}

// downloadType is the stored content type when it is well formed, else
// application/octet-stream.
func downloadType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		return "application/octet-stream"
	}
	return mt
}
