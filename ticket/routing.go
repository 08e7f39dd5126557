package ticket

import (
	"fmt"
	"strconv"
)

// matchRule returns the first of rules whose header matches m, or nil
// (DESIGN "Import semantics" step 5: the first matching rule wins).
func matchRule(rules []Rule, m *Mail) *Rule {
	for i := range rules {
		r := &rules[i]
		for _, v := range m.Header.Values(r.Header) {
			if r.Pattern.MatchString(v) {
				return r
			}
		}
	}
	return nil
}

func ruleName(r *Rule) string {
	if r.Name != "" {
		return strconv.Quote(r.Name)
	}
	return strconv.Quote(r.Header + " ~ " + r.Pattern.String())
}

// assignOwner picks the owner of a new ticket by the mailbox's assignment
// method.
func assignOwner(tx Tx, mb Mailbox) (string, error) {
	switch mb.Assignment {
	case AssignRoundRobin:
		n, err := tx.NextRoundRobin(mb.ID)
		if err != nil {
			return "", fmt.Errorf("round robin: %w", err)
		}
		return mb.Owners[n%uint64(len(mb.Owners))], nil
	case AssignFewestOpen:
		open, err := tx.OpenTickets(mb.Owners)
		if err != nil {
			return "", fmt.Errorf("open tickets: %w", err)
		}
		best := mb.Owners[0]
		for _, o := range mb.Owners[1:] {
			if open[o] < open[best] {
				best = o
			}
		}
		return best, nil
	default:
		return mb.Owner, nil
	}
}
