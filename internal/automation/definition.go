package automation

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/phone"
	"github.com/heraldsms/herald/internal/problem"
)

// Definition is what an automation does, as the API and the admin UI send
// it: when it starts (Trigger), whom it reaches (Audience, for schedules),
// what must hold (Conditions) and what happens (Steps).
type Definition struct {
	Name       string     `json:"name"`
	Trigger    Trigger    `json:"trigger"`
	Audience   *Audience  `json:"audience,omitempty"`
	Conditions Conditions `json:"conditions,omitzero"`
	Steps      []Step     `json:"steps"`
	// TestNumbers, in +E.164 form, receive the messages of a test run; with
	// TestMode on they are the only recipients.
	TestNumbers []string `json:"test_numbers,omitempty"`
	TestMode    bool     `json:"test_mode"`
}

// Trigger starts an automation: an event of a type (from one program, or
// any), or a schedule, either once (At) or repeating (Cron read in
// TimeZone).
type Trigger struct {
	Type      string `json:"type"`
	Event     string `json:"event,omitempty"`
	ProgramID string `json:"program_id,omitempty"`
	At        string `json:"at,omitempty"`
	Cron      string `json:"cron,omitempty"`
	TimeZone  string `json:"time_zone,omitempty"`
	// Reminder's fields sit beside the others in JSON
	// ({"type": "event", "event": "reward.available", "repeat": [...]}).
	*Reminder
}

// Reminder repeats a reward.available automation until the reward is used:
// its steps run again at each Repeat offset, measured from the triggering
// event, unless an UntilEvent has arrived by then whose MatchOn field (such
// as event.data.reward_id) equals the trigger's. UntilEvent also works
// without Repeat: an automation whose own steps wait between sends (send,
// wait 72h, send, wait 7d, send) stops at the first stop event that matches.
type Reminder struct {
	Repeat     []string `json:"repeat,omitempty"`
	UntilEvent string   `json:"until_event,omitempty"`
	MatchOn    string   `json:"match_on,omitempty"`
}

// Audience picks the contacts of a scheduled send: those of a program (or
// all), whose attributes meet every test in Attributes. Attribute tests name
// the attribute alone ("tier"), not contact.attributes.tier. Opt-in for
// marketing is required of every recipient by the sending pipeline, not
// here.
type Audience struct {
	ProgramID  string      `json:"program_id,omitempty"`
	Attributes []Condition `json:"attributes,omitempty"`
}

// Step is one thing an automation does: send a template, or wait.
type Step struct {
	Type       string `json:"type"`
	TemplateID string `json:"template_id,omitempty"`
	// Kind overrides the template's own kind when set.
	Kind     consent.Kind `json:"kind,omitempty"`
	Duration string       `json:"duration,omitempty"`

	// sinceEvent, on a wait that Plan adds for a reminder, is the offset
	// from the triggering event at which it ends.
	sinceEvent time.Duration
}

// Trigger and step types.
const (
	TriggerEvent    = "event"
	TriggerSchedule = "schedule"
	StepSendSMS     = "send_sms"
	StepWait        = "wait"
)

// The event types Herald knows; EventRewardAvailable is the one that may
// carry a Reminder. Programs may send others ("custom types") that follow
// the same shape, checked by ValidEventType.
const (
	EventAdvocateEnrolled  = "advocate.enrolled"
	EventReferralConnected = "referral.connected"
	EventRewardApproved    = "reward.approved"
	EventRewardFulfilled   = "reward.fulfilled"
	EventPointsEarned      = "points.earned"
	EventPointsBonus       = "points.bonus"
	EventTierAchieved      = "tier.achieved"
	EventRewardAvailable   = "reward.available"
	EventRewardRedeemed    = "reward.redeemed"
)

// KnownEvents lists the event types Herald names, for pickers.
func KnownEvents() []string {
	return []string{
		EventAdvocateEnrolled, EventReferralConnected, EventRewardApproved, EventRewardFulfilled,
		EventPointsEarned, EventPointsBonus, EventTierAchieved, EventRewardAvailable, EventRewardRedeemed,
	}
}

