-- SMS dashboard figures, kept as rollups (hourly by template, hourly by
-- program, daily by template) so a dashboard over millions of messages
-- sums a few thousand rows. Counters are per row; their sums are bigint.
--
-- Counting happens outside the write paths of messages: triggers note each
-- change that counts in metrics_inbox, in the writer's own transaction, and
-- a background fold moves inbox rows into the rollups and deletes them in
-- one transaction. A noted change is therefore folded exactly once, however
-- out of order concurrent transactions commit. The triggers run once per
-- statement over its transition table, so a batch insert pays for one.

-- One row per account, UTC hour, program and template ('' for none).
-- Opt-outs name no program or template, so they sit in the ('', '') rows.
CREATE TABLE sms_metrics_hourly (
	account_id    text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	bucket        timestamptz NOT NULL, -- the UTC hour, on the hour
	program_id    text NOT NULL DEFAULT '',
	template_id   text NOT NULL DEFAULT '',
	created       integer NOT NULL DEFAULT 0,
	sent          integer NOT NULL DEFAULT 0,
	delivered     integer NOT NULL DEFAULT 0,
	undelivered   integer NOT NULL DEFAULT 0,
	failed        integer NOT NULL DEFAULT 0,
	skipped       integer NOT NULL DEFAULT 0,
	limit_queued  integer NOT NULL DEFAULT 0,
	cancelled     integer NOT NULL DEFAULT 0,
	segments_sent integer NOT NULL DEFAULT 0,
	opt_outs      integer NOT NULL DEFAULT 0,
	PRIMARY KEY (account_id, bucket, program_id, template_id)
);

-- The same counts by program alone (template_id is always ''), so a
-- series sums five programs' rows per hour rather than fifty templates'.
CREATE TABLE sms_metrics_program_hourly (
	account_id    text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	bucket        timestamptz NOT NULL, -- the UTC hour
	program_id    text NOT NULL DEFAULT '',
	template_id   text NOT NULL DEFAULT '',
	created       integer NOT NULL DEFAULT 0,
	sent          integer NOT NULL DEFAULT 0,
	delivered     integer NOT NULL DEFAULT 0,
	undelivered   integer NOT NULL DEFAULT 0,
	failed        integer NOT NULL DEFAULT 0,
	skipped       integer NOT NULL DEFAULT 0,
	limit_queued  integer NOT NULL DEFAULT 0,
	cancelled     integer NOT NULL DEFAULT 0,
	segments_sent integer NOT NULL DEFAULT 0,
	opt_outs      integer NOT NULL DEFAULT 0,
	PRIMARY KEY (account_id, bucket, program_id, template_id)
);

-- The same counts per UTC day, so the tables by template and by program
-- over a long range sum days; the hours at the range's ends that are not a
-- whole UTC day (in the account's time zone they rarely are) come from the
-- hourly rows.
CREATE TABLE sms_metrics_daily (
	account_id    text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	bucket        timestamptz NOT NULL, -- the UTC day, at midnight
	program_id    text NOT NULL DEFAULT '',
	template_id   text NOT NULL DEFAULT '',
	created       integer NOT NULL DEFAULT 0,
	sent          integer NOT NULL DEFAULT 0,
	delivered     integer NOT NULL DEFAULT 0,
	undelivered   integer NOT NULL DEFAULT 0,
	failed        integer NOT NULL DEFAULT 0,
	skipped       integer NOT NULL DEFAULT 0,
	limit_queued  integer NOT NULL DEFAULT 0,
	cancelled     integer NOT NULL DEFAULT 0,
	segments_sent integer NOT NULL DEFAULT 0,
	opt_outs      integer NOT NULL DEFAULT 0,
	PRIMARY KEY (account_id, bucket, program_id, template_id)
);

-- A series for one template reads its own hours.
CREATE INDEX sms_metrics_hourly_template ON sms_metrics_hourly (account_id, template_id, bucket);

-- Changes noted but not yet folded. An opt-out carries its contact and
-- moment in opt_out: a STOP on a one-number account writes one consent
-- record per kind, and is one opt-out.
CREATE TABLE metrics_inbox (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id text NOT NULL,
	message_id text,
	what       text NOT NULL, -- created, a status, or opted_out
	at         timestamptz NOT NULL,
	opt_out    text
);
CREATE UNIQUE INDEX metrics_inbox_opt_out ON metrics_inbox (opt_out) WHERE opt_out IS NOT NULL;

CREATE FUNCTION metrics_note_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO metrics_inbox (account_id, message_id, what, at)
	SELECT account_id, id, 'created', created_at FROM added;
	RETURN NULL;
END $$;
CREATE TRIGGER metrics_note_messages AFTER INSERT ON messages
REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION metrics_note_messages();

-- Only the statuses the dashboard counts: queued, sending and rate_limited
-- come and go many times per message and are not noted.
CREATE FUNCTION metrics_note_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO metrics_inbox (account_id, message_id, what, at)
	SELECT account_id, message_id, status, occurred_at FROM added
	WHERE status IN ('sent', 'delivered', 'undelivered', 'failed', 'skipped', 'limit_queued', 'cancelled');
	RETURN NULL;
END $$;
CREATE TRIGGER metrics_note_events AFTER INSERT ON message_events
REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION metrics_note_events();

CREATE FUNCTION metrics_note_opt_outs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO metrics_inbox (account_id, message_id, what, at, opt_out)
	SELECT account_id, NULL, 'opted_out', occurred_at, contact_id || '|' || occurred_at::text FROM added
	WHERE to_pref = 'opted_out' AND from_pref <> 'opted_out'
	ON CONFLICT (opt_out) WHERE opt_out IS NOT NULL DO NOTHING;
	RETURN NULL;
END $$;
CREATE TRIGGER metrics_note_opt_outs AFTER INSERT ON consents
REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION metrics_note_opt_outs();

-- What happened before this migration is noted too, and folded on start.
INSERT INTO metrics_inbox (account_id, message_id, what, at)
SELECT account_id, id, 'created', created_at FROM messages;
INSERT INTO metrics_inbox (account_id, message_id, what, at)
SELECT account_id, message_id, status, occurred_at FROM message_events
WHERE status IN ('sent', 'delivered', 'undelivered', 'failed', 'skipped', 'limit_queued', 'cancelled');
INSERT INTO metrics_inbox (account_id, message_id, what, at, opt_out)
SELECT account_id, NULL, 'opted_out', occurred_at, contact_id || '|' || occurred_at::text FROM consents
WHERE to_pref = 'opted_out' AND from_pref <> 'opted_out'
ON CONFLICT (opt_out) WHERE opt_out IS NOT NULL DO NOTHING;
