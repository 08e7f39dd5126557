package config

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/postdesk/postdesk/ticket"
)

// TicketMailboxes converts the configured mailboxes into the import core's
// form, compiling rule expressions. Load has already checked them, so an
// error means c was built or changed by hand.
func (c *Config) TicketMailboxes() ([]ticket.Mailbox, error) {
	out := make([]ticket.Mailbox, 0, len(c.Mailboxes))
	var errs []error
	for i, m := range c.Mailboxes {
		tm := ticket.Mailbox{
			ID:                m.ID,
			Name:              m.Name,
			Address:           m.Address,
			Category:          m.Category,
			Priority:          m.Priority,
			Owner:             m.Owner,
			Assignment:        ticket.Assignment(m.Assignment),
			Owners:            append([]string(nil), m.Owners...),
			NewTicketOnClosed: m.NewTicketOnClosed,
			NoNewPersons:      m.NoNewPersons,
		}
		for j, r := range m.Rules {
			re, err := regexp.Compile(r.Match)
			if err != nil {
				errs = append(errs, fmt.Errorf("mailboxes[%d].rules[%d].match: %w", i, j, err))
				continue
			}
			tm.Rules = append(tm.Rules, ticket.Rule{
				Name:     r.Name,
				Header:   r.Header,
				Pattern:  re,
				Action:   ticket.RuleAction(r.Action),
				Category: r.Category,
				Priority: r.Priority,
				Owner:    r.Owner,
			})
		}
		if err := tm.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("mailboxes[%d]: %w", i, err))
		}
		out = append(out, tm)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// Mailbox returns the mailbox with the given id, or nil.
func (c *Config) Mailbox(id int64) *Mailbox {
	for i := range c.Mailboxes {
		if c.Mailboxes[i].ID == id {
			return &c.Mailboxes[i]
		}
	}
	return nil
}
