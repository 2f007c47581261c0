package web

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/automation"
	"github.com/heraldsms/herald/internal/consent"
)

// autoForm is the automation editor as a person fills it in: every value
// as typed, so a refused form comes back exactly as it was sent. It turns
// into an automation.Definition (definition) and back (autoFormOf); the
// rules stay in package automation, whose errors are placed next to the
// field they name (place).
type autoForm struct {
	Name string
	// TriggerType is automation.TriggerEvent or automation.TriggerSchedule.
	TriggerType string
	// Event is a known event type, or "custom" with CustomEvent typed.
	Event, CustomEvent, ProgramID string
	// Repeat, UntilEvent and MatchOn are a reward.available reminder.
	Repeat, UntilEvent, MatchOn string
	// ScheduleMode is "once" (At, a local time in TimeZone) or "repeat"
	// (Cron read in TimeZone).
	ScheduleMode, At, Cron, TimeZone string
	AudienceProgram                  string
	Attributes                       []autoCondRow
	// Join is "all" or "any": how the conditions combine.
	Join        string
	Conditions  []autoCondRow
	Steps       []autoStepRow
	TestNumbers string
	TestMode    bool

	// Errors holds messages by field key (see place); General those that
	// name no field of the form.
	Errors  map[string]string
	General []string
}

// autoCondRow is one condition or audience attribute test. Group holds a
// nested group as JSON: the form shows it but edits only flat tests.
type autoCondRow struct {
	Field, Op, Value, Group string
}

// autoStepRow is one step; its type is fixed when it is added.
type autoStepRow struct {
	Type, TemplateID, Kind, Duration string
}

// customEvent is the event picker's value for a type typed by hand.
const customEvent = "custom"

// conditionOps are the operators, in the order the picker lists them.
var conditionOps = []selectOption{
	{automation.OpEq, "is"}, {automation.OpNe, "is not"}, {automation.OpGt, "is more than"},
	{automation.OpGte, "is at least"}, {automation.OpLt, "is less than"}, {automation.OpLte, "is at most"},
	{automation.OpIn, "is one of"}, {automation.OpExists, "exists"},
}

// newAutoForm is the editor for a new automation: an event trigger and one
// send step, the shape most automations have.
func newAutoForm(timeZone string) autoForm {
	if timeZone == "" {
		timeZone = "UTC"
	}
	return autoForm{TriggerType: automation.TriggerEvent, Event: automation.EventAdvocateEnrolled, ScheduleMode: "once",
		TimeZone: timeZone, Join: "all", Steps: []autoStepRow{{Type: automation.StepSendSMS}}}
}

// readAutoForm reads the posted editor. Rows arrive as repeated fields in
// document order; every row sends each of its fields, so they line up.
func readAutoForm(f url.Values) autoForm {
	a := autoForm{Name: f.Get("name"), TriggerType: f.Get("trigger_type"), Event: f.Get("event"),
		CustomEvent: strings.TrimSpace(f.Get("custom_event")), ProgramID: f.Get("program_id"),
		Repeat: f.Get("repeat"), UntilEvent: strings.TrimSpace(f.Get("until_event")), MatchOn: strings.TrimSpace(f.Get("match_on")),
		ScheduleMode: f.Get("schedule_mode"), At: f.Get("at"), Cron: strings.TrimSpace(f.Get("cron")),
		TimeZone: strings.TrimSpace(f.Get("time_zone")), AudienceProgram: f.Get("audience_program_id"),
		Join: f.Get("join"), TestNumbers: f.Get("test_numbers"), TestMode: f.Get("test_mode") == "on",
		Errors: map[string]string{}}
	a.Conditions = condRows(f, "cond")
	a.Attributes = condRows(f, "attr")
	types, tpls, kinds, durs := f["step_type"], f["step_template"], f["step_kind"], f["step_duration"]
	for i, t := range types {
		a.Steps = append(a.Steps, autoStepRow{Type: t, TemplateID: at(tpls, i), Kind: at(kinds, i),
			Duration: strings.TrimSpace(at(durs, i))})
	}
	return a
}

func condRows(f url.Values, prefix string) []autoCondRow {
	fields, ops, vals, groups := f[prefix+"_field"], f[prefix+"_op"], f[prefix+"_value"], f[prefix+"_group"]
	var out []autoCondRow
	for i := range fields {
		out = append(out, autoCondRow{Field: strings.TrimSpace(fields[i]), Op: at(ops, i), Value: at(vals, i), Group: at(groups, i)})
	}
	return out
}

