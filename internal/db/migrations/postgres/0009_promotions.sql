-- Scheduled promotions and reminders that stop.

-- A promotion's send step pages its audience in batches. The step row keeps
-- the last contact id done (the keyset cursor) and the counts so far, written
-- in the transaction that queues the next batch, so a crash resumes there.
ALTER TABLE automation_run_steps ADD COLUMN batch_cursor text NOT NULL DEFAULT '';
ALTER TABLE automation_run_steps ADD COLUMN audience integer NOT NULL DEFAULT 0;
ALTER TABLE automation_run_steps ADD COLUMN created integer NOT NULL DEFAULT 0;
ALTER TABLE automation_run_steps ADD COLUMN skipped integer NOT NULL DEFAULT 0;

-- A reminder run remembers which event stops it (until_event), which field
-- of that event must match (match_on) and the value its own event had there
-- (match_key, JSON-encoded), so an ingested stop event finds it by index.
ALTER TABLE automation_runs ADD COLUMN until_event text NOT NULL DEFAULT '';
ALTER TABLE automation_runs ADD COLUMN match_on text NOT NULL DEFAULT '';
ALTER TABLE automation_runs ADD COLUMN match_key text NOT NULL DEFAULT '';
CREATE INDEX automation_runs_until ON automation_runs (account_id, until_event, contact_id, match_key)
	WHERE until_event <> '';

-- "Contacts of a program" are those with an event of the program; a batch of
-- an audience asks which of its contacts have one.
CREATE INDEX events_program_contact ON events (account_id, program_id, contact_id) WHERE program_id IS NOT NULL;
-- Before each send, a reminder run looks for its stop event among the
-- contact's events of that type.
CREATE INDEX events_contact_type ON events (account_id, contact_id, type);
