-- New tickets per sender and minute, for the sender cap (DESIGN "Import
-- semantics" step 6). The cap used to count the sender's tickets of the
-- last hour in tickets_sender_created: a read of every one of them for
-- each mail, thousands when the cap is raised for a migration or a
-- backlog. Summing at most 61 minute rows costs the same at any volume.
-- The count is to the minute: a ticket opened up to a minute more than an
-- hour ago may still count against the cap.
CREATE TABLE sender_minutes (
    sender TEXT    NOT NULL, -- tickets.sender (lower case)
    minute INTEGER NOT NULL, -- tickets.created_at / 60e9
    n      INTEGER NOT NULL,
    PRIMARY KEY (sender, minute)
) WITHOUT ROWID;

-- The last two hours of an existing store.
INSERT INTO sender_minutes(sender, minute, n)
SELECT sender, created_at / 60000000000, count(*) FROM tickets
WHERE sender != '' AND created_at >= (unixepoch() - 7200) * 1000000000
GROUP BY sender, created_at / 60000000000;

-- Each new ticket counts in its minute; a sender's minutes older than two
-- hours go when it opens the next one, so the table holds at most about
-- 120 rows per sender.
CREATE TRIGGER tickets_sender_minutes AFTER INSERT ON tickets
WHEN NEW.sender != ''
BEGIN
    INSERT INTO sender_minutes(sender, minute, n)
    VALUES (NEW.sender, NEW.created_at / 60000000000, 1)
    ON CONFLICT(sender, minute) DO UPDATE SET n = n + 1;
    DELETE FROM sender_minutes
    WHERE sender = NEW.sender AND minute < NEW.created_at / 60000000000 - 120;
END;

-- Nothing else reads it.
DROP INDEX tickets_sender_created;
