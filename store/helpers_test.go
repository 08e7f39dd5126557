package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/postdesk/postdesk/ticket"
)

// testStore opens a Store on a fresh file with a fresh registry.
func testStore(t testing.TB, opts Options) (*Store, *prometheus.Registry, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "postdesk.db")
	reg := prometheus.NewRegistry()
	if opts.Registerer == nil {
		opts.Registerer = reg
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, reg, path
}

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// newTicket creates a ticket with one message (and its dedupe key) in tx.
func newTicket(tx ticket.Tx, mailbox int64, sender, messageID string, at time.Time, atts ...ticket.Attachment) (*ticket.Ticket, *ticket.Message, error) {
	tk := &ticket.Ticket{MailboxID: mailbox, Title: "Printer on fire " + messageID, Status: ticket.StatusOpen,
		Category: "Support", Priority: "High", Owner: "Sarah", Sender: sender, CreatedAt: at, UpdatedAt: at}
	if err := tx.CreateTicket(tk); err != nil {
		return nil, nil, err
	}
	m := &ticket.Message{TicketID: tk.ID, MailboxID: mailbox, MessageID: messageID, DedupeKey: "mid:" + messageID,
		From: ticket.Address{Name: "Customer", Email: sender}, To: []ticket.Address{{Email: "support@example.com"}},
		Subject: tk.Title, Date: at, TextBody: "It burns.", Source: ticket.SourceIMAP, CreatedAt: at,
		Raw:         []byte(fmt.Sprintf("Message-ID: <%s>\r\nFrom: %s\r\n\r\nIt burns.\r\n", messageID, sender)),
		Attachments: atts}
	if err := tx.AddMessage(m); err != nil {
		return nil, nil, err
	}
	return tk, m, nil
}

// mustUpdate runs fn in an Update and fails the test on error.
func mustUpdate(t testing.TB, s *Store, fn func(ticket.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// mustView runs fn in a View and fails the test on error.
func mustView(t testing.TB, s *Store, fn func(ticket.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// metricFamily returns the gathered family name from reg.
func metricFamily(t testing.TB, reg *prometheus.Registry, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	t.Fatalf("metric %s not registered", name)
	return nil
}

// gaugeValue returns the value of an unlabelled gauge.
func gaugeValue(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	return metricFamily(t, reg, name).GetMetric()[0].GetGauge().GetValue()
}

// storeBefore returns a database file at t.TempDir() with the migrations
// before version applied (an older postdesk's store), and a connection to
// it for the test to fill; the test closes it before opening a Store.
func storeBefore(t testing.TB, version int) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "postdesk.db")
	db, err := sql.Open("sqlite3", dsn(path, "_journal_mode=WAL"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.version >= version {
			break
		}
		if err := apply(context.Background(), db, m); err != nil {
			t.Fatal(err)
		}
	}
	return path, db
}

// upgrade closes db, the older store filled by the test, and opens it as a
// Store, which runs the newer migrations.
func upgrade(t testing.TB, path string, db *sql.DB) *Store {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
