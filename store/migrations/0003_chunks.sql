-- Large values in chunks (store/chunks.go): a raw message or an attachment
-- over 1 MiB is kept as rows of at most 512 KiB, so that inserting a 25 MiB
-- mail never has SQLite build a 25 MiB record, nor go-sqlite3 copy it into
-- one C buffer. Values written before this migration stay inline.

ALTER TABLE messages ADD COLUMN raw_chunked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE blobs ADD COLUMN chunked INTEGER NOT NULL DEFAULT 0;

CREATE TABLE message_raw_chunks (
    message_id INTEGER NOT NULL REFERENCES messages(id),
    seq        INTEGER NOT NULL,
    data       BLOB    NOT NULL,
    PRIMARY KEY (message_id, seq)
);

CREATE TABLE blob_chunks (
    sha256 TEXT    NOT NULL REFERENCES blobs(sha256),
    seq    INTEGER NOT NULL,
    data   BLOB    NOT NULL,
    PRIMARY KEY (sha256, seq)
);
