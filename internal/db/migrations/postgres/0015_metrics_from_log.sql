-- SQLite's metrics fold now reads the transaction log by seq (see its
-- 0015). PostgreSQL commits transactions in parallel, so an entry with a
-- lower seq can become visible after a higher one; a cursor would miss it,
-- and the inbox, fed by the triggers, stays. The log gets the same column
-- so that both engines write it alike: created marks a message's first
-- entry, written with the message.
ALTER TABLE message_events ADD COLUMN created boolean NOT NULL DEFAULT false;
