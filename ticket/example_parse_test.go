package ticket_test

import (
	"errors"
	"fmt"

	"github.com/postdesk/postdesk/ticket"
)

func ExampleParseMail() {
	raw := "From mbox-sender Thu Nov 26 10:00:00 2026\n" + // mbox separator, bare LF
		"From: =?utf-8?Q?J=C3=BCrgen?= <j@example.com>\n" +
		"Subject: =?iso-8859-1?Q?Drucker_kaputt?= ejTag: 42\n" +
		"Message-ID: <abc@example.com>\n" +
		"Content-Type: text/html; charset=utf-8\n\n" +
		"<p>Hallo<script>alert(1)</script></p>\n"
	m, err := ticket.ParseMail([]byte(raw))
	if err != nil {
		panic(err)
	}
	fmt.Println(m.From.Name, m.From.Email)
	fmt.Println(m.Subject)
	fmt.Println(m.MessageID)
	fmt.Println(m.TextBody)
	fmt.Println(m.HTMLBody)

	_, err = ticket.ParseMail([]byte(`{"not": "mail"}`))
	fmt.Println(errors.Is(err, ticket.ErrNotMail))
	// Output:
	// Jürgen j@example.com
	// Drucker kaputt ejTag: 42
	// abc@example.com
	// Hallo
	// <p>Hallo</p>
	//
	// true
}
