package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/jobs"
)

// startJobs gives the bundle a running job queue for events and runs.
func (b *testBundle) startJobs() *jobs.Queue {
	b.t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	require.NoError(b.t, jobs.Migrate(ctx, b.db, log))
	workers := river.NewWorkers()
	b.automations.AddWorkers(workers)
	q, err := jobs.New(b.db, log, workers, jobs.Config{Test: true, FetchPollInterval: 50 * time.Millisecond})
	require.NoError(b.t, err)
	b.automations.SetQueue(q)
	require.NoError(b.t, q.Start(ctx))
	b.t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(stopCtx)
	})
	return q
}

// autoBundle is an account that sends, with a running queue, an approved
// template and an opted-in contact known by external id "ext-1".
type autoBundle struct {
	*testBundle
	queue    *jobs.Queue
	template string
}

func setupAutomations(t *testing.T, d *db.DB) autoBundle {
	b := setup(t, d)
	q := b.startJobs()
	b.enableSMS(b.acct, 1000)
	tpl := b.approvedTemplate(b.admin, "transactional", "Hi {{first_name}}, your reward of {{event.data.amount}} is approved.")
	res := b.do("POST", "/api/v1/contacts", b.admin, map[string]any{"external_id": "ext-1", "phone": "+17346263333",
		"first_name": "Ava", "sms_preference": "opted_in"})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	return autoBundle{testBundle: b, queue: q, template: tpl}
}

// live creates, publishes and enables an automation.
func (b autoBundle) live(def map[string]any) string {
	b.t.Helper()
	res := b.do("POST", "/api/v1/automations", b.admin, def)
	require.Equal(b.t, http.StatusCreated, res.status, "%s", res.body)
	id := res.json(b.t)["id"].(string)
	res = b.do("POST", "/api/v1/automations/"+id+"/publish", b.admin, nil)
	require.Equal(b.t, http.StatusOK, res.status, "%s", res.body)
	res = b.do("POST", "/api/v1/automations/"+id+"/enable", b.admin, nil)
	require.Equal(b.t, http.StatusOK, res.status, "%s", res.body)
	require.Equal(b.t, true, res.json(b.t)["enabled"])
	return id
}

func (b autoBundle) sendDef(name string, trigger map[string]any, extra ...map[string]any) map[string]any {
	def := map[string]any{"name": name, "trigger": trigger,
		"steps": []map[string]any{{"type": "send_sms", "template_id": b.template}}}
	for _, e := range extra {
		for k, v := range e {
			def[k] = v
		}
	}
	return def
}

func (b autoBundle) event(id, typ string, extra map[string]any) response {
	b.t.Helper()
	ev := map[string]any{"id": id, "type": typ, "contact": map[string]any{"external_id": "ext-1"},
		"data": map[string]any{"amount": 25}}
	for k, v := range extra {
		ev[k] = v
	}
	return b.do("POST", "/api/v1/events", b.admin, ev)
}

// runs waits until the automation has n runs, none processing, and
// returns them.
func (b autoBundle) runs(automationID string, n int) []map[string]any {
	b.t.Helper()
	var out []map[string]any
	require.Eventually(b.t, func() bool {
		res := b.do("GET", "/api/v1/automations/"+automationID+"/runs", b.admin, nil)
		require.Equal(b.t, http.StatusOK, res.status, "%s", res.body)
		out = nil
		for _, r := range res.json(b.t)["data"].([]any) {
			run := r.(map[string]any)
			if run["status"] == "processing" {
				return false
			}
			out = append(out, run)
		}
		return len(out) == n
	}, 15*time.Second, 20*time.Millisecond)
	return out
}

// settle lets the queue finish what it has, so "nothing happened" is seen
// after the fact rather than before.
func (b autoBundle) settle() {
	b.t.Helper()
	require.Eventually(b.t, func() bool {
		page, err := b.queue.Client().JobList(context.Background(), river.NewJobListParams().
			States(rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateRetryable))
		require.NoError(b.t, err)
		return len(page.Jobs) == 0
	}, 15*time.Second, 20*time.Millisecond)
}

func (b autoBundle) messagesOf(automationID string) []any {
	b.t.Helper()
	res := b.do("GET", "/api/v1/outcomes", b.admin, nil)
	require.Equal(b.t, http.StatusOK, res.status, "%s", res.body)
	var out []any
	for _, o := range res.json(b.t)["data"].([]any) {
		if o.(map[string]any)["automation_id"] == automationID {
			out = append(out, o)
		}
	}
	return out
}

