package store

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/postdesk/postdesk/ticket"
)

// Arguments over largeArgThreshold go through one-off statements (so that
// go-sqlite3's C argument buffer is freed); the data must arrive intact and
// small ones keep using the cache.
func TestLargeArgumentsBypassTheStatementCache(t *testing.T) {
	if !largeArgs([]any{1, "x", bytes.Repeat([]byte("a"), largeArgThreshold+1)}) || largeArgs([]any{"small", []byte("b")}) {
		t.Fatal("largeArgs misjudges sizes")
	}
	s, _, _ := testStore(t, Options{})
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16)
	var msgID int64
	mustUpdate(t, s, func(tx ticket.Tx) error {
		_, m, err := newTicket(tx, 1, "a@example.com", "big@x", time.Now(), ticket.Attachment{Filename: "big.bin", ContentType: "application/octet-stream", Data: big})
		msgID = m.ID
		return err
	})
	d, err := s.TicketDetail(context.Background(), 1)
	if err != nil || len(d.Messages) != 1 || len(d.Messages[0].Attachments) != 1 {
		t.Fatalf("detail %+v, %v", d, err)
	}
	_, data, err := s.Attachment(context.Background(), d.Messages[0].Attachments[0].ID)
	if err != nil || !bytes.Equal(data, big) {
		t.Fatalf("attachment of %d bytes came back as %d bytes, %v", len(big), len(data), err)
	}
	if _, err := s.RawMessage(context.Background(), msgID); err != nil {
		t.Fatal(err)
	}
}
