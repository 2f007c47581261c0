package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/automation"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// postEvent sends an event through the API and returns the status and body.
func (p *pipeline) postEvent(key string, ev map[string]any) (int, map[string]any) {
	p.t.Helper()
	raw, err := json.Marshal(ev)
	require.NoError(p.t, err)
	req, err := http.NewRequest("POST", p.cfg.PublicURL+"/api/v1/events", bytes.NewReader(raw))
	require.NoError(p.t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(p.t, err)
	defer res.Body.Close()
	var body map[string]any
	require.NoError(p.t, json.NewDecoder(res.Body).Decode(&body))
	return res.StatusCode, body
}

// An event in, an automation's message on the handset; the same event id
// again sends nothing.
func TestEventToHandset(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, dbtest.Options(t, e), 50)
			ctx := context.Background()
			p.contact("+17346263333", consent.OptedIn)
			aut, err := p.app.Automations.Create(ctx, p.acct, automation.Definition{Name: "Shipped",
				Trigger: automation.Trigger{Type: automation.TriggerEvent, Event: "order.shipped"},
				Steps:   []automation.Step{{Type: automation.StepSendSMS, TemplateID: p.template}}}, "test")
			require.NoError(t, err)
			_, err = p.app.Automations.Publish(ctx, p.acct, aut.ID)
			require.NoError(t, err)
			_, err = p.app.Automations.SetEnabled(ctx, p.acct, aut.ID, true)
			require.NoError(t, err)
			_, key, err := p.app.Accounts.CreateKey(ctx, p.acct, account.RoleEditor, "events")
			require.NoError(t, err)

			ev := map[string]any{"id": "ord-42", "type": "order.shipped",
				"contact": map[string]any{"phone": "+17346263333"}, "data": map[string]any{"n": 42}}
			status, body := p.postEvent(key, ev)
			require.Equal(t, http.StatusAccepted, status, "%v", body)
			require.Eventually(t, func() bool { return len(p.app.Sim.Inbox("+17346263333")) == 1 },
				20*time.Second, 20*time.Millisecond)
			require.Equal(t, "Hi Ava, order 42 is on its way.", p.app.Sim.Inbox("+17346263333")[0].Body)
			// The step's outcome is written after its message, which may
			// reach the handset first.
			var runs []automation.Run
			require.Eventually(t, func() bool {
				runs, err = p.app.Automations.Runs(ctx, p.acct, aut.ID)
				require.NoError(t, err)
				return len(runs) == 1 && len(runs[0].Steps) > 0
			}, 10*time.Second, 20*time.Millisecond)
			require.NotNil(t, runs[0].Steps[0].MessageID)
			p.waitStatus(*runs[0].Steps[0].MessageID, "delivered")

			status, body = p.postEvent(key, ev)
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, true, body["duplicate"])
			time.Sleep(300 * time.Millisecond) // long enough for a wrongly queued job to run
			require.Len(t, p.app.Sim.Inbox("+17346263333"), 1, "the same event id sends nothing new")
			runs, err = p.app.Automations.Runs(ctx, p.acct, aut.ID)
			require.NoError(t, err)
			require.Len(t, runs, 1)
		})
	}
}

// A scheduled send, end to end: at its time it reaches the handsets of the
// opted-in contacts through the simulator, and no one else. (Transactional,
// so that the test does not depend on the hour: marketing waits for the
// recipient's legal hours.)
func TestPromotionToHandsets(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, dbtest.Options(t, e), 50)
			ctx := context.Background()
			in := []string{"+17346263333", "+17346263334"}
			for _, phone := range in {
				p.contact(phone, consent.OptedIn)
			}
			p.contact("+17346263335", consent.OptedOut)
			tpl := p.approvedTemplate("Statement", "Acme: {{first_name}}, your statement is ready.")
			aut, err := p.app.Automations.Create(ctx, p.acct, automation.Definition{Name: "Sale",
				Trigger:  automation.Trigger{Type: automation.TriggerSchedule, At: soon()},
				Audience: &automation.Audience{},
				Steps:    []automation.Step{{Type: automation.StepSendSMS, TemplateID: tpl}}}, "test")
			require.NoError(t, err)
			_, err = p.app.Automations.Publish(ctx, p.acct, aut.ID)
			require.NoError(t, err)
			_, err = p.app.Automations.SetEnabled(ctx, p.acct, aut.ID, true)
			require.NoError(t, err)

			// River makes scheduled jobs available every few seconds.
			require.Eventually(t, func() bool {
				return len(p.app.Sim.Inbox(in[0])) == 1 && len(p.app.Sim.Inbox(in[1])) == 1
			}, 30*time.Second, 50*time.Millisecond)
			require.Equal(t, "Acme: Ava, your statement is ready.", p.app.Sim.Inbox(in[0])[0].Body)
			require.Empty(t, p.app.Sim.Inbox("+17346263335"))
			// The page's counts are saved just after its messages commit,
			// so the texts can reach the handsets a moment before.
			want := &automation.Counts{Audience: 3, Created: 2, Skipped: 1}
			require.Eventually(t, func() bool {
				runs, err := p.app.Automations.Runs(ctx, p.acct, aut.ID)
				require.NoError(t, err)
				require.Len(t, runs, 1)
				return reflect.DeepEqual(want, runs[0].Counts)
			}, 5*time.Second, 20*time.Millisecond)
		})
	}
}

// soon is a schedule time at least two seconds ahead. Schedules are given to
// the second, so a time one second ahead can pass before it is published.
func soon() string {
	return time.Now().Add(3 * time.Second).Truncate(time.Second).Format(time.RFC3339)
}