func TestEventStartsAutomationOnce(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setupAutomations(t, d)
		aut := b.live(b.sendDef("Reward approved", map[string]any{"type": "event", "event": "reward.approved"}))

		res := b.event("evt-1", "reward.approved", nil)
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
		require.Equal(t, map[string]any{"id": "evt-1", "duplicate": false}, res.json(t))
		runs := b.runs(aut, 1)
		require.Equal(t, "completed", runs[0]["status"], "%v", runs[0])
		step := runs[0]["steps"].([]any)[0].(map[string]any)
		require.Equal(t, "completed", step["status"])
		msgID := step["message_id"].(string)
		msg := b.do("GET", "/api/v1/messages/"+msgID, b.admin, nil).json(t)
		require.Equal(t, "Hi Ava, your reward of 25 is approved.", msg["body"])
		require.Equal(t, aut, msg["automation_id"])
		require.Equal(t, "evt-1", msg["event_id"])
		require.Len(t, b.messagesOf(aut), 1, "the outcomes log shows it")

		// The same id again: 200, duplicate, nothing new.
		res = b.event("evt-1", "reward.approved", map[string]any{"data": map[string]any{"amount": 99}})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, true, res.json(t)["duplicate"])
		// Another type starts nothing.
		require.Equal(t, http.StatusAccepted, b.event("evt-2", "points.earned", nil).status)
		b.settle()
		b.runs(aut, 1)
		require.Len(t, b.messagesOf(aut), 1)
	})
}

func TestEventNeverInfersConsent(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setupAutomations(t, d)
		aut := b.live(b.sendDef("Welcome", map[string]any{"type": "event", "event": "advocate.enrolled"}))
		res := b.do("POST", "/api/v1/events", b.admin, map[string]any{"id": "e-new", "type": "advocate.enrolled",
			"contact": map[string]any{"external_id": "new-1", "phone": "+14155550142", "first_name": "Sam"}})
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
		runs := b.runs(aut, 1)
		step := runs[0]["steps"].([]any)[0].(map[string]any)
		require.Equal(t, "skipped", step["status"], "a new contact has given no consent: %v", step)
		list := b.do("GET", "/api/v1/contacts?sms_preference=unknown", b.admin, nil)
		require.Contains(t, string(list.body), "new-1")
		// An event cannot carry a preference at all.
		res = b.do("POST", "/api/v1/events", b.admin, map[string]any{"id": "e-pref", "type": "advocate.enrolled",
			"contact": map[string]any{"external_id": "new-2", "phone": "+14155550143", "sms_preference": "opted_in"}})
		require.Equal(t, http.StatusBadRequest, res.status)
		require.Equal(t, "unknown_field", res.errorCode(t))
	})
}

func TestProgramLimitedTrigger(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setupAutomations(t, d)
		program := func(name string) string {
			res := b.do("POST", "/api/v1/programs", b.admin, map[string]any{"name": name})
			require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
			return res.json(t)["id"].(string)
		}
		refer, loyal := program("Refer"), program("Loyalty")
		aut := b.live(b.sendDef("Refer only", map[string]any{"type": "event", "event": "reward.approved", "program_id": refer}))
		require.Equal(t, http.StatusAccepted, b.event("e-loyal", "reward.approved", map[string]any{"program_id": loyal}).status)
		require.Equal(t, http.StatusAccepted, b.event("e-none", "reward.approved", nil).status)
		require.Equal(t, http.StatusAccepted, b.event("e-refer", "reward.approved", map[string]any{"program_id": refer}).status)
		b.settle()
		runs := b.runs(aut, 1)
		require.Equal(t, "e-refer", runs[0]["event_id"])
		require.Equal(t, "completed", runs[0]["status"])
	})
}

