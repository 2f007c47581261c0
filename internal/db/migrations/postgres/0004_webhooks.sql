-- Webhooks: the account's own endpoints, each event sent to each of them
-- (a delivery), and every attempt to send it.

CREATE TABLE webhook_endpoints (
	id          text PRIMARY KEY,
	account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	url         text NOT NULL,
	description text NOT NULL DEFAULT '',
	events      text NOT NULL,              -- comma-separated event types
	enabled     boolean NOT NULL DEFAULT true,
	secret      text NOT NULL,              -- sealed with the secret key
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL
);
-- Emit reads an account's enabled endpoints through this, then caches them briefly.
CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id, enabled);

CREATE TABLE webhook_deliveries (
	id              text PRIMARY KEY,
	account_id      text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	endpoint_id     text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	event           text NOT NULL,
	payload         text NOT NULL,              -- the body, byte for byte as sent
	status          text NOT NULL,              -- pending, succeeded, failed
	attempts        integer NOT NULL DEFAULT 0,
	generation      integer NOT NULL DEFAULT 1, -- bumped by a redelivery; older jobs stand down
	next_attempt_at timestamptz,
	retry_until     timestamptz NOT NULL,
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL
);
-- An endpoint's delivery log, newest first.
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (account_id, endpoint_id, id);
CREATE INDEX webhook_deliveries_endpoint_status ON webhook_deliveries (account_id, endpoint_id, status, id);

CREATE TABLE webhook_attempts (
	delivery_id  text NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
	number       integer NOT NULL,
	account_id   text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	status_code  integer NOT NULL DEFAULT 0, -- 0: no answer
	duration_ms  integer NOT NULL,
	error        text NOT NULL DEFAULT '',
	attempted_at timestamptz NOT NULL,
	PRIMARY KEY (delivery_id, number)
);
