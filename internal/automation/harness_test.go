package automation

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/secret"
)

// fakeQueue keeps the jobs a service queues, so a test runs them when the
// fake clock says they are due, with no queue process and no sleeps. It
// keeps River's promise for UniqueOpts.ByArgs: the same kind and arguments
// are queued once.
type fakeQueue struct {
	mu     sync.Mutex
	jobs   []*fakeJob
	unique map[string]bool
}

type fakeJob struct {
	args river.JobArgs
	at   time.Time // zero: at once
	done bool
}

func (q *fakeQueue) Insert(_ context.Context, _ *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	j := &fakeJob{args: args}
	if opts != nil {
		j.at = opts.ScheduledAt
		if opts.UniqueOpts.ByArgs {
			raw, err := json.Marshal(args)
			if err != nil {
				return nil, err
			}
			key := args.Kind() + string(raw)
			if q.unique[key] {
				return &rivertype.JobRow{Kind: args.Kind()}, nil
			}
			q.unique[key] = true
		}
	}
	q.jobs = append(q.jobs, j)
	return &rivertype.JobRow{Kind: args.Kind(), ScheduledAt: j.at}, nil
}

// due returns the oldest job due at now that has not run, marking it run.
func (q *fakeQueue) due(now time.Time) *fakeJob {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range q.jobs {
		if !j.done && !j.at.After(now) {
			j.done = true
			return j
		}
	}
	return nil
}

// pending returns the jobs of a kind not yet run.
func (q *fakeQueue) pending(kind string) []*fakeJob {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*fakeJob
	for _, j := range q.jobs {
		if !j.done && j.args.Kind() == kind {
			out = append(out, j)
		}
	}
	return out
}

// bundle is an automation service on a fresh database with a fake clock:
// one account that sends (a number of kind both, a limit no test reaches),
// an approved marketing and an approved transactional template.
type bundle struct {
	t           *testing.T
	ctx         context.Context
	db          *db.DB
	clock       *clock.Fake
	queue       *fakeQueue
	svc         *Service
	accounts    *account.Store
	contacts    *contact.Service
	acct        string
	marketing   string
	transaction string
}

// start is a Monday, 09:00 in Chicago (CST, UTC−6).
var start = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

func setup(t *testing.T, d *db.DB) *bundle {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFake(start)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	box, err := secret.New("automation test key")
	require.NoError(t, err)
	accounts := account.NewStore(d, c, account.WithSecrets(box))
	contacts := contact.NewService(d, c, accounts)
	source := &message.TemplateSource{}
	messages := message.NewService(d, c, log, accounts, contacts, source)
	templates := msgtemplate.NewService(d, c, accounts, msgtemplate.UnconfiguredSender{}, log)
	source.Templates = templates
	q := &fakeQueue{unique: map[string]bool{}}
	svc := NewService(d, c, log, accounts, contacts, templates, messages)
	svc.SetQueue(q)

	a, _, err := accounts.CreateAccount(ctx, account.NewAccount{Name: "Acme", BrandName: "Acme"})
	require.NoError(t, err)
	on, limit := true, int64(1_000_000)
	nums := []account.NumberInput{{Phone: "+18885550100", Kind: account.NumberBoth, MPS: 10}}
	_, err = accounts.Configure(ctx, a.ID, account.Setup{SMSEnabled: &on, MonthlyLimit: &limit, Numbers: &nums,
		Twilio: &account.TwilioSetup{AccountSID: "AC11111111111111111111111111111111", AuthToken: "tok", BaseURL: "http://127.0.0.1:9/sim"}})
	require.NoError(t, err)
	b := &bundle{t: t, ctx: ctx, db: d, clock: c, queue: q, svc: svc, accounts: accounts, contacts: contacts, acct: a.ID}
	b.marketing = b.template(templates, "marketing", "Acme: spring sale, {{first_name | default: \"friend\"}}! Reply STOP to opt out.")
	b.transaction = b.template(templates, "transactional", "Acme: your reward {{event.data.reward_id}} is waiting.")
	return b
}