func TestConditionsThroughTheAPI(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setupAutomations(t, d)
		cases := []struct {
			cond  map[string]any
			match bool
		}{
			{map[string]any{"field": "event.data.amount", "op": "gte", "value": 25}, true},
			{map[string]any{"field": "event.data.amount", "op": "gt", "value": 25}, false},
			{map[string]any{"field": "contact.first_name", "op": "eq", "value": "Ava"}, true},
			{map[string]any{"field": "event.data.tier", "op": "in", "value": []any{"gold", "silver"}}, false},
			{map[string]any{"field": "event.data.tier", "op": "exists", "value": false}, true},
			{map[string]any{"field": "contact.sms_preference", "op": "ne", "value": "opted_in"}, false},
		}
		var auts []string
		for i, tc := range cases {
			auts = append(auts, b.live(b.sendDef("cond "+string(rune('a'+i)),
				map[string]any{"type": "event", "event": "points.earned"},
				map[string]any{"conditions": map[string]any{"all": []any{tc.cond}}})))
		}
		require.Equal(t, http.StatusAccepted, b.event("e-cond", "points.earned", nil).status)
		for i, tc := range cases {
			runs := b.runs(auts[i], 1)
			if tc.match {
				require.Equal(t, "completed", runs[0]["status"], "case %d %v", i, tc.cond)
				require.Len(t, b.messagesOf(auts[i]), 1)
			} else {
				require.Equal(t, "skipped", runs[0]["status"], "case %d %v", i, tc.cond)
				require.Equal(t, "conditions_not_met", runs[0]["reason"])
				require.Empty(t, b.messagesOf(auts[i]))
			}
		}
	})
}

// waitingJob returns the scheduled step job of a wait.
func (b autoBundle) waitingJob() *rivertype.JobRow {
	b.t.Helper()
	var job *rivertype.JobRow
	require.Eventually(b.t, func() bool {
		page, err := b.queue.Client().JobList(context.Background(), river.NewJobListParams().
			Kinds("automation.step").States(rivertype.JobStateScheduled))
		require.NoError(b.t, err)
		if len(page.Jobs) == 1 {
			job = page.Jobs[0]
		}
		return job != nil
	}, 15*time.Second, 20*time.Millisecond)
	return job
}

func waitDef(b autoBundle, name string) map[string]any {
	return map[string]any{"name": name, "trigger": map[string]any{"type": "event", "event": "reward.approved"},
		"steps": []map[string]any{{"type": "wait", "duration": "1m"}, {"type": "send_sms", "template_id": b.template}}}
}

func TestWaitIsAScheduledJob(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setupAutomations(t, d)
		aut := b.live(waitDef(b, "Later"))
		sent := time.Now()
		require.Equal(t, http.StatusAccepted, b.event("e-wait", "reward.approved", nil).status)
		job := b.waitingJob()
		require.WithinDuration(t, sent.Add(time.Minute), job.ScheduledAt, 10*time.Second, "due a minute after the event")
		require.Empty(t, b.messagesOf(aut), "nothing is sent during the wait")

		// Bring the wait's end forward instead of sleeping a minute.
		_, err := b.queue.Client().JobRetry(context.Background(), job.ID)
		require.NoError(t, err)
		runs := b.runs(aut, 1)
		require.Equal(t, "completed", runs[0]["status"], "%v", runs[0])
		steps := runs[0]["steps"].([]any)
		require.Len(t, steps, 2)
		require.Equal(t, "completed", steps[0].(map[string]any)["status"])
		require.NotEmpty(t, steps[0].(map[string]any)["due_at"])
		require.Equal(t, "completed", steps[1].(map[string]any)["status"])
		require.Len(t, b.messagesOf(aut), 1)
	})
}

func TestDisableStopsPendingSteps(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setupAutomations(t, d)
		aut := b.live(waitDef(b, "Stopped"))
		require.Equal(t, http.StatusAccepted, b.event("e-stop", "reward.approved", nil).status)
		job := b.waitingJob()
		res := b.do("POST", "/api/v1/automations/"+aut+"/disable", b.admin, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, false, res.json(t)["enabled"])
		_, err := b.queue.Client().JobRetry(context.Background(), job.ID)
		require.NoError(t, err)
		runs := b.runs(aut, 1)
		require.Equal(t, "cancelled", runs[0]["status"])
		require.Equal(t, "automation_disabled", runs[0]["reason"])
		steps := runs[0]["steps"].([]any)
		require.Equal(t, "cancelled", steps[0].(map[string]any)["status"])
		require.Equal(t, "cancelled", steps[1].(map[string]any)["status"])
		require.Empty(t, b.messagesOf(aut))
	})
}

