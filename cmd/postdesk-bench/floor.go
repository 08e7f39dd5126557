package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-message"
	// Every charset golang.org/x/text knows, for go-message's decoding.
	_ "github.com/emersion/go-message/charset"
	// The cgo SQLite driver, as the store uses it.
	_ "github.com/mattn/go-sqlite3"
)

// floorBatch is the floor's commit size.
const floorBatch = 64

// floorResult is the floor's measurement.
type floorResult struct {
	mails      int
	parseErrs  int
	elapsed    time.Duration
	mailsPerS  float64
	parseOnlyS float64 // mails/s of the parse alone, all cores
}

// runFloor measures the least work any importer must do per mail: a full
// go-message parse of every part (headers, transfer and charset decoding)
// and one raw insert into an on-disk SQLite file (WAL, synchronous=FULL),
// committed every floorBatch mails. Parsing runs on every core, feeding one
// writer, so the floor is what the machine can do, not one goroutine.
func runFloor(ctx context.Context, c *corpus, dir string, n int) (floorResult, error) {
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "floor.db")+"?_journal_mode=WAL&_synchronous=FULL&_txlock=immediate")
	if err != nil {
		return floorResult{}, fmt.Errorf("floor: open: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE mails (id INTEGER PRIMARY KEY, message_id TEXT NOT NULL, raw BLOB NOT NULL)`); err != nil {
		return floorResult{}, fmt.Errorf("floor: schema: %w", err)
	}
	// The floor holds its whole input in memory (n copies of the mix,
	// some 460 MB for 20,000): under the daemon's soft memory limit the
	// collector would run without pause. It keeps the daemon's GOGC.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	mails := make([][]byte, n)
	for i := range mails {
		mails[i] = c.next("floor")
	}

	type parsed struct {
		id  string
		raw []byte
	}
	out := make(chan parsed, 256)
	start := time.Now()
	var errs int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs = parseAll(mails, runtime.GOMAXPROCS(0), func(id string, raw []byte) { out <- parsed{id, raw} })
		close(out)
	}()
	var tx *sql.Tx
	var ins *sql.Stmt
	inTx := 0
	commit := func() error {
		if tx == nil {
			return nil
		}
		err := tx.Commit()
		tx, ins, inTx = nil, nil, 0
		return err
	}
	var werr error
	for p := range out {
		if werr != nil {
			continue // drain
		}
		if tx == nil {
			if tx, werr = db.BeginTx(ctx, nil); werr != nil {
				continue
			}
			if ins, werr = tx.Prepare(`INSERT INTO mails(message_id, raw) VALUES (?, ?)`); werr != nil {
				continue
			}
		}
		if _, werr = ins.Exec(p.id, p.raw); werr != nil {
			continue
		}
		if inTx++; inTx == floorBatch {
			werr = commit()
		}
	}
	wg.Wait()
	if werr == nil {
		werr = commit()
	}
	if werr != nil {
		return floorResult{}, fmt.Errorf("floor: insert: %w", werr)
	}
	el := time.Since(start)
	// Parse alone, for the table's context.
	start = time.Now()
	parseAll(mails, runtime.GOMAXPROCS(0), nil)
	parseOnly := rate(n, time.Since(start))
	return floorResult{mails: n, parseErrs: errs, elapsed: el, mailsPerS: rate(n, el), parseOnlyS: parseOnly}, nil
}

// parseAll parses mails on workers goroutines and hands each (Message-ID,
// raw) to sink in any order; it returns the number of mails go-message
// could not parse completely (they are still handed on).
func parseAll(mails [][]byte, workers int, sink func(id string, raw []byte)) int {
	var mu sync.Mutex
	errs := 0
	var wg sync.WaitGroup
	next := make(chan []byte)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for raw := range next {
				id, err := fullParse(raw)
				if err != nil {
					mu.Lock()
					errs++
					mu.Unlock()
				}
				if sink != nil {
					sink(id, raw)
				}
			}
		}()
	}
	for _, m := range mails {
		next <- m
	}
	close(next)
	wg.Wait()
	return errs
}

// fullParse reads every part of raw with go-message, decoding transfer
// encodings and charsets, and returns the Message-ID. A leading mbox
// "From " line is skipped (go-message does not accept it).
func fullParse(raw []byte) (string, error) {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		return "", err
	}
	id := e.Header.Get("Message-Id")
	_, _ = e.Header.Text("Subject")
	var first error
	if err != nil {
		first = err
	}
	werr := e.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil && first == nil {
			first = err
		}
		mt, _, _ := part.Header.ContentType()
		if strings.HasPrefix(mt, "multipart/") {
			return nil
		}
		_, _, _ = part.Header.ContentDisposition()
		if _, err := io.Copy(io.Discard, part.Body); err != nil && first == nil {
			first = err
		}
		return nil
	})
	if werr != nil && first == nil {
		first = werr
	}
	return id, first
}
