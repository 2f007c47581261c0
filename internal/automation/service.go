package automation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
)

// Programs checks that a program belongs to an account.
type Programs interface {
	GetProgram(ctx context.Context, accountID, programID string) (account.Program, error)
}

// Contacts matches or creates an event's contact, reads it back, and pages
// through a promotion's audience.
type Contacts interface {
	Prepare(ctx context.Context, accountID string, in contact.Input) (contact.Prepared, error)
	UpsertIn(ctx context.Context, tx *sql.Tx, p contact.Prepared, ch contact.Change) (contact.Contact, bool, func(context.Context), error)
	Get(ctx context.Context, accountID, contactID string) (contact.Contact, error)
	List(ctx context.Context, accountID string, f contact.Filter) (contact.Page, error)
}

// Templates says whether a template exists and which version is approved.
type Templates interface {
	Exists(ctx context.Context, accountID, templateID string) error
	Sendable(ctx context.Context, accountID, templateID string) (msgtemplate.Sendable, error)
}

// Messages makes the messages a run sends: one per step of an event run,
// a page at a time for a promotion.
type Messages interface {
	Create(ctx context.Context, accountID string, r message.Request) (*message.Message, error)
	CreateMany(ctx context.Context, accountID string, reqs []message.Request) ([]*message.Message, error)
}

// JobQueue inserts the jobs that match events and run steps.
type JobQueue interface {
	Insert(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error)
}

// Service stores events and automations and runs them on the job queue.
type Service struct {
	db        *db.DB
	clock     clock.Clock
	log       *slog.Logger
	programs  Programs
	contacts  Contacts
	templates Templates
	messages  Messages
	queue     JobQueue
	// group, when set, commits the writes of events and runs together
	// with other callers' (see SetGroup).
	group *db.Group
	// batchSize and slice are BatchSize and BatchSlice but in tests.
	batchSize int
	slice     time.Duration
}

// NewService returns a Service. It cannot accept events until SetQueue.
func NewService(d *db.DB, c clock.Clock, log *slog.Logger, programs Programs, contacts Contacts, templates Templates, messages Messages) *Service {
	return &Service{db: d, clock: c, log: log, programs: programs, contacts: contacts, templates: templates, messages: messages,
		batchSize: BatchSize, slice: BatchSlice}
}

// SetQueue connects the job queue, which is built after the service
// because it needs the service's workers.
func (s *Service) SetQueue(q JobQueue) { s.queue = q }

// SetGroup makes the writes each event makes (storing it, starting its
// runs, recording their steps) share commits with other callers' instead
// of paying for one each: a match job waits on three such commits, and
// with a commit of their own the job queue's few workers spent their time
// waiting for the disk.
func (s *Service) SetGroup(g *db.Group) { s.group = g }

// write runs fn in a transaction shared through the group when there is
// one, else in one of its own.
func (s *Service) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.group != nil {
		return s.group.Do(ctx, fn)
	}
	return s.db.InTx(ctx, fn)
}

// Create stores a new automation as a draft, version 1.
func (s *Service) Create(ctx context.Context, accountID string, def Definition, actor string) (Automation, error) {
	if err := s.check(ctx, accountID, &def); err != nil {
		return Automation{}, err
	}
	now := s.clock.Now()
	a := Automation{ID: id.New(id.Automation), AccountID: accountID, Name: strings.TrimSpace(def.Name), Version: 1,
		Definition: def, CreatedAt: now, UpdatedAt: now}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, insertAutomationRow, a.ID, accountID, a.Name, false, now); err != nil {
			return fmt.Errorf("automation: insert: %w", err)
		}
		return insertVersion(ctx, tx, &a, actor)
	})
	if err != nil {
		return Automation{}, err
	}
	a.settle()
	return a, nil
}

// check validates a definition and that the program and templates it names
// are the account's own (another account's id is not found).
func (s *Service) check(ctx context.Context, accountID string, def *Definition) error {
	if err := def.Validate(); err != nil {
		return err
	}
	if def.Trigger.ProgramID != "" {
		if _, err := s.programs.GetProgram(ctx, accountID, def.Trigger.ProgramID); err != nil {
			return err
		}
	}
	if def.Audience != nil && def.Audience.ProgramID != "" {
		if _, err := s.programs.GetProgram(ctx, accountID, def.Audience.ProgramID); err != nil {
			return err
		}
	}
	for _, st := range def.Steps {
		if st.Type == StepSendSMS {
			if err := s.templates.Exists(ctx, accountID, st.TemplateID); err != nil {
				return err
			}
		}
	}
	return nil
}

// Get returns an automation with its latest definition.
func (s *Service) Get(ctx context.Context, accountID, automationID string) (Automation, error) {
	a, err := getAutomation(ctx, s.db.Read(), accountID, automationID)
	if errors.Is(err, errNoAutomation) {
		return a, notFound(automationID)
	}
	return a, err
}

// List returns the account's automations, newest first (up to 500).
func (s *Service) List(ctx context.Context, accountID string) ([]Automation, error) {
	return listAutomations(ctx, s.db.Read(), accountID)
}

