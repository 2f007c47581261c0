-- Message templates. A template is a name and a line of versions; a
-- version's body and kind never change (an edit makes a new version), so a
-- message can point at the version it was rendered from and a compiled
-- version can be cached by its id. The template row points at its latest
-- version (current_version_id, whose status it mirrors) and at the version
-- that is sent (approved_version_id). Those two pointers have no foreign key:
-- the template row is written before its first version. Templates are never
-- deleted, only archived, so past messages keep their reference. The
-- PostgreSQL file beside this one is the same schema in that engine's types.

CREATE TABLE templates (
	id                  TEXT PRIMARY KEY,
	account_id          TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name                TEXT NOT NULL,
	status              TEXT NOT NULL,
	current_version_id  TEXT NOT NULL,
	approved_version_id TEXT,
	gallery_key         TEXT NOT NULL DEFAULT '',
	created_at          TIMESTAMP NOT NULL,
	updated_at          TIMESTAMP NOT NULL,
	archived_at         TIMESTAMP
);
CREATE INDEX templates_account ON templates (account_id, id);
-- The operator's review queue reads templates by status across accounts.
CREATE INDEX templates_status ON templates (status, id) WHERE archived_at IS NULL;

-- status is the version's review state: draft, pending_approval, approved
-- or rejected.
CREATE TABLE template_versions (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	template_id TEXT NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
	number      INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	body        TEXT NOT NULL,
	status      TEXT NOT NULL,
	created_by  TEXT NOT NULL DEFAULT '',
	created_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX template_versions_number ON template_versions (template_id, number);
CREATE INDEX template_versions_account ON template_versions (account_id, template_id);

-- Every step of a version's review, kept: submitted, withdrawn, approved,
-- rejected; who (an actor such as "key:key_…"), when and why.
CREATE TABLE template_decisions (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	template_id TEXT NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
	version_id  TEXT NOT NULL REFERENCES template_versions (id) ON DELETE CASCADE,
	decision    TEXT NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	actor       TEXT NOT NULL,
	decided_at  TIMESTAMP NOT NULL
);
CREATE INDEX template_decisions_template ON template_decisions (account_id, template_id, id);

-- "Send Test" messages. The rolling-hour limit counts these rows, so a row
-- is written (status 'sending') before the carrier is called, then marked
-- 'sent' with the message id or 'failed' with the error.
CREATE TABLE template_test_sends (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	template_id TEXT NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
	version_id  TEXT NOT NULL REFERENCES template_versions (id) ON DELETE CASCADE,
	to_phone    TEXT NOT NULL,
	body        TEXT NOT NULL,
	actor       TEXT NOT NULL,
	status      TEXT NOT NULL,
	message_id  TEXT NOT NULL DEFAULT '',
	error       TEXT NOT NULL DEFAULT '',
	created_at  TIMESTAMP NOT NULL
);
CREATE INDEX template_test_sends_window ON template_test_sends (account_id, created_at);
