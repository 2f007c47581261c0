-- Messages: the row is the source of truth and the send queue. A
-- dispatcher claims rows per sender number at that number's rate.

ALTER TABLE accounts ADD COLUMN twilio_account_sid text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN twilio_auth_token text NOT NULL DEFAULT ''; -- sealed with the secret key
ALTER TABLE accounts ADD COLUMN twilio_base_url text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN allowed_countries text NOT NULL DEFAULT 'US,CA';
ALTER TABLE accounts ADD COLUMN auto_release_queue boolean NOT NULL DEFAULT false;
CREATE INDEX accounts_twilio_sid ON accounts (twilio_account_sid);

CREATE TABLE messages (
	id              text PRIMARY KEY,
	account_id      text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	program_id      text,
	contact_id      text,
	number_id       text,
	to_phone        text NOT NULL,
	from_phone      text NOT NULL DEFAULT '',
	kind            text NOT NULL,
	priority        integer NOT NULL,
	template_id     text,
	version_id      text,
	automation_id   text,
	step            integer,
	event_id        text,
	dedupe_key      text,
	body            text NOT NULL,
	encoding        text NOT NULL,
	segments        integer NOT NULL,
	status          text NOT NULL,
	reason          text NOT NULL DEFAULT '',
	error_code      text NOT NULL DEFAULT '',
	carrier         text NOT NULL DEFAULT '',
	carrier_id      text,
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL,
	claimed_until   timestamptz,
	reserved        boolean NOT NULL DEFAULT false,
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL
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
	id          text PRIMARY KEY,
	account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	message_id  text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	status      text NOT NULL,
	reason      text NOT NULL DEFAULT '',
	error_code  text NOT NULL DEFAULT '',
	occurred_at timestamptz NOT NULL
);
CREATE INDEX message_events_message ON message_events (message_id, occurred_at);

-- Messages counted against the monthly limit, per account and month (in
-- the account's time zone), and which usage marks were announced.
CREATE TABLE account_usage (
	account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	month       text NOT NULL,
	used        integer NOT NULL DEFAULT 0,
	notified    integer NOT NULL DEFAULT 0, -- the highest mark announced: 0, 50, 80 or 100
	PRIMARY KEY (account_id, month)
);

-- A sender number is dispatched by one process at a time, so its rate
-- holds across a cluster; a dead holder's lease expires and is taken over.
CREATE TABLE number_leases (
	number_id  text PRIMARY KEY,
	holder     text NOT NULL,
	expires_at timestamptz NOT NULL
);

-- Carrier callbacks can arrive twice; each idempotency token is applied once.
CREATE TABLE carrier_callbacks (
	token       text PRIMARY KEY,
	received_at timestamptz NOT NULL
);

-- Failures that say the number may not take texts, counted per contact.
ALTER TABLE contacts ADD COLUMN unreachable_count integer NOT NULL DEFAULT 0;

-- A status that arrived before the send's own result was written (the
-- carrier can answer faster than the dispatcher records); applied then.
CREATE TABLE pending_statuses (
	carrier_id  text NOT NULL,
	account_id  text NOT NULL,
	status      text NOT NULL,
	error_code  text NOT NULL DEFAULT '',
	received_at timestamptz NOT NULL
);
CREATE INDEX pending_statuses_carrier ON pending_statuses (carrier_id);