func TestTestModeReachesOnlyTestNumbers(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setupAutomations(t, d)
		res := b.do("POST", "/api/v1/contacts", b.admin, map[string]any{"external_id": "ext-2", "phone": "+14155550142",
			"first_name": "Bo", "sms_preference": "opted_in"})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		aut := b.live(b.sendDef("Trial", map[string]any{"type": "event", "event": "tier.achieved"},
			map[string]any{"test_mode": true, "test_numbers": []string{"+17346263333"}}))
		require.Equal(t, http.StatusAccepted, b.event("e-t1", "tier.achieved", nil).status)
		require.Equal(t, http.StatusAccepted, b.event("e-t2", "tier.achieved",
			map[string]any{"contact": map[string]any{"external_id": "ext-2"}}).status)
		runs := b.runs(aut, 2)
		byEvent := map[string]map[string]any{}
		for _, r := range runs {
			byEvent[r["event_id"].(string)] = r["steps"].([]any)[0].(map[string]any)
		}
		require.Equal(t, "completed", byEvent["e-t1"]["status"])
		require.Equal(t, "skipped", byEvent["e-t2"]["status"])
		require.Equal(t, "test_mode_not_a_test_number", byEvent["e-t2"]["reason"])
		require.Len(t, b.messagesOf(aut), 1)
	})
}

func TestPublishChecks(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setupAutomations(t, d)
		res := b.do("POST", "/api/v1/templates", b.admin, map[string]any{"name": "Draft", "kind": "transactional",
			"body": "Hi {{first_name}}, your reward is ready."})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		draftTpl := res.json(t)["id"].(string)
		res = b.do("POST", "/api/v1/automations", b.admin, map[string]any{"name": "Unapproved",
			"trigger": map[string]any{"type": "event", "event": "reward.approved"},
			"steps":   []map[string]any{{"type": "send_sms", "template_id": draftTpl}}})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		aut := res.json(t)["id"].(string)
		require.Equal(t, "draft", res.json(t)["status"])

		res = b.do("POST", "/api/v1/automations/"+aut+"/enable", b.admin, nil)
		require.Equal(t, http.StatusConflict, res.status)
		require.Equal(t, "not_published", res.errorCode(t))
		res = b.do("POST", "/api/v1/automations/"+aut+"/publish", b.admin, nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.status)
		require.Equal(t, "template_not_approved", res.errorCode(t))
		require.Equal(t, "steps[0].template_id", res.json(t)["error"].(map[string]any)["field"])

		// A schedule has no event: event tags have no source.
		res = b.do("POST", "/api/v1/automations", b.admin, map[string]any{"name": "Sched",
			"trigger":  map[string]any{"type": "schedule", "cron": "0 9 * * 1", "time_zone": "America/New_York"},
			"audience": map[string]any{},
			"steps":    []map[string]any{{"type": "send_sms", "template_id": b.template}}})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		res = b.do("POST", "/api/v1/automations/"+res.json(t)["id"].(string)+"/publish", b.admin, nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.status)
		require.Equal(t, "merge_tag_unfillable", res.errorCode(t))

		// Editing a published automation makes a draft version; the
		// published one keeps running.
		live := b.live(b.sendDef("Live", map[string]any{"type": "event", "event": "reward.approved"}))
		editor := b.keyWithRole(account.RoleEditor)
		res = b.do("PATCH", "/api/v1/automations/"+live, editor, map[string]any{"name": "Live v2",
			"steps": []map[string]any{{"type": "send_sms", "template_id": draftTpl}}})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		got := res.json(t)
		require.Equal(t, "published", got["status"])
		require.Equal(t, true, got["has_draft"])
		require.EqualValues(t, 2, got["version"])
		require.EqualValues(t, 1, got["published_version"])
		require.Equal(t, http.StatusAccepted, b.event("e-v1", "reward.approved", nil).status)
		runs := b.runs(live, 1)
		require.EqualValues(t, 1, runs[0]["version"])
		require.Equal(t, "completed", runs[0]["status"], "the published version ran: %v", runs[0])

		viewer := b.keyWithRole(account.RoleViewer)
		require.Equal(t, http.StatusOK, b.do("GET", "/api/v1/automations/"+live, viewer, nil).status)
		require.Equal(t, http.StatusForbidden, b.do("POST", "/api/v1/automations/"+live+"/publish", viewer, nil).status)
	})
}

