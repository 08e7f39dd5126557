package ticket

import (
	"context"
	"fmt"
	"runtime"
	"sync"
)

// maxRun is the most mails one transaction of ImportBatch holds. The
// writer is shared: in postdesk-bench's IMAP drain a commit of 50 mails
// took 14 ms on average (none over 50 ms), one of 200 (a whole FETCH batch)
// 57 ms (up to 100), which every other import would wait for.
const maxRun = 50

// ImportBatch imports reqs, mails of one mailbox in order (an IMAP FETCH
// batch), with one durable commit per run of ordinary mails (at most
// maxRun) instead of one per mail: the mails are parsed in parallel, then
// applied in order, each run in a single transaction that also stores the
// cursor of the run's last request.
// It is the same import as Import, only cheaper.
//
// Mail that takes its own path (over the size limit, not parseable, a rule
// that ignores or quarantines it, not from IMAP or the CLI) is imported on
// its own, in its place; a run whose transaction fails for another reason
// than an unavailable store is retried one mail at a time, where a failing
// mail is quarantined. The results are those of the committed prefix of
// reqs, in order; a non-nil error says why the rest was not committed (for
// IMAP: try again later).
func (s *Service) ImportBatch(ctx context.Context, reqs []ImportRequest) ([]*Result, error) {
	return s.ImportBatchWhenReady(ctx, reqs, nil)
}

// ImportBatchWhenReady is ImportBatch with a gate between parsing and
// committing: ready, when not nil, is called once the mails are parsed and
// before anything is committed. If it returns an error, nothing is and the
// error is returned. A poller uses it to parse the next batch while the
// previous one commits, and still commit in order.
func (s *Service) ImportBatchWhenReady(ctx context.Context, reqs []ImportRequest, ready func() error) ([]*Result, error) {
	ins := s.prepareBatch(reqs)
	if ready != nil {
		if err := ready(); err != nil {
			return nil, err
		}
	}
	var out []*Result
	for i := 0; i < len(reqs); {
		if ins[i] == nil {
			res, err := s.Import(ctx, reqs[i])
			if err != nil {
				return out, fmt.Errorf("mail %d of %d: %w", i+1, len(reqs), err)
			}
			out = append(out, res)
			i++
			continue
		}
		j := i + 1
		for j < len(reqs) && ins[j] != nil && j-i < maxRun {
			j++
		}
		res, err := s.commitRun(ctx, reqs[i:j], ins[i:j])
		out = append(out, res...)
		if err != nil {
			return out, err
		}
		i = j
	}
	return out, nil
}

// commitRun applies prepared mails in order in one transaction, with the
// cursor of the last one.
func (s *Service) commitRun(ctx context.Context, reqs []ImportRequest, ins []*incoming) ([]*Result, error) {
	start := s.now()
	results := make([]Result, len(ins))
	err := s.repo.Update(ctx, func(tx Tx) error {
		for i, in := range ins {
			results[i] = Result{}
			if err := s.apply(tx, in, &results[i]); err != nil {
				return err
			}
			if err := resolveQuarantined(tx, in, &results[i]); err != nil {
				return err
			}
		}
		return setCursor(tx, reqs[len(reqs)-1].Cursor)
	})
	if err != nil {
		if !quarantinable(ctx, err) {
			for _, in := range ins {
				s.metrics.observe(in.mb.ID, in.req.Source, OutcomeFailed, s.now().Sub(start))
			}
			return nil, err
		}
		// One of the mails cannot be stored (a bug or a constraint): find
		// it the slow way, where a failing mail is quarantined.
		s.log.Warn("batch import failed; importing one by one", "mails", len(reqs), "err", err)
		return s.importEach(ctx, reqs)
	}
	out := make([]*Result, len(ins))
	for i, in := range ins {
		results[i].Automatic = in.automatic
		out[i] = &results[i]
		s.metrics.observe(in.mb.ID, in.req.Source, results[i].Outcome, s.now().Sub(start))
		if results[i].Outcome == OutcomeQuarantined && logsOutcome(in.req.Source, importOpts{}) {
			logQuarantined(s.log.With("mailbox", in.mb.ID), &results[i])
		}
	}
	return out, nil
}

// prepareBatch parses reqs in parallel. ins[i] is nil when request i
// takes the single-mail path (not IMAP or CLI, unknown mailbox, too large,
// not parseable, ignored or quarantined by a rule).
func (s *Service) prepareBatch(reqs []ImportRequest) []*incoming {
	ins := make([]*incoming, len(reqs))
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	var wg sync.WaitGroup
	now := s.now()
	for i, req := range reqs {
		mb, known := s.Mailbox(req.MailboxID)
		if !known || (req.Source != SourceIMAP && req.Source != SourceCLI) ||
			max(int64(len(req.Raw)), req.Size) > s.maxSize {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() {
				if r := recover(); r != nil {
					ins[i] = nil // the single-mail path reports it
				}
				<-sem
				wg.Done()
			}()
			m, err := ParseMail(req.Raw)
			if err != nil {
				return
			}
			rule := matchRule(mb.Rules, m)
			if rule != nil && rule.Action != "" && rule.Action != ActionRoute {
				return
			}
			ins[i] = s.newIncoming(mb, req, m, rule, now, false)
		}()
	}
	wg.Wait()
	return ins
}

// importEach imports reqs one by one, stopping at the first error.
func (s *Service) importEach(ctx context.Context, reqs []ImportRequest) ([]*Result, error) {
	var out []*Result
	for _, req := range reqs {
		res, err := s.Import(ctx, req)
		if err != nil {
			return out, fmt.Errorf("mail %d of %d: %w", len(out)+1, len(reqs), err)
		}
		out = append(out, res)
	}
	return out, nil
}
