package automation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/id"
)

var (
	prg = id.New(id.Program)
	tpl = id.New(id.Template)
)

// decode reads a definition written with PRG and TPL standing for real ids.
func decode(t testing.TB, js string) Definition {
	t.Helper()
	js = strings.NewReplacer("PRG", prg, "TPL", tpl).Replace(js)
	var d Definition
	dec := json.NewDecoder(strings.NewReader(js))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&d), js)
	return d
}

// The definitions of the product brief, which must all validate.
var validDefinitions = map[string]string{
	"event": `{"name": "Reward approved",
		"trigger": {"type": "event", "event": "reward.approved", "program_id": "PRG"},
		"conditions": {"all": [{"field": "event.data.amount", "op": "gte", "value": 10}]},
		"steps": [{"type": "send_sms", "template_id": "TPL", "kind": "marketing"}, {"type": "wait", "duration": "72h"}, {"type": "send_sms", "template_id": "TPL"}],
		"test_numbers": ["+17346263333"], "test_mode": false}`,
	"schedule at": `{"name": "Holiday promotion",
		"trigger": {"type": "schedule", "at": "2026-12-01T15:00:00Z"},
		"audience": {"program_id": "PRG", "attributes": [{"field": "tier", "op": "eq", "value": "gold"}]},
		"steps": [{"type": "send_sms", "template_id": "TPL", "kind": "marketing"}]}`,
	"schedule cron": `{"name": "Monday nudge",
		"trigger": {"type": "schedule", "cron": "0 10 * * MON", "time_zone": "America/Chicago"},
		"audience": {},
		"conditions": {"any": [{"field": "contact.attributes.visits", "op": "lt", "value": 3}, {"field": "contact.first_name", "op": "exists", "value": false}]},
		"steps": [{"type": "wait", "duration": "3d"}, {"type": "send_sms", "template_id": "TPL"}]}`,
	"reminder": `{"name": "Use your reward",
		"trigger": {"type": "event", "event": "reward.available", "repeat": ["72h", "240h"], "until_event": "reward.redeemed", "match_on": "event.data.reward_id"},
		"steps": [{"type": "send_sms", "template_id": "TPL", "kind": "transactional"}]}`,
	"reminder without stop": `{"name": "Remind twice",
		"trigger": {"type": "event", "event": "reward.available", "repeat": ["1d", "2d", "3d", "4d", "365d"]},
		"steps": [{"type": "send_sms", "template_id": "TPL"}]}`,
	"custom event, test mode": `{"name": "Order shipped",
		"trigger": {"type": "event", "event": "order.item_shipped"},
		"conditions": {"all": [{"field": "event.data.items.0.sku", "op": "in", "value": ["a", "b"]}, {"any": [{"field": "event.type", "op": "eq", "value": "order.item_shipped"}]}]},
		"steps": [{"type": "send_sms", "template_id": "TPL"}],
		"test_numbers": ["+1 734-626-3333", "+447400123456"], "test_mode": true}`,
}

func TestValidateAccepts(t *testing.T) {
	t.Parallel()
	for name, js := range validDefinitions {
		d := decode(t, js)
		require.NoError(t, d.Validate(), name)
	}
}

