package automation

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/problem"
)

// Automation is a stored automation: its latest definition, and which of
// its versions runs. Status is draft until a version is published; edits
// after that make a new version (HasDraft) that runs only once published.
type Automation struct {
	ID               string     `json:"id"`
	AccountID        string     `json:"-"`
	Name             string     `json:"name"`
	Status           string     `json:"status"`
	Enabled          bool       `json:"enabled"`
	Version          int        `json:"version"`
	PublishedVersion *int       `json:"published_version"`
	HasDraft         bool       `json:"has_draft"`
	Definition       Definition `json:"definition"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`

	triggerEvent, triggerProgram string
}

// Automation statuses.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
)

func (a *Automation) settle() {
	a.Status, a.HasDraft = StatusDraft, true
	if a.PublishedVersion != nil {
		a.Status, a.HasDraft = StatusPublished, *a.PublishedVersion != a.Version
	}
}

var errNoAutomation = errors.New("automation: no such automation")

func notFound(automationID string) error {
	return problem.NotFoundf("no automation %q", automationID)
}

const selectAutomation = `
SELECT a.id, a.account_id, a.name, a.version, a.published_version, a.enabled, a.trigger_event,
	a.trigger_program_id, a.created_at, a.updated_at, v.definition
FROM automations a
JOIN automation_versions v ON v.automation_id = a.id AND v.version = a.version
WHERE a.account_id = $1 AND a.deleted_at IS NULL`

func scanAutomation(row interface{ Scan(...any) error }) (Automation, error) {
	var (
		a   Automation
		pub sql.NullInt64
		def string
	)
	err := row.Scan(&a.ID, &a.AccountID, &a.Name, &a.Version, &pub, &a.Enabled, &a.triggerEvent,
		&a.triggerProgram, &a.CreatedAt, &a.UpdatedAt, &def)
	if errors.Is(err, sql.ErrNoRows) {
		return a, errNoAutomation
	}
	if err != nil {
		return a, fmt.Errorf("automation: scan: %w", err)
	}
	if pub.Valid {
		v := int(pub.Int64)
		a.PublishedVersion = &v
	}
	if err := json.Unmarshal([]byte(def), &a.Definition); err != nil {
		return a, fmt.Errorf("automation: definition of %s: %w", a.ID, err)
	}
	a.settle()
	return a, nil
}

func getAutomation(ctx context.Context, q db.Querier, accountID, automationID string) (Automation, error) {
	return scanAutomation(q.QueryRowContext(ctx, selectAutomation+` AND a.id = $2`, accountID, automationID))
}

const selectAutomations = selectAutomation + ` ORDER BY a.id DESC LIMIT 500`

func listAutomations(ctx context.Context, q db.Querier, accountID string) ([]Automation, error) {
	rows, err := q.QueryContext(ctx, selectAutomations, accountID)
	if err != nil {
		return nil, fmt.Errorf("automation: list: %w", err)
	}
	defer rows.Close()
	out := []Automation{}
	for rows.Next() {
		a, err := scanAutomation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

const insertAutomationRow = `
INSERT INTO automations (id, account_id, name, version, enabled, created_at, updated_at)
VALUES ($1, $2, $3, 1, $4, $5, $5)`

const insertVersionRow = `
INSERT INTO automation_versions (automation_id, version, account_id, definition, created_by, created_at)
VALUES ($1, $2, $3, $4, $5, $6)`

func insertVersion(ctx context.Context, q db.Querier, a *Automation, actor string) error {
	raw, err := json.Marshal(a.Definition)
	if err != nil {
		return fmt.Errorf("automation: encode definition: %w", err)
	}
	if _, err := q.ExecContext(ctx, insertVersionRow, a.ID, a.Version, a.AccountID, string(raw), actor, a.UpdatedAt); err != nil {
		return fmt.Errorf("automation: insert version: %w", err)
	}
	return nil
}

const (
	updateAutomationVersion = `
UPDATE automations SET name = $3, version = $4, updated_at = $5
WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL`
	publishAutomation = `
UPDATE automations SET published_version = version, trigger_event = $3, trigger_program_id = $4, updated_at = $5
WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL`
	setAutomationEnabled = `
UPDATE automations SET enabled = $3, updated_at = $4 WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL`
	// A deleted automation keeps its row, so its runs and messages still
	// name it and its pending steps stand down as cancelled.
	deleteAutomation = `
UPDATE automations SET deleted_at = $3, enabled = $4, updated_at = $3 WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL`
)

func execOne(ctx context.Context, q db.Querier, automationID, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("automation: update: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return notFound(automationID)
	}
	return nil
}

// candidate is an enabled, published automation an event may start.
type candidate struct {
	id      string
	version int
	def     Definition
}

// The trigger columns copy the published version's trigger, so matching an
// event is one indexed lookup on (account_id, trigger_event, enabled).
const selectCandidates = `
SELECT a.id, a.published_version, v.definition
FROM automations a
JOIN automation_versions v ON v.automation_id = a.id AND v.version = a.published_version
WHERE a.account_id = $1 AND a.trigger_event = $2 AND a.enabled = $3 AND a.deleted_at IS NULL
	AND (a.trigger_program_id = '' OR a.trigger_program_id = $4)
ORDER BY a.id`

func candidates(ctx context.Context, q db.Querier, accountID, eventType, programID string) ([]candidate, error) {
	rows, err := q.QueryContext(ctx, selectCandidates, accountID, eventType, true, programID)
	if err != nil {
		return nil, fmt.Errorf("automation: candidates: %w", err)
	}
	defer rows.Close()
	var out []candidate
	for rows.Next() {
		var (
			c   candidate
			raw string
		)
		if err := rows.Scan(&c.id, &c.version, &raw); err != nil {
			return nil, fmt.Errorf("automation: candidates: %w", err)
		}
		if err := json.Unmarshal([]byte(raw), &c.def); err != nil {
			return nil, fmt.Errorf("automation: definition of %s: %w", c.id, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

const selectVersion = `
SELECT v.definition, a.enabled, a.deleted_at IS NOT NULL
FROM automation_versions v JOIN automations a ON a.id = v.automation_id
WHERE v.account_id = $1 AND v.automation_id = $2 AND v.version = $3`

// pinned is the version a run started on, with its automation's state now.
type pinned struct {
	def              Definition
	enabled, deleted bool
}

func loadPinned(ctx context.Context, q db.Querier, accountID, automationID string, version int) (pinned, error) {
	var (
		p   pinned
		raw string
	)
	err := q.QueryRowContext(ctx, selectVersion, accountID, automationID, version).Scan(&raw, &p.enabled, &p.deleted)
	if err != nil {
		return p, fmt.Errorf("automation: load version %s/%d: %w", automationID, version, err)
	}
	if err := json.Unmarshal([]byte(raw), &p.def); err != nil {
		return p, fmt.Errorf("automation: definition of %s/%d: %w", automationID, version, err)
	}
	return p, nil
}
