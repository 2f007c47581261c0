package automation

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/problem"
)

func (b *bundle) promotion(trigger Trigger, audience *Audience, steps ...Step) Definition {
	if len(steps) == 0 {
		steps = []Step{{Type: StepSendSMS, TemplateID: b.marketing}}
	}
	return Definition{Name: "Spring sale", Trigger: trigger, Audience: audience, Steps: steps}
}

func at(t time.Time) Trigger { return Trigger{Type: TriggerSchedule, At: t.Format(time.RFC3339)} }

// A one-off promotion reaches, at its time and not before, exactly the
// contacts opted in to marketing whose attributes match, in pages of the
// batch size, and says how many it reached.
func TestPromotionFansOutToTheAudience(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		b.svc.batchSize = 2 // five pages of contacts
		gold := map[string]any{"tier": "gold"}
		want := map[string]int{}
		for i := range 4 {
			want[b.contact(i, consent.OptedIn, gold)] = 1
		}
		b.contact(10, consent.OptedIn, map[string]any{"tier": "silver"})
		b.contact(11, consent.OptedOut, gold)
		b.contact(12, consent.Unknown, gold)
		b.contact(13, consent.OptedIn, nil)
		fireAt := start.Add(time.Hour)
		aut := b.live(b.promotion(at(fireAt), &Audience{Attributes: []Condition{{Field: "tier", Op: "eq", Value: "gold"}}}))

		b.advance(59 * time.Minute)
		require.Empty(t, b.sent(aut), "nothing before its time")
		require.Empty(t, b.runs(aut))
		b.advance(time.Minute)
		require.Equal(t, want, b.sent(aut))
		runs := b.runs(aut)
		require.Len(t, runs, 1)
		require.Equal(t, RunCompleted, runs[0].Status)
		require.Equal(t, "schedule:"+fireAt.Format(time.RFC3339), runs[0].EventID)
		require.Equal(t, &Counts{Audience: 4, Created: 4}, runs[0].Counts)
		require.Equal(t, &Counts{Audience: 4, Created: 4}, runs[0].Steps[0].Counts)
		require.Empty(t, b.queue.pending("automation.fire"), "a one-off schedule fires once")
	})
}

// The same fire time starts one run, however many fire jobs run for it,
// and a page whose messages were made before a crash, but whose cursor
// was not recorded, is made again without sending anything twice.
func TestPromotionFiresOnce(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		b.svc.batchSize, b.svc.slice = 2, 0 // a job per page
		for i := range 5 {
			b.contact(i, consent.OptedIn, nil)
		}
		fireAt := start.Add(time.Hour)
		aut := b.live(b.promotion(at(fireAt), &Audience{}))
		// Enabling again, or a second process doing it, queues nothing new.
		_, err := b.svc.SetEnabled(b.ctx, b.acct, aut, true)
		require.NoError(t, err)
		require.Len(t, b.queue.pending("automation.fire"), 1)

		b.clock.Set(fireAt)
		args := fireArgs{AccountID: b.acct, AutomationID: aut, At: fireAt}
		require.NoError(t, b.svc.fire(b.ctx, args))
		require.NoError(t, b.svc.fire(b.ctx, args), "a second process fires the same time")
		b.run(b.queue.due(b.clock.Now())) // the queued fire: a third
		b.run(b.queue.due(b.clock.Now())) // the run's step: its first page is queued
		pages := b.queue.pending("automation.batch")
		require.Len(t, pages, 1)
		runs := b.runs(aut)
		require.Len(t, runs, 1)
		r, live, err := b.svc.loadRun(b.ctx, b.acct, runs[0].ID, 0)
		require.NoError(t, err)
		require.True(t, live)
		p, err := loadPinned(b.ctx, d.Read(), b.acct, aut, r.version)
		require.NoError(t, err)
		_, err = b.svc.sendPage(b.ctx, b.acct, "", r, p.def, 0) // then the crash
		require.NoError(t, err)
		require.Len(t, b.sent(aut), 2)

		b.drain()
		require.Len(t, b.runs(aut), 1)
		sent := b.sent(aut)
		require.Len(t, sent, 5)
		for _, n := range sent {
			require.Equal(t, 1, n)
		}
		require.Equal(t, RunCompleted, b.runs(aut)[0].Status)
		require.Equal(t, &Counts{Audience: 5, Created: 5}, b.runs(aut)[0].Counts, "the repeated page counted once")
	})
}

// A weekly promotion fires at 10:00 in Chicago on Mondays, on both sides
// of the change to daylight-saving time (8 March 2026), and each fire
// queues the next.
func TestRecurringPromotion(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		c := b.contact(1, consent.OptedIn, nil)
		aut := b.live(b.promotion(Trigger{Type: TriggerSchedule, Cron: "0 10 * * 1", TimeZone: "America/Chicago"}, &Audience{}))
		fires := b.queue.pending("automation.fire")
		require.Len(t, fires, 1)
		cst := time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC) // 10:00 CST
		require.Equal(t, cst, fires[0].at)

		b.clock.Set(cst)
		b.drain()
		require.Equal(t, map[string]int{c: 1}, b.sent(aut))
		fires = b.queue.pending("automation.fire")
		require.Len(t, fires, 1)
		cdt := time.Date(2026, 3, 9, 15, 0, 0, 0, time.UTC) // 10:00 CDT
		require.Equal(t, cdt, fires[0].at)
		b.clock.Set(cdt)
		b.drain()
		require.Equal(t, map[string]int{c: 2}, b.sent(aut), "each fire is a send of its own")
		require.Len(t, b.runs(aut), 2)
	})
}

