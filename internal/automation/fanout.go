package automation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/problem"
)

// BatchSize is how many contacts of an audience one batch job reads: large
// enough that a batch's messages commit together, small enough that a
// promotion to millions holds one batch in memory at a time.
const BatchSize = 1000

// batchArgs is the job that sends a promotion's send step to its
// audience, page after page from the cursor the step's row holds.
type batchArgs struct {
	AccountID string `json:"account_id"`
	RunID     string `json:"run_id"`
	Step      int    `json:"step"`
}

func (batchArgs) Kind() string { return "automation.batch" }

type batchWorker struct {
	river.WorkerDefaults[batchArgs]
	s *Service
}

func (w *batchWorker) Work(ctx context.Context, job *river.Job[batchArgs]) error {
	return w.s.batch(ctx, job.Args)
}

// BatchSlice is how long one batch job pages through an audience before it
// hands over to a job of its own, queued in the transaction of its last
// page: well inside River's job timeout, and long enough that the queue's
// poll interval is not paid page by page.
const BatchSlice = 10 * time.Second

// A fan-out step's row is processing until its last page; each page moves
// batch_cursor on from the value it was read with, so two jobs on the same
// step cannot both record a page: the second stands down.
const (
	startFanoutStep = `
INSERT INTO automation_run_steps (run_id, step, account_id, type, status, reason, updated_at)
VALUES ($1, $2, $3, 'send_sms', 'processing', '', $4)
ON CONFLICT (run_id, step) DO NOTHING`
	selectFanoutStep = `
SELECT batch_cursor, status FROM automation_run_steps WHERE account_id = $1 AND run_id = $2 AND step = $3`
	advanceFanout = `
UPDATE automation_run_steps SET batch_cursor = $4, audience = audience + $5, created = created + $6,
	skipped = skipped + $7, updated_at = $8
WHERE account_id = $1 AND run_id = $2 AND step = $3 AND batch_cursor = $9 AND status = 'processing'`
	programContacts = `
SELECT DISTINCT contact_id FROM events
WHERE account_id = $1 AND program_id = $2 AND contact_id >= $3 AND contact_id <= $4`
)

// startFanout begins a promotion's send step: its row, the end of the wait
// before it, and its batch job, together.
func (s *Service) startFanout(ctx context.Context, a stepArgs, r run) error {
	now := s.clock.Now()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, startFanoutStep, r.id, a.Step, a.AccountID, now)
		if err != nil {
			return fmt.Errorf("automation: start fan-out: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // started before
		}
		if a.Step > 0 {
			if _, err := tx.ExecContext(ctx, settleWait, a.AccountID, r.id, a.Step-1, RunCompleted, now); err != nil {
				return fmt.Errorf("automation: settle wait: %w", err)
			}
		}
		_, err = s.queue.Insert(ctx, tx, batchArgs{AccountID: a.AccountID, RunID: r.id, Step: a.Step}, nil)
		return err
	})
}

// batch sends pages of the audience until the step is done, stopped, or
// its slice of time is spent, when it queues its own continuation.
func (s *Service) batch(ctx context.Context, b batchArgs) error {
	begun := time.Now()
	for {
		more, err := s.page(ctx, b, time.Since(begun) >= s.slice)
		if err != nil || !more {
			return err
		}
	}
}

// page makes the messages of one page of the audience, then, in one
// transaction, records the page's counts and cursor and either ends the
// step or, when handOver is set, queues the next batch job. Messages are
// made before that transaction (the message service commits them
// itself); a crash between the two repeats the page, and each message's
// dedupe key (automation, step, fire time, contact) makes the repeat
// create nothing: CreateMany hands back the messages made before, so the
// page's counts, recorded once, are still right. It returns whether this
// job should go on to the next page.
func (s *Service) page(ctx context.Context, b batchArgs, handOver bool) (bool, error) {
	r, live, err := s.loadRun(ctx, b.AccountID, b.RunID, b.Step)
	if err != nil || !live {
		return false, err
	}
	var cursor, status string
	err = s.db.Read().QueryRowContext(ctx, selectFanoutStep, b.AccountID, b.RunID, b.Step).Scan(&cursor, &status)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && status != RunProcessing) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("automation: load fan-out: %w", err)
	}
	p, err := loadPinned(ctx, s.db.Read(), b.AccountID, r.automationID, r.version)
	if err != nil {
		return false, err
	}
	steps := p.def.Plan()
	step := stepArgs{AccountID: b.AccountID, RunID: b.RunID, Step: b.Step}
	if !p.enabled || p.deleted {
		return false, s.record(ctx, step, r, len(steps), StepSendSMS, stepResult{status: RunCancelled, reason: ReasonDisabled, stop: true})
	}
	out, err := s.sendPage(ctx, b.AccountID, cursor, r, p.def, b.Step)
	if p, ok := problem.As(err); ok && p.Kind != problem.Unavailable {
		// The account or template cannot send: later pages will not either.
		return false, s.record(ctx, step, r, len(steps), StepSendSMS, stepResult{status: RunFailed, reason: p.Code + ": " + p.Message, stop: true})
	}
	if err != nil {
		return false, err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, advanceFanout, b.AccountID, b.RunID, b.Step, out.next, out.audience, out.created,
			out.skipped, s.clock.Now(), cursor)
		if err != nil {
			return fmt.Errorf("automation: advance fan-out: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errStandDown
		}
		switch {
		case out.next == "":
			return s.recordTx(ctx, tx, step, r, len(steps), StepSendSMS, stepResult{status: RunCompleted})
		case handOver:
			_, err := s.queue.Insert(ctx, tx, b, nil)
			return err
		}
		return nil
	})
	if errors.Is(err, errStandDown) {
		return false, nil
	}
	return err == nil && out.next != "" && !handOver, err
}

