// Package store keeps postdesk's tickets in SQLite (github.com/mattn/go-sqlite3).
//
// A Store implements ticket.Repository. All writes of Update go through one
// writer connection owned by a committer goroutine, which runs queued
// update functions in batches: one BEGIN IMMEDIATE, each function in its own
// SAVEPOINT, one durable COMMIT (WAL, synchronous=FULL) for the whole batch
// (group commit). Update returns only after that COMMIT. View and the read
// APIs use a separate pool of read-only connections and never wait for the
// committer.
//
// The schema lives in migrations/NNNN_name.sql, applied in numeric order at
// Open and recorded in schema_migrations. A Store is safe for concurrent use.
package store
