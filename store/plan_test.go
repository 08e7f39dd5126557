package store

import (
	"strings"
	"testing"
)

// TestImportPathUsesIndexes keeps the import path fast at a million
// tickets: none of its queries may scan a table.
func TestImportPathUsesIndexes(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	queries := map[string][]any{
		"LookupDedupe":       {int64(1), "k"},
		"TicketByMessageID":  {"m@x"},
		"NewTicketsBySender": {"a@x", int64(0)},
		"OpenTickets":        {"Sarah"},
		"PersonByEmail":      {"a@x"},
		"Ticket":             {int64(1)},
		"TicketParticipants": {int64(1)},
		"MessageFrom":        {int64(1), "a@x"},
		"QuarantineByKey":    {int64(1), "k"},
		"ResolveQuarantine":  {int64(1), "k"},
		"TouchTicket":        {int64(0), int64(1), int64(0)},
	}
	text := map[string]string{
		"LookupDedupe": qLookupDedupe, "TicketByMessageID": qTicketByMessageID,
		"NewTicketsBySender": qNewTicketsBySender, "OpenTickets": qOpenTickets,
		"PersonByEmail": qPersonByEmail, "Ticket": qTicket,
		"TicketParticipants": qTicketParticipants, "MessageFrom": qMessageFrom,
		"QuarantineByKey": qQuarantineByKey, "TouchTicket": qTouchTicket,
		"ResolveQuarantine": qResolveQuarantine,
	}
	for name, args := range queries {
		rows, err := s.db.Query("EXPLAIN QUERY PLAN "+text[name], args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if len(plan) == 0 {
			t.Fatalf("%s: empty plan", name)
		}
		for _, step := range plan {
			// Scanning a subquery's rows (the sender count's LIMIT) is
			// not scanning a table.
			table := strings.HasPrefix(step, "SCAN ") && step != "SCAN CONSTANT ROW" && !strings.HasPrefix(step, "SCAN (subquery-")
			if table || strings.Contains(step, "TEMP B-TREE") {
				t.Errorf("%s scans: %q", name, plan)
			}
		}
	}
}
