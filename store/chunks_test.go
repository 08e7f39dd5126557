package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/postdesk/postdesk/ticket"
)

// Values over the threshold go into chunks and come back byte for byte;
// values at the threshold stay inline; equal large attachments are stored
// once, chunks included.
func TestLargeValuesRoundTripInChunks(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	ctx := context.Background()
	random := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	cases := []struct {
		name       string
		raw, att   int
		wantChunks bool
	}{
		{"small", 2 << 10, 10 << 10, false},
		{"at the threshold", chunkThreshold, chunkThreshold, false},
		{"one byte over", chunkThreshold + 1, chunkThreshold + 1, true},
		{"25 MiB", 25 << 20, 18 << 20, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := random(c.raw)
			att := ticket.Attachment{Filename: "big.bin", ContentType: "application/octet-stream", Data: random(c.att)}
			var msg *ticket.Message
			mustUpdate(t, s, func(tx ticket.Tx) error {
				_, m, err := newTicket(tx, 1, "big@example.com", "big-"+c.name+"@example.com", t0, att)
				if err != nil {
					return err
				}
				// newTicket's own small raw, replaced by the large one in a
				// second message of the same ticket.
				m2 := *m
				m2.ID, m2.Raw, m2.MessageID, m2.DedupeKey = 0, raw, "", ""
				m2.Attachments = []ticket.Attachment{att}
				if err := tx.AddMessage(&m2); err != nil {
					return err
				}
				msg = &m2
				return nil
			})
			got, err := s.RawMessage(ctx, msg.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, raw) {
				t.Errorf("raw message: %d bytes back, want the %d written", len(got), len(raw))
			}
			chunked := countRows(t, s.rdb, `SELECT raw_chunked FROM messages WHERE id = ?`, msg.ID) == 1
			if chunked != c.wantChunks {
				t.Errorf("raw of %d bytes chunked = %v, want %v", c.raw, chunked, c.wantChunks)
			}
			d, err := s.TicketDetail(ctx, msg.TicketID)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, m := range d.Messages {
				for _, a := range m.Attachments {
					if a.Size != int64(len(att.Data)) {
						t.Errorf("attachment size %d, want %d", a.Size, len(att.Data))
					}
					ids = append(ids, a.ID)
				}
			}
			if len(ids) != 2 {
				t.Fatalf("%d attachments, want 2", len(ids))
			}
			for _, id := range ids {
				_, data, err := s.Attachment(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(data, att.Data) {
					t.Errorf("attachment %d: %d bytes back, want the %d written", id, len(data), len(att.Data))
				}
			}
			// The two messages share one blob, and its chunks once.
			sum := fmt.Sprintf("%x", sha256Sum(att.Data))
			if n := countRows(t, s.rdb, `SELECT count(*) FROM blobs WHERE sha256 = ?`, sum); n != 1 {
				t.Errorf("%d blobs for one content", n)
			}
			wantChunks := 0
			if c.wantChunks {
				wantChunks = (len(att.Data) + chunkSize - 1) / chunkSize
			}
			if n := countRows(t, s.rdb, `SELECT count(*) FROM blob_chunks WHERE sha256 = ?`, sum); n != wantChunks {
				t.Errorf("%d chunks for the attachment, want %d", n, wantChunks)
			}
		})
	}
}

// A failed import leaves no chunks behind: they are in its transaction.
func TestChunksRollBackWithTheirMessage(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	err := s.Update(context.Background(), func(tx ticket.Tx) error {
		_, m, err := newTicket(tx, 1, "big@example.com", "rollback@example.com", t0,
			ticket.Attachment{Filename: "a.bin", Data: bytes.Repeat([]byte{7}, 3<<20)})
		if err != nil {
			return err
		}
		m2 := *m
		m2.ID, m2.Raw, m2.MessageID, m2.DedupeKey = 0, bytes.Repeat([]byte{'x'}, 3<<20), "", ""
		if err := tx.AddMessage(&m2); err != nil {
			return err
		}
		return fmt.Errorf("the import fails after writing")
	})
	if err == nil {
		t.Fatal("Update succeeded")
	}
	for _, table := range []string{"messages", "message_raw_chunks", "blobs", "blob_chunks"} {
		if n := countRows(t, s.rdb, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%s holds %d rows after the rollback", table, n)
		}
	}
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