func at(list []string, i int) string {
	if i < len(list) {
		return list[i]
	}
	return ""
}

// edit applies one of the editor's row buttons ("add_condition",
// "remove_step:2", "step_up:1"…) and reports whether op was one.
func (a *autoForm) edit(op string) bool {
	name, arg, _ := strings.Cut(op, ":")
	i, err := strconv.Atoi(arg)
	if arg != "" && err != nil {
		return false
	}
	switch name {
	case "add_condition":
		a.Conditions = append(a.Conditions, autoCondRow{Op: automation.OpEq})
	case "add_attribute":
		a.Attributes = append(a.Attributes, autoCondRow{Op: automation.OpEq})
	case "add_send":
		a.Steps = append(a.Steps, autoStepRow{Type: automation.StepSendSMS})
	case "add_wait":
		a.Steps = append(a.Steps, autoStepRow{Type: automation.StepWait, Duration: "1d"})
	case "remove_condition":
		a.Conditions = without(a.Conditions, i)
	case "remove_attribute":
		a.Attributes = without(a.Attributes, i)
	case "remove_step":
		a.Steps = without(a.Steps, i)
	case "step_up":
		if i > 0 && i < len(a.Steps) {
			a.Steps[i-1], a.Steps[i] = a.Steps[i], a.Steps[i-1]
		}
	case "refresh":
		// Shows the fields of the trigger type chosen, for browsers
		// without scripts.
	default:
		return false
	}
	return true
}

func without[T any](list []T, i int) []T {
	if i < 0 || i >= len(list) {
		return list
	}
	return append(list[:i:i], list[i+1:]...)
}

// autoIndex maps a definition's list positions back to form rows, since
// blank condition rows are left out of the definition.
type autoIndex struct{ conditions, attributes []int }

// definition builds the Definition the form describes. Problems only the
// form can have (a local time that does not parse, a group that is not
// JSON) are recorded on the form; the rest is left to Validate.
func (a *autoForm) definition() (automation.Definition, autoIndex) {
	var idx autoIndex
	def := automation.Definition{Name: a.Name, Trigger: automation.Trigger{Type: a.TriggerType}, TestMode: a.TestMode}
	switch a.TriggerType {
	case automation.TriggerEvent:
		def.Trigger.Event, def.Trigger.ProgramID = a.Event, a.ProgramID
		if a.Event == customEvent {
			def.Trigger.Event = a.CustomEvent
		}
		if repeat := splitList(a.Repeat); len(repeat) > 0 || a.UntilEvent != "" || a.MatchOn != "" {
			def.Trigger.Reminder = &automation.Reminder{Repeat: repeat, UntilEvent: a.UntilEvent, MatchOn: a.MatchOn}
		}
	case automation.TriggerSchedule:
		a.schedule(&def.Trigger)
		def.Audience = &automation.Audience{ProgramID: a.AudienceProgram}
		def.Audience.Attributes, idx.attributes = a.tests(a.Attributes, "attr")
	}
	conds, pos := a.tests(a.Conditions, "cond")
	idx.conditions = pos
	if a.Join == "any" {
		def.Conditions.Any = conds
	} else {
		def.Conditions.All = conds
	}
	for _, st := range a.Steps {
		step := automation.Step{Type: st.Type}
		switch st.Type {
		case automation.StepSendSMS:
			step.TemplateID, step.Kind = st.TemplateID, consent.Kind(st.Kind)
		case automation.StepWait:
			step.Duration = st.Duration
		}
		def.Steps = append(def.Steps, step)
	}
	def.TestNumbers = splitList(a.TestNumbers)
	return def, idx
}

// schedule fills a schedule trigger. A one-off time is typed as a local
// time in a zone; the definition keeps it as RFC 3339 with its offset.
func (a *autoForm) schedule(t *automation.Trigger) {
	if a.ScheduleMode == "repeat" {
		t.Cron, t.TimeZone = a.Cron, a.TimeZone
		return
	}
	if a.At == "" {
		return
	}
	loc, err := time.LoadLocation(a.TimeZone)
	if err != nil || a.TimeZone == "" || a.TimeZone == "Local" {
		a.Errors["trigger.time_zone"] = "Give the IANA time zone the time is in, such as America/Chicago or UTC."
		return
	}
	local, err := time.ParseInLocation("2006-01-02T15:04", a.At, loc)
	if err != nil {
		a.Errors["trigger.at"] = "Give a date and a time, such as 2026-12-01 15:00."
		return
	}
	t.At = local.Format(time.RFC3339)
}

