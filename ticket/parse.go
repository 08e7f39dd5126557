package ticket

// PLACEHOLDER owned by the parser work: replaced by the full lenient parser.

import (
	"bytes"
	"fmt"
	"io"

	"github.com/emersion/go-message/mail"
)

// ParseMail parses one raw RFC 822 message leniently.
func ParseMail(raw []byte) (*Mail, error) {
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotMail, err)
	}
	m := &Mail{Header: Header{}}
	m.Subject, _ = r.Header.Subject()
	m.MessageID, _ = r.Header.MessageID()
	if from, _ := r.Header.AddressList("From"); len(from) > 0 {
		m.From = Address{Name: from[0].Name, Email: from[0].Address}
	}
	m.InReplyTo, _ = r.Header.MsgIDList("In-Reply-To")
	m.References, _ = r.Header.MsgIDList("References")
	f := r.Header.Fields()
	for f.Next() {
		v, _ := f.Text()
		m.Header[canonicalKey(f.Key())] = append(m.Header[canonicalKey(f.Key())], v)
	}
	for {
		p, err := r.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p.Body)
		if _, ok := p.Header.(*mail.InlineHeader); ok && m.TextBody == "" {
			m.TextBody = string(b)
		}
	}
	return m, nil
}
