-- A message's raw bytes without its attachments' base64, which the blobs
-- give back exactly (ticket.RawHole): each attachment was written twice,
-- decoded in blobs and encoded in messages.raw, a third more bytes than
-- the attachment itself. raw_holes is the JSON list of the spans left out
-- of raw ('' for none: every message stored before keeps its raw whole);
-- raw_size stays the size of the mail as it came.
ALTER TABLE messages ADD COLUMN raw_holes TEXT NOT NULL DEFAULT '';
