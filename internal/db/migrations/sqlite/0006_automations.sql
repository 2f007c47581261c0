-- Automations: program events in, automations (immutable versions), and
-- the runs an event starts, with the outcome of each step.

-- Each event id is accepted once per account; the primary key says so.
CREATE TABLE events (
	account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	id          TEXT NOT NULL,              -- the sender's own id
	type        TEXT NOT NULL,
	program_id  TEXT,
	contact_id  TEXT NOT NULL,
	data        TEXT NOT NULL,              -- JSON object
	occurred_at TIMESTAMP NOT NULL,
	received_at TIMESTAMP NOT NULL,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE automations (
	id                 TEXT PRIMARY KEY,
	account_id         TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name               TEXT NOT NULL,
	version            INTEGER NOT NULL,          -- the latest version
	published_version  INTEGER,                   -- the version that runs; NULL until published
	enabled            INTEGER NOT NULL DEFAULT 0,
	trigger_event      TEXT NOT NULL DEFAULT '',  -- of the published version, for matching
	trigger_program_id TEXT NOT NULL DEFAULT '',
	deleted_at         TIMESTAMP,
	created_at         TIMESTAMP NOT NULL,
	updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX automations_account ON automations (account_id, id);
-- The event.match job finds the automations an event starts through this.
CREATE INDEX automations_trigger ON automations (account_id, trigger_event, enabled);

-- A version is never changed once written; runs pin the one they started on.
CREATE TABLE automation_versions (
	automation_id TEXT NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
	version       INTEGER NOT NULL,
	account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	definition    TEXT NOT NULL,              -- JSON of automation.Definition
	created_by    TEXT NOT NULL DEFAULT '',
	created_at    TIMESTAMP NOT NULL,
	PRIMARY KEY (automation_id, version)
);

CREATE TABLE automation_runs (
	id            TEXT PRIMARY KEY,
	account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	automation_id TEXT NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
	version       INTEGER NOT NULL,
	event_id      TEXT NOT NULL,
	contact_id    TEXT NOT NULL,
	status        TEXT NOT NULL,              -- processing, completed, skipped, failed, cancelled
	reason        TEXT NOT NULL DEFAULT '',
	next_step     INTEGER NOT NULL DEFAULT 0, -- the step whose job may run; a repeated job stands down
	created_at    TIMESTAMP NOT NULL,
	updated_at    TIMESTAMP NOT NULL
);
-- An event starts an automation once, however often its job runs.
CREATE UNIQUE INDEX automation_runs_once ON automation_runs (account_id, automation_id, event_id);
CREATE INDEX automation_runs_list ON automation_runs (account_id, automation_id, id);

CREATE TABLE automation_run_steps (
	run_id     TEXT NOT NULL REFERENCES automation_runs (id) ON DELETE CASCADE,
	step       INTEGER NOT NULL,
	account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	type       TEXT NOT NULL,
	status     TEXT NOT NULL,                 -- processing, completed, skipped, failed, cancelled
	reason     TEXT NOT NULL DEFAULT '',
	message_id TEXT,
	due_at     TIMESTAMP,                     -- a wait: when the next step runs
	updated_at TIMESTAMP NOT NULL,
	PRIMARY KEY (run_id, step)
);
