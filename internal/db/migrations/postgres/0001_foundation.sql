-- Accounts, programs, people and keys, sender numbers, contacts and the
-- consent ledger. The SQLite file beside this one is the same schema.

CREATE TABLE accounts (
	id              text PRIMARY KEY,
	name            text NOT NULL,
	brand_name      text NOT NULL DEFAULT '',
	default_country text NOT NULL DEFAULT 'US',
	time_zone       text NOT NULL DEFAULT 'America/New_York',
	sms_enabled     boolean NOT NULL DEFAULT false,
	monthly_limit   bigint NOT NULL DEFAULT 1000,
	self_approval   boolean NOT NULL DEFAULT false,
	help_text       text NOT NULL DEFAULT '',
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL
);

CREATE TABLE programs (
	id          text PRIMARY KEY,
	account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name        text NOT NULL,
	description text NOT NULL DEFAULT '',
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL
);
CREATE INDEX programs_account ON programs (account_id, id);

CREATE TABLE users (
	id            text PRIMARY KEY,
	account_id    text REFERENCES accounts (id) ON DELETE CASCADE,
	email         text NOT NULL,
	name          text NOT NULL DEFAULT '',
	role          text NOT NULL,
	password_hash text NOT NULL DEFAULT '',
	created_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE api_keys (
	id           text PRIMARY KEY,
	account_id   text REFERENCES accounts (id) ON DELETE CASCADE,
	name         text NOT NULL DEFAULT '',
	role         text NOT NULL,
	prefix       text NOT NULL,
	secret_hash  text NOT NULL,
	created_at   timestamptz NOT NULL,
	last_used_at timestamptz,
	revoked_at   timestamptz
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (secret_hash);
CREATE INDEX api_keys_account ON api_keys (account_id);

CREATE TABLE sender_numbers (
	id         text PRIMARY KEY,
	account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	phone      text NOT NULL,
	kind       text NOT NULL,
	mps        double precision NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX sender_numbers_phone ON sender_numbers (phone);
CREATE INDEX sender_numbers_account ON sender_numbers (account_id);

CREATE TABLE contacts (
	id                text PRIMARY KEY,
	account_id        text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	external_id       text,
	phone             text NOT NULL DEFAULT '',
	phone_e164        text,
	phone_valid       boolean NOT NULL DEFAULT false,
	phone_type        text NOT NULL DEFAULT '',
	phone_country     text NOT NULL DEFAULT '',
	sms_capable       boolean NOT NULL DEFAULT false,
	first_name        text NOT NULL DEFAULT '',
	last_name         text NOT NULL DEFAULT '',
	email             text NOT NULL DEFAULT '',
	time_zone         text NOT NULL DEFAULT '',
	attributes        jsonb NOT NULL DEFAULT '{}',
	sms_transactional text NOT NULL DEFAULT 'unknown',
	sms_marketing     text NOT NULL DEFAULT 'unknown',
	created_at        timestamptz NOT NULL,
	updated_at        timestamptz NOT NULL
);
CREATE UNIQUE INDEX contacts_phone ON contacts (account_id, phone_e164) WHERE phone_e164 IS NOT NULL;
CREATE UNIQUE INDEX contacts_external_id ON contacts (account_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX contacts_marketing ON contacts (account_id, sms_marketing, id);
CREATE INDEX contacts_country ON contacts (account_id, phone_country, id);

CREATE TABLE consents (
	id          text PRIMARY KEY,
	account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	contact_id  text NOT NULL,
	phone_hash  text NOT NULL DEFAULT '',
	kind        text NOT NULL,
	from_pref   text NOT NULL,
	to_pref     text NOT NULL,
	source      text NOT NULL,
	actor       text NOT NULL DEFAULT '',
	evidence    jsonb NOT NULL DEFAULT '{}',
	occurred_at timestamptz NOT NULL
);
CREATE INDEX consents_contact ON consents (account_id, contact_id, occurred_at);

-- The ledger refuses edits at the engine, not only in Go. Deleting a whole
-- account (its cascade) is the one way records go.
CREATE FUNCTION consents_append_only() RETURNS trigger AS $$
BEGIN
	IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM accounts WHERE id = OLD.account_id) THEN
		RETURN OLD;
	END IF;
	RAISE EXCEPTION 'consent records are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER consents_no_change BEFORE UPDATE OR DELETE ON consents
FOR EACH ROW EXECUTE FUNCTION consents_append_only();
