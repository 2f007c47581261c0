-- The transaction log gets an integer key in place of its text id, which
-- nothing read: a smaller index that grows at one end, written for every
-- status change. seq orders entries of the same moment. The key to
-- accounts goes: its check locked the account's row for every entry, and
-- the key to messages already ties an entry to its account (deleting the
-- account deletes its messages, and they their log).
CREATE TABLE message_log (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id  text NOT NULL,
	message_id  text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	status      text NOT NULL,
	reason      text NOT NULL DEFAULT '',
	error_code  text NOT NULL DEFAULT '',
	occurred_at timestamptz NOT NULL
);
INSERT INTO message_log (account_id, message_id, status, reason, error_code, occurred_at)
SELECT account_id, message_id, status, reason, error_code, occurred_at FROM message_events ORDER BY occurred_at, id;
DROP TABLE message_events;
ALTER TABLE message_log RENAME TO message_events;
ALTER INDEX message_log_pkey RENAME TO message_events_pkey;
ALTER SEQUENCE message_log_seq_seq RENAME TO message_events_seq_seq;
ALTER TABLE message_events RENAME CONSTRAINT message_log_message_id_fkey TO message_events_message_id_fkey;
CREATE INDEX message_events_message ON message_events (message_id, occurred_at);

-- Dropped with the old table; its function stays.
CREATE TRIGGER metrics_note_events AFTER INSERT ON message_events
REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION metrics_note_events();
