package imap

import "context"

// Cursor is a position in a mailbox (RFC 9051 §2.3.1.1): every message with
// a UID up to and including UID under UIDValidity has been committed.
// The zero Cursor means nothing has been imported yet.
type Cursor struct {
	UIDValidity, UID uint32
}

// Message is one fetched message.
type Message struct {
	MailboxID   int64
	UIDValidity uint32
	UID         uint32
	// Size is the RFC822.SIZE the server reported.
	Size int64
	// Raw is the full message; for an Oversize message only its header
	// (BODY.PEEK[HEADER]).
	Raw []byte
	// Oversize is set when Size > Config.MaxSize: the body was not
	// downloaded and the message is left on the server untouched.
	Oversize bool
}

// bodyMissing reports a message the server served with an empty body
// although it sizes it above zero: what was delivered is nothing, so the
// mail is left on the server whatever after_import says.
func (m Message) bodyMissing() bool { return !m.Oversize && len(m.Raw) == 0 && m.Size > 0 }

// Disposition says what the Sink did with a delivered message.
type Disposition int

const (
	// Imported covers created, appended, duplicate and ignored messages:
	// the normal post-import action applies.
	Imported Disposition = iota
	// Quarantined messages are moved to Config.QuarantineFolder when set.
	Quarantined
)

// String returns "imported" or "quarantined".
func (d Disposition) String() string {
	switch d {
	case Imported:
		return "imported"
	case Quarantined:
		return "quarantined"
	default:
		return "unknown"
	}
}

// Sink receives messages. It is called from one goroutine per mailbox, so an
// implementation must be safe for concurrent use across mailboxes.
//
// Deliver returns only after the message and the cursor {UIDValidity, UID}
// are durably committed. An error means nothing was committed (temporary:
// store unavailable): the worker does not acknowledge the message nor
// advance, and retries later.
type Sink interface {
	Cursor(ctx context.Context, mailboxID int64) (Cursor, error)
	Deliver(ctx context.Context, m Message) (Disposition, error)
}

// BatchSink is a Sink that commits several messages of one mailbox at once
// (one fsync for a FETCH batch instead of one per message). DeliverBatch
// gets messages in UID order and returns the Dispositions of the committed
// prefix: those messages, and the cursor at the last of them, are durably
// committed. A non-nil error says why the rest was not; the worker
// acknowledges the prefix and retries the rest later.
//
// ready must be called exactly once, before anything is committed (after
// parsing, say): the worker delivers the next group while the last one
// commits, and ready waits for that commit. When ready returns an error,
// DeliverBatch commits nothing and returns that error.
type BatchSink interface {
	Sink
	DeliverBatch(ctx context.Context, ms []Message, ready func() error) ([]Disposition, error)
}

// TokenStore persists rotated OAuth refresh tokens. OAuthToken returns ""
// when no token has been saved yet; the configured one is used then.
type TokenStore interface {
	OAuthToken(ctx context.Context, mailboxID int64) (string, error)
	SaveOAuthToken(ctx context.Context, mailboxID int64, refresh string) error
}
