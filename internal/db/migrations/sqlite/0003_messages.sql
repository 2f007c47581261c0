-- Messages: the row is the source of truth and the send queue. A
-- dispatcher claims rows per sender number at that number's rate.

ALTER TABLE accounts ADD COLUMN twilio_account_sid TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN twilio_auth_token TEXT NOT NULL DEFAULT ''; -- sealed with the secret key
ALTER TABLE accounts ADD COLUMN twilio_base_url TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN allowed_countries TEXT NOT NULL DEFAULT 'US,CA';
ALTER TABLE accounts ADD COLUMN auto_release_queue INTEGER NOT NULL DEFAULT 0;
CREATE INDEX accounts_twilio_sid ON accounts (twilio_account_sid);

CREATE TABLE messages (
	id              TEXT PRIMARY KEY,
	account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	program_id      TEXT,
	contact_id      TEXT,
	number_id       TEXT,
	to_phone        TEXT NOT NULL,
	from_phone      TEXT NOT NULL DEFAULT '',
	kind            TEXT NOT NULL,
	priority        INTEGER NOT NULL,
	template_id     TEXT,
	version_id      TEXT,
	automation_id   TEXT,
	step            INTEGER,
	event_id        TEXT,
	dedupe_key      TEXT,
	body            TEXT NOT NULL,
	encoding        TEXT NOT NULL,
	segments        INTEGER NOT NULL,
	status          TEXT NOT NULL,
	reason          TEXT NOT NULL DEFAULT '',
	error_code      TEXT NOT NULL DEFAULT '',
	carrier         TEXT NOT NULL DEFAULT '',
	carrier_id      TEXT,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at TIMESTAMP NOT NULL,
	claimed_until   TIMESTAMP,
	reserved        INTEGER NOT NULL DEFAULT 0,
	created_at      TIMESTAMP NOT NULL,
	updated_at      TIMESTAMP NOT NULL
);
-- The dispatcher's claim: per number, transactional first, oldest first.
CREATE INDEX messages_claim ON messages (number_id, status, priority, next_attempt_at, id);
CREATE INDEX messages_account ON messages (account_id, id);
CREATE INDEX messages_account_status ON messages (account_id, status, id);
CREATE INDEX messages_contact ON messages (account_id, contact_id, id);
CREATE UNIQUE INDEX messages_carrier_id ON messages (carrier_id) WHERE carrier_id IS NOT NULL;
-- Each (automation, step, event, contact) makes at most one message.
CREATE UNIQUE INDEX messages_dedupe ON messages (account_id, dedupe_key) WHERE dedupe_key IS NOT NULL;

-- The transaction log: every status a message has had.
CREATE TABLE message_events (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	message_id  TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	status      TEXT NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	error_code  TEXT NOT NULL DEFAULT '',
	occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX message_events_message ON message_events (message_id, occurred_at);

-- Messages counted against the monthly limit, per account and month (in
-- the account's time zone), and which usage marks were announced.
CREATE TABLE account_usage (
	account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	month       TEXT NOT NULL,
	used        INTEGER NOT NULL DEFAULT 0,
	notified    INTEGER NOT NULL DEFAULT 0, -- the highest mark announced: 0, 50, 80 or 100
	PRIMARY KEY (account_id, month)
);

-- A sender number is dispatched by one process at a time, so its rate
-- holds across a cluster; a dead holder's lease expires and is taken over.
CREATE TABLE number_leases (
	number_id  TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	expires_at TIMESTAMP NOT NULL
);

-- Carrier callbacks can arrive twice; each idempotency token is applied once.
CREATE TABLE carrier_callbacks (
	token       TEXT PRIMARY KEY,
	received_at TIMESTAMP NOT NULL
);

-- Failures that say the number may not take texts, counted per contact.
ALTER TABLE contacts ADD COLUMN unreachable_count INTEGER NOT NULL DEFAULT 0;

-- A status that arrived before the send's own result was written (the
-- carrier can answer faster than the dispatcher records); applied then.
CREATE TABLE pending_statuses (
	carrier_id  TEXT NOT NULL,
	account_id  TEXT NOT NULL,
	status      TEXT NOT NULL,
	error_code  TEXT NOT NULL DEFAULT '',
	received_at TIMESTAMP NOT NULL
);
CREATE INDEX pending_statuses_carrier ON pending_statuses (carrier_id);
