-- postdesk schema, version 1.
-- Times are INTEGER Unix nanoseconds (UTC); NULL means "not known".
-- E-mail addresses are compared through Go-lower-cased copies
-- (persons.email_lower, tickets.sender, messages.from_lower).

CREATE TABLE companies (
    id     INTEGER PRIMARY KEY,
    name   TEXT NOT NULL,
    domain TEXT NOT NULL UNIQUE
);

CREATE TABLE persons (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL,
    email_lower TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL DEFAULT '',
    company_id  INTEGER REFERENCES companies(id)
);
CREATE INDEX persons_company ON persons(company_id);

-- Configured mailboxes, mirrored for joins and listings. Tickets keep
-- pointing at mailboxes that were removed from the configuration, so there
-- is no foreign key from tickets to mailboxes.
CREATE TABLE mailboxes (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT ''
);

CREATE TABLE tickets (
    id         INTEGER PRIMARY KEY,
    mailbox_id INTEGER NOT NULL,
    title      TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL,
    category   TEXT NOT NULL DEFAULT '',
    priority   TEXT NOT NULL DEFAULT '',
    owner      TEXT NOT NULL DEFAULT '',
    person_id  INTEGER REFERENCES persons(id),
    company_id INTEGER REFERENCES companies(id),
    sender     TEXT NOT NULL DEFAULT '',
    automatic  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX tickets_sender_created ON tickets(sender, created_at);
CREATE INDEX tickets_owner_status ON tickets(owner, status);
CREATE INDEX tickets_mailbox ON tickets(mailbox_id, id);
CREATE INDEX tickets_person ON tickets(person_id);

-- Open tickets per owner, kept by triggers so that fewest-open assignment
-- never counts the tickets table.
CREATE TABLE owner_open_tickets (
    owner TEXT PRIMARY KEY,
    open  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER tickets_open_insert AFTER INSERT ON tickets
WHEN NEW.status = 'open'
BEGIN
    INSERT INTO owner_open_tickets(owner, open) VALUES (NEW.owner, 1)
    ON CONFLICT(owner) DO UPDATE SET open = open + 1;
END;

CREATE TRIGGER tickets_open_update AFTER UPDATE OF status, owner ON tickets
WHEN (OLD.status = 'open') != (NEW.status = 'open') OR OLD.owner != NEW.owner
BEGIN
    UPDATE owner_open_tickets SET open = open - 1
    WHERE OLD.status = 'open' AND owner = OLD.owner;
    INSERT INTO owner_open_tickets(owner, open)
    SELECT NEW.owner, 1 WHERE NEW.status = 'open'
    ON CONFLICT(owner) DO UPDATE SET open = open + 1;
END;

CREATE TRIGGER tickets_open_delete AFTER DELETE ON tickets
WHEN OLD.status = 'open'
BEGIN
    UPDATE owner_open_tickets SET open = open - 1 WHERE owner = OLD.owner;
END;

-- The raw message is the last column so that reading the others never
-- touches its overflow pages.
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    mailbox_id  INTEGER NOT NULL,
    message_id  TEXT NOT NULL DEFAULT '',
    dedupe_key  TEXT NOT NULL DEFAULT '',
    in_reply_to TEXT NOT NULL DEFAULT '[]',
    refs        TEXT NOT NULL DEFAULT '[]',
    from_name   TEXT NOT NULL DEFAULT '',
    from_email  TEXT NOT NULL DEFAULT '',
    from_lower  TEXT NOT NULL DEFAULT '',
    to_addrs    TEXT NOT NULL DEFAULT '[]',
    cc_addrs    TEXT NOT NULL DEFAULT '[]',
    subject     TEXT NOT NULL DEFAULT '',
    date        INTEGER,
    automatic   INTEGER NOT NULL DEFAULT 0,
    source      TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    raw_size    INTEGER NOT NULL DEFAULT 0,
    text_body   TEXT NOT NULL DEFAULT '',
    html_body   TEXT NOT NULL DEFAULT '',
    raw         BLOB
);
-- Not a partial index: a bound parameter tested against a partial index's
-- WHERE clause makes SQLite re-prepare the statement on every execution.
CREATE INDEX messages_message_id ON messages(message_id);
CREATE INDEX messages_ticket ON messages(ticket_id, id);

-- Attachments are content-addressed: equal bytes are stored once.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size   INTEGER NOT NULL,
    data   BLOB NOT NULL
);

CREATE TABLE message_attachments (
    id           INTEGER PRIMARY KEY,
    message_id   INTEGER NOT NULL REFERENCES messages(id),
    position     INTEGER NOT NULL,
    filename     TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT '',
    content_id   TEXT NOT NULL DEFAULT '',
    inline       INTEGER NOT NULL DEFAULT 0,
    sha256       TEXT NOT NULL REFERENCES blobs(sha256),
    UNIQUE (message_id, position)
);
CREATE INDEX message_attachments_blob ON message_attachments(sha256);

-- The dedupe ledger: a replayed mail hits the primary key and adds nothing.
CREATE TABLE dedupe (
    mailbox_id INTEGER NOT NULL,
    dedupe_key TEXT NOT NULL,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    message_id INTEGER NOT NULL REFERENCES messages(id),
    PRIMARY KEY (mailbox_id, dedupe_key)
) WITHOUT ROWID;
CREATE INDEX dedupe_message ON dedupe(message_id);

-- Every row is pending: retried or dropped items are deleted.
CREATE TABLE quarantine (
    id         INTEGER PRIMARY KEY,
    mailbox_id INTEGER NOT NULL,
    source     TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL DEFAULT '',
    retryable  INTEGER NOT NULL DEFAULT 0,
    dedupe_key TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',
    sender     TEXT NOT NULL DEFAULT '',
    subject    TEXT NOT NULL DEFAULT '',
    size       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    raw        BLOB
);
CREATE UNIQUE INDEX quarantine_pending ON quarantine(mailbox_id, dedupe_key)
    WHERE dedupe_key != '';

-- RFC 9051 §2.3.1.1: a UID means something only with its UIDVALIDITY.
CREATE TABLE imap_cursors (
    mailbox_id  INTEGER PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    uid         INTEGER NOT NULL
);

CREATE TABLE round_robin (
    mailbox_id INTEGER PRIMARY KEY,
    counter    INTEGER NOT NULL
);

CREATE TABLE oauth_tokens (
    mailbox_id    INTEGER PRIMARY KEY,
    refresh_token TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- One row, rewritten by Ping to prove the store takes writes.
CREATE TABLE health (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at INTEGER NOT NULL
);
