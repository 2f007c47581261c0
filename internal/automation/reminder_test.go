package automation

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
)

// until is the stop rule of the reminders below: a reward.redeemed event
// for the same reward_id.
func until() *Reminder {
	return &Reminder{UntilEvent: EventRewardRedeemed, MatchOn: "event.data.reward_id"}
}

// The reminder of the issue: send, wait 72h, send, wait 7d, send.
func (b *bundle) reminderDef() Definition {
	send := Step{Type: StepSendSMS, TemplateID: b.transaction}
	return Definition{Name: "Use your reward",
		Trigger: Trigger{Type: TriggerEvent, Event: EventRewardAvailable, Reminder: until()},
		Steps:   []Step{send, {Type: StepWait, Duration: "72h"}, send, {Type: StepWait, Duration: "7d"}, send}}
}

func (b *bundle) rewardEvent(id, typ, reward string) Event {
	phone := "+17346260001"
	return Event{ID: id, Type: typ, Contact: EventContact{Phone: &phone}, Data: map[string]any{"reward_id": reward}}
}

func TestReminderStopsWhenRedeemed(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		c := b.contact(1, consent.OptedIn, nil)
		aut := b.live(b.reminderDef())
		b.ingest(b.rewardEvent("avail-1", EventRewardAvailable, "r-1"))
		b.drain()
		require.Equal(t, map[string]int{c: 1}, b.sent(aut))
		b.advance(72 * time.Hour)
		require.Equal(t, map[string]int{c: 2}, b.sent(aut), "the first reminder")

		b.advance(time.Hour)
		b.ingest(b.rewardEvent("redeem-other", EventRewardRedeemed, "r-2"))
		require.Equal(t, RunProcessing, b.runs(aut)[0].Status, "another reward's redeem stops nothing")
		b.ingest(b.rewardEvent("redeem-1", EventRewardRedeemed, "r-1"))
		runs := b.runs(aut)
		require.Equal(t, RunCancelled, runs[0].Status, "stopped as the redeem is accepted")
		require.Equal(t, "until_event: reward.redeemed", runs[0].Reason)
		require.Equal(t, RunCancelled, runs[0].Steps[3].Status, "the pending wait")

		b.advance(8 * 24 * time.Hour)
		require.Equal(t, map[string]int{c: 2}, b.sent(aut), "no reminder after the redeem")
	})
}

// A redeem ingested before the reward.available event has been matched
// still stops its run, at the first send.
func TestRedeemBeforeRunStarts(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		b.contact(1, consent.OptedIn, nil)
		aut := b.live(b.reminderDef())
		b.ingest(b.rewardEvent("avail-1", EventRewardAvailable, "r-1"))
		b.ingest(b.rewardEvent("redeem-1", EventRewardRedeemed, "r-1"))
		b.drain()
		b.advance(11 * 24 * time.Hour)
		require.Empty(t, b.sent(aut))
		runs := b.runs(aut)
		require.Len(t, runs, 1)
		require.Equal(t, RunCancelled, runs[0].Status)
	})
}

// hookMessages runs a hook before each Create: a redeem arriving while a
// step job is sending.
type hookMessages struct {
	Messages
	before func()
}

func (h *hookMessages) Create(ctx context.Context, accountID string, r message.Request) (*message.Message, error) {
	if h.before != nil {
		h.before()
	}
	return h.Messages.Create(ctx, accountID, r)
}

func (h *hookMessages) CreateMany(ctx context.Context, accountID string, reqs []message.Request) ([]*message.Message, error) {
	if h.before != nil {
		h.before()
	}
	return h.Messages.CreateMany(ctx, accountID, reqs)
}

// A redeem that arrives while a step is sending lets that step finish but
// no later one.
func TestRedeemDuringAStep(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		c := b.contact(1, consent.OptedIn, nil)
		hook := &hookMessages{Messages: b.svc.messages}
		b.svc.messages = hook
		aut := b.live(b.reminderDef())
		b.ingest(b.rewardEvent("avail-1", EventRewardAvailable, "r-1"))
		b.drain()
		hook.before = func() {
			hook.before = nil
			b.ingest(b.rewardEvent("redeem-1", EventRewardRedeemed, "r-1"))
		}
		b.advance(72 * time.Hour)
		require.Equal(t, map[string]int{c: 2}, b.sent(aut), "the step already sending goes")
		require.Empty(t, b.queue.pending("automation.step"), "no later step is queued")
		b.advance(8 * 24 * time.Hour)
		require.Equal(t, map[string]int{c: 2}, b.sent(aut))
		require.Equal(t, RunCancelled, b.runs(aut)[0].Status)
	})
}

// Repeats run the steps again at each offset from the event, until the
// redeem.
func TestReminderRepeats(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		c := b.contact(1, consent.OptedIn, nil)
		r := until()
		r.Repeat = []string{"3d", "10d"}
		aut := b.live(Definition{Name: "Remind", Trigger: Trigger{Type: TriggerEvent, Event: EventRewardAvailable, Reminder: r},
			Steps: []Step{{Type: StepSendSMS, TemplateID: b.transaction}}})
		b.ingest(b.rewardEvent("avail-1", EventRewardAvailable, "r-1"))
		b.drain()
		require.Equal(t, map[string]int{c: 1}, b.sent(aut))
		b.advance(3*24*time.Hour - time.Minute)
		require.Equal(t, map[string]int{c: 1}, b.sent(aut))
		b.advance(time.Minute)
		require.Equal(t, map[string]int{c: 2}, b.sent(aut), "3 days after the event")
		b.advance(7 * 24 * time.Hour)
		require.Equal(t, map[string]int{c: 3}, b.sent(aut), "10 days after the event")
		require.Equal(t, RunCompleted, b.runs(aut)[0].Status)

		// A second reward, redeemed after its first message.
		b.ingest(b.rewardEvent("avail-2", EventRewardAvailable, "r-2"))
		b.drain()
		b.ingest(b.rewardEvent("redeem-2", EventRewardRedeemed, "r-2"))
		b.advance(11 * 24 * time.Hour)
		require.Equal(t, map[string]int{c: 4}, b.sent(aut))
	})
}

// Plan spells the repeats out as steps.
func TestPlan(t *testing.T) {
	t.Parallel()
	send := Step{Type: StepSendSMS, TemplateID: "tpl_x"}
	d := Definition{Trigger: Trigger{Type: TriggerEvent, Event: EventRewardAvailable,
		Reminder: &Reminder{Repeat: []string{"72h", "10d"}}}, Steps: []Step{send}}
	require.Equal(t, []Step{send, {Type: StepWait, Duration: "72h", sinceEvent: 72 * time.Hour}, send,
		{Type: StepWait, Duration: "10d", sinceEvent: 240 * time.Hour}, send}, d.Plan())
	d.Trigger.Reminder = nil
	require.Equal(t, []Step{send}, d.Plan())
}