func TestValidateRejects(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", MaxNameRunes+1)
	cases := []struct {
		name, js, code, field string
	}{
		// name
		{"no name", `{"name": " ", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "name_required", "name"},
		{"long name", `{"name": "` + long + `", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "name_too_long", "name"},
		// trigger
		{"no trigger type", `{"name": "n", "trigger": {}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "trigger_type_required", "trigger.type"},
		{"bad trigger type", `{"name": "n", "trigger": {"type": "webhook"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "trigger_type_invalid", "trigger.type"},
		{"no event", `{"name": "n", "trigger": {"type": "event"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "event_required", "trigger.event"},
		{"one-word event", `{"name": "n", "trigger": {"type": "event", "event": "approved"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "event_type_invalid", "trigger.event"},
		{"upper-case event", `{"name": "n", "trigger": {"type": "event", "event": "Reward.Approved"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "event_type_invalid", "trigger.event"},
		{"event with cron", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved", "cron": "* * * * *"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "trigger_field_not_allowed", "trigger.cron"},
		{"event with at", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved", "at": "2026-12-01T15:00:00Z"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "trigger_field_not_allowed", "trigger.at"},
		{"bad program id", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved", "program_id": "acme"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "program_id_invalid", "trigger.program_id"},
		{"schedule with event", `{"name": "n", "trigger": {"type": "schedule", "event": "reward.approved", "at": "2026-12-01T15:00:00Z"}, "audience": {}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "trigger_field_not_allowed", "trigger.event"},
		{"schedule with program", `{"name": "n", "trigger": {"type": "schedule", "program_id": "PRG", "at": "2026-12-01T15:00:00Z"}, "audience": {}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "trigger_field_not_allowed", "trigger.program_id"},
		{"schedule of nothing", `{"name": "n", "trigger": {"type": "schedule"}, "audience": {}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "schedule_required", "trigger"},
		{"at and cron", `{"name": "n", "trigger": {"type": "schedule", "at": "2026-12-01T15:00:00Z", "cron": "0 10 * * *", "time_zone": "UTC"}, "audience": {}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "schedule_ambiguous", "trigger.at"},
		{"at without offset", `{"name": "n", "trigger": {"type": "schedule", "at": "2026-12-01T15:00:00"}, "audience": {}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "at_invalid", "trigger.at"},
		{"at with a zone", `{"name": "n", "trigger": {"type": "schedule", "at": "2026-12-01T15:00:00Z", "time_zone": "UTC"}, "audience": {}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "time_zone_not_allowed", "trigger.time_zone"},
		{"six-field cron", `{"name": "n", "trigger": {"type": "schedule", "cron": "0 0 10 * * MON", "time_zone": "UTC"}, "audience": {}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "cron_invalid", "trigger.cron"},
		{"cron without zone", `{"name": "n", "trigger": {"type": "schedule", "cron": "0 10 * * MON"}, "audience": {}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "time_zone_required", "trigger.time_zone"},
		{"cron in no zone", `{"name": "n", "trigger": {"type": "schedule", "cron": "0 10 * * MON", "time_zone": "America/Springfield"}, "audience": {}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "time_zone_invalid", "trigger.time_zone"},
		{"cron in the server's zone", `{"name": "n", "trigger": {"type": "schedule", "cron": "0 10 * * MON", "time_zone": "Local"}, "audience": {}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "time_zone_invalid", "trigger.time_zone"},
		{"cron that never fires", `{"name": "n", "trigger": {"type": "schedule", "cron": "0 0 30 2 *", "time_zone": "UTC"}, "audience": {}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "cron_never", "trigger.cron"},
		// reminders
		{"reminder on another event", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved", "repeat": ["72h"]}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "reminder_not_allowed", "trigger.repeat"},
		{"reminder on a schedule", `{"name": "n", "trigger": {"type": "schedule", "at": "2026-12-01T15:00:00Z", "repeat": ["72h"]}, "audience": {}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "reminder_not_allowed", "trigger.repeat"},
		{"no repeats", `{"name": "n", "trigger": {"type": "event", "event": "reward.available", "repeat": []}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "repeat_required", "trigger.repeat"},
		{"stop without a field to match", `{"name": "n", "trigger": {"type": "event", "event": "reward.available", "until_event": "reward.redeemed"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "match_on_required", "trigger.match_on"},
		{"empty reminder", `{"name": "n", "trigger": {"type": "event", "event": "reward.available", "repeat": [], "until_event": ""}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "repeat_required", "trigger.repeat"},
		{"six repeats", `{"name": "n", "trigger": {"type": "event", "event": "reward.available", "repeat": ["1d", "2d", "3d", "4d", "5d", "6d"]}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "repeat_too_many", "trigger.repeat"},
		{"repeats out of order", `{"name": "n", "trigger": {"type": "event", "event": "reward.available", "repeat": ["240h", "72h"]}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "repeat_not_ascending", "trigger.repeat[1]"},
		{"repeat twice", `{"name": "n", "trigger": {"type": "event", "event": "reward.available", "repeat": ["3d", "72h"]}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "repeat_not_ascending", "trigger.repeat[1]"},
		{"repeat unreadable", `{"name": "n", "trigger": {"type": "event", "event": "reward.available", "repeat": ["3 days"]}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "duration_invalid", "trigger.repeat[0]"},
		{"repeat too soon", `{"name": "n", "trigger": {"type": "event", "event": "reward.available", "repeat": ["30s"]}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "duration_out_of_range", "trigger.repeat[0]"},
		{"match without stop", `{"name": "n", "trigger": {"type": "event", "event": "reward.available", "repeat": ["3d"], "match_on": "event.data.reward_id"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "until_event_required", "trigger.until_event"},
		{"bad stop", `{"name": "n", "trigger": {"type": "event", "event": "reward.available", "repeat": ["3d"], "until_event": "redeemed", "match_on": "event.data.reward_id"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "event_type_invalid", "trigger.until_event"},
		{"stop on start", `{"name": "n", "trigger": {"type": "event", "event": "reward.available", "repeat": ["3d"], "until_event": "reward.available", "match_on": "event.data.reward_id"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "until_event_invalid", "trigger.until_event"},
		{"stop without match", `{"name": "n", "trigger": {"type": "event", "event": "reward.available", "repeat": ["3d"], "until_event": "reward.redeemed"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "match_on_required", "trigger.match_on"},
		{"match on a contact", `{"name": "n", "trigger": {"type": "event", "event": "reward.available", "repeat": ["3d"], "until_event": "reward.redeemed", "match_on": "contact.email"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "match_on_invalid", "trigger.match_on"},
		// audience
		{"schedule without audience", `{"name": "n", "trigger": {"type": "schedule", "at": "2026-12-01T15:00:00Z"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "audience_required", "audience"},
		{"event with audience", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "audience": {}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "audience_not_allowed", "audience"},
		{"audience program", `{"name": "n", "trigger": {"type": "schedule", "at": "2026-12-01T15:00:00Z"}, "audience": {"program_id": "TPL"}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "program_id_invalid", "audience.program_id"},
		{"audience group", `{"name": "n", "trigger": {"type": "schedule", "at": "2026-12-01T15:00:00Z"}, "audience": {"attributes": [{"any": [{"field": "tier", "op": "eq", "value": "gold"}]}]}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "condition_group_not_allowed", "audience.attributes[0]"},
		{"audience field", `{"name": "n", "trigger": {"type": "schedule", "at": "2026-12-01T15:00:00Z"}, "audience": {"attributes": [{"field": "", "op": "eq", "value": "gold"}]}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "condition_field_unknown", "audience.attributes[0].field"},
		{"audience op", `{"name": "n", "trigger": {"type": "schedule", "at": "2026-12-01T15:00:00Z"}, "audience": {"attributes": [{"field": "tier", "op": "eq", "value": "gold"}, {"field": "tier", "op": "like", "value": "g%"}]}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "condition_op_unknown", "audience.attributes[1].op"},
		{"audience value", `{"name": "n", "trigger": {"type": "schedule", "at": "2026-12-01T15:00:00Z"}, "audience": {"attributes": [{"field": "visits", "op": "gt", "value": [1]}]}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "condition_value_invalid", "audience.attributes[0].value"},
		// conditions
		{"condition op", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "conditions": {"all": [{"field": "event.data.amount", "op": "gte", "value": 10}, {"field": "event.data.amount", "op": "≥", "value": 10}]}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "condition_op_unknown", "conditions.all[1].op"},
		{"event field on a schedule", `{"name": "n", "trigger": {"type": "schedule", "at": "2026-12-01T15:00:00Z"}, "audience": {}, "conditions": {"any": [{"field": "contact.email", "op": "exists", "value": true}, {"all": [{"field": "event.data.amount", "op": "gt", "value": 1}]}]}, "steps": [{"type": "send_sms", "template_id": "TPL"}]}`, "condition_field_unavailable", "conditions.any[1].all[0].field"},
		// steps
		{"no steps", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "steps": []}`, "steps_required", "steps"},
		{"bad step type", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "send_email", "template_id": "TPL"}]}`, "step_type_invalid", "steps[0].type"},
		{"no template", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "send_sms"}]}`, "template_id_required", "steps[0].template_id"},
		{"bad template", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "send_sms", "template_id": "PRG"}]}`, "template_id_invalid", "steps[0].template_id"},
		{"bad kind", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "send_sms", "template_id": "TPL", "kind": "promotional"}]}`, "kind_invalid", "steps[0].kind"},
		{"send with a duration", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "send_sms", "template_id": "TPL", "duration": "1h"}]}`, "step_field_not_allowed", "steps[0].duration"},
		{"wait with a template", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "wait", "duration": "1h", "template_id": "TPL"}, {"type": "send_sms", "template_id": "TPL"}]}`, "step_field_not_allowed", "steps[0]"},
		{"wait without duration", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "wait"}, {"type": "send_sms", "template_id": "TPL"}]}`, "duration_required", "steps[0].duration"},
		{"wait last", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "send_sms", "template_id": "TPL"}, {"type": "wait", "duration": "1h"}]}`, "wait_last", "steps[1]"},
		{"wait unreadable", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "send_sms", "template_id": "TPL"}, {"type": "wait", "duration": "a week"}, {"type": "send_sms", "template_id": "TPL"}]}`, "duration_invalid", "steps[1].duration"},
		// test numbers
		{"test mode without numbers", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "send_sms", "template_id": "TPL"}], "test_mode": true}`, "test_numbers_required", "test_numbers"},
		{"local test number", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "send_sms", "template_id": "TPL"}], "test_numbers": ["(734) 626-3333"]}`, "test_number_invalid", "test_numbers[0]"},
		{"unassigned test number", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "send_sms", "template_id": "TPL"}], "test_numbers": ["+17346263333", "+11234567890"]}`, "test_number_invalid", "test_numbers[1]"},
		{"landline test number", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "send_sms", "template_id": "TPL"}], "test_numbers": ["+442079460000"]}`, "test_number_not_mobile", "test_numbers[0]"},
		{"duplicate test number", `{"name": "n", "trigger": {"type": "event", "event": "reward.approved"}, "steps": [{"type": "send_sms", "template_id": "TPL"}], "test_numbers": ["+17346263333", "+1 734 626 3333"]}`, "test_number_duplicate", "test_numbers[1]"},
	}
	for _, tc := range cases {
		d := decode(t, tc.js)
		err := d.Validate()
		require.Error(t, err, tc.name)
		requireProblem(t, err, tc.code, tc.field)
	}
}

// TestValidateLimits builds definitions at and past each limit.
func TestValidateLimits(t *testing.T) {
	t.Parallel()
	base := func() Definition {
		return Definition{
			Name:    "n",
			Trigger: Trigger{Type: TriggerEvent, Event: EventRewardApproved},
			Steps:   []Step{{Type: StepSendSMS, TemplateID: tpl}},
		}
	}
	d := base()
	d.Name = strings.Repeat("é", MaxNameRunes)
	require.NoError(t, d.Validate(), "a name of 200 two-byte characters")

	for n, ok := range map[int]bool{MaxSteps: true, MaxSteps + 1: false} {
		d := base()
		d.Steps = nil
		for range n {
			d.Steps = append(d.Steps, Step{Type: StepSendSMS, TemplateID: tpl})
		}
		if ok {
			require.NoError(t, d.Validate())
		} else {
			requireProblem(t, d.Validate(), "steps_too_many", "steps")
		}
	}
	for n, ok := range map[int]bool{MaxTestNumbers: true, MaxTestNumbers + 1: false} {
		d := base()
		for i := range n {
			d.TestNumbers = append(d.TestNumbers, fmt.Sprintf("+1734626%04d", 3300+i))
		}
		if ok {
			require.NoError(t, d.Validate())
		} else {
			requireProblem(t, d.Validate(), "test_numbers_too_many", "test_numbers")
		}
	}
	for n, ok := range map[int]bool{MaxAudienceAttributes: true, MaxAudienceAttributes + 1: false} {
		d := base()
		d.Trigger = Trigger{Type: TriggerSchedule, At: "2026-12-01T15:00:00Z"}
		d.Audience = &Audience{}
		for range n {
			d.Audience.Attributes = append(d.Audience.Attributes, Condition{Field: "tier", Op: OpEq, Value: "gold"})
		}
		if ok {
			require.NoError(t, d.Validate())
		} else {
			requireProblem(t, d.Validate(), "audience_too_many", "audience.attributes")
		}
	}
}

// TestWaitBounds: a wait lasts from one minute to 365 days, both included.
func TestWaitBounds(t *testing.T) {
	t.Parallel()
	for dur, code := range map[string]string{
		"1m": "", "60s": "", "59s": "duration_out_of_range", "0d": "duration_out_of_range", "-1h": "duration_out_of_range",
		"365d": "", "8760h": "", "365d1m": "duration_out_of_range", "366d": "duration_out_of_range",
		"1d12h": "", "2.5h": "", "3d ": "duration_invalid", "": "duration_required",
	} {
		d := Definition{
			Name:    "n",
			Trigger: Trigger{Type: TriggerEvent, Event: EventRewardApproved},
			Steps:   []Step{{Type: StepWait, Duration: dur}, {Type: StepSendSMS, TemplateID: tpl}},
		}
		if code == "" {
			require.NoError(t, d.Validate(), dur)
			continue
		}
		requireProblem(t, d.Validate(), code, "steps[0].duration")
	}
}

func TestValidEventType(t *testing.T) {
	t.Parallel()
	for _, e := range KnownEvents() {
		require.True(t, ValidEventType(e), e)
	}
	for _, e := range []string{"order.shipped", "a.b.c", "shop_1.order_2", "x.y9"} {
		require.True(t, ValidEventType(e), e)
	}
	for _, e := range []string{"", "reward", ".reward", "reward.", "reward..approved", "Reward.approved", "reward.Approved",
		"1reward.approved", "reward.1approved", "reward.approved!", "reward approved", "reward-approved.x", "rewärd.approved",
		"a." + strings.Repeat("b", MaxEventTypeBytes)} {
		require.False(t, ValidEventType(e), e)
	}
}

func TestReminderOffsetsAndAudienceConditions(t *testing.T) {
	t.Parallel()
	d := decode(t, validDefinitions["reminder"])
	require.Equal(t, []time.Duration{72 * time.Hour, 240 * time.Hour}, d.Trigger.Offsets())
	require.Nil(t, Trigger{}.Offsets())

	a := decode(t, validDefinitions["schedule at"]).Audience
	m, err := a.Conditions().Compile()
	require.NoError(t, err)
	gold := MapFacts{Contact: map[string]any{"attributes": map[string]any{"tier": "gold"}}}
	silver := MapFacts{Contact: map[string]any{"attributes": map[string]any{"tier": "silver"}}}
	require.True(t, m.Match(gold))
	require.False(t, m.Match(silver))
	require.False(t, m.Match(MapFacts{}))
	var none *Audience
	require.Equal(t, Conditions{}, none.Conditions())
}

// FuzzDefinition decodes arbitrary JSON as a definition, as the API does
// and with json.Number values: nothing panics, and a definition that
// validates still validates after a round trip through JSON, its conditions
// compile, and its trigger's next run, if any, is later than now.
func FuzzDefinition(f *testing.F) {
	for _, js := range validDefinitions {
		f.Add(strings.NewReplacer("PRG", prg, "TPL", tpl).Replace(js))
	}
	f.Add(`{"trigger":{"type":"event","event":"reward.available","repeat":["1d","1d"]}}`)
	f.Add(`{"name":"x","trigger":{"type":"schedule","cron":"*/5 * 31 2 *","time_zone":"Asia/Kolkata"},"audience":{"attributes":[{"field":"a.b","op":"in","value":[1,"1",true]}]}}`)
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, js string) {
		for _, useNumber := range []bool{false, true} {
			var d Definition
			dec := json.NewDecoder(strings.NewReader(js))
			if useNumber {
				dec.UseNumber()
			}
			if dec.Decode(&d) != nil {
				continue
			}
			err := d.Validate()
			if err == nil {
				var again Definition
				b, merr := json.Marshal(d)
				require.NoError(t, merr)
				dec := json.NewDecoder(bytes.NewReader(b))
				dec.UseNumber()
				require.NoError(t, dec.Decode(&again))
				require.NoError(t, again.Validate(), "%s", b)
				_, cerr := d.Conditions.Compile()
				require.NoError(t, cerr)
				if next, ok := d.Trigger.Next(now); ok {
					require.True(t, next.After(now))
				}
				continue
			}
			requireProblem(t, err, "", "")
		}
	})
}