func TestEventBadInput(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setupAutomations(t, d)
		otherID, otherKey := b.newAccount("Other")
		_ = otherID
		res := b.do("POST", "/api/v1/programs", otherKey, map[string]any{"name": "Theirs"})
		require.Equal(t, http.StatusCreated, res.status)
		theirProgram := res.json(t)["id"].(string)
		contact := map[string]any{"external_id": "ext-1"}
		cases := []struct {
			name   string
			body   any
			status int
			code   string
		}{
			{"missing id", map[string]any{"type": "reward.approved", "contact": contact}, 422, "event_id_required"},
			{"long id", map[string]any{"id": strings.Repeat("x", 129), "type": "reward.approved", "contact": contact}, 422, "event_id_too_long"},
			{"bad type", map[string]any{"id": "a", "type": "Reward Approved", "contact": contact}, 422, "event_type_invalid"},
			{"one-word type", map[string]any{"id": "a", "type": "reward", "contact": contact}, 422, "event_type_invalid"},
			{"no contact", map[string]any{"id": "a", "type": "reward.approved"}, 422, "contact_required"},
			{"another account's program", map[string]any{"id": "a", "type": "reward.approved", "contact": contact, "program_id": theirProgram}, 404, "not_found"},
			{"bad phone", map[string]any{"id": "a", "type": "reward.approved", "contact": map[string]any{"phone": "12"}}, 422, ""},
			{"unknown field", map[string]any{"id": "a", "type": "reward.approved", "contact": contact, "colour": "red"}, 400, "unknown_field"},
			{"data not an object", map[string]any{"id": "a", "type": "reward.approved", "contact": contact, "data": []int{1}}, 422, "invalid_type"},
			{"NUL in the data", map[string]any{"id": "a", "type": "reward.approved", "contact": contact, "data": map[string]any{"note": "\x00"}}, 422, "invalid_text"},
		}
		for _, tc := range cases {
			res := b.do("POST", "/api/v1/events", b.admin, tc.body)
			require.Equal(t, tc.status, res.status, "%s: %s", tc.name, res.body)
			if tc.code != "" {
				require.Equal(t, tc.code, res.errorCode(t), tc.name)
			}
		}
		// The refused ids were never stored: the same id is accepted now.
		require.Equal(t, http.StatusAccepted, b.event("a", "reward.approved", nil).status)

		res = b.do("POST", "/api/v1/events/batch", b.admin, map[string]any{"events": []any{
			map[string]any{"id": "b1", "type": "reward.approved", "contact": contact},
			map[string]any{"id": "b2", "type": "bad", "contact": contact},
			map[string]any{"id": "a", "type": "reward.approved", "contact": contact},
			map[string]any{"id": "b3", "type": "reward.approved", "contact": contact, "extra": 1},
			map[string]any{"id": "b4", "type": "points.earned", "contact": contact},
			map[string]any{"id": "b5", "type": "points.earned", "contact": contact, "data": map[string]any{"note": "a\x00b"}},
		}})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		body := res.json(t)
		var got []string
		for _, r := range body["data"].([]any) {
			m := r.(map[string]any)
			s := m["status"].(string)
			if e, ok := m["error"].(map[string]any); ok {
				s += ":" + e["code"].(string)
			}
			got = append(got, s)
		}
		require.Equal(t, []string{"accepted", "error:event_type_invalid", "duplicate", "error:unknown_field", "accepted", "error:invalid_text"}, got)
		require.Equal(t, map[string]any{"accepted": 2.0, "duplicate": 1.0, "error": 3.0}, body["counts"])

		many := make([]any, 1001)
		for i := range many {
			many[i] = map[string]any{}
		}
		res = b.do("POST", "/api/v1/events/batch", b.admin, map[string]any{"events": many})
		require.Equal(t, 422, res.status)
		require.Equal(t, "batch_too_large", res.errorCode(t))
	})
}

