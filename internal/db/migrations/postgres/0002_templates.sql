-- Message templates: templates, their immutable versions, every review
-- decision and the "Send Test" log. The SQLite file beside this one is the
-- same schema and explains it.

CREATE TABLE templates (
	id                  text PRIMARY KEY,
	account_id          text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name                text NOT NULL,
	status              text NOT NULL,
	current_version_id  text NOT NULL,
	approved_version_id text,
	gallery_key         text NOT NULL DEFAULT '',
	created_at          timestamptz NOT NULL,
	updated_at          timestamptz NOT NULL,
	archived_at         timestamptz
);
CREATE INDEX templates_account ON templates (account_id, id);
CREATE INDEX templates_status ON templates (status, id) WHERE archived_at IS NULL;

CREATE TABLE template_versions (
	id          text PRIMARY KEY,
	account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	template_id text NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
	number      integer NOT NULL,
	kind        text NOT NULL,
	body        text NOT NULL,
	status      text NOT NULL,
	created_by  text NOT NULL DEFAULT '',
	created_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX template_versions_number ON template_versions (template_id, number);
CREATE INDEX template_versions_account ON template_versions (account_id, template_id);

CREATE TABLE template_decisions (
	id          text PRIMARY KEY,
	account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	template_id text NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
	version_id  text NOT NULL REFERENCES template_versions (id) ON DELETE CASCADE,
	decision    text NOT NULL,
	reason      text NOT NULL DEFAULT '',
	actor       text NOT NULL,
	decided_at  timestamptz NOT NULL
);
CREATE INDEX template_decisions_template ON template_decisions (account_id, template_id, id);

CREATE TABLE template_test_sends (
	id          text PRIMARY KEY,
	account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	template_id text NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
	version_id  text NOT NULL REFERENCES template_versions (id) ON DELETE CASCADE,
	to_phone    text NOT NULL,
	body        text NOT NULL,
	actor       text NOT NULL,
	status      text NOT NULL,
	message_id  text NOT NULL DEFAULT '',
	error       text NOT NULL DEFAULT '',
	created_at  timestamptz NOT NULL
);
CREATE INDEX template_test_sends_window ON template_test_sends (account_id, created_at);
