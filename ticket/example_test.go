package ticket_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/ticket"
)

// Import turns a raw mail into a ticket; a reply lands on the same ticket
// and the same mail imported again changes nothing.
func ExampleService_Import() {
	dir, _ := os.MkdirTemp("", "postdesk-example-")
	defer os.RemoveAll(dir)
	st, err := store.Open(filepath.Join(dir, "postdesk.db"), store.Options{})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	svc, err := ticket.NewService(ticket.Options{
		Repo: st,
		Mailboxes: []ticket.Mailbox{{ID: 607, Name: "support", Address: "support@example.com",
			Category: "Technical Support", Priority: "Medium", Owner: "Sarah Johnson"}},
		CompanyDomains: map[string]string{"acme.example": "Acme Corp"},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	first := []byte("From: Ann <ann@acme.example>\r\nSubject: Printer on fire\r\nMessage-ID: <1@acme.example>\r\n\r\nHelp!\r\n")
	reply := []byte("From: Ann <ann@acme.example>\r\nSubject: Re: Printer on fire\r\nMessage-ID: <2@acme.example>\r\nIn-Reply-To: <1@acme.example>\r\n\r\nStill burning.\r\n")
	for _, raw := range [][]byte{first, reply, first} {
		res, err := svc.Import(ctx, ticket.ImportRequest{MailboxID: 607, Raw: raw, Source: ticket.SourceCLI})
		if err != nil {
			panic(err)
		}
		i := res.Info
		fmt.Printf("%s: ticket %d %q, %s/%s, owner %s, person %s, company %s, url %s\n",
			res.Outcome, i.TicketID, i.Title, i.CategoryName, i.PriorityName, i.OwnerName, i.PersonName, i.ContactName, i.TicketURL)
	}
	// Output:
	// created: ticket 1 "Printer on fire", Technical Support/Medium, owner Sarah Johnson, person Ann, company Acme Corp, url /ticket/1
	// appended: ticket 1 "Printer on fire", Technical Support/Medium, owner Sarah Johnson, person Ann, company Acme Corp, url /ticket/1
	// duplicate: ticket 1 "Printer on fire", Technical Support/Medium, owner Sarah Johnson, person Ann, company Acme Corp, url /ticket/1
}
