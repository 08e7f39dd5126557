-- Indexes that no query uses, dropped: each cost every import a B-tree
-- insert at a random page, written to the WAL at commit and again at the
-- checkpoint (about 9 % of the import's CPU in postdesk-bench's core rows).
-- They would only serve deleting a person, a message or an attachment (a
-- foreign-key check from the parent side), which nothing does; whatever
-- adds such a deletion adds the index it needs with it.
-- tickets_owner_status predates owner_open_tickets, which fewest-open
-- assignment reads instead.
DROP INDEX tickets_person;
DROP INDEX tickets_owner_status;
DROP INDEX message_attachments_blob;
DROP INDEX dedupe_message;
