-- SMS dashboard figures, kept as rollups (hourly by template, hourly by
-- program, daily by template) so a dashboard over millions of messages
-- sums a few thousand rows. Counters are per row; their sums are bigint.
--
-- Counting happens outside the write paths of messages: triggers note each
-- change that counts in metrics_inbox, in the writer's own transaction, and
-- a background fold moves inbox rows into the rollups and deletes them in
-- one transaction. A noted change is therefore folded exactly once, however
-- out of order concurrent transactions commit.

-- One row per account, UTC hour, program and template ('' for none).
-- Opt-outs name no program or template, so they sit in the ('', '') rows.
CREATE TABLE sms_metrics_hourly (
	account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	bucket        TIMESTAMP NOT NULL, -- the UTC hour, on the hour
	program_id    TEXT NOT NULL DEFAULT '',
	template_id   TEXT NOT NULL DEFAULT '',
	created       INTEGER NOT NULL DEFAULT 0,
	sent          INTEGER NOT NULL DEFAULT 0,
	delivered     INTEGER NOT NULL DEFAULT 0,
	undelivered   INTEGER NOT NULL DEFAULT 0,
	failed        INTEGER NOT NULL DEFAULT 0,
	skipped       INTEGER NOT NULL DEFAULT 0,
	limit_queued  INTEGER NOT NULL DEFAULT 0,
	cancelled     INTEGER NOT NULL DEFAULT 0,
	segments_sent INTEGER NOT NULL DEFAULT 0,
	opt_outs      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (account_id, bucket, program_id, template_id)
) WITHOUT ROWID;

-- The same counts by program alone (template_id is always ''), so a
-- series sums five programs' rows per hour rather than fifty templates'.
CREATE TABLE sms_metrics_program_hourly (
	account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	bucket        TIMESTAMP NOT NULL, -- the UTC hour
	program_id    TEXT NOT NULL DEFAULT '',
	template_id   TEXT NOT NULL DEFAULT '',
	created       INTEGER NOT NULL DEFAULT 0,
	sent          INTEGER NOT NULL DEFAULT 0,
	delivered     INTEGER NOT NULL DEFAULT 0,
	undelivered   INTEGER NOT NULL DEFAULT 0,
	failed        INTEGER NOT NULL DEFAULT 0,
	skipped       INTEGER NOT NULL DEFAULT 0,
	limit_queued  INTEGER NOT NULL DEFAULT 0,
	cancelled     INTEGER NOT NULL DEFAULT 0,
	segments_sent INTEGER NOT NULL DEFAULT 0,
	opt_outs      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (account_id, bucket, program_id, template_id)
) WITHOUT ROWID;

-- The same counts per UTC day, so the tables by template and by program
-- over a long range sum days; the hours at the range's ends that are not a
-- whole UTC day (in the account's time zone they rarely are) come from the
-- hourly rows.
CREATE TABLE sms_metrics_daily (
	account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	bucket        TIMESTAMP NOT NULL, -- the UTC day, at midnight
	program_id    TEXT NOT NULL DEFAULT '',
	template_id   TEXT NOT NULL DEFAULT '',
	created       INTEGER NOT NULL DEFAULT 0,
	sent          INTEGER NOT NULL DEFAULT 0,
	delivered     INTEGER NOT NULL DEFAULT 0,
	undelivered   INTEGER NOT NULL DEFAULT 0,
	failed        INTEGER NOT NULL DEFAULT 0,
	skipped       INTEGER NOT NULL DEFAULT 0,
	limit_queued  INTEGER NOT NULL DEFAULT 0,
	cancelled     INTEGER NOT NULL DEFAULT 0,
	segments_sent INTEGER NOT NULL DEFAULT 0,
	opt_outs      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (account_id, bucket, program_id, template_id)
) WITHOUT ROWID;

-- A series for one template reads its own hours. The index carries the
-- counters so the query never visits the table: without them the planner,
-- which has no statistics unless ANALYZE ran, scans the primary key instead.
CREATE INDEX sms_metrics_hourly_template ON sms_metrics_hourly (account_id, template_id, bucket, program_id,
	created, sent, delivered, undelivered, failed, skipped, limit_queued, cancelled, segments_sent, opt_outs);

-- Changes noted but not yet folded, appended in rowid order (the cheapest
-- insert SQLite has: the hot paths pay for one per counted change). An
-- opt-out carries its contact and moment in opt_out: a STOP on a one-number
-- account writes one consent record per kind, and is one opt-out.
CREATE TABLE metrics_inbox (
	seq        INTEGER PRIMARY KEY,
	account_id TEXT NOT NULL,
	message_id TEXT,
	what       TEXT NOT NULL, -- created, a status, or opted_out
	at         TIMESTAMP NOT NULL,
	opt_out    TEXT
);
CREATE UNIQUE INDEX metrics_inbox_opt_out ON metrics_inbox (opt_out) WHERE opt_out IS NOT NULL;

CREATE TRIGGER metrics_note_message AFTER INSERT ON messages
BEGIN
	INSERT INTO metrics_inbox (account_id, message_id, what, at)
	VALUES (NEW.account_id, NEW.id, 'created', NEW.created_at);
END;

-- Only the statuses the dashboard counts: queued, sending and rate_limited
-- come and go many times per message and are not noted.
CREATE TRIGGER metrics_note_event AFTER INSERT ON message_events
WHEN NEW.status IN ('sent', 'delivered', 'undelivered', 'failed', 'skipped', 'limit_queued', 'cancelled')
BEGIN
	INSERT INTO metrics_inbox (account_id, message_id, what, at)
	VALUES (NEW.account_id, NEW.message_id, NEW.status, NEW.occurred_at);
END;

CREATE TRIGGER metrics_note_opt_out AFTER INSERT ON consents
WHEN NEW.to_pref = 'opted_out' AND NEW.from_pref <> 'opted_out'
BEGIN
	INSERT OR IGNORE INTO metrics_inbox (account_id, message_id, what, at, opt_out)
	VALUES (NEW.account_id, NULL, 'opted_out', NEW.occurred_at, NEW.contact_id || '|' || NEW.occurred_at);
END;

-- What happened before this migration is noted too, and folded on start.
INSERT INTO metrics_inbox (account_id, message_id, what, at)
SELECT account_id, id, 'created', created_at FROM messages;
INSERT INTO metrics_inbox (account_id, message_id, what, at)
SELECT account_id, message_id, status, occurred_at FROM message_events
WHERE status IN ('sent', 'delivered', 'undelivered', 'failed', 'skipped', 'limit_queued', 'cancelled');
INSERT OR IGNORE INTO metrics_inbox (account_id, message_id, what, at, opt_out)
SELECT account_id, NULL, 'opted_out', occurred_at, contact_id || '|' || occurred_at FROM consents
WHERE to_pref = 'opted_out' AND from_pref <> 'opted_out';