func TestAutomationBadInput(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setupAutomations(t, d)
		_, otherKey := b.newAccount("Other")
		theirs := b.approvedTemplate(otherKey, "transactional", "Hi {{first_name}}, your reward is ready.")
		res := b.do("POST", "/api/v1/programs", otherKey, map[string]any{"name": "Theirs"})
		theirProgram := res.json(t)["id"].(string)
		trig := map[string]any{"type": "event", "event": "reward.approved"}
		cases := []struct {
			name   string
			body   any
			status int
			code   string
		}{
			{"another account's template", map[string]any{"name": "x", "trigger": trig,
				"steps": []map[string]any{{"type": "send_sms", "template_id": theirs}}}, 404, "not_found"},
			{"another account's program", b.sendDef("x", map[string]any{"type": "event", "event": "reward.approved", "program_id": theirProgram}), 404, "not_found"},
			{"unknown field", map[string]any{"name": "x", "trigger": trig, "colour": "red"}, 400, "unknown_field"},
			{"bad event type", b.sendDef("x", map[string]any{"type": "event", "event": "Reward"}), 422, "event_type_invalid"},
			{"no steps", map[string]any{"name": "x", "trigger": trig}, 422, "steps_required"},
			{"short wait", map[string]any{"name": "x", "trigger": trig, "steps": []map[string]any{
				{"type": "wait", "duration": "10s"}, {"type": "send_sms", "template_id": b.template}}}, 422, "duration_out_of_range"},
		}
		for _, tc := range cases {
			res := b.do("POST", "/api/v1/automations", b.admin, tc.body)
			require.Equal(t, tc.status, res.status, "%s: %s", tc.name, res.body)
			require.Equal(t, tc.code, res.errorCode(t), tc.name)
		}
		viewer := b.keyWithRole(account.RoleViewer)
		res = b.do("POST", "/api/v1/automations", viewer, b.sendDef("x", trig))
		require.Equal(t, http.StatusForbidden, res.status)
		list := b.do("GET", "/api/v1/automations", b.admin, nil)
		require.Empty(t, list.json(t)["data"], "no bad request wrote anything")
		res = b.do("GET", "/api/v1/automations/aut_nothing", b.admin, nil)
		require.Equal(t, http.StatusNotFound, res.status)
	})
}

// A scheduled send through the API: at its time it makes a message for
// every contact, the ones not opted in skipped with their reason, and its
// run says how many. (A transactional template, so that the test does not
// depend on the hour: marketing waits for the recipient's legal hours, and
// the fake-clock tests of the automation package cover it.)
func TestScheduledPromotion(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setupAutomations(t, d)
		tpl := b.approvedTemplate(b.admin, "transactional", "Acme: {{first_name}}, your statement is ready.")
		b.contactWith(b.admin, "+17346263334", "opted_in")
		b.contactWith(b.admin, "+17346263335", "opted_out")
		b.contactWith(b.admin, "+17346263336", "")
		def := func(at time.Time) map[string]any {
			return map[string]any{"name": "Sale", "trigger": map[string]any{"type": "schedule", "at": at.Format(time.RFC3339)},
				"audience": map[string]any{}, "steps": []map[string]any{{"type": "send_sms", "template_id": tpl}}}
		}
		res := b.do("POST", "/api/v1/automations", b.admin, def(time.Now().Add(-time.Minute)))
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		res = b.do("POST", "/api/v1/automations/"+res.json(t)["id"].(string)+"/publish", b.admin, nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.status, "%s", res.body)
		require.Equal(t, "schedule_passed", res.errorCode(t))

		// The time is sent to the second: at least two seconds ahead, so a
		// slow machine cannot see it pass between creating and publishing.
		aut := b.live(def(time.Now().Add(3 * time.Second).Truncate(time.Second)))
		runs := b.runs(aut, 1)
		require.Equal(t, "completed", runs[0]["status"], "%v", runs[0])
		require.Equal(t, map[string]any{"audience": 4.0, "created": 2.0, "skipped": 2.0}, runs[0]["counts"],
			"ext-1 and +17346263334 are opted in")
		require.Len(t, b.messagesOf(aut), 4)
	})
}

// A reminder stops when its reward is redeemed: the redeem cancels the
// pending wait, and the send after it never happens.
func TestReminderStopsOnRedeem(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setupAutomations(t, d)
		aut := b.live(map[string]any{"name": "Use it",
			"trigger": map[string]any{"type": "event", "event": "reward.available",
				"until_event": "reward.redeemed", "match_on": "event.data.reward_id"},
			"steps": []map[string]any{{"type": "send_sms", "template_id": b.template},
				{"type": "wait", "duration": "72h"}, {"type": "send_sms", "template_id": b.template}}})
		reward := map[string]any{"data": map[string]any{"amount": 25, "reward_id": "r-1"}}
		require.Equal(t, http.StatusAccepted, b.event("avail-1", "reward.available", reward).status)
		job := b.waitingJob()
		require.Equal(t, http.StatusAccepted, b.event("redeem-1", "reward.redeemed", reward).status)
		_, err := b.queue.Client().JobRetry(context.Background(), job.ID)
		require.NoError(t, err)
		b.settle()
		runs := b.runs(aut, 1)
		require.Equal(t, "cancelled", runs[0]["status"])
		require.Equal(t, "until_event: reward.redeemed", runs[0]["reason"])
		require.Len(t, b.messagesOf(aut), 1, "the first message only")
	})
}

