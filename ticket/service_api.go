package ticket

// This file documents the Service's public surface for the other packages;
// the implementation is in service.go.

// ImportRequest is one CreateTicketFromMailData call.
type ImportRequest struct {
	MailboxID int64
	Raw       []byte
	Source    Source
	// PersonID > 0 ties the ticket to that person instead of the From
	// address; an unknown id is ErrUnknownPerson.
	PersonID int64
	// Cursor, when set, is stored in the same transaction as the import
	// (IMAP): committed together or not at all.
	Cursor *Cursor
	// Size is the message's declared size when Raw holds only its header
	// (IMAP: RFC822.SIZE over the limit, body left on the server). The
	// larger of Size and len(Raw) is checked against the size limit.
	Size int64
}

// Result is what an import did.
type Result struct {
	Outcome      Outcome
	Info         TicketInfo // zero unless a ticket was created, appended to or found as duplicate
	MessageID    int64      // the stored message, when one was stored
	QuarantineID int64      // when Outcome is quarantined
	Reason       string     // why it was ignored or quarantined
	Automatic    bool       // the mail was recognised as automatic (robot, bounce, loop)
}
