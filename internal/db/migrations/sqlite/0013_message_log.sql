-- The transaction log gets an integer key. Its text id was a second b-tree
-- beside the table's own on SQLite, written for every status change and
-- read by nothing; seq is the rowid itself and orders entries of the same
-- moment. account_id stays for the history's scope, and the key to
-- messages alone ties an entry to its account (deleting the account
-- deletes its messages, and they their log).
CREATE TABLE message_log (
	seq         INTEGER PRIMARY KEY,
	account_id  TEXT NOT NULL,
	message_id  TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	status      TEXT NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	error_code  TEXT NOT NULL DEFAULT '',
	occurred_at TIMESTAMP NOT NULL
);
INSERT INTO message_log (account_id, message_id, status, reason, error_code, occurred_at)
SELECT account_id, message_id, status, reason, error_code, occurred_at FROM message_events ORDER BY occurred_at, id;
DROP TABLE message_events;
ALTER TABLE message_log RENAME TO message_events;
CREATE INDEX message_events_message ON message_events (message_id, occurred_at);

-- Dropped with the old table.
CREATE TRIGGER metrics_note_event AFTER INSERT ON message_events
WHEN NEW.status IN ('sent', 'delivered', 'undelivered', 'failed', 'skipped', 'limit_queued', 'cancelled')
BEGIN
	INSERT INTO metrics_inbox (account_id, message_id, what, at)
	VALUES (NEW.account_id, NEW.message_id, NEW.status, NEW.occurred_at);
END;
