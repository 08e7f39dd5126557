package ticket

import (
	"errors"
	"fmt"
	"strings"
)

// defaultFreeMailDomains never yield a company (DESIGN step 4).
var defaultFreeMailDomains = []string{
	"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
	"yahoo.com", "yahoo.co.uk", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com",
	"gmx.de", "gmx.net", "gmx.at", "gmx.ch", "web.de", "t-online.de", "freenet.de",
	"mail.com", "proton.me", "protonmail.com", "zoho.com", "yandex.ru", "mail.ru",
	"qq.com", "163.com", "126.com", "online.no", "hotmail.no", "telia.com",
}

// customer finds the person of in (DESIGN "Import semantics" step 4): the
// request's PersonID, else the From address (case-insensitive), created
// unless the mailbox forbids it. It returns nil when there is no person.
func (s *Service) customer(tx Tx, in *incoming) (*Person, error) {
	if id := in.req.PersonID; id > 0 {
		p, err := tx.Person(id)
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("person %d: %w", id, ErrUnknownPerson)
		}
		if err != nil {
			return nil, fmt.Errorf("person %d: %w", id, err)
		}
		return p, nil
	}
	email := strings.ToLower(strings.TrimSpace(in.mail.From.Email))
	if email == "" || !strings.Contains(email, "@") {
		return nil, nil
	}
	if in.mb.Address != "" && strings.EqualFold(email, in.mb.Address) {
		// Our own address is never a customer.
		return nil, nil
	}
	p, err := tx.PersonByEmail(email)
	if err == nil {
		return p, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("person by email: %w", err)
	}
	if in.mb.NoNewPersons {
		return nil, nil
	}
	p = &Person{Email: email, Name: strings.TrimSpace(in.mail.From.Name)}
	if c, err := s.company(tx, email); err != nil {
		return nil, err
	} else if c != nil {
		p.CompanyID = c.ID
	}
	if err := tx.CreatePerson(p); err != nil {
		return nil, err // the store names the step
	}
	return p, nil
}

// company returns the configured company of email's domain, never one of
// a free-mail domain; nil when there is none.
func (s *Service) company(tx Tx, email string) (*Company, error) {
	at := strings.LastIndexByte(email, '@')
	domain := strings.TrimSuffix(email[at+1:], ".")
	if s.freeMail[domain] {
		return nil, nil
	}
	name, ok := s.companies[domain]
	if !ok {
		return nil, nil
	}
	c, err := tx.EnsureCompany(name, domain)
	if err != nil {
		return nil, fmt.Errorf("company %s: %w", domain, err)
	}
	return c, nil
}
