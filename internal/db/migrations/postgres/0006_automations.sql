-- Automations: program events in, automations (immutable versions), and
-- the runs an event starts, with the outcome of each step.

-- Each event id is accepted once per account; the primary key says so.
CREATE TABLE events (
	account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	id          text NOT NULL,              -- the sender's own id
	type        text NOT NULL,
	program_id  text,
	contact_id  text NOT NULL,
	data        text NOT NULL,              -- JSON object
	occurred_at timestamptz NOT NULL,
	received_at timestamptz NOT NULL,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE automations (
	id                 text PRIMARY KEY,
	account_id         text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name               text NOT NULL,
	version            integer NOT NULL,          -- the latest version
	published_version  integer,                   -- the version that runs; NULL until published
	enabled            boolean NOT NULL DEFAULT false,
	trigger_event      text NOT NULL DEFAULT '',  -- of the published version, for matching
	trigger_program_id text NOT NULL DEFAULT '',
	deleted_at         timestamptz,
	created_at         timestamptz NOT NULL,
	updated_at         timestamptz NOT NULL
);
CREATE INDEX automations_account ON automations (account_id, id);
-- The event.match job finds the automations an event starts through this.
CREATE INDEX automations_trigger ON automations (account_id, trigger_event, enabled);

-- A version is never changed once written; runs pin the one they started on.
CREATE TABLE automation_versions (
	automation_id text NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
	version       integer NOT NULL,
	account_id    text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	definition    text NOT NULL,              -- JSON of automation.Definition
	created_by    text NOT NULL DEFAULT '',
	created_at    timestamptz NOT NULL,
	PRIMARY KEY (automation_id, version)
);

CREATE TABLE automation_runs (
	id            text PRIMARY KEY,
	account_id    text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	automation_id text NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
	version       integer NOT NULL,
	event_id      text NOT NULL,
	contact_id    text NOT NULL,
	status        text NOT NULL,              -- processing, completed, skipped, failed, cancelled
	reason        text NOT NULL DEFAULT '',
	next_step     integer NOT NULL DEFAULT 0, -- the step whose job may run; a repeated job stands down
	created_at    timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL
);
-- An event starts an automation once, however often its job runs.
CREATE UNIQUE INDEX automation_runs_once ON automation_runs (account_id, automation_id, event_id);
CREATE INDEX automation_runs_list ON automation_runs (account_id, automation_id, id);

CREATE TABLE automation_run_steps (
	run_id     text NOT NULL REFERENCES automation_runs (id) ON DELETE CASCADE,
	step       integer NOT NULL,
	account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	type       text NOT NULL,
	status     text NOT NULL,                 -- processing, completed, skipped, failed, cancelled
	reason     text NOT NULL DEFAULT '',
	message_id text,
	due_at     timestamptz,                     -- a wait: when the next step runs
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (run_id, step)
);
