package ticket

import "errors"

// Sentinel errors callers branch on (errors.Is).
var (
	// ErrNotMail: the data is not an RFC 822 message (HTTP 400).
	ErrNotMail = errors.New("data is not an RFC 822 message")
	// ErrUnknownMailbox: no mailbox has that id (HTTP 404).
	ErrUnknownMailbox = errors.New("unknown mailbox")
	// ErrUnknownPerson: PersonId names no person (HTTP 400).
	ErrUnknownPerson = errors.New("unknown person")
	// ErrTooLarge: the message is over the size limit (HTTP 413).
	ErrTooLarge = errors.New("message too large")
	// ErrSenderOverCap: the sender opened too many tickets this hour; the
	// mail was quarantined (HTTP 429).
	ErrSenderOverCap = errors.New("sender over its hourly ticket cap")
	// ErrQuarantined: the mail was quarantined (e.g. by a routing rule).
	ErrQuarantined = errors.New("mail quarantined")
	// ErrNotFound: a stored record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable: the store cannot take writes right now (busy,
	// read-only, disk full); retry later (HTTP 503, IMAP: no ack).
	ErrUnavailable = errors.New("store temporarily unavailable")
)
