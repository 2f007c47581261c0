package automation

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
)

// failingMessages fails the next fails Creates, as a database that went
// away between a run being recorded and its first message being made.
type failingMessages struct {
	Messages
	fails int
}

func (f *failingMessages) Create(ctx context.Context, accountID string, r message.Request) (*message.Message, error) {
	if f.fails > 0 {
		f.fails--
		return nil, errors.New("database went away")
	}
	return f.Messages.Create(ctx, accountID, r)
}

func (b *bundle) rewardNote() Definition {
	return Definition{Name: "Reward ready", Trigger: Trigger{Type: TriggerEvent, Event: EventRewardAvailable},
		Steps: []Step{{Type: StepSendSMS, TemplateID: b.transaction}}}
}

// The match job runs a run's first step itself, so no step job is queued
// for it, and a repeat of the job sends nothing again.
func TestMatchRunsTheFirstStepOnce(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		c := b.contact(1, consent.OptedIn, nil)
		aut := b.live(b.rewardNote())
		b.ingest(b.rewardEvent("avail-1", EventRewardAvailable, "r-1"))
		match := b.queue.due(b.clock.Now())
		require.NotNil(t, match)
		b.run(match)
		require.Equal(t, map[string]int{c: 1}, b.sent(aut), "sent by the match job")
		require.Empty(t, b.queue.pending("automation.step"), "no job for the first step")

		b.run(match) // River runs a job again when its completion was lost
		require.Equal(t, map[string]int{c: 1}, b.sent(aut), "sent once")
		runs := b.runs(aut)
		require.Len(t, runs, 1)
		require.Equal(t, RunCompleted, runs[0].Status)
		require.Len(t, runs[0].Steps, 1)
	})
}

// A match job that failed after recording a run, before its first step
// made the message, is run again by River; that try finds the run and
// sends its first step, once.
func TestMatchResumesARunItStarted(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		c := b.contact(1, consent.OptedIn, nil)
		failing := &failingMessages{Messages: b.svc.messages, fails: 1}
		b.svc.messages = failing
		aut := b.live(b.rewardNote())
		b.ingest(b.rewardEvent("avail-1", EventRewardAvailable, "r-1"))

		err := b.svc.match(b.ctx, b.acct, "avail-1")
		require.ErrorContains(t, err, "database went away", "the job fails, so River tries it again")
		runs := b.runs(aut)
		require.Len(t, runs, 1, "the run was recorded")
		require.Equal(t, RunProcessing, runs[0].Status)
		require.Empty(t, b.sent(aut))

		require.NoError(t, b.svc.match(b.ctx, b.acct, "avail-1"))
		require.Equal(t, map[string]int{c: 1}, b.sent(aut))
		runs = b.runs(aut)
		require.Len(t, runs, 1, "no second run")
		require.Equal(t, RunCompleted, runs[0].Status)
	})
}
