-- Accounts, programs, people and keys, sender numbers, contacts and the
-- consent ledger. Ids and timestamps are made in Go; the PostgreSQL file
-- beside this one is the same schema in that engine's types.

CREATE TABLE accounts (
	id              TEXT PRIMARY KEY,
	name            TEXT NOT NULL,
	brand_name      TEXT NOT NULL DEFAULT '',
	default_country TEXT NOT NULL DEFAULT 'US',
	time_zone       TEXT NOT NULL DEFAULT 'America/New_York',
	sms_enabled     INTEGER NOT NULL DEFAULT 0,
	monthly_limit   INTEGER NOT NULL DEFAULT 1000,
	self_approval   INTEGER NOT NULL DEFAULT 0,
	help_text       TEXT NOT NULL DEFAULT '',
	created_at      TIMESTAMP NOT NULL,
	updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE programs (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	created_at  TIMESTAMP NOT NULL,
	updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX programs_account ON programs (account_id, id);

-- Users sign in to the admin web. The operator has no account.
CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	account_id    TEXT REFERENCES accounts (id) ON DELETE CASCADE,
	email         TEXT NOT NULL,
	name          TEXT NOT NULL DEFAULT '',
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL DEFAULT '',
	created_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);

-- API keys are shown once; only a SHA-256 of the secret is kept (the secret
-- has 256 bits of entropy, so a slow hash would add nothing).
CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	account_id   TEXT REFERENCES accounts (id) ON DELETE CASCADE,
	name         TEXT NOT NULL DEFAULT '',
	role         TEXT NOT NULL,
	prefix       TEXT NOT NULL,
	secret_hash  TEXT NOT NULL,
	created_at   TIMESTAMP NOT NULL,
	last_used_at TIMESTAMP,
	revoked_at   TIMESTAMP
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (secret_hash);
CREATE INDEX api_keys_account ON api_keys (account_id);

-- A number sends for one account: 'both' kinds, or one of 'transactional'
-- and 'marketing'. mps is messages per second.
CREATE TABLE sender_numbers (
	id         TEXT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	phone      TEXT NOT NULL,
	kind       TEXT NOT NULL,
	mps        REAL NOT NULL DEFAULT 1,
	created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sender_numbers_phone ON sender_numbers (phone);
CREATE INDEX sender_numbers_account ON sender_numbers (account_id);

CREATE TABLE contacts (
	id                TEXT PRIMARY KEY,
	account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	external_id       TEXT,
	phone             TEXT NOT NULL DEFAULT '',
	phone_e164        TEXT,
	phone_valid       INTEGER NOT NULL DEFAULT 0,
	phone_type        TEXT NOT NULL DEFAULT '',
	phone_country     TEXT NOT NULL DEFAULT '',
	sms_capable       INTEGER NOT NULL DEFAULT 0,
	first_name        TEXT NOT NULL DEFAULT '',
	last_name         TEXT NOT NULL DEFAULT '',
	email             TEXT NOT NULL DEFAULT '',
	time_zone         TEXT NOT NULL DEFAULT '',
	attributes        TEXT NOT NULL DEFAULT '{}',
	sms_transactional TEXT NOT NULL DEFAULT 'unknown',
	sms_marketing     TEXT NOT NULL DEFAULT 'unknown',
	created_at        TIMESTAMP NOT NULL,
	updated_at        TIMESTAMP NOT NULL
);
-- Consent follows the number: one contact per phone per account.
CREATE UNIQUE INDEX contacts_phone ON contacts (account_id, phone_e164) WHERE phone_e164 IS NOT NULL;
CREATE UNIQUE INDEX contacts_external_id ON contacts (account_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX contacts_marketing ON contacts (account_id, sms_marketing, id);
CREATE INDEX contacts_country ON contacts (account_id, phone_country, id);

-- The consent ledger: append-only. contact_id has no foreign key on purpose:
-- a deleted contact's records stay, with the phone kept only as a hash.
CREATE TABLE consents (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	contact_id  TEXT NOT NULL,
	phone_hash  TEXT NOT NULL DEFAULT '',
	kind        TEXT NOT NULL,
	from_pref   TEXT NOT NULL,
	to_pref     TEXT NOT NULL,
	source      TEXT NOT NULL,
	actor       TEXT NOT NULL DEFAULT '',
	evidence    TEXT NOT NULL DEFAULT '{}',
	occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX consents_contact ON consents (account_id, contact_id, occurred_at);

-- The ledger refuses edits and deletes at the engine, not only in Go.
CREATE TRIGGER consents_no_update BEFORE UPDATE ON consents
BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
CREATE TRIGGER consents_no_delete BEFORE DELETE ON consents
WHEN (SELECT count(*) FROM accounts WHERE id = OLD.account_id) > 0
BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
