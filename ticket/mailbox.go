package ticket

import (
	"fmt"
	"regexp"
)

// Assignment is how a mailbox picks the owner of a new ticket.
type Assignment string

// Assignment methods.
const (
	AssignFixed      Assignment = "fixed"       // Mailbox.Owner
	AssignRoundRobin Assignment = "round_robin" // Mailbox.Owners in turn
	AssignFewestOpen Assignment = "fewest_open" // the owner with the fewest open tickets
)

// Mailbox is a configured mailbox and its routing defaults.
type Mailbox struct {
	ID       int64
	Name     string
	Address  string // the mailbox's own address (never a customer)
	Category string
	Priority string
	Owner    string

	Assignment Assignment // "" means fixed
	Owners     []string   // candidates for round_robin and fewest_open

	// NewTicketOnClosed: a follow-up to a closed ticket opens a new ticket
	// instead of reopening the old one.
	NewTicketOnClosed bool
	// NoNewPersons: unknown senders are not created as persons.
	NoNewPersons bool

	Rules []Rule // ordered; the first match wins
}

// RuleAction is what a matching rule does.
type RuleAction string

// Rule actions.
const (
	ActionRoute      RuleAction = "route"      // set category/priority/owner
	ActionIgnore     RuleAction = "ignore"     // import nothing, report ignored
	ActionQuarantine RuleAction = "quarantine" // quarantine with the rule's name
)

// Rule routes mail whose header matches a regular expression.
type Rule struct {
	Name    string
	Header  string         // header field name, e.g. "Subject", "From", "To"
	Pattern *regexp.Regexp // matched against every decoded value of Header
	Action  RuleAction     // "" means route

	Category string
	Priority string
	Owner    string
}

// Validate reports configuration mistakes in m.
func (m *Mailbox) Validate() error {
	if m.ID <= 0 {
		return fmt.Errorf("mailbox id %d: must be a positive number", m.ID)
	}
	switch m.Assignment {
	case "", AssignFixed:
	case AssignRoundRobin, AssignFewestOpen:
		if len(m.Owners) == 0 {
			return fmt.Errorf("mailbox %d: assignment %q needs owners", m.ID, m.Assignment)
		}
	default:
		return fmt.Errorf("mailbox %d: unknown assignment %q (fixed, round_robin, fewest_open)", m.ID, m.Assignment)
	}
	for i, r := range m.Rules {
		if r.Header == "" || r.Pattern == nil {
			return fmt.Errorf("mailbox %d: rule %d (%s): needs header and pattern", m.ID, i, r.Name)
		}
		switch r.Action {
		case "", ActionRoute, ActionIgnore, ActionQuarantine:
		default:
			return fmt.Errorf("mailbox %d: rule %d (%s): unknown action %q (route, ignore, quarantine)", m.ID, i, r.Name, r.Action)
		}
	}
	return nil
}
