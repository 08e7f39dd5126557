package ticket

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Address is a decoded mailbox address.
type Address struct {
	Name  string
	Email string // as written; compare with strings.EqualFold
}

// String renders the address for display ("Name <email>" or "email").
func (a Address) String() string {
	if a.Name == "" {
		return a.Email
	}
	return a.Name + " <" + a.Email + ">"
}

// Attachment is one decoded attachment or inline part of a mail.
type Attachment struct {
	Filename    string // sanitized: no directory parts, no control characters
	ContentType string // e.g. "image/png", lower case, no parameters
	ContentID   string // without angle brackets; set for inline cid: parts
	Inline      bool
	Data        []byte // decoded bytes
	// SHA256 is the hex SHA-256 of Data, the store's content address. The
	// import sets it before its transaction; "" lets the store compute it.
	SHA256 string

	// encoded is the base64 text in the raw mail Data was decoded from
	// when the standard decoder took it whole (the alphabet, CR and LF,
	// padding only at the end), nil otherwise (see splitRaw). splitRaw
	// relies on Data being exactly those decoded bytes: whatever changes
	// Data after the parse must set encoded to nil.
	encoded []byte
}

// Header holds decoded header fields by canonical MIME key
// (textproto.CanonicalMIMEHeaderKey), in message order.
type Header map[string][]string

// Get returns the first value of key, or "".
func (h Header) Get(key string) string {
	if v := h[canonicalKey(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns all values of key.
func (h Header) Values(key string) []string { return h[canonicalKey(key)] }

// Has reports whether the field is present at all.
func (h Header) Has(key string) bool {
	_, ok := h[canonicalKey(key)]
	return ok
}

// canonicalKey is the canonical form of a header field name, as
// textproto.CanonicalMIMEHeaderKey writes it ("Message-Id"), without the
// import cycle worry: the first letter and each letter after a hyphen upper
// case, the others lower case. A name already in that form is returned as
// it is, and an ASCII one is rewritten with one allocation: every header
// field of every mail and every Header lookup comes here.
func canonicalKey(k string) string {
	canonical := true
	upper := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= utf8.RuneSelf {
			return canonicalKeyUnicode(k)
		}
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			canonical = false
		}
		upper = c == '-'
	}
	if canonical {
		return k
	}
	var b strings.Builder
	b.Grow(len(k))
	upper = true
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case upper && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case !upper && 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b.WriteByte(c)
		upper = c == '-'
	}
	return b.String()
}

// canonicalKeyUnicode is canonicalKey of a name with bytes outside ASCII
// (8-bit header names of broken or hostile mail): strings.ToLower lowers
// its letters and writes each invalid byte as U+FFFD, then the ASCII
// letters at the start and after hyphens go upper case. It was
// canonicalKey for every name before the fast paths, and the tests hold
// canonicalKey to it.
func canonicalKeyUnicode(k string) string {
	b := []byte(strings.ToLower(k))
	upper := true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		upper = c == '-'
	}
	return string(b)
}

// Mail is a parsed message (see ParseMail).
type Mail struct {
	MessageID  string   // without angle brackets; "" when absent
	InReplyTo  []string // message ids without angle brackets
	References []string // message ids without angle brackets, oldest first
	Subject    string   // decoded
	From       Address
	To         []Address
	Cc         []Address
	ReplyTo    []Address
	Date       time.Time // zero when absent or unparseable
	Header     Header    // every header field, decoded (RFC 2047)

	TextBody    string // UTF-8 text body (from text/plain, else derived from HTML)
	HTMLBody    string // UTF-8, sanitized HTML body; "" when the mail has none
	Attachments []Attachment
}

// Status is a ticket's state.
type Status string

// Ticket states.
const (
	StatusOpen   Status = "open"
	StatusClosed Status = "closed"
)

// Source says where a mail came from.
type Source string

// Sources, a bounded set usable as a metric label.
const (
	SourceIMAP Source = "imap"
	SourceHTTP Source = "http"
	SourceCLI  Source = "cli"
)

// Sources lists every Source, for pre-initialising metric labels.
var Sources = []Source{SourceIMAP, SourceHTTP, SourceCLI}

// Outcome is what an import did, a bounded set usable as a metric label.
type Outcome string

// Import outcomes.
const (
	OutcomeCreated     Outcome = "created"
	OutcomeAppended    Outcome = "appended"
	OutcomeDuplicate   Outcome = "duplicate"
	OutcomeIgnored     Outcome = "ignored"
	OutcomeQuarantined Outcome = "quarantined"
	OutcomeFailed      Outcome = "failed"
)

// Outcomes lists every Outcome, for pre-initialising metric labels.
var Outcomes = []Outcome{OutcomeCreated, OutcomeAppended, OutcomeDuplicate, OutcomeIgnored, OutcomeQuarantined, OutcomeFailed}

// Ticket is a stored ticket.
type Ticket struct {
	ID        int64
	MailboxID int64
	Title     string
	Status    Status
	Category  string
	Priority  string
	Owner     string
	PersonID  int64  // 0: none
	CompanyID int64  // 0: none
	Sender    string // lower-case From address of the mail that opened it
	Automatic bool   // opened by an automatic mail (robot, bounce, auto-reply)
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Person is a customer, found by e-mail address (case-insensitive).
type Person struct {
	ID        int64
	Email     string
	Name      string
	CompanyID int64 // 0: none
}

// Company is a customer organisation ("ContactName" in TicketInfo).
type Company struct {
	ID     int64
	Name   string
	Domain string // lower case e-mail domain
}

// Message is one stored mail on a ticket.
type Message struct {
	ID          int64
	TicketID    int64
	MailboxID   int64
	MessageID   string // Message-ID header without brackets; "" when absent
	DedupeKey   string // see DedupeKey
	InReplyTo   []string
	References  []string
	From        Address
	To          []Address
	Cc          []Address
	Subject     string
	Date        time.Time
	TextBody    string
	HTMLBody    string
	Automatic   bool
	Source      Source
	Raw         []byte
	Attachments []Attachment
	CreatedAt   time.Time

	// RawHoles, when set, are the spans of Raw that Attachments give back
	// exactly (see RawHole), and RawStored is Raw without them: the store
	// keeps RawStored and the holes instead of Raw.
	RawHoles  []RawHole
	RawStored []byte
}

// QuarantineItem is a mail that could not be imported, kept with its raw
// bytes and the reason.
type QuarantineItem struct {
	ID        int64
	MailboxID int64
	Source    Source
	Reason    string
	Retryable bool // the cause may go away (sender cap, store fault)
	DedupeKey string
	MessageID string
	Sender    string
	Subject   string
	Size      int64
	Raw       []byte // nil in listings
	CreatedAt time.Time
}

// Cursor is an IMAP mailbox position (RFC 9051 §2.3.1.1: a UID is only
// meaningful together with its UIDVALIDITY).
type Cursor struct {
	MailboxID   int64
	UIDValidity uint32
	UID         uint32 // last UID imported or quarantined
}

// TicketInfo is SuperOffice's answer to CreateTicketFromMailData (the
// rights fields are the API layer's).
type TicketInfo struct {
	TicketID     int64
	Title        string
	OwnerName    string
	CategoryName string
	PriorityName string
	TicketURL    string
	PersonName   string
	ContactName  string
}