// Limits of a definition.
const (
	MaxNameRunes          = 200
	MaxSteps              = 20
	MaxTestNumbers        = 10
	MaxRepeats            = 5
	MaxAudienceAttributes = 20
	MaxEventTypeBytes     = 100
	MinWait               = time.Minute
	MaxWait               = 365 * Day
)

// ValidEventType reports whether s has the shape of an event type: two or
// more dot-separated words of lower-case letters, digits and underscores,
// each starting with a letter ("reward.approved", "order.item_shipped").
// Every known type has it, so custom types read like them.
func ValidEventType(s string) bool {
	if len(s) > MaxEventTypeBytes || !strings.Contains(s, ".") {
		return false
	}
	for word := range strings.SplitSeq(s, ".") {
		if word == "" || word[0] < 'a' || word[0] > 'z' {
			return false
		}
		for i := 1; i < len(word); i++ {
			if c := word[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
				return false
			}
		}
	}
	return true
}

// invalid is the error Validate returns: kind Invalid, a stable code and
// the JSON path of the field at fault.
func invalid(code, field, format string, args ...any) *problem.Error {
	return problem.Invalidf(code, field, format, args...)
}

// Validate checks a definition before it is saved or published and returns
// the first problem found, as a *problem.Error of kind Invalid with a stable
// code and a Field such as "steps[2].duration". Fields are checked in
// document order, so a client fixing errors one by one moves forward.
func (d *Definition) Validate() error {
	name := strings.TrimSpace(d.Name)
	switch {
	case name == "":
		return invalid("name_required", "name", "give the automation a name")
	case utf8.RuneCountInString(d.Name) > MaxNameRunes:
		return invalid("name_too_long", "name", "a name has at most %d characters", MaxNameRunes)
	}
	if err := d.Trigger.validate(); err != nil {
		return err
	}
	if err := d.validateAudience(); err != nil {
		return err
	}
	if _, err := d.Conditions.Compile(); err != nil {
		return err
	}
	if d.Trigger.Type == TriggerSchedule {
		if path := eventFieldIn(d.Conditions.All, d.Conditions.Any, "conditions"); path != "" {
			return invalid("condition_field_unavailable", path, "a scheduled automation has no event; test contact fields only")
		}
	}
	if err := validateSteps(d.Steps); err != nil {
		return err
	}
	return d.validateTestNumbers()
}

func (t Trigger) validate() error {
	switch t.Type {
	case TriggerEvent:
		return t.validateEvent()
	case TriggerSchedule:
		switch {
		case t.Event != "":
			return invalid("trigger_field_not_allowed", "trigger.event", "a schedule trigger has no event")
		case t.ProgramID != "":
			return invalid("trigger_field_not_allowed", "trigger.program_id", "a scheduled send picks its program in audience.program_id")
		case t.Reminder != nil:
			return invalid("reminder_not_allowed", "trigger.repeat", "only reward.available event triggers repeat")
		}
		s, err := t.schedule()
		switch {
		case errors.Is(err, errNoSchedule):
			return invalid("schedule_required", "trigger", "a schedule trigger needs at (once) or cron (repeating)")
		case err != nil:
			return err
		case s.cron != nil:
			// Any satisfiable expression fires within eight years of any day.
			if _, ok := s.cron.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), s.loc); !ok {
				return invalid("cron_never", "trigger.cron", "%q names no day that exists", clip(t.Cron))
			}
		}
		return nil
	case "":
		return invalid("trigger_type_required", "trigger.type", "trigger.type is event or schedule")
	}
	return invalid("trigger_type_invalid", "trigger.type", "%q is not a trigger type; use event or schedule", clip(t.Type))
}

func (t Trigger) validateEvent() error {
	for _, f := range []struct{ name, value string }{{"at", t.At}, {"cron", t.Cron}, {"time_zone", t.TimeZone}} {
		if f.value != "" {
			return invalid("trigger_field_not_allowed", "trigger."+f.name, "an event trigger has no schedule")
		}
	}
	switch {
	case t.Event == "":
		return invalid("event_required", "trigger.event", "name the event type that starts the automation")
	case !ValidEventType(t.Event):
		return invalid("event_type_invalid", "trigger.event", "%q is not an event type such as reward.approved", clip(t.Event))
	case t.ProgramID != "" && !id.HasPrefix(t.ProgramID, id.Program):
		return invalid("program_id_invalid", "trigger.program_id", "%q is not a program id", clip(t.ProgramID))
	case t.Reminder == nil:
		return nil
	case t.Event != EventRewardAvailable:
		return invalid("reminder_not_allowed", "trigger.repeat", "only %s triggers repeat", EventRewardAvailable)
	}
	return t.Reminder.validate(t.Event)
}

