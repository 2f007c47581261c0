package automation

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Run is one automation started by one event, with each step's outcome,
// or one fire of a scheduled automation (a promotion): then EventID is
// "schedule:" and the fire time, ContactID is empty, and Counts adds up
// what its send steps did across the audience.
type Run struct {
	ID           string    `json:"id"`
	AutomationID string    `json:"automation_id"`
	Version      int       `json:"version"`
	EventID      string    `json:"event_id"`
	ContactID    string    `json:"contact_id"`
	Status       string    `json:"status"`
	Reason       string    `json:"reason,omitempty"`
	Counts       *Counts   `json:"counts,omitempty"`
	Steps        []RunStep `json:"steps"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// RunStep is the outcome of one step of a run. A wait is processing until
// its due time, when the step after it runs.
type RunStep struct {
	Step      int        `json:"step"`
	Type      string     `json:"type"`
	Status    string     `json:"status"`
	Reason    string     `json:"reason,omitempty"`
	MessageID *string    `json:"message_id"`
	DueAt     *time.Time `json:"due_at,omitempty"`
	// Counts is set on a promotion's send steps; it grows batch by batch.
	Counts    *Counts   `json:"counts,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Counts is what a promotion's send reached: Audience contacts selected
// (opted in for marketing, in the program, attributes matched), Created
// messages queued or limit-queued for them, and Skipped by a sending rule
// (invalid number, country, a missing merge value…), each with its reason
// on the message.
type Counts struct {
	Audience int `json:"audience"`
	Created  int `json:"created"`
	Skipped  int `json:"skipped"`
}

// MaxRuns is the most runs Runs returns.
const MaxRuns = 200

const selectRuns = `
SELECT id, automation_id, version, event_id, contact_id, status, reason, created_at, updated_at
FROM automation_runs WHERE account_id = $1 AND automation_id = $2
ORDER BY id DESC LIMIT $3`

const selectRunSteps = `
SELECT s.run_id, s.step, s.type, s.status, s.reason, s.message_id, s.due_at, s.audience, s.created, s.skipped,
	s.updated_at
FROM automation_run_steps s JOIN automation_runs r ON r.id = s.run_id AND r.account_id = s.account_id
WHERE r.account_id = $1 AND r.automation_id = $2 AND s.run_id >= $3
ORDER BY s.run_id, s.step`

// Runs returns an automation's latest runs, newest first, with their steps.
func (s *Service) Runs(ctx context.Context, accountID, automationID string) ([]Run, error) {
	if _, err := s.Get(ctx, accountID, automationID); err != nil {
		return nil, err
	}
	q := s.db.Read()
	rows, err := q.QueryContext(ctx, selectRuns, accountID, automationID, MaxRuns)
	if err != nil {
		return nil, fmt.Errorf("automation: list runs: %w", err)
	}
	defer rows.Close()
	out := []Run{}
	index := map[string]int{}
	for rows.Next() {
		r := Run{Steps: []RunStep{}}
		if err := rows.Scan(&r.ID, &r.AutomationID, &r.Version, &r.EventID, &r.ContactID, &r.Status, &r.Reason,
			&r.CreatedAt, &r.UpdatedAt); err != nil {
			return nil, fmt.Errorf("automation: list runs: %w", err)
		}
		index[r.ID] = len(out)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	return out, attachSteps(ctx, q, accountID, automationID, out[len(out)-1].ID, out, index)
}

// attachSteps reads the steps of the listed runs: run ids are time-ordered,
// so those from the oldest listed run on.
func attachSteps(ctx context.Context, q *sql.DB, accountID, automationID, oldest string, runs []Run, index map[string]int) error {
	rows, err := q.QueryContext(ctx, selectRunSteps, accountID, automationID, oldest)
	if err != nil {
		return fmt.Errorf("automation: list run steps: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			runID string
			st    RunStep
			msg   sql.NullString
			due   sql.NullTime
			n     Counts
		)
		if err := rows.Scan(&runID, &st.Step, &st.Type, &st.Status, &st.Reason, &msg, &due, &n.Audience, &n.Created,
			&n.Skipped, &st.UpdatedAt); err != nil {
			return fmt.Errorf("automation: list run steps: %w", err)
		}
		i, ok := index[runID]
		if !ok {
			continue
		}
		if msg.Valid {
			st.MessageID = &msg.String
		}
		if due.Valid {
			t := due.Time.UTC()
			st.DueAt = &t
		}
		if r := &runs[i]; r.ContactID == "" && st.Type == StepSendSMS {
			st.Counts = &n
			if r.Counts == nil {
				r.Counts = &Counts{}
			}
			r.Counts.Audience += n.Audience
			r.Counts.Created += n.Created
			r.Counts.Skipped += n.Skipped
		}
		runs[i].Steps = append(runs[i].Steps, st)
	}
	return rows.Err()
}
