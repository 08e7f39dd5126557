package ticket

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// threader finds the ticket a mail answers (DESIGN "Import semantics" step 3).
type threader struct {
	tag *regexp.Regexp // matches "<key>: 1234" in a subject
}

func newThreader(key string) (*threader, error) {
	re, err := regexp.Compile(`(?i)(?:^|[^\pL\pN])` + regexp.QuoteMeta(key) + `\s*[:#]\s*(\d{1,18})\b`)
	if err != nil {
		return nil, fmt.Errorf("subject tag %q: %w", key, err)
	}
	return &threader{tag: re}, nil
}

// clues are what threading looks up for a mail, worked out before the
// transaction so that the serial commit does less: the Message-IDs it
// answers, In-Reply-To first, then References from the newest, and the
// ticket id of its subject tag (0 for none).
type clues struct {
	ids   []string
	tagID int64
}

func (th *threader) clues(m *Mail) clues {
	ids := make([]string, 0, len(m.InReplyTo)+len(m.References))
	ids = append(ids, m.InReplyTo...)
	refs := slices.Clone(m.References)
	slices.Reverse(refs)
	for _, id := range refs {
		if !slices.Contains(ids, id) && id != m.MessageID {
			ids = append(ids, id)
		}
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == "" || id == m.MessageID })
	tagID, _ := th.tagged(m.Subject) // 0 without a tag
	return clues{ids: ids, tagID: tagID}
}

// find returns the ticket m follows up on, or nil for a new ticket, from
// its clues (th.clues(m)). A Message-ID it answers is tried first; a
// subject tag is trusted only when the sender already takes part in that
// ticket, so a stranger cannot write into someone else's ticket by
// guessing a number.
func (th *threader) find(tx Tx, m *Mail, c clues) (*Ticket, error) {
	if len(c.ids) > 0 {
		tid, err := tx.TicketByMessageID(c.ids)
		switch {
		case err == nil:
			return tx.Ticket(tid)
		case !errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("thread by message id: %w", err)
		}
	}
	tid := c.tagID
	if tid == 0 || m.From.Email == "" {
		return nil, nil
	}
	t, err := tx.Ticket(tid)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tagged ticket %d: %w", tid, err)
	}
	ok, err := tx.IsParticipant(tid, m.From.Email)
	if err != nil {
		return nil, fmt.Errorf("participant check: %w", err)
	}
	if !ok {
		return nil, nil
	}
	return t, nil
}

// tagged extracts the ticket id of a subject tag ("Re: Printer ejTag: 1234").
func (th *threader) tagged(subject string) (int64, bool) {
	sm := th.tag.FindStringSubmatch(subject)
	if sm == nil {
		return 0, false
	}
	id, err := strconv.ParseInt(sm[1], 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}