// Disabling stops a pending fire, and a fan-out in progress stops at its
// next page; enabling again queues the next fire.
func TestDisableStopsPromotion(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		b.svc.batchSize, b.svc.slice = 2, 0 // a job per page
		for i := range 6 {
			b.contact(i, consent.OptedIn, nil)
		}
		first := start.Add(time.Hour)
		aut := b.live(b.promotion(Trigger{Type: TriggerSchedule, Cron: "0 * * * *", TimeZone: "UTC"}, &Audience{}))
		b.clock.Set(first)
		// Run the fire, the step and the first page only.
		for range 3 {
			b.run(b.queue.due(b.clock.Now()))
		}
		require.Len(t, b.sent(aut), 2)
		_, err := b.svc.SetEnabled(b.ctx, b.acct, aut, false)
		require.NoError(t, err)
		b.drain()
		require.Len(t, b.sent(aut), 2, "no page after the disable")
		runs := b.runs(aut)
		require.Len(t, runs, 1)
		require.Equal(t, RunCancelled, runs[0].Status)
		require.Equal(t, ReasonDisabled, runs[0].Reason)
		require.Equal(t, &Counts{Audience: 2, Created: 2}, runs[0].Counts)

		b.advance(time.Hour) // the next fire comes due while disabled
		require.Len(t, b.runs(aut), 1)
		require.Empty(t, b.queue.pending("automation.fire"), "a disabled schedule stops re-queuing itself")

		_, err = b.svc.SetEnabled(b.ctx, b.acct, aut, true)
		require.NoError(t, err)
		b.advance(time.Hour)
		require.Len(t, b.runs(aut), 2)
		require.Len(t, b.sent(aut), 6)
	})
}

// A promotion of a program reaches the contacts with an event of that
// program; send, wait, send reaches them twice, the second time after the
// wait.
func TestProgramAudienceAndWait(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		prg, err := b.accounts.CreateProgram(b.ctx, b.acct, account.NewProgram{Name: "Friends"})
		require.NoError(t, err)
		member := b.contact(1, consent.OptedIn, nil)
		b.contact(2, consent.OptedIn, nil)
		phone := "+17346260001"
		b.ingest(Event{ID: "enrol-1", Type: EventAdvocateEnrolled, ProgramID: prg.ID, Contact: EventContact{Phone: &phone}})
		fireAt := start.Add(time.Hour)
		aut := b.live(b.promotion(at(fireAt), &Audience{ProgramID: prg.ID},
			Step{Type: StepSendSMS, TemplateID: b.marketing}, Step{Type: StepWait, Duration: "1d"},
			Step{Type: StepSendSMS, TemplateID: b.marketing}))
		b.clock.Set(fireAt)
		b.drain()
		require.Equal(t, map[string]int{member: 1}, b.sent(aut))
		b.advance(23 * time.Hour)
		require.Equal(t, map[string]int{member: 1}, b.sent(aut))
		b.advance(time.Hour)
		require.Equal(t, map[string]int{member: 2}, b.sent(aut))
		runs := b.runs(aut)
		require.Equal(t, RunCompleted, runs[0].Status)
		require.Equal(t, &Counts{Audience: 2, Created: 2}, runs[0].Counts)
		require.Len(t, runs[0].Steps, 3)
	})
}

// A schedule can be published only while it has a time to come, and a
// fire queued for an earlier version's time stands down.
func TestPublishSchedule(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		c := b.contact(1, consent.OptedIn, nil)
		past, err := b.svc.Create(b.ctx, b.acct, b.promotion(at(start.Add(-time.Minute)), &Audience{}), "test")
		require.NoError(t, err)
		_, err = b.svc.Publish(b.ctx, b.acct, past.ID)
		p, ok := problem.As(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, "schedule_passed", p.Code)
		require.Equal(t, "trigger.at", p.Field)

		aut := b.live(b.promotion(at(start.Add(time.Hour)), &Audience{}))
		_, err = b.svc.Update(b.ctx, b.acct, aut, b.promotion(at(start.Add(2*time.Hour)), &Audience{}), "test")
		require.NoError(t, err)
		_, err = b.svc.Publish(b.ctx, b.acct, aut)
		require.NoError(t, err)
		require.Len(t, b.queue.pending("automation.fire"), 2)
		b.advance(time.Hour)
		require.Empty(t, b.runs(aut), "the first version's time passes without a send")
		b.advance(time.Hour)
		require.Equal(t, map[string]int{c: 1}, b.sent(aut))
	})
}

// A disable while one batch job is paging stops it at its next page.
func TestDisableDuringAFanOut(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		b.svc.batchSize = 2
		for i := range 6 {
			b.contact(i, consent.OptedIn, nil)
		}
		var once sync.Once
		aut := ""
		b.svc.messages = &hookMessages{Messages: b.svc.messages, before: func() {
			once.Do(func() {
				_, err := b.svc.SetEnabled(b.ctx, b.acct, aut, false)
				require.NoError(t, err)
			})
		}}
		aut = b.live(b.promotion(at(start.Add(time.Hour)), &Audience{}))
		b.advance(time.Hour)
		require.Len(t, b.sent(aut), 2, "the page being sent goes, no more")
		runs := b.runs(aut)
		require.Equal(t, RunCancelled, runs[0].Status)
		require.Equal(t, &Counts{Audience: 2, Created: 2}, runs[0].Counts)
	})
}
