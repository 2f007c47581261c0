-- Marketing guards: each account's sending window and frequency cap, and
-- the indexes that keep holding messages back cheap.

-- The window in minutes after the recipient's local midnight, and the cap
-- as at most cap_max marketing messages per contact in cap_period_hours.
-- Zeros mean the defaults (08:00 to 21:00; one per 24 hours), so a change
-- of default reaches every account that kept it.
ALTER TABLE accounts ADD COLUMN window_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN window_end INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN cap_max INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN cap_period_hours INTEGER NOT NULL DEFAULT 0;

-- Messages waiting for the recipient's window, by number and due time: a
-- dispatcher finds the earliest and moves the due ones to queued with one
-- seek each, however many wait for tomorrow morning. (messages_claim
-- cannot: priority sits before next_attempt_at in it.) The status is
-- written as a literal in the queries so that the planners use it.
CREATE INDEX messages_scheduled ON messages (number_id, next_attempt_at) WHERE status = 'scheduled';

-- The frequency cap counts a contact's marketing messages around a time.
CREATE INDEX messages_marketing_contact ON messages (account_id, contact_id, next_attempt_at) WHERE kind = 'marketing';
