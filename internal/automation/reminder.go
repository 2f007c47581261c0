package automation

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// ReasonStopEvent is the reason of a run that a stop event (a reminder's
// until_event, such as reward.redeemed) ended; the event type follows it.
const ReasonStopEvent = "until_event"

// Plan returns the steps a run of the definition goes through: its own
// steps, then, for a reminder with repeats, the same steps again after a
// wait that ends at each repeat's offset from the triggering event. Runs
// number their steps by this list, so a message's dedupe key stays unique
// per repeat.
func (d *Definition) Plan() []Step {
	offsets := d.Trigger.Reminder.Offsets()
	if len(offsets) == 0 {
		return d.Steps
	}
	out := make([]Step, 0, len(d.Steps)*(len(offsets)+1)+len(offsets))
	out = append(out, d.Steps...)
	for i, off := range offsets {
		out = append(out, Step{Type: StepWait, Duration: d.Trigger.Repeat[i], sinceEvent: off})
		out = append(out, d.Steps...)
	}
	return out
}

// stopOf returns what stops a run of def started by an event with data:
// the stop event's type, the field both events share and the value the
// starting event holds there, JSON-encoded so that "r-1" and 17 compare
// as the API received them. An event without the field cannot be matched,
// so its run has no stop (ok is false).
func stopOf(def *Definition, data map[string]any) (until, matchOn, key string, ok bool) {
	r := def.Trigger.Reminder
	if r == nil || r.UntilEvent == "" {
		return "", "", "", false
	}
	key, ok = matchKey(r.MatchOn, data)
	return r.UntilEvent, r.MatchOn, key, ok
}

func matchKey(field string, data map[string]any) (string, bool) {
	v, ok := MapFacts{Data: data}.Lookup(field)
	if !ok || v == nil {
		return "", false
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(raw), true
}

// Every event asks, so the lookups name the partial index's condition
// (until_event is not empty) for the planner to match it: the index holds only
// the runs that a stop event can end, and most events find none.
const selectStopFields = `
SELECT DISTINCT match_on FROM automation_runs
WHERE account_id = $1 AND until_event <> '' AND until_event = $2 AND contact_id = $3 AND status = 'processing'`

// Steps are cancelled before their runs, while the runs still say
// processing; a step job that is running when this commits cannot advance
// its run (advanceRun requires processing), so no later step is queued.
const (
	cancelStoppedSteps = `
UPDATE automation_run_steps SET status = 'cancelled', reason = $5, updated_at = $6
WHERE account_id = $1 AND status = 'processing' AND run_id IN (
	SELECT id FROM automation_runs WHERE account_id = $1 AND until_event <> '' AND until_event = $2 AND contact_id = $3
		AND match_on = $4 AND match_key = $7 AND status = 'processing')`
	cancelStoppedRuns = `
UPDATE automation_runs SET status = 'cancelled', reason = $5, updated_at = $6
WHERE account_id = $1 AND until_event <> '' AND until_event = $2 AND contact_id = $3 AND match_on = $4
	AND match_key = $7 AND status = 'processing'`
)

// stopRuns cancels, in the caller's transaction, the runs of the contact
// that an event of type typ stops: those waiting for it whose match_on
// field has the same value in this event. It runs as the event is stored,
// so a stop event that is accepted has stopped its reminders.
func stopRuns(ctx context.Context, tx *sql.Tx, accountID, typ, contactID string, data map[string]any, now any) error {
	rows, err := tx.QueryContext(ctx, selectStopFields, accountID, typ, contactID)
	if err != nil {
		return fmt.Errorf("automation: find stoppable runs: %w", err)
	}
	var fields []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			rows.Close()
			return fmt.Errorf("automation: find stoppable runs: %w", err)
		}
		fields = append(fields, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("automation: find stoppable runs: %w", err)
	}
	reason := ReasonStopEvent + ": " + typ
	for _, f := range fields {
		key, ok := matchKey(f, data)
		if !ok {
			continue
		}
		for _, q := range []string{cancelStoppedSteps, cancelStoppedRuns} {
			if _, err := tx.ExecContext(ctx, q, accountID, typ, contactID, f, reason, now, key); err != nil {
				return fmt.Errorf("automation: stop runs: %w", err)
			}
		}
	}
	return nil
}

const selectStopEvents = `
SELECT data FROM events WHERE account_id = $1 AND type = $2 AND contact_id = $3`

// stoppedBefore reports whether a stop event for this run has been stored.
// Each send of a stoppable run asks, because a redeem can be ingested
// before the reward.available event that preceded it has been matched, or
// while its run is being inserted, when stopRuns cannot see the run yet.
func stoppedBefore(ctx context.Context, q *sql.DB, accountID, contactID, until, matchOn, key string) (bool, error) {
	rows, err := q.QueryContext(ctx, selectStopEvents, accountID, until, contactID)
	if err != nil {
		return false, fmt.Errorf("automation: find stop events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return false, fmt.Errorf("automation: find stop events: %w", err)
		}
		var data map[string]any
		if json.Unmarshal([]byte(raw), &data) != nil {
			continue
		}
		if k, ok := matchKey(matchOn, data); ok && k == key {
			return true, nil
		}
	}
	return false, rows.Err()
}
