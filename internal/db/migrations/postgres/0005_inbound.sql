-- Replies from handsets, what each was classified as, and what Herald did.

CREATE TABLE inbound_messages (
	id           text PRIMARY KEY,
	account_id   text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	contact_id   text,
	carrier_id   text NOT NULL,
	from_phone   text NOT NULL,
	to_phone     text NOT NULL,
	body         text NOT NULL,
	intent       text NOT NULL,
	rule         text NOT NULL,
	keyword      text NOT NULL DEFAULT '',
	action       text NOT NULL,
	reply        text NOT NULL DEFAULT '',
	needs_review boolean NOT NULL DEFAULT false,
	received_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX inbound_carrier_id ON inbound_messages (account_id, carrier_id);
CREATE INDEX inbound_account ON inbound_messages (account_id, id);
CREATE INDEX inbound_contact ON inbound_messages (account_id, contact_id, id);

-- The account's own keywords (comma-separated, added to the standard ones)
-- and its reply texts; empty means Herald's default text.
ALTER TABLE accounts ADD COLUMN keywords_opt_out text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN keywords_opt_in text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN keywords_help text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN reply_opt_out text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN reply_opt_in text NOT NULL DEFAULT '';
