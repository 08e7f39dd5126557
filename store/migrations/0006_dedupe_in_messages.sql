-- The dedupe ledger becomes an index of messages. Every message an import
-- stores carries its dedupe key (ticket.DedupeKey: "mid:" and the
-- Message-ID, or a hash of the raw bytes for a mail without one), and the
-- ledger held exactly those keys again, in a table of its own, next to
-- messages_message_id, which indexed the same Message-IDs once more: two
-- B-tree inserts at random pages for every mail, each page written to
-- the WAL at commit and again at the checkpoint. One unique index on the
-- key now answers both the dedupe lookup (key and mailbox) and threading
-- (the key of a Message-ID, any mailbox).
--
-- The unique index cannot fail here: the ledger's primary key (mailbox_id,
-- dedupe_key) already held every message's key once. Messages stored
-- without a key (none of an import) are not in it.
CREATE UNIQUE INDEX messages_dedupe ON messages(dedupe_key, mailbox_id) WHERE dedupe_key != '';
DROP INDEX messages_message_id;
DROP TABLE dedupe;
