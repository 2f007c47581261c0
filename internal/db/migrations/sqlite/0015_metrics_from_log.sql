-- On SQLite the metrics fold reads the transaction log itself instead of
-- an inbox fed by triggers. The inbox cost every message three inserts
-- (made, sent, delivered) and three deletes on the one writer, about a
-- sixth of a promotion's time (docs/benchmarks.md). SQLite commits one
-- transaction at a time, so log entries commit in seq order and a cursor
-- over seq finds each new entry once. The inbox stays for opt-outs, which
-- are not in the log, and for whatever was noted before this migration.
DROP TRIGGER metrics_note_message;
DROP TRIGGER metrics_note_event;

-- seq becomes AUTOINCREMENT so that it is never reused: without it,
-- deleting an account whose entries are the newest would hand their seqs
-- out again, below the cursor, and those entries would go uncounted.
-- created marks a message's first entry, written with the message; the
-- fold counts messages made from it.
CREATE TABLE message_log (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id  TEXT NOT NULL,
	message_id  TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	status      TEXT NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	error_code  TEXT NOT NULL DEFAULT '',
	occurred_at TIMESTAMP NOT NULL,
	created     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO message_log (seq, account_id, message_id, status, reason, error_code, occurred_at)
SELECT seq, account_id, message_id, status, reason, error_code, occurred_at FROM message_events ORDER BY seq;
DROP TABLE message_events;
ALTER TABLE message_log RENAME TO message_events;
CREATE INDEX message_events_message ON message_events (message_id, occurred_at);

-- Every entry so far was noted in the inbox; the fold starts after them.
CREATE TABLE metrics_cursor (
	one INTEGER PRIMARY KEY CHECK (one = 1),
	seq INTEGER NOT NULL
);
INSERT INTO metrics_cursor (one, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM message_events;
