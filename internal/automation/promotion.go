package automation

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/id"
)

// A scheduled automation (a promotion) runs like this:
//
//  1. Publishing or enabling it queues an automation.fire job at the
//     trigger's next fire time, unique per automation and time, so two
//     processes, or a publish and an enable, queue it once.
//  2. The fire job starts one run for that time (unique per automation and
//     fire time, like an event's run) and queues the fire after it, for a
//     cron trigger.
//  3. The run's steps go as an event run's do, except that a send_sms step
//     fans out to the audience in batches (fanout.go), and a wait pauses the
//     whole promotion: a later send reaches the audience as it is then.

// fireArgs is the job that starts a scheduled automation at one fire time.
type fireArgs struct {
	AccountID    string    `json:"account_id"`
	AutomationID string    `json:"automation_id"`
	At           time.Time `json:"at"`
}

func (fireArgs) Kind() string { return "automation.fire" }

type fireWorker struct {
	river.WorkerDefaults[fireArgs]
	s *Service
}

func (w *fireWorker) Work(ctx context.Context, job *river.Job[fireArgs]) error {
	return w.s.fire(ctx, job.Args)
}

// scheduleNext queues the trigger's first fire after after, in tx. A
// schedule that never fires again queues nothing.
func (s *Service) scheduleNext(ctx context.Context, tx *sql.Tx, accountID, automationID string, t Trigger, after time.Time) error {
	at, ok := t.Next(after)
	if !ok {
		return nil
	}
	_, err := s.queue.Insert(ctx, tx, fireArgs{AccountID: accountID, AutomationID: automationID, At: at},
		&river.InsertOpts{ScheduledAt: at, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

// firesAt reports whether the trigger fires at t: a fire job queued for an
// earlier version's schedule stands down when it comes due.
func firesAt(t Trigger, at time.Time) bool {
	next, ok := t.Next(at.Add(-time.Microsecond))
	return ok && next.Equal(at)
}

const selectPublished = `
SELECT a.published_version, a.enabled, v.definition
FROM automations a JOIN automation_versions v ON v.automation_id = a.id AND v.version = a.published_version
WHERE a.account_id = $1 AND a.id = $2 AND a.deleted_at IS NULL`

// fireEventID names a fire time where an event run names its event; the
// run table's (automation, event) key then makes a fire start once.
func fireEventID(at time.Time) string { return "schedule:" + at.UTC().Format(time.RFC3339) }

// fire starts the run of one fire time, if the automation is still
// published, enabled and scheduled to fire then, and queues the next fire.
func (s *Service) fire(ctx context.Context, a fireArgs) error {
	var (
		version int
		enabled bool
		raw     string
		def     Definition
	)
	err := s.db.Read().QueryRowContext(ctx, selectPublished, a.AccountID, a.AutomationID).Scan(&version, &enabled, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // deleted, or never published
	}
	if err != nil {
		return fmt.Errorf("automation: load %s to fire: %w", a.AutomationID, err)
	}
	if err := json.Unmarshal([]byte(raw), &def); err != nil {
		return fmt.Errorf("automation: definition of %s: %w", a.AutomationID, err)
	}
	if !enabled || !firesAt(def.Trigger, a.At) {
		return nil
	}
	runID := id.New(id.Run)
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, insertRun, runID, a.AccountID, a.AutomationID, version, fireEventID(a.At), "",
			RunProcessing, "", "", "", "", s.clock.Now())
		if err != nil {
			return fmt.Errorf("automation: insert run: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			if _, err := s.queue.Insert(ctx, tx, stepArgs{AccountID: a.AccountID, RunID: runID, Step: 0}, nil); err != nil {
				return err
			}
		}
		return s.scheduleNext(ctx, tx, a.AccountID, a.AutomationID, def.Trigger, a.At)
	})
}

// audienceKind is the kind of the messages a send step makes: its own, or
// its template's. Marketing reaches only contacts opted in to marketing,
// so the audience query asks for those alone.
func (s *Service) audienceKind(ctx context.Context, accountID string, st Step) (consent.Kind, error) {
	if st.Kind != "" {
		return st.Kind, nil
	}
	tpl, err := s.templates.Sendable(ctx, accountID, st.TemplateID)
	if err != nil {
		return "", err
	}
	return consent.Kind(tpl.Kind), nil
}
