package automation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/phone"
	"github.com/heraldsms/herald/internal/problem"
)

// Run and step outcomes.
const (
	RunProcessing = "processing"
	RunCompleted  = "completed"
	RunSkipped    = "skipped"
	RunFailed     = "failed"
	RunCancelled  = "cancelled"
)

// Reasons recorded on runs and steps.
const (
	ReasonConditionsNotMet = "conditions_not_met"
	ReasonDisabled         = "automation_disabled"
	ReasonNotTestNumber    = "test_mode_not_a_test_number"
	ReasonAlreadySent      = "already_sent"
)

// AddWorkers registers the workers that match events and run steps; call
// it before building the job queue with workers.
func (s *Service) AddWorkers(workers *river.Workers) {
	river.AddWorker(workers, &matchWorker{s: s})
	river.AddWorker(workers, &stepWorker{s: s})
	river.AddWorker(workers, &fireWorker{s: s})
	river.AddWorker(workers, &batchWorker{s: s})
}

type matchWorker struct {
	river.WorkerDefaults[matchArgs]
	s *Service
}

func (w *matchWorker) Work(ctx context.Context, job *river.Job[matchArgs]) error {
	return w.s.match(ctx, job.Args.AccountID, job.Args.EventID)
}

// stepArgs is the job that runs one step of a run.
type stepArgs struct {
	AccountID string `json:"account_id"`
	RunID     string `json:"run_id"`
	Step      int    `json:"step"`
}

func (stepArgs) Kind() string { return "automation.step" }

type stepWorker struct {
	river.WorkerDefaults[stepArgs]
	s *Service
}

func (w *stepWorker) Work(ctx context.Context, job *river.Job[stepArgs]) error {
	return w.s.runStep(ctx, job.Args)
}

const insertRun = `
INSERT INTO automation_runs (id, account_id, automation_id, version, event_id, contact_id, status, reason,
	until_event, match_on, match_key, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
ON CONFLICT (account_id, automation_id, event_id) DO NOTHING`

// match starts a run of every enabled, published automation whose trigger
// and conditions the event meets, and runs its first step. One that the
// event's type and program select but whose conditions fail is recorded as
// a skipped run. A repeat of the job starts nothing twice: a run is unique
// per automation and event, and its first step runs once (runStep is
// guarded by the run's next step, the message by its dedupe key).
//
// The first step runs here, not as a job of its own: a job costs the
// queue an insert, a fetch and a completion, three writes that each wait
// for a commit (see docs/benchmarks.md for what it gained). The match job is done only once every first step is, so a crash in
// between leaves the job to run again, and the run it finds is resumed.
func (s *Service) match(ctx context.Context, accountID, eventID string) error {
	e, err := s.loadEvent(ctx, accountID, eventID)
	if err != nil {
		return err
	}
	cands, err := candidates(ctx, s.db.Read(), accountID, e.typ, e.programID)
	if err != nil || len(cands) == 0 {
		return err
	}
	c, err := s.contacts.Get(ctx, accountID, e.contactID)
	if err != nil {
		return err
	}
	facts := MapFacts{EventType: e.typ, ProgramID: e.programID, Data: e.data, Contact: ContactFields(&c)}
	for _, cand := range cands {
		m, err := cand.def.Conditions.Compile()
		if err != nil {
			s.log.ErrorContext(ctx, "automation conditions do not compile", "err", err, "automation_id", cand.id)
			continue
		}
		status, reason := RunProcessing, ""
		if !m.Match(facts) {
			status, reason = RunSkipped, ReasonConditionsNotMet
		}
		runID, err := s.startRun(ctx, accountID, cand, e, status, reason)
		if err != nil {
			return err
		}
		if status != RunProcessing {
			continue
		}
		if err := s.runStep(ctx, stepArgs{AccountID: accountID, RunID: runID, Step: 0}); err != nil {
			return err
		}
	}
	return nil
}

const selectRunOf = `SELECT id FROM automation_runs WHERE account_id = $1 AND automation_id = $2 AND event_id = $3`

// startRun records the automation's run for the event and returns its id;
// when an earlier try of the match job recorded it already, that run's.
func (s *Service) startRun(ctx context.Context, accountID string, cand candidate, e storedEvent, status, reason string) (string, error) {
	runID := id.New(id.Run)
	until, matchOn, key, _ := stopOf(&cand.def, e.data)
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, insertRun, runID, accountID, cand.id, cand.version, e.id, e.contactID,
			status, reason, until, matchOn, key, s.clock.Now())
		if err != nil {
			return fmt.Errorf("automation: insert run: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		if err := tx.QueryRowContext(ctx, selectRunOf, accountID, cand.id, e.id).Scan(&runID); err != nil {
			return fmt.Errorf("automation: find run: %w", err)
		}
		return nil
	})
	return runID, err
}

