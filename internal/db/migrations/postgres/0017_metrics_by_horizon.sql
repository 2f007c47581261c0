-- PostgreSQL's metrics fold reads the transaction log too, in place of the
-- inbox the triggers fed: every counted change cost an insert into the
-- inbox, in the writer's transaction, and the fold's delete after it.
--
-- PostgreSQL commits transactions in parallel, so an entry with a lower
-- seq can become visible after a higher one, and a cursor over seq alone
-- would miss it. Each entry therefore carries the id of the transaction
-- that wrote it. Every transaction below the oldest one still running (a
-- snapshot's xmin) has ended, so nothing more can appear below it: the
-- fold reads entries by (xid, seq) up to that horizon and moves its
-- cursor there. xid8 is the 64-bit id, which never wraps.

-- The triggers go first, messages' before the log's: a writer that has
-- made a message and is about to log it then finishes before this
-- migration locks the log, instead of waiting on it in a deadlock.
DROP TRIGGER metrics_note_messages ON messages;
DROP TRIGGER metrics_note_events ON message_events;
DROP FUNCTION metrics_note_messages();
DROP FUNCTION metrics_note_events();

-- Entries already here read as transaction 0, below the cursor: the
-- triggers noted them in the inbox, which the fold still reads (opt-outs
-- go on through it).
ALTER TABLE message_events ADD COLUMN xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE message_events ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX message_events_xid ON message_events (xid, seq);

-- Every entry below (xid, seq) is folded. A transaction that began before
-- this one and writes its entries after it is at or above the horizon
-- taken here, and is read from the log.
CREATE TABLE metrics_cursor (
	one boolean PRIMARY KEY CHECK (one),
	xid xid8 NOT NULL,
	seq bigint NOT NULL
);
INSERT INTO metrics_cursor (one, xid, seq) VALUES (true, pg_snapshot_xmin(pg_current_snapshot()), 0);
