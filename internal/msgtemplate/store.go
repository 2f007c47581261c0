package msgtemplate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/heraldsms/herald/internal/db"
)

// errNoTemplate is the store's "no such row"; the service turns it into a
// 404-shaped problem naming the id.
var errNoTemplate = errors.New("msgtemplate: no such template")

// A template row joined with its current version (cv) and, when there is
// one, the version that is sent (av).
const templateSelect = `
SELECT t.id, t.account_id, t.name, t.status, t.gallery_key, t.created_at, t.updated_at, t.archived_at,
       cv.id, cv.number, cv.kind, cv.body, av.id, av.body
FROM templates t
JOIN template_versions cv ON cv.id = t.current_version_id AND cv.account_id = t.account_id
LEFT JOIN template_versions av ON av.id = t.approved_version_id AND av.account_id = t.account_id`

type scanner interface{ Scan(...any) error }

func scanTemplate(row scanner) (Template, error) {
	var (
		t                  Template
		archived           sql.NullTime
		approvedID, apBody sql.NullString
	)
	err := row.Scan(&t.ID, &t.AccountID, &t.Name, &t.Status, &t.GalleryKey, &t.CreatedAt, &t.UpdatedAt, &archived,
		&t.VersionID, &t.Version, &t.Kind, &t.Body, &approvedID, &apBody)
	if errors.Is(err, sql.ErrNoRows) {
		return t, errNoTemplate
	}
	if err != nil {
		return t, fmt.Errorf("msgtemplate: scan: %w", err)
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	if archived.Valid {
		at := archived.Time.UTC()
		t.ArchivedAt = &at
	}
	t.ApprovedVersionID, t.ApprovedBody = approvedID.String, apBody.String
	return t, nil
}

const selectTemplate = templateSelect + ` WHERE t.account_id = $1 AND t.id = $2`

func getTemplate(ctx context.Context, q db.Querier, accountID, templateID string) (Template, error) {
	return scanTemplate(q.QueryRowContext(ctx, selectTemplate, accountID, templateID))
}

// lockTemplate reads a template inside a write transaction and holds it
// until the transaction ends, so two changes of one template take turns.
// SQLite's write transactions already do; PostgreSQL needs the row lock
// (NO KEY UPDATE, which leaves inserts that reference the row unblocked).
func lockTemplate(ctx context.Context, tx *sql.Tx, engine db.Engine, accountID, templateID string) (Template, error) {
	query := selectTemplate
	if engine == db.Postgres {
		query += ` FOR NO KEY UPDATE OF t`
	}
	return scanTemplate(tx.QueryRowContext(ctx, query, accountID, templateID))
}

const insertTemplateRow = `
INSERT INTO templates (id, account_id, name, status, current_version_id, gallery_key, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`

func insertTemplate(ctx context.Context, q db.Querier, t *Template) error {
	_, err := q.ExecContext(ctx, insertTemplateRow, t.ID, t.AccountID, t.Name, string(t.Status), t.VersionID, t.GalleryKey, t.CreatedAt)
	if err != nil {
		return fmt.Errorf("msgtemplate: insert template: %w", err)
	}
	return nil
}

const insertVersionRow = `
INSERT INTO template_versions (id, account_id, template_id, number, kind, body, status, created_by, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

func insertVersion(ctx context.Context, q db.Querier, accountID, templateID string, v Version) error {
	_, err := q.ExecContext(ctx, insertVersionRow, v.ID, accountID, templateID, v.Number, string(v.Kind), v.Body,
		string(v.Status), v.CreatedBy, v.CreatedAt)
	if err != nil {
		return fmt.Errorf("msgtemplate: insert version: %w", err)
	}
	return nil
}

// makeCurrent points a template at a new latest version.
const makeCurrent = `
UPDATE templates SET current_version_id = $3, status = $4, updated_at = $5
WHERE account_id = $1 AND id = $2`

const renameTemplate = `UPDATE templates SET name = $3, updated_at = $4 WHERE account_id = $1 AND id = $2`

const archiveTemplate = `UPDATE templates SET archived_at = $3, updated_at = $3 WHERE account_id = $1 AND id = $2`

// setStatus moves a version and the template (whose status mirrors its
// current version's) to a new status; approving also makes the version the
// one that is sent.
const (
	setVersionStatus  = `UPDATE template_versions SET status = $3 WHERE account_id = $1 AND id = $2`
	setTemplateStatus = `UPDATE templates SET status = $3, updated_at = $4 WHERE account_id = $1 AND id = $2`
	setApproved       = `UPDATE templates SET status = $3, updated_at = $4, approved_version_id = $5
		WHERE account_id = $1 AND id = $2`
)

func exec(ctx context.Context, q db.Querier, op, query string, args ...any) error {
	if _, err := q.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("msgtemplate: %s: %w", op, err)
	}
	return nil
}

const insertDecisionRow = `
INSERT INTO template_decisions (id, account_id, template_id, version_id, decision, reason, actor, decided_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

func insertDecision(ctx context.Context, q db.Querier, accountID, templateID string, d Decision) error {
	return exec(ctx, q, "insert decision", insertDecisionRow, d.ID, accountID, templateID, d.VersionID,
		string(d.Outcome), d.Reason, d.Actor, d.DecidedAt)
}

const selectVersions = `
SELECT id, number, kind, body, status, created_by, created_at FROM template_versions
WHERE account_id = $1 AND template_id = $2 ORDER BY number`

const selectDecisions = `
SELECT id, version_id, decision, reason, actor, decided_at FROM template_decisions
WHERE account_id = $1 AND template_id = $2 ORDER BY id`

// history returns a template's versions, oldest first, each with its
// decisions in the order they were made.
func history(ctx context.Context, q db.Querier, accountID, templateID string) ([]Version, error) {
	rows, err := q.QueryContext(ctx, selectVersions, accountID, templateID)
	if err != nil {
		return nil, fmt.Errorf("msgtemplate: versions: %w", err)
	}
	defer rows.Close()
	var out []Version
	index := map[string]int{}
	for rows.Next() {
		v := Version{Decisions: []Decision{}}
		if err := rows.Scan(&v.ID, &v.Number, &v.Kind, &v.Body, &v.Status, &v.CreatedBy, &v.CreatedAt); err != nil {
			return nil, fmt.Errorf("msgtemplate: versions: %w", err)
		}
		v.CreatedAt = v.CreatedAt.UTC()
		index[v.ID] = len(out)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("msgtemplate: versions: %w", err)
	}
	rows.Close()
	drows, err := q.QueryContext(ctx, selectDecisions, accountID, templateID)
	if err != nil {
		return nil, fmt.Errorf("msgtemplate: decisions: %w", err)
	}
	defer drows.Close()
	for drows.Next() {
		var d Decision
		if err := drows.Scan(&d.ID, &d.VersionID, &d.Outcome, &d.Reason, &d.Actor, &d.DecidedAt); err != nil {
			return nil, fmt.Errorf("msgtemplate: decisions: %w", err)
		}
		d.DecidedAt = d.DecidedAt.UTC()
		if i, ok := index[d.VersionID]; ok {
			out[i].Decisions = append(out[i].Decisions, d)
		}
	}
	return out, drows.Err()
}

// accountOf finds which account a template belongs to. Only the operator's
// routes ask: they act on any account's template by id.
func accountOf(ctx context.Context, q db.Querier, templateID string) (string, error) {
	var accountID string
	err := q.QueryRowContext(ctx, `SELECT account_id FROM templates WHERE id = $1`, templateID).Scan(&accountID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errNoTemplate
	}
	if err != nil {
		return "", fmt.Errorf("msgtemplate: account of template: %w", err)
	}
	return accountID, nil
}