// tests turns condition rows into Conditions, leaving out blank rows, and
// returns the form row of each.
func (a *autoForm) tests(rows []autoCondRow, prefix string) ([]automation.Condition, []int) {
	var out []automation.Condition
	var pos []int
	for i, r := range rows {
		if r.Group != "" {
			var c automation.Condition
			if err := json.Unmarshal([]byte(r.Group), &c); err != nil {
				a.Errors[fmt.Sprintf("%s.%d", prefix, i)] = "This group is not valid JSON; remove it and add the tests again."
				continue
			}
			out, pos = append(out, c), append(pos, i)
			continue
		}
		if r.Field == "" && strings.TrimSpace(r.Value) == "" {
			continue
		}
		out = append(out, automation.Condition{Field: r.Field, Op: r.Op, Value: conditionValue(r.Op, r.Value)})
		pos = append(pos, i)
	}
	return out, pos
}

// conditionValue reads a typed value for an operator: "in" takes a comma
// separated list, "exists" yes or no; otherwise true and false are
// booleans, a number is a number, and anything else (or anything in double
// quotes) is text.
func conditionValue(op, typed string) any {
	typed = strings.TrimSpace(typed)
	switch op {
	case automation.OpExists:
		switch strings.ToLower(typed) {
		case "", "true", "yes":
			return true
		case "false", "no":
			return false
		}
		return typed
	case automation.OpIn:
		var list []any
		for _, part := range strings.Split(typed, ",") {
			if part = strings.TrimSpace(part); part != "" {
				list = append(list, scalarValue(part))
			}
		}
		return list
	}
	if typed == "" {
		return nil
	}
	return scalarValue(typed)
}

func scalarValue(s string) any {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil && numberShape.MatchString(s) {
		return n
	}
	return s
}

