package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	// The cgo SQLite driver, registered as "sqlite3".
	_ "github.com/mattn/go-sqlite3"

	"github.com/postdesk/postdesk/ticket"
)

// Options configure a Store; zero values mean the documented default.
type Options struct {
	Logger      *slog.Logger          // nil: slog.Default()
	Registerer  prometheus.Registerer // nil: metrics not registered
	BusyTimeout time.Duration         // how long to wait for a lock; 0: 5s
	MaxBatch    int                   // group commit: max Update fns per commit; 0: 128
	// HashIterations is the PBKDF2-SHA256 work factor for new password
	// and token hashes; 0: 310,000 (OWASP). Tests lower it; existing
	// hashes with fewer iterations are upgraded on the next login.
	HashIterations int
}

// Store is the SQLite ticket store. It is safe for concurrent use.
type Store struct {
	path    string
	log     *slog.Logger
	metrics *metrics

	// db is a general pool (BEGIN IMMEDIATE transactions) for code in this
	// package that writes outside the group commit, such as authentication.
	db *sql.DB
	// rdb is the read-only pool behind View and the read APIs.
	rdb *sql.DB
	// wdb holds the single writer connection used by the committer only.
	wdb *sql.DB
	// authGen reads auth_generation on rdb (prepared once per connection:
	// preparing it cost as much as running it); genSeen is the last value
	// read and when, which answers for authGenFresh (auth.go).
	authGen *sql.Stmt
	genSeen atomic.Pointer[genRead]
	w       *writer // owned by the committer goroutine

	hashIter  int        // PBKDF2 iterations of new hashes
	dummyHash string     // verified when a user or token is unknown
	auth      *credCache // verified credentials (auth.go)

	maxBatch int
	queue    chan *request
	mu       sync.RWMutex // guards closed against senders on queue
	closed   bool
	done     chan struct{} // closed when the committer has exited

	faultMu  sync.Mutex
	fault    *storeFault // see noteHealth
	closeErr error
	once     sync.Once
}

// Open opens (creating if needed) the SQLite database at path, applies the
// migrations and starts the committer.
func Open(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("open store: empty path")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 128
	}
	s := &Store{
		path:     path,
		log:      opts.Logger,
		maxBatch: opts.MaxBatch,
		queue:    make(chan *request, opts.MaxBatch),
		done:     make(chan struct{}),
	}
	s.initAuth(opts.HashIterations)
	fail := func(err error) (*Store, error) {
		if s.authGen != nil {
			s.authGen.Close()
		}
		for _, db := range []*sql.DB{s.wdb, s.db, s.rdb} {
			if db != nil {
				db.Close()
			}
		}
		return nil, fmt.Errorf("open store %s: %w", path, classify(err))
	}

	busy := strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)
	common := "_journal_mode=WAL&_synchronous=FULL&_foreign_keys=on&_busy_timeout=" + busy
	var err error
	// The writer is opened first: it creates the file and switches it to WAL.
	// Its page cache is 8 MiB, so that a large import's dirty pages spill to
	// the WAL instead of staying in memory (a 64 MiB cache cost a 25 MiB
	// mail about 40 MiB of peak RSS), and the import path's index pages at
	// a million tickets still fit (the bench's scale row); readers get
	// 16 MiB each.
	if s.wdb, err = sql.Open("sqlite3", dsn(path, common+"&_txlock=immediate&_cache_size=-8192")); err != nil {
		return fail(err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	if err := migrate(context.Background(), s.wdb, s.log); err != nil {
		return fail(err)
	}
	if s.db, err = sql.Open("sqlite3", dsn(path, common+"&_txlock=immediate")); err != nil {
		return fail(err)
	}
	if s.rdb, err = sql.Open("sqlite3", dsn(path, common+"&_query_only=on&_cache_size=-16384")); err != nil {
		return fail(err)
	}
	s.rdb.SetMaxOpenConns(8)
	s.rdb.SetMaxIdleConns(4)
	if err := s.rdb.Ping(); err != nil {
		return fail(err)
	}
	if s.authGen, err = s.rdb.Prepare(qAuthGeneration); err != nil {
		return fail(err)
	}

	s.metrics = newMetrics(s.QuarantineCount, s.log)
	if n, err := s.QuarantineCount(context.Background()); err != nil {
		return fail(err)
	} else {
		s.metrics.quarantine.last = float64(n)
	}
	if err := s.metrics.register(opts.Registerer, s.log); err != nil {
		return fail(err)
	}
	s.w = &writer{db: s.wdb}
	go s.commitLoop()
	return s, nil
}

// dsn builds a go-sqlite3 data source name: a file: URI, so that paths with
// '?' or '#' survive, plus the driver's parameters.
func dsn(path, params string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + params
}

// DB returns the general connection pool (transactions begin IMMEDIATE),
// for code that writes outside Update, such as authentication records.
func (s *Store) DB() *sql.DB { return s.db }

// Close stops accepting updates, waits for the committer to finish the
// queued ones and closes the database. It is idempotent.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.queue)
		s.mu.Unlock()
		<-s.done
		s.closeErr = errors.Join(s.w.close(), s.authGen.Close(), s.db.Close(), s.rdb.Close(), s.wdb.Close())
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("close store: %w", s.closeErr)
		}
	})
	return s.closeErr
}

// Ping reports whether the store is reachable and takes durable writes: it
// commits a write through the group commit.
func (s *Store) Ping(ctx context.Context) error {
	return s.update(ctx, func(tx ticket.Tx) error {
		t := tx.(*txn)
		_, err := t.q.exec(`INSERT INTO health(id, checked_at) VALUES (1, ?)
			ON CONFLICT(id) DO UPDATE SET checked_at = excluded.checked_at`, time.Now().UnixNano())
		return t.fail("ping", err)
	}, true)
}