func (r *Reminder) validate(event string) error {
	switch {
	case len(r.Repeat) == 0 && r.UntilEvent == "":
		return invalid("repeat_required", "trigger.repeat", "list when to remind, such as [\"72h\", \"10d\"], or the until_event that stops the steps")
	case len(r.Repeat) > MaxRepeats:
		return invalid("repeat_too_many", "trigger.repeat", "at most %d reminders", MaxRepeats)
	}
	var prev time.Duration
	for i, s := range r.Repeat {
		field := fmt.Sprintf("trigger.repeat[%d]", i)
		d, err := parseWait(s, field)
		if err != nil {
			return err
		}
		if d <= prev {
			return invalid("repeat_not_ascending", field, "reminders are offsets from the event, each later than the one before")
		}
		prev = d
	}
	switch {
	case r.UntilEvent == "" && r.MatchOn != "":
		return invalid("until_event_required", "trigger.until_event", "match_on needs the event that stops the reminders")
	case r.UntilEvent == "":
		return nil
	case !ValidEventType(r.UntilEvent):
		return invalid("event_type_invalid", "trigger.until_event", "%q is not an event type such as %s", clip(r.UntilEvent), EventRewardRedeemed)
	case r.UntilEvent == event:
		return invalid("until_event_invalid", "trigger.until_event", "the event that stops reminders must differ from the one that starts them")
	case r.MatchOn == "":
		return invalid("match_on_required", "trigger.match_on", "name the field both events share, such as event.data.reward_id")
	case !strings.HasPrefix(r.MatchOn, "event.data.") || !validField(r.MatchOn):
		return invalid("match_on_invalid", "trigger.match_on", "%q is not an event.data.<path> field", clip(r.MatchOn))
	}
	return nil
}

// Offsets returns the reminder times as durations after the triggering
// event, for a validated Reminder; nil when there is none.
func (r *Reminder) Offsets() []time.Duration {
	if r == nil {
		return nil
	}
	out := make([]time.Duration, 0, len(r.Repeat))
	for _, s := range r.Repeat {
		if d, err := ParseDuration(s); err == nil {
			out = append(out, d)
		}
	}
	return out
}

func (d *Definition) validateAudience() error {
	a := d.Audience
	switch {
	case d.Trigger.Type == TriggerSchedule && a == nil:
		return invalid("audience_required", "audience", "a scheduled send needs an audience")
	case d.Trigger.Type != TriggerSchedule && a != nil:
		return invalid("audience_not_allowed", "audience", "an event trigger reaches the event's contact; audience is for schedules")
	case a == nil:
		return nil
	case a.ProgramID != "" && !id.HasPrefix(a.ProgramID, id.Program):
		return invalid("program_id_invalid", "audience.program_id", "%q is not a program id", clip(a.ProgramID))
	case len(a.Attributes) > MaxAudienceAttributes:
		return invalid("audience_too_many", "audience.attributes", "at most %d attribute tests", MaxAudienceAttributes)
	}
	for i, c := range a.Attributes {
		path := fmt.Sprintf("audience.attributes[%d]", i)
		switch {
		case len(c.All) > 0 || len(c.Any) > 0:
			return invalid("condition_group_not_allowed", path, "audience attributes are a flat list, all of which must hold")
		case !validPath(c.Field) || len(c.Field) > MaxFieldBytes:
			return invalid("condition_field_unknown", path+".field", "%q is not an attribute name", clip(c.Field))
		}
		c.Field = attributePrefix + c.Field
		if _, err := compileTest(c, path); err != nil {
			return err
		}
	}
	return nil
}

const attributePrefix = "contact.attributes."

