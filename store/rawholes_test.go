package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/ticket"
)

// holeyMessage is a message whose raw mail carries data as base64 in lines
// of 76 between prefix and suffix, with the hole that leaves it out.
func holeyMessage(tk *ticket.Ticket, id string, prefix string, data []byte) *ticket.Message {
	enc := base64.StdEncoding.EncodeToString(data)
	var lines []string
	for len(enc) > 76 {
		lines = append(lines, enc[:76])
		enc = enc[76:]
	}
	body := strings.Join(append(lines, enc), "\r\n")
	head := "Message-ID: <" + id + ">\r\n" + prefix + "\r\n\r\n"
	tail := "\r\n"
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	return &ticket.Message{TicketID: tk.ID, MailboxID: tk.MailboxID, MessageID: id, DedupeKey: "mid:" + id, CreatedAt: t0,
		Raw:         []byte(head + body + tail),
		RawStored:   []byte(head + tail),
		RawHoles:    []ticket.RawHole{{At: int64(len(head)), Len: int64(len(body)), SHA256: sha, Line: 76, CRLF: true}},
		Attachments: []ticket.Attachment{{Filename: "f.bin", ContentType: "application/octet-stream", Data: data, SHA256: sha}}}
}

// TestRawHolesStored keeps a message's raw mail without its attachment's
// base64, in rows and in chunks, and gives the mail back byte for byte.
func TestRawHolesStored(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	ctx := context.Background()
	small := bytes.Repeat([]byte("postdesk\x00\xff"), 500)
	large := bytes.Repeat([]byte("0123456789abcdef\x80"), chunkThreshold/16) // a blob in chunks
	for _, tc := range []struct {
		name   string
		prefix string
		data   []byte
	}{
		{"small", "Subject: small", small},
		{"blob in chunks", "Subject: large", large},
		{"skeleton in chunks", "Subject: long\r\nX-Padding: " + strings.Repeat("p", chunkThreshold), small},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m *ticket.Message
			mustUpdate(t, s, func(tx ticket.Tx) error {
				tk, _, err := newTicket(tx, 1, "a@example.com", tc.name+"-first@example.com", t0)
				if err != nil {
					return err
				}
				m = holeyMessage(tk, tc.name+"@example.com", tc.prefix, tc.data)
				return tx.AddMessage(m)
			})
			var stored, size int64
			var holes string
			if err := s.rdb.QueryRow(`SELECT length(raw) + coalesce((SELECT sum(length(data)) FROM message_raw_chunks WHERE message_id = m.id), 0),
				raw_size, raw_holes FROM messages m WHERE id = ?`, m.ID).Scan(&stored, &size, &holes); err != nil {
				t.Fatal(err)
			}
			if stored != int64(len(m.RawStored)) || size != int64(len(m.Raw)) || holes == "" {
				t.Errorf("stored %d bytes of %d, holes %q; want %d of %d and the hole", stored, size, holes, len(m.RawStored), len(m.Raw))
			}
			got, err := s.RawMessage(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, m.Raw) {
				t.Errorf("RawMessage gave %d bytes that are not the %d stored", len(got), len(m.Raw))
			}
		})
	}
}

// TestRawHolesRefused writes nothing for holes that do not fit the raw
// mail or name an attachment the message does not have.
func TestRawHolesRefused(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	data := bytes.Repeat([]byte("x"), 3000)
	for name, edit := range map[string]func(m *ticket.Message){
		"hole longer than the mail": func(m *ticket.Message) { m.RawHoles[0].Len++ },
		"hole past the skeleton":    func(m *ticket.Message) { m.RawHoles[0].At = int64(len(m.RawStored)) + 1 },
		"unknown attachment":        func(m *ticket.Message) { m.Attachments[0].SHA256 = strings.Repeat("0", 64) },
	} {
		err := s.Update(context.Background(), func(tx ticket.Tx) error {
			tk, _, err := newTicket(tx, 1, "a@example.com", name+"-first@example.com", t0)
			if err != nil {
				return err
			}
			m := holeyMessage(tk, name+"@example.com", "Subject: refused", data)
			edit(m)
			return tx.AddMessage(m)
		})
		if err == nil {
			t.Errorf("%s: AddMessage succeeded", name)
		}
	}
	if n := countRows(t, s.rdb, `SELECT count(*) FROM messages`); n != 0 {
		t.Errorf("%d messages written", n)
	}
}

// TestRawHolesDamagedBlob gives an error, never other bytes, when the
// blob a hole needs has changed.
func TestRawHolesDamagedBlob(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	var m *ticket.Message
	mustUpdate(t, s, func(tx ticket.Tx) error {
		tk, _, err := newTicket(tx, 1, "a@example.com", "first@example.com", t0)
		if err != nil {
			return err
		}
		m = holeyMessage(tk, "damaged@example.com", "Subject: damaged", bytes.Repeat([]byte("y"), 3000))
		return tx.AddMessage(m)
	})
	if _, err := s.db.Exec(`UPDATE blobs SET data = ? WHERE sha256 = ?`, bytes.Repeat([]byte("z"), 3000), m.RawHoles[0].SHA256); err != nil {
		t.Fatal(err)
	}
	if got, err := s.RawMessage(context.Background(), m.ID); err == nil {
		t.Errorf("RawMessage gave %d bytes of a damaged blob, want an error", len(got))
	}
}

// TestRawHolesMigration reads a message stored before 0007 whole.
func TestRawHolesMigration(t *testing.T) {
	path, db := storeBefore(t, 7)
	raw := []byte("Message-ID: <old@example.com>\r\n\r\nstored whole\r\n")
	if _, err := db.Exec(`INSERT INTO tickets(id, mailbox_id, status, created_at, updated_at) VALUES (1, 1, 'open', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO messages(id, ticket_id, mailbox_id, message_id, dedupe_key, created_at, raw, raw_size)
		VALUES (1, 1, 1, 'old@example.com', 'mid:old@example.com', 0, ?, ?)`, raw, len(raw)); err != nil {
		t.Fatal(err)
	}
	s := upgrade(t, path, db)
	got, err := s.RawMessage(context.Background(), 1)
	if err != nil || !bytes.Equal(got, raw) {
		t.Errorf("RawMessage = %q, %v; want %q", got, err, raw)
	}
}
