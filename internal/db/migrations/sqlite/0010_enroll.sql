-- The enrollment widget: what an account's disclosure says, whether a
-- ticked box must be confirmed by a "Y" reply (double opt-in), and the
-- enrollments that wait for that reply.

ALTER TABLE accounts ADD COLUMN enroll_frequency TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN enroll_terms_url TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN enroll_double_opt_in INTEGER NOT NULL DEFAULT 0;

-- One row per enrollment that asked for texts under double opt-in. It keeps
-- the evidence of the form until the reply confirms it; confirmed_at is set
-- (never deleted) so what was confirmed, and when, stays readable.
CREATE TABLE enroll_confirmations (
	id           TEXT PRIMARY KEY,
	account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	contact_id   TEXT NOT NULL,
	program_id   TEXT NOT NULL,
	message_id   TEXT NOT NULL DEFAULT '',
	evidence     TEXT NOT NULL,
	created_at   TIMESTAMP NOT NULL,
	expires_at   TIMESTAMP NOT NULL,
	confirmed_at TIMESTAMP,
	inbound_id   TEXT NOT NULL DEFAULT ''
);
-- A reply finds the contact's open enrollment, newest first.
CREATE INDEX enroll_confirmations_open ON enroll_confirmations (account_id, contact_id, created_at)
	WHERE confirmed_at IS NULL;