func (b *bundle) template(ts *msgtemplate.Service, kind, body string) string {
	b.t.Helper()
	tpl, err := ts.Create(b.ctx, b.acct, msgtemplate.NewTemplate{Name: "T " + kind, Kind: kind, Body: body}, "test")
	require.NoError(b.t, err)
	_, err = ts.Submit(b.ctx, b.acct, tpl.ID, "test")
	require.NoError(b.t, err)
	_, err = ts.Decide(b.ctx, b.acct, tpl.ID, msgtemplate.Review{Approve: true, Actor: "operator"})
	require.NoError(b.t, err)
	return tpl.ID
}

// contact makes a contact with a US mobile number built from n.
func (b *bundle) contact(n int, pref consent.Preference, attrs map[string]any) string {
	b.t.Helper()
	phone := fmt.Sprintf("+1734626%04d", n)
	name, p := fmt.Sprintf("Member%d", n), string(pref)
	in := contact.Input{Phone: &phone, FirstName: &name, Attributes: attrs}
	if pref != "" {
		in.SMSPreference = &p
	}
	c, _, err := b.contacts.Upsert(b.ctx, b.acct, in, contact.Change{Source: consent.SourceAdmin, Actor: "test"})
	require.NoError(b.t, err)
	return c.ID
}

// live creates, publishes and enables an automation.
func (b *bundle) live(def Definition) string {
	b.t.Helper()
	a, err := b.svc.Create(b.ctx, b.acct, def, "test")
	require.NoError(b.t, err)
	_, err = b.svc.Publish(b.ctx, b.acct, a.ID)
	require.NoError(b.t, err)
	_, err = b.svc.SetEnabled(b.ctx, b.acct, a.ID, true)
	require.NoError(b.t, err)
	return a.ID
}

// drain runs every job due by the fake clock's now, including those the
// jobs queue, until none is due.
func (b *bundle) drain() {
	b.t.Helper()
	for range 100_000 {
		j := b.queue.due(b.clock.Now())
		if j == nil {
			return
		}
		b.run(j)
	}
	b.t.Fatal("jobs keep coming")
}

func (b *bundle) run(j *fakeJob) {
	b.t.Helper()
	var err error
	switch a := j.args.(type) {
	case matchArgs:
		err = b.svc.match(b.ctx, a.AccountID, a.EventID)
	case stepArgs:
		err = b.svc.runStep(b.ctx, a)
	case fireArgs:
		err = b.svc.fire(b.ctx, a)
	case batchArgs:
		err = b.svc.batch(b.ctx, a)
	default:
		b.t.Fatalf("no worker for %T", j.args)
	}
	require.NoError(b.t, err, "%s %+v", j.args.Kind(), j.args)
}

// advance moves the clock on and runs what came due.
func (b *bundle) advance(d time.Duration) {
	b.t.Helper()
	b.clock.Advance(d)
	b.drain()
}

// sent returns, per contact id, the messages the automation made that
// were not skipped.
func (b *bundle) sent(automationID string) map[string]int {
	b.t.Helper()
	rows, err := b.db.Read().QueryContext(b.ctx, `SELECT contact_id FROM messages
		WHERE account_id = $1 AND automation_id = $2 AND status <> 'skipped'`, b.acct, automationID)
	require.NoError(b.t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		require.NoError(b.t, rows.Scan(&id))
		out[id]++
	}
	require.NoError(b.t, rows.Err())
	return out
}

func (b *bundle) runs(automationID string) []Run {
	b.t.Helper()
	runs, err := b.svc.Runs(b.ctx, b.acct, automationID)
	require.NoError(b.t, err)
	return runs
}

func (b *bundle) ingest(e Event) {
	b.t.Helper()
	_, err := b.svc.Ingest(b.ctx, b.acct, e)
	require.NoError(b.t, err)
}