// run is a run as a step job reads it. A promotion's run has no contact:
// its send steps fan out to the audience.
type run struct {
	id, automationID, eventID, contactID, status string
	version, nextStep                            int
	until, matchOn, matchKey                     string
}

func (r *run) promotion() bool { return r.contactID == "" }

const selectRun = `
SELECT id, automation_id, version, event_id, contact_id, status, next_step, until_event, match_on, match_key
FROM automation_runs WHERE account_id = $1 AND id = $2`

// loadRun returns the run, and false when it is gone or a job for the step
// has nothing left to do (the run ended, or moved past the step).
func (s *Service) loadRun(ctx context.Context, accountID, runID string, step int) (run, bool, error) {
	var r run
	err := s.db.Read().QueryRowContext(ctx, selectRun, accountID, runID).
		Scan(&r.id, &r.automationID, &r.version, &r.eventID, &r.contactID, &r.status, &r.nextStep, &r.until, &r.matchOn, &r.matchKey)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("automation: load run: %w", err)
	}
	return r, r.status == RunProcessing && r.nextStep == step, nil
}

// stepResult is the outcome of one step.
type stepResult struct {
	status, reason string
	messageID      *string
	dueAt          *time.Time // a wait: when the next step runs
	stop           bool       // the run ends here with status
}

// runStep runs one step of a run, records its outcome and queues the next
// step, in one transaction guarded by the run's next_step, so a job that
// runs twice (a crash before River recorded it done) does nothing the
// second time. A send is not in that transaction: the message's dedupe key
// makes a second send a duplicate, counted as done.
func (s *Service) runStep(ctx context.Context, a stepArgs) error {
	r, live, err := s.loadRun(ctx, a.AccountID, a.RunID, a.Step)
	if err != nil || !live {
		return err
	}
	p, err := loadPinned(ctx, s.db.Read(), a.AccountID, r.automationID, r.version)
	if err != nil {
		return err
	}
	steps := p.def.Plan()
	if a.Step >= len(steps) {
		return nil
	}
	st := steps[a.Step]
	var res stepResult
	switch {
	case !p.enabled || p.deleted:
		res = stepResult{status: RunCancelled, reason: ReasonDisabled, stop: true}
	case st.Type == StepWait:
		if res, err = s.wait(ctx, a, r, st); err != nil {
			return err
		}
	case st.Type == StepSendSMS && r.promotion():
		return s.startFanout(ctx, a, r)
	case st.Type == StepSendSMS:
		if res, err = s.send(ctx, a, r, p.def, st); err != nil {
			return err
		}
	default:
		res = stepResult{status: RunFailed, reason: "step_type_invalid", stop: true}
	}
	return s.record(ctx, a, r, len(steps), st.Type, res)
}

// wait works out when the step after a wait runs: its duration from now,
// or, for a reminder's repeat, its offset from the triggering event (at
// once if that has passed).
func (s *Service) wait(ctx context.Context, a stepArgs, r run, st Step) (stepResult, error) {
	now := s.clock.Now()
	if st.sinceEvent > 0 {
		e, err := s.loadEvent(ctx, a.AccountID, r.eventID)
		if err != nil {
			return stepResult{}, err
		}
		due := e.occurredAt.Add(st.sinceEvent).UTC()
		if due.Before(now) {
			due = now
		}
		return stepResult{status: RunProcessing, dueAt: &due}, nil
	}
	d, err := ParseDuration(st.Duration)
	if err != nil {
		return stepResult{}, fmt.Errorf("automation: wait of %s: %w", r.automationID, err)
	}
	due := now.Add(d)
	return stepResult{status: RunProcessing, dueAt: &due}, nil
}

