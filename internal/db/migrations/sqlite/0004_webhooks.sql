-- Webhooks: the account's own endpoints, each event sent to each of them
-- (a delivery), and every attempt to send it.

CREATE TABLE webhook_endpoints (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	url         TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	events      TEXT NOT NULL,              -- comma-separated event types
	enabled     INTEGER NOT NULL DEFAULT 1,
	secret      TEXT NOT NULL,              -- sealed with the secret key
	created_at  TIMESTAMP NOT NULL,
	updated_at  TIMESTAMP NOT NULL
);
-- Emit reads an account's enabled endpoints through this, then caches them briefly.
CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id, enabled);

CREATE TABLE webhook_deliveries (
	id              TEXT PRIMARY KEY,
	account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	event           TEXT NOT NULL,
	payload         TEXT NOT NULL,              -- the body, byte for byte as sent
	status          TEXT NOT NULL,              -- pending, succeeded, failed
	attempts        INTEGER NOT NULL DEFAULT 0,
	generation      INTEGER NOT NULL DEFAULT 1, -- bumped by a redelivery; older jobs stand down
	next_attempt_at TIMESTAMP,
	retry_until     TIMESTAMP NOT NULL,
	created_at      TIMESTAMP NOT NULL,
	updated_at      TIMESTAMP NOT NULL
);
-- An endpoint's delivery log, newest first.
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (account_id, endpoint_id, id);
CREATE INDEX webhook_deliveries_endpoint_status ON webhook_deliveries (account_id, endpoint_id, status, id);

CREATE TABLE webhook_attempts (
	delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
	number       INTEGER NOT NULL,
	account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	status_code  INTEGER NOT NULL DEFAULT 0, -- 0: no answer
	duration_ms  INTEGER NOT NULL,
	error        TEXT NOT NULL DEFAULT '',
	attempted_at TIMESTAMP NOT NULL,
	PRIMARY KEY (delivery_id, number)
);