// numberShape is a plain decimal: what a marketer means by a number
// ("Inf", "0x10" and "1e3" stay text).
var numberShape = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// typedValue is the inverse of conditionValue, for showing a stored value.
func typedValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if scalarValue(x) != any(x) {
			return `"` + x + `"` // would read back as a number or boolean
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = typedValue(e)
		}
		return strings.Join(parts, ", ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// splitList reads a list typed one per line or separated by commas.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// autoFormOf is the editor for a stored definition.
func autoFormOf(def automation.Definition) autoForm {
	a := autoForm{Name: def.Name, TriggerType: def.Trigger.Type, ProgramID: def.Trigger.ProgramID, ScheduleMode: "once",
		TimeZone: def.Trigger.TimeZone, Join: "all", TestMode: def.TestMode,
		TestNumbers: strings.Join(def.TestNumbers, "\n"), Errors: map[string]string{}}
	a.Event = def.Trigger.Event
	if a.Event != "" && !isKnownEvent(a.Event) {
		a.Event, a.CustomEvent = customEvent, def.Trigger.Event
	}
	if r := def.Trigger.Reminder; r != nil {
		a.Repeat, a.UntilEvent, a.MatchOn = strings.Join(r.Repeat, ", "), r.UntilEvent, r.MatchOn
	}
	switch {
	case def.Trigger.Cron != "":
		a.ScheduleMode, a.Cron = "repeat", def.Trigger.Cron
	case def.Trigger.At != "":
		// The zone's name is not kept, only its offset: show the time in UTC.
		if t, err := time.Parse(time.RFC3339, def.Trigger.At); err == nil {
			a.At, a.TimeZone = t.UTC().Format("2006-01-02T15:04"), "UTC"
		}
	}
	if a.TimeZone == "" {
		a.TimeZone = "UTC"
	}
	if def.Audience != nil {
		a.AudienceProgram = def.Audience.ProgramID
		a.Attributes = rowsOf(def.Audience.Attributes)
	}
	conds := def.Conditions.All
	if len(def.Conditions.Any) > 0 {
		a.Join, conds = "any", def.Conditions.Any
	}
	a.Conditions = rowsOf(conds)
	for _, st := range def.Steps {
		a.Steps = append(a.Steps, autoStepRow{Type: st.Type, TemplateID: st.TemplateID, Kind: string(st.Kind), Duration: st.Duration})
	}
	return a
}

func rowsOf(conds []automation.Condition) []autoCondRow {
	var out []autoCondRow
	for _, c := range conds {
		if len(c.All) > 0 || len(c.Any) > 0 {
			b, _ := json.Marshal(c)
			out = append(out, autoCondRow{Group: string(b)})
			continue
		}
		out = append(out, autoCondRow{Field: c.Field, Op: c.Op, Value: typedValue(c.Value)})
	}
	return out
}

func isKnownEvent(e string) bool {
	for _, k := range automation.KnownEvents() {
		if k == e {
			return true
		}
	}
	return false
}

// Where a definition's error paths land on the form.
var (
	condPath = regexp.MustCompile(`^conditions\.(?:all|any)\[(\d+)\](?:\.(field|op|value))?`)
	attrPath = regexp.MustCompile(`^audience\.attributes\[(\d+)\](?:\.(field|op|value))?`)
	stepPath = regexp.MustCompile(`^steps\[(\d+)\](?:\.(template_id|kind|duration))?`)
)

// autoFields are the form's own field keys that show an error.
var autoFields = map[string]bool{
	"name": true, "trigger.type": true, "trigger.event": true, "trigger.program_id": true, "trigger.repeat": true,
	"trigger.until_event": true, "trigger.match_on": true, "trigger.at": true, "trigger.cron": true,
	"trigger.time_zone": true, "audience": true, "audience.program_id": true, "audience.attributes": true,
	"conditions": true, "steps": true, "test_numbers": true, "trigger.custom_event": true,
}

// place puts an error from package automation next to the field its path
// names ("steps[1].template_id" → the template picker of step 2), or with
// the general errors when the form has no such field.
func (a *autoForm) place(field, msg string, idx autoIndex) {
	key := field
	switch {
	case condPath.MatchString(field):
		key = rowKey("cond", condPath.FindStringSubmatch(field), idx.conditions)
	case attrPath.MatchString(field):
		key = rowKey("attr", attrPath.FindStringSubmatch(field), idx.attributes)
	case stepPath.MatchString(field):
		key = rowKey("step", stepPath.FindStringSubmatch(field), nil)
	case strings.HasPrefix(field, "test_numbers"):
		key = "test_numbers"
	case strings.HasPrefix(field, "trigger.repeat"):
		key = "trigger.repeat"
	case field == "trigger" && a.TriggerType == automation.TriggerSchedule && a.ScheduleMode == "repeat":
		key = "trigger.cron"
	case field == "trigger" && a.TriggerType == automation.TriggerSchedule:
		key = "trigger.at"
	case field == "trigger" || field == "trigger.type":
		key = "trigger.type"
	case field == "trigger.event" && a.Event == customEvent:
		key = "trigger.custom_event"
	}
	if key != "" && (autoFields[key] || rowKeyShape.MatchString(key)) {
		a.Errors[key] = msg
		return
	}
	a.General = append(a.General, msg)
}

var rowKeyShape = regexp.MustCompile(`^(cond|attr|step)\.\d+(\.[a-z_]+)?$`)

// rowKey is the key of a row's field: "cond.2.value", or "cond.2" for the
// row as a whole. pos maps definition indexes to form rows.
func rowKey(prefix string, m []string, pos []int) string {
	i, _ := strconv.Atoi(m[1])
	if pos != nil {
		if i >= len(pos) {
			return ""
		}
		i = pos[i]
	}
	key := fmt.Sprintf("%s.%d", prefix, i)
	if m[2] != "" {
		key += "." + m[2]
	}
	return key
}

// Err is the message for a field key, for the template.
func (a autoForm) Err(key string) string { return a.Errors[key] }

// RowErr is the message for a field of a row ("" for the row itself).
func (a autoForm) RowErr(prefix string, i int, field string) string {
	key := fmt.Sprintf("%s.%d", prefix, i)
	if field != "" {
		key += "." + field
	}
	return a.Errors[key]
}

// HasErrors reports whether anything on the form was refused.
func (a autoForm) HasErrors() bool { return len(a.Errors) > 0 || len(a.General) > 0 }

// Summary lists every error with the id of the field it belongs to, for
// the list at the top of a refused form.
func (a autoForm) Summary() []selectOption {
	var out []selectOption
	for _, m := range a.General {
		out = append(out, selectOption{Value: "", Label: m})
	}
	keys := make([]string, 0, len(a.Errors))
	for key := range a.Errors {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		out = append(out, selectOption{Value: autoFieldID(key), Label: a.Errors[key]})
	}
	return out
}

// autoFieldID is the element id of a field key: "step.1.template_id" →
// "auto-step-1-template-id".
func autoFieldID(key string) string {
	return "auto-" + strings.NewReplacer(".", "-", "_", "-").Replace(key)
}