// Conditions returns the audience's attribute tests as Conditions over
// contact.attributes, for the pipeline to compile and match.
func (a *Audience) Conditions() Conditions {
	if a == nil || len(a.Attributes) == 0 {
		return Conditions{}
	}
	all := make([]Condition, len(a.Attributes))
	for i, c := range a.Attributes {
		all[i] = Condition{Field: attributePrefix + c.Field, Op: c.Op, Value: c.Value}
	}
	return Conditions{All: all}
}

// eventFieldIn returns the path of the first condition naming an event
// field, or "".
func eventFieldIn(all, anyOf []Condition, path string) string {
	for _, g := range [2]struct {
		key  string
		list []Condition
	}{{"all", all}, {"any", anyOf}} {
		for i, c := range g.list {
			p := fmt.Sprintf("%s.%s[%d]", path, g.key, i)
			if strings.HasPrefix(c.Field, "event.") {
				return p + ".field"
			}
			if sub := eventFieldIn(c.All, c.Any, p); sub != "" {
				return sub
			}
		}
	}
	return ""
}

func validateSteps(steps []Step) error {
	switch {
	case len(steps) == 0:
		return invalid("steps_required", "steps", "an automation needs at least one step")
	case len(steps) > MaxSteps:
		return invalid("steps_too_many", "steps", "at most %d steps", MaxSteps)
	}
	for i, s := range steps {
		path := fmt.Sprintf("steps[%d]", i)
		switch s.Type {
		case StepSendSMS:
			switch {
			case s.Duration != "":
				return invalid("step_field_not_allowed", path+".duration", "a send_sms step goes out at once; add a wait step before it")
			case s.TemplateID == "":
				return invalid("template_id_required", path+".template_id", "name the template to send")
			case !id.HasPrefix(s.TemplateID, id.Template):
				return invalid("template_id_invalid", path+".template_id", "%q is not a template id", clip(s.TemplateID))
			case s.Kind != "" && s.Kind != consent.Transactional && s.Kind != consent.Marketing:
				return invalid("kind_invalid", path+".kind", "kind is transactional or marketing")
			}
		case StepWait:
			switch {
			case s.TemplateID != "" || s.Kind != "":
				return invalid("step_field_not_allowed", path, "a wait step has only a duration")
			case s.Duration == "":
				return invalid("duration_required", path+".duration", "say how long to wait, such as 30m, 72h or 3d")
			case i == len(steps)-1:
				return invalid("wait_last", path, "a wait must be followed by a step to run after it")
			}
			if _, err := parseWait(s.Duration, path+".duration"); err != nil {
				return err
			}
		default:
			return invalid("step_type_invalid", path+".type", "a step type is send_sms or wait")
		}
	}
	return nil
}

// parseWait reads a wait or reminder offset and checks its bounds.
func parseWait(s, field string) (time.Duration, error) {
	d, err := ParseDuration(s)
	switch {
	case err != nil:
		return 0, invalid("duration_invalid", field, "%q is not a duration; use a number and a unit (m, h or d), such as 30m, 72h or 3d", clip(s))
	case d < MinWait || d > MaxWait:
		return 0, invalid("duration_out_of_range", field, "a wait lasts from 1 minute to 365 days")
	}
	return d, nil
}

func (d *Definition) validateTestNumbers() error {
	switch {
	case len(d.TestNumbers) > MaxTestNumbers:
		return invalid("test_numbers_too_many", "test_numbers", "at most %d test numbers", MaxTestNumbers)
	case d.TestMode && len(d.TestNumbers) == 0:
		return invalid("test_numbers_required", "test_numbers", "test mode sends only to test numbers; add one")
	}
	seen := make(map[string]bool, len(d.TestNumbers))
	for i, raw := range d.TestNumbers {
		field := fmt.Sprintf("test_numbers[%d]", i)
		n, err := phone.ParseStrict(raw)
		switch {
		case err != nil:
			return invalid("test_number_invalid", field, "%q is not a valid number in +[country code][number] form", clip(raw))
		case !n.SMSCapable:
			return invalid("test_number_not_mobile", field, "%s cannot receive texts", n.E164)
		case seen[n.E164]:
			return invalid("test_number_duplicate", field, "%s is listed twice", n.E164)
		}
		seen[n.E164] = true
	}
	return nil
}
