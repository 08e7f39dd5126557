package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Values larger than chunkThreshold (a raw message, a decoded attachment)
// are written as rows of at most chunkSize bytes (migration 0003). One
// 25 MiB value otherwise costs C memory three times over: go-sqlite3's
// argument buffer, the record SQLite builds for the row, and the pages;
// in chunks, only the pages remain, and they spill to the WAL.
const (
	chunkThreshold = 1 << 20
	chunkSize      = 512 << 10
)

// chunked reports whether a value of n bytes is stored in chunks.
func chunked(n int) bool { return n > chunkThreshold }

// writeChunks inserts data in chunkSize pieces with query, whose arguments
// are key, the piece's sequence number and the piece.
func (t *txn) writeChunks(what, query string, key any, data []byte) error {
	for seq := 0; len(data) > 0; seq++ {
		n := min(len(data), chunkSize)
		if _, err := t.q.exec(query, key, seq, data[:n]); err != nil {
			return t.fail(fmt.Sprintf("%s: chunk %d", what, seq), err)
		}
		data = data[n:]
	}
	return nil
}

const (
	qInsertRawChunk  = `INSERT INTO message_raw_chunks(message_id, seq, data) VALUES (?, ?, ?)`
	qInsertBlobChunk = `INSERT INTO blob_chunks(sha256, seq, data) VALUES (?, ?, ?)`
	qRawChunks       = `SELECT data FROM message_raw_chunks WHERE message_id = ? ORDER BY seq`
	qBlobChunks      = `SELECT data FROM blob_chunks WHERE sha256 = ? ORDER BY seq`
)

// readChunks concatenates the chunks query returns for key; size is the
// expected total (a capacity hint; a mismatch is an error).
func readChunks(ctx context.Context, tx *sql.Tx, query string, key any, size int64) ([]byte, error) {
	rows, err := tx.QueryContext(ctx, query, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]byte, 0, max(size, 0))
	for rows.Next() {
		var b sql.RawBytes
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if int64(len(out)) != size {
		return nil, fmt.Errorf("chunks hold %d bytes, want %d", len(out), size)
	}
	return out, nil
}