// page is what one batch did.
type page struct {
	next                       string // the cursor after the page; "" at the end
	audience, created, skipped int
}

// sendPage reads the page of contacts after cursor, keeps those in the
// audience and makes their messages.
func (s *Service) sendPage(ctx context.Context, accountID, cursor string, r run, def Definition, step int) (page, error) {
	st := def.Plan()[step]
	kind, err := s.audienceKind(ctx, accountID, st)
	if err != nil {
		return page{}, err
	}
	f := contact.Filter{Cursor: cursor, Limit: s.batchSize}
	if kind == consent.Marketing {
		f.SMSPreference = consent.OptedIn
	}
	contacts, err := s.contacts.List(ctx, accountID, f)
	if err != nil {
		return page{}, err
	}
	out := page{next: contacts.NextCursor}
	picked, err := s.pick(ctx, accountID, def, contacts.Data)
	if err != nil || len(picked) == 0 {
		return out, err
	}
	var programID string
	if def.Audience != nil {
		programID = def.Audience.ProgramID
	}
	reqs := make([]message.Request, len(picked))
	for i, c := range picked {
		reqs[i] = message.Request{ContactID: c.ID, TemplateID: st.TemplateID, Kind: message.Kind(st.Kind),
			ProgramID: programID, AutomationID: r.automationID, Step: &step, Quiet: true,
			DedupeKey: fmt.Sprintf("%s:%d:%s:%s", r.automationID, step, r.eventID, c.ID)}
	}
	msgs, err := s.messages.CreateMany(ctx, accountID, reqs)
	if err != nil {
		return out, err
	}
	out.audience = len(picked)
	for _, m := range msgs {
		if m.Status == message.Skipped {
			out.skipped++
		} else {
			out.created++
		}
	}
	return out, nil
}

// pick keeps the contacts of a page that the audience selects: of the
// audience's program (those with an event of it), whose attributes and the
// automation's conditions hold, and only test numbers in test mode.
func (s *Service) pick(ctx context.Context, accountID string, def Definition, cs []contact.Contact) ([]*contact.Contact, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	attrs, err := def.Audience.Conditions().Compile()
	if err != nil {
		return nil, err
	}
	conds, err := def.Conditions.Compile()
	if err != nil {
		return nil, err
	}
	var inProgram map[string]bool
	if def.Audience != nil && def.Audience.ProgramID != "" {
		if inProgram, err = s.programMembers(ctx, accountID, def.Audience.ProgramID, cs[0].ID, cs[len(cs)-1].ID); err != nil {
			return nil, err
		}
	}
	out := make([]*contact.Contact, 0, len(cs))
	for i := range cs {
		c := &cs[i]
		if inProgram != nil && !inProgram[c.ID] || def.TestMode && !isTestNumber(c, def.TestNumbers) {
			continue
		}
		facts := MapFacts{Contact: ContactFields(c)}
		if attrs.Match(facts) && conds.Match(facts) {
			out = append(out, c)
		}
	}
	return out, nil
}

// programMembers returns which contacts with ids from first to last have
// an event of the program. Pages are in id order, so one range query
// answers for a whole page.
func (s *Service) programMembers(ctx context.Context, accountID, programID, first, last string) (map[string]bool, error) {
	rows, err := s.db.Read().QueryContext(ctx, programContacts, accountID, programID, first, last)
	if err != nil {
		return nil, fmt.Errorf("automation: program members: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("automation: program members: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}