// Update stores def as the automation's next version. A published version
// keeps running, unchanged, until the new one is published; runs in
// flight keep the version they started on.
func (s *Service) Update(ctx context.Context, accountID, automationID string, def Definition, actor string) (Automation, error) {
	if err := s.check(ctx, accountID, &def); err != nil {
		return Automation{}, err
	}
	var a Automation
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if a, err = getAutomation(ctx, tx, accountID, automationID); errors.Is(err, errNoAutomation) {
			return notFound(automationID)
		} else if err != nil {
			return err
		}
		a.Version++
		a.Name, a.Definition, a.UpdatedAt = strings.TrimSpace(def.Name), def, s.clock.Now()
		if err := execOne(ctx, tx, automationID, updateAutomationVersion, accountID, automationID, a.Name, a.Version, a.UpdatedAt); err != nil {
			return err
		}
		return insertVersion(ctx, tx, &a, actor)
	})
	if err != nil {
		return Automation{}, err
	}
	a.settle()
	return a, nil
}

// Delete removes an automation from the account's list; its pending steps
// are cancelled when they come due.
func (s *Service) Delete(ctx context.Context, accountID, automationID string) error {
	return execOne(ctx, s.db.Write(), automationID, deleteAutomation, accountID, automationID, s.clock.Now(), false)
}

// Publish makes the latest version the one that runs, after checking that
// it can send: every send_sms template has an approved version, every merge
// tag of those versions can be filled (see unfillableTags), and a schedule
// fires again. A schedule that is enabled gets its next fire queued.
func (s *Service) Publish(ctx context.Context, accountID, automationID string) (Automation, error) {
	a, err := s.Get(ctx, accountID, automationID)
	if err != nil {
		return a, err
	}
	def := a.Definition
	if err := s.check(ctx, accountID, &def); err != nil {
		return a, err
	}
	for i, st := range def.Steps {
		if st.Type != StepSendSMS {
			continue
		}
		field := fmt.Sprintf("steps[%d].template_id", i)
		tpl, err := s.templates.Sendable(ctx, accountID, st.TemplateID)
		if p, ok := problem.As(err); ok && p.Code == msgtemplate.CodeTemplateNotApproved {
			return a, problem.Invalidf(msgtemplate.CodeTemplateNotApproved, field,
				"template %s has no approved version; approve it before publishing", st.TemplateID)
		}
		if err != nil {
			return a, err
		}
		if tags := unfillableTags(tpl.Compiled, def); len(tags) > 0 {
			e := problem.Invalidf("merge_tag_unfillable", field, "nothing can fill %s for this trigger", strings.Join(tags, ", "))
			e.Detail = map[string]any{"tags": tags}
			return a, e
		}
	}
	now := s.clock.Now()
	if _, ok := def.Trigger.Next(now); def.Trigger.Type == TriggerSchedule && !ok {
		return a, problem.Invalidf("schedule_passed", "trigger.at", "%s has passed; choose a time to come", def.Trigger.At)
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := execOne(ctx, tx, automationID, publishAutomation, accountID, automationID,
			def.Trigger.Event, def.Trigger.ProgramID, now); err != nil {
			return err
		}
		if !a.Enabled {
			return nil
		}
		return s.scheduleNext(ctx, tx, accountID, automationID, def.Trigger, now)
	})
	if err != nil {
		return a, err
	}
	return s.Get(ctx, accountID, automationID)
}

// unfillableTags lists the merge tags of a template version that no
// source could fill for automations with this trigger, fallbacks counted.
// The rule: refuse a tag only when nothing could ever supply it. Contact
// fields (first_name, contact.attributes.x) may be blank for a contact and
// are checked per message; brand always has a value. Event tags
// (event.data.x, reward_amount, points, tier) cannot be proven present
// before an event arrives, so an event trigger accepts them, and a message
// missing one is skipped with the reason at send time. A schedule has no
// event: there the event tags, and program_name without an audience
// program, have no source.
func unfillableTags(c *msgtemplate.Compiled, d Definition) []string {
	if d.Trigger.Type == TriggerEvent || c == nil {
		return nil
	}
	v := c.SampleValues()
	v.EventData, v.RewardAmount, v.Points, v.Tier = nil, "", "", ""
	if d.Audience == nil || d.Audience.ProgramID == "" {
		v.ProgramName = ""
	}
	var missing *msgtemplate.MissingValueError
	if _, err := c.Render(v); errors.As(err, &missing) {
		out := make([]string, len(missing.Tags))
		for i, t := range missing.Tags {
			out[i] = "{{" + t + "}}"
		}
		return out
	}
	return nil
}

// SetEnabled turns a published automation on or off. Turning it off stops
// its pending steps, fires and fan-out batches: each stands down, recorded
// cancelled, when its job comes due. Turning a schedule on queues its next
// fire.
func (s *Service) SetEnabled(ctx context.Context, accountID, automationID string, on bool) (Automation, error) {
	a, err := s.Get(ctx, accountID, automationID)
	if err != nil {
		return a, err
	}
	if on && a.PublishedVersion == nil {
		return a, problem.Conflictf("not_published", "", "publish the automation before enabling it")
	}
	now := s.clock.Now()
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := execOne(ctx, tx, automationID, setAutomationEnabled, accountID, automationID, on, now); err != nil {
			return err
		}
		if !on {
			return nil
		}
		p, err := loadPinned(ctx, tx, accountID, automationID, *a.PublishedVersion)
		if err != nil {
			return err
		}
		return s.scheduleNext(ctx, tx, accountID, automationID, p.def.Trigger, now)
	})
	if err != nil {
		return a, err
	}
	return s.Get(ctx, accountID, automationID)
}