// send makes the step's message. Test mode reaches test numbers only.
func (s *Service) send(ctx context.Context, a stepArgs, r run, def Definition, st Step) (stepResult, error) {
	c, err := s.contacts.Get(ctx, a.AccountID, r.contactID)
	if problem.Is(err, problem.NotFound) {
		return stepResult{status: RunSkipped, reason: "contact_deleted"}, nil
	}
	if err != nil {
		return stepResult{}, err
	}
	if def.TestMode && !isTestNumber(&c, def.TestNumbers) {
		return stepResult{status: RunSkipped, reason: ReasonNotTestNumber}, nil
	}
	if r.until != "" {
		stopped, err := stoppedBefore(ctx, s.db.Read(), a.AccountID, r.contactID, r.until, r.matchOn, r.matchKey)
		if err != nil {
			return stepResult{}, err
		}
		if stopped {
			return stepResult{status: RunCancelled, reason: ReasonStopEvent + ": " + r.until, stop: true}, nil
		}
	}
	e, err := s.loadEvent(ctx, a.AccountID, r.eventID)
	if err != nil {
		return stepResult{}, err
	}
	step := a.Step
	m, err := s.messages.Create(ctx, a.AccountID, message.Request{ContactID: c.ID, TemplateID: st.TemplateID,
		Kind: message.Kind(st.Kind), Data: e.data, ProgramID: e.programID, AutomationID: r.automationID,
		EventID: r.eventID, Step: &step, Quiet: true,
		DedupeKey: fmt.Sprintf("%s:%d:%s:%s", r.automationID, step, r.eventID, c.ID)})
	p, isProblem := problem.As(err)
	switch {
	case isProblem && p.Kind == problem.Conflict && p.Code == "duplicate":
		return stepResult{status: RunCompleted, reason: ReasonAlreadySent}, nil
	case isProblem && p.Kind != problem.Unavailable:
		// The account or template cannot send (SMS off, template no longer
		// approved, no number): retrying will not help.
		return stepResult{status: RunFailed, reason: p.Code + ": " + p.Message, stop: true}, nil
	case err != nil:
		return stepResult{}, err
	case m.Status == message.Skipped:
		return stepResult{status: RunSkipped, reason: m.Reason, messageID: &m.ID}, nil
	}
	return stepResult{status: RunCompleted, messageID: &m.ID}, nil
}

func isTestNumber(c *contact.Contact, numbers []string) bool {
	for _, raw := range numbers {
		if n, err := phone.ParseStrict(raw); err == nil && c.E164() != "" && n.E164 == c.E164() {
			return true
		}
	}
	return false
}

const (
	upsertStep = `
INSERT INTO automation_run_steps (run_id, step, account_id, type, status, reason, message_id, due_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (run_id, step) DO UPDATE SET status = excluded.status, reason = excluded.reason,
	message_id = excluded.message_id, due_at = excluded.due_at, updated_at = excluded.updated_at`
	// The wait before a step ends when the step runs (or is cancelled).
	settleWait = `
UPDATE automation_run_steps SET status = $4, updated_at = $5
WHERE account_id = $1 AND run_id = $2 AND step = $3 AND status = 'processing'`
	advanceRun = `
UPDATE automation_runs SET next_step = $4, status = $5, reason = $6, updated_at = $7
WHERE account_id = $1 AND id = $2 AND next_step = $3 AND status = 'processing'`
)

var errStandDown = errors.New("automation: step already ran")

// record writes a step's outcome, moves the run on and queues the next
// step (at a wait's due time), all or nothing.
func (s *Service) record(ctx context.Context, a stepArgs, r run, steps int, typ string, res stepResult) error {
	err := s.write(ctx, func(tx *sql.Tx) error { return s.recordTx(ctx, tx, a, r, steps, typ, res) })
	if errors.Is(err, errStandDown) {
		return nil
	}
	return err
}

// recordTx is record inside the caller's transaction; it returns
// errStandDown when the run has moved on.
func (s *Service) recordTx(ctx context.Context, tx *sql.Tx, a stepArgs, r run, steps int, typ string, res stepResult) error {
	now := s.clock.Now()
	next, runStatus, runReason := a.Step+1, RunProcessing, ""
	switch {
	case res.stop:
		runStatus, runReason = res.status, res.reason
	case next >= steps:
		runStatus = RunCompleted
	}
	waitEnd := RunCompleted
	if res.status == RunCancelled {
		waitEnd = RunCancelled
	}
	adv, err := tx.ExecContext(ctx, advanceRun, a.AccountID, r.id, a.Step, next, runStatus, runReason, now)
	if err != nil {
		return fmt.Errorf("automation: advance run: %w", err)
	}
	if n, err := adv.RowsAffected(); err != nil || n == 0 {
		return errStandDown
	}
	if _, err := tx.ExecContext(ctx, upsertStep, r.id, a.Step, a.AccountID, typ, res.status, res.reason,
		res.messageID, res.dueAt, now); err != nil {
		return fmt.Errorf("automation: record step: %w", err)
	}
	if a.Step > 0 {
		if _, err := tx.ExecContext(ctx, settleWait, a.AccountID, r.id, a.Step-1, waitEnd, now); err != nil {
			return fmt.Errorf("automation: settle wait: %w", err)
		}
	}
	if runStatus != RunProcessing {
		return nil
	}
	opts := &river.InsertOpts{}
	if res.dueAt != nil {
		opts.ScheduledAt = *res.dueAt
	}
	_, err = s.queue.Insert(ctx, tx, stepArgs{AccountID: a.AccountID, RunID: r.id, Step: next}, opts)
	return err
}