func TestScheduleBadInput(t *testing.T) {
	t.Parallel()
	b := setupAutomations(t, dbtest.New(t, db.SQLite))
	send := []map[string]any{{"type": "send_sms", "template_id": b.template}}
	_, otherKey := b.newAccount("Other")
	theirProgram := b.do("POST", "/api/v1/programs", otherKey, map[string]any{"name": "Theirs"}).json(t)["id"].(string)
	for _, tc := range []struct {
		name      string
		def       map[string]any
		code      string
		field     string
		wantState int
	}{
		{"no audience", map[string]any{"name": "x", "trigger": map[string]any{"type": "schedule", "cron": "0 9 * * 1", "time_zone": "UTC"},
			"steps": send}, "audience_required", "audience", 422},
		{"another account's program", map[string]any{"name": "x", "trigger": map[string]any{"type": "schedule", "cron": "0 9 * * 1", "time_zone": "UTC"},
			"audience": map[string]any{"program_id": theirProgram}, "steps": send}, "not_found", "", 404},
		{"until without match_on", map[string]any{"name": "x", "trigger": map[string]any{"type": "event", "event": "reward.available",
			"until_event": "reward.redeemed"}, "steps": send}, "match_on_required", "trigger.match_on", 422},
		{"match_on outside event data", map[string]any{"name": "x", "trigger": map[string]any{"type": "event", "event": "reward.available",
			"until_event": "reward.redeemed", "match_on": "contact.first_name"}, "steps": send}, "match_on_invalid", "trigger.match_on", 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := b.do("POST", "/api/v1/automations", b.admin, tc.def)
			require.Equal(t, tc.wantState, res.status, "%s", res.body)
			require.Equal(t, tc.code, res.errorCode(t))
			if tc.field != "" {
				require.Equal(t, tc.field, res.json(t)["error"].(map[string]any)["field"])
			}
		})
	}
}

// A batch's events are taken together: thirty-two events for one new
// member make that member once, each id's first event is the one accepted,
// and its repeats, wherever they stand, are duplicates.
func TestEventBatchForOneNewMember(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setupAutomations(t, d)
		member := map[string]any{"external_id": "new-1", "phone": "+17346264444"}
		var events []any
		var want []string
		for i := range 30 {
			id := fmt.Sprintf("b-%d", i)
			status := "accepted"
			if i%10 == 9 { // every tenth repeats an earlier id
				id, status = fmt.Sprintf("b-%d", i-5), "duplicate"
			}
			events = append(events, map[string]any{"id": id, "type": "reward.approved", "contact": member})
			want = append(want, status)
		}
		// A refused event keeps no id: a later event with it is taken.
		events = append(events, map[string]any{"id": "r-1", "type": "Bad Type", "contact": member},
			map[string]any{"id": "r-1", "type": "reward.approved", "contact": member})
		want = append(want, "error", "accepted")
		res := b.do("POST", "/api/v1/events/batch", b.admin, map[string]any{"events": events})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		body := res.json(t)
		var got []string
		for _, r := range body["data"].([]any) {
			got = append(got, r.(map[string]any)["status"].(string))
		}
		require.Equal(t, want, got)
		require.Equal(t, map[string]any{"accepted": 28.0, "duplicate": 3.0, "error": 1.0}, body["counts"])

		var contacts, stored int
		require.NoError(t, d.Read().QueryRow(`SELECT count(*) FROM contacts WHERE account_id = $1 AND external_id = $2`,
			b.acct, "new-1").Scan(&contacts))
		require.Equal(t, 1, contacts)
		require.NoError(t, d.Read().QueryRow(`SELECT count(*) FROM events WHERE account_id = $1`, b.acct).Scan(&stored))
		require.Equal(t, 28, stored)
	})
}
