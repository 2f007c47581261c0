-- The enrollment widget: what an account's disclosure says, whether a
-- ticked box must be confirmed by a "Y" reply (double opt-in), and the
-- enrollments that wait for that reply. The SQLite file beside this one is
-- the same schema.

ALTER TABLE accounts ADD COLUMN enroll_frequency text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN enroll_terms_url text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN enroll_double_opt_in boolean NOT NULL DEFAULT false;

-- One row per enrollment that asked for texts under double opt-in. It keeps
-- the evidence of the form until the reply confirms it; confirmed_at is set
-- (never deleted) so what was confirmed, and when, stays readable.
CREATE TABLE enroll_confirmations (
	id           text PRIMARY KEY,
	account_id   text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	contact_id   text NOT NULL,
	program_id   text NOT NULL,
	message_id   text NOT NULL DEFAULT '',
	evidence     jsonb NOT NULL,
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	confirmed_at timestamptz,
	inbound_id   text NOT NULL DEFAULT ''
);
-- A reply finds the contact's open enrollment, newest first.
CREATE INDEX enroll_confirmations_open ON enroll_confirmations (account_id, contact_id, created_at)
	WHERE confirmed_at IS NULL;
