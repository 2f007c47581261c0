-- Replies from handsets, what each was classified as, and what Herald did.

CREATE TABLE inbound_messages (
	id           TEXT PRIMARY KEY,
	account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	contact_id   TEXT,
	carrier_id   TEXT NOT NULL,
	from_phone   TEXT NOT NULL,
	to_phone     TEXT NOT NULL,
	body         TEXT NOT NULL,
	intent       TEXT NOT NULL,
	rule         TEXT NOT NULL,
	keyword      TEXT NOT NULL DEFAULT '',
	action       TEXT NOT NULL,
	reply        TEXT NOT NULL DEFAULT '',
	needs_review INTEGER NOT NULL DEFAULT 0,
	received_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX inbound_carrier_id ON inbound_messages (account_id, carrier_id);
CREATE INDEX inbound_account ON inbound_messages (account_id, id);
CREATE INDEX inbound_contact ON inbound_messages (account_id, contact_id, id);

-- The account's own keywords (comma-separated, added to the standard ones)
-- and its reply texts; empty means Herald's default text.
ALTER TABLE accounts ADD COLUMN keywords_opt_out TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN keywords_opt_in TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN keywords_help TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN reply_opt_out TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN reply_opt_in TEXT NOT NULL DEFAULT '';
