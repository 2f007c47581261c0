package automation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
)

// facts is one event and contact, as the pipeline would build them from
// decoded JSON, with a few values JSON cannot produce (NaN, json.Number, a
// Go int) for the conditions to cope with.
func facts() MapFacts {
	return MapFacts{
		EventType: EventRewardApproved,
		ProgramID: "prg_1",
		Data: map[string]any{
			"amount":     10.0,
			"amount_str": "10",
			"amount_num": json.Number("10"),
			"amount_int": 10,
			"neg":        -3.0,
			"name":       "Gold",
			"empty":      "",
			"flag":       true,
			"date":       "2026-05-01",
			"nested":     map[string]any{"a": map[string]any{"b": 5.0}},
			"items":      []any{map[string]any{"sku": "x"}},
			"list":       []any{1.0},
			"null":       nil,
			"nan":        math.NaN(),
			"inf":        math.Inf(1),
		},
		Contact: map[string]any{
			"first_name": "Ada",
			"attributes": map[string]any{"tier": "gold", "visits": 3.0},
		},
	}
}

func TestConditionOperators(t *testing.T) {
	t.Parallel()
	f := facts()
	cases := []struct {
		field, op string
		value     any
		want      bool
	}{
		// eq: numbers numerically, decimal strings against numbers, strings exactly.
		{"event.data.amount", "eq", 10.0, true},
		{"event.data.amount", "eq", 10, true},
		{"event.data.amount", "eq", json.Number("10.0"), true},
		{"event.data.amount", "eq", "10", true},
		{"event.data.amount", "eq", "1e1", true},
		{"event.data.amount", "eq", 11.0, false},
		{"event.data.amount", "eq", "ten", false},
		{"event.data.amount_str", "eq", 10.0, true},
		{"event.data.amount_str", "eq", "10", true},
		{"event.data.amount_str", "eq", "10.0", false},
		{"event.data.amount_num", "eq", 10.0, true},
		{"event.data.amount_int", "eq", 10.0, true},
		{"event.data.name", "eq", "Gold", true},
		{"event.data.name", "eq", "gold", false},
		{"event.data.empty", "eq", "", true},
		{"event.data.flag", "eq", true, true},
		{"event.data.flag", "eq", false, false},
		{"event.data.flag", "eq", "true", false},
		{"event.data.flag", "eq", 1.0, false},
		{"event.data.list", "eq", 1.0, false},
		{"event.data.nan", "eq", 0.0, false},
		{"event.data.missing", "eq", 1.0, false},
		{"event.data.null", "eq", "null", false},
		{"event.type", "eq", EventRewardApproved, true},
		{"event.program_id", "eq", "prg_1", true},
		{"contact.first_name", "eq", "Ada", true},
		{"contact.last_name", "eq", "", false},
		{"contact.attributes.tier", "eq", "gold", true},
		{"event.data.nested.a.b", "eq", 5.0, true},
		{"event.data.items.0.sku", "eq", "x", true},
		{"event.data.items.1.sku", "eq", "x", false},
		{"event.data.items.first.sku", "eq", "x", false},
		{"event.data.name.first", "eq", "x", false},
		// ne: the negation of eq for present values; false for absent ones.
		{"event.data.amount", "ne", 11.0, true},
		{"event.data.amount", "ne", 10.0, false},
		{"event.data.amount", "ne", "ten", true},
		{"event.data.name", "ne", "Silver", true},
		{"event.data.flag", "ne", false, true},
		{"event.data.list", "ne", 1.0, true},
		{"event.data.nan", "ne", 0.0, true},
		{"event.data.missing", "ne", 1.0, false},
		{"event.data.null", "ne", 1.0, false},
		{"contact.attributes.missing", "ne", "gold", false},
		// gt, gte, lt, lte.
		{"event.data.amount", "gt", 9.0, true},
		{"event.data.amount", "gt", 10.0, false},
		{"event.data.amount", "gte", 10.0, true},
		{"event.data.amount", "gte", "10", true},
		{"event.data.amount", "lt", 10.5, true},
		{"event.data.amount", "lte", 10.0, true},
		{"event.data.amount", "lt", 10.0, false},
		{"event.data.amount_str", "gt", 9.0, true},
		{"event.data.amount_str", "gt", "9", false}, // two strings: "10" < "9"
		{"event.data.amount_num", "lte", 10, true},
		{"event.data.neg", "lt", 0.0, true},
		{"event.data.inf", "gt", 1e300, true},
		{"event.data.date", "gte", "2026-01-01", true},
		{"event.data.date", "lt", "2026-05-01", false},
		{"event.data.name", "gt", 1.0, false},
		{"event.data.flag", "gt", 0.0, false},
		{"event.data.list", "gt", 0.0, false},
		{"event.data.nan", "gt", 0.0, false},
		{"event.data.nan", "lt", 0.0, false},
		{"event.data.nan", "gte", 0.0, false},
		{"event.data.missing", "lt", 1.0, false},
		{"event.data.nested.a.b", "gte", 5.0, true},
		{"contact.attributes.visits", "gte", 3, true},
		// in: eq against any element.
		{"event.data.name", "in", []any{"Gold", "Silver"}, true},
		{"event.data.name", "in", []any{"gold", "silver"}, false},
		{"event.data.amount", "in", []any{5.0, 10.0}, true},
		{"event.data.amount", "in", []any{"10"}, true},
		{"event.data.amount_str", "in", []any{10.0}, true},
		{"event.data.amount_str", "in", []any{"10.0"}, false},
		{"event.data.flag", "in", []any{true, "x"}, true},
		{"event.data.flag", "in", []any{false}, false},
		{"event.data.nan", "in", []any{0.0, "NaN"}, false},
		{"event.data.list", "in", []any{1.0}, false},
		{"event.data.missing", "in", []any{1.0}, false},
		// exists: null counts as absent.
		{"event.data.amount", "exists", true, true},
		{"event.data.amount", "exists", false, false},
		{"event.data.missing", "exists", false, true},
		{"event.data.missing", "exists", true, false},
		{"event.data.null", "exists", false, true},
		{"event.data.nan", "exists", true, true},
		{"event.data.empty", "exists", true, true},
		{"event.data.items.0", "exists", true, true},
		{"contact.email", "exists", false, true},
		{"contact.attributes.visits", "exists", true, true},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%s %s %v", tc.field, tc.op, tc.value)
		c := Conditions{All: []Condition{{Field: tc.field, Op: tc.op, Value: tc.value}}}
		m, err := c.Compile()
		require.NoError(t, err, name)
		require.Equal(t, tc.want, m.Match(f), name)
		require.Equal(t, tc.want, c.Match(f), name)
	}
}

func TestConditionGroups(t *testing.T) {
	t.Parallel()
	f := facts()
	yes := Condition{Field: "event.data.amount", Op: "gte", Value: 10.0}
	no := Condition{Field: "event.data.amount", Op: "gt", Value: 10.0}
	cases := []struct {
		name string
		c    Conditions
		want bool
	}{
		{"none", Conditions{}, true},
		{"empty lists", Conditions{All: []Condition{}, Any: []Condition{}}, true},
		{"all true", Conditions{All: []Condition{yes, yes}}, true},
		{"all with a false", Conditions{All: []Condition{yes, no}}, false},
		{"any with a true", Conditions{Any: []Condition{no, yes}}, true},
		{"any all false", Conditions{Any: []Condition{no, no}}, false},
		{"all with a true any", Conditions{All: []Condition{yes, {Any: []Condition{no, yes}}}}, true},
		{"all with a false any", Conditions{All: []Condition{yes, {Any: []Condition{no, no}}}}, false},
		{"any with a true all", Conditions{Any: []Condition{no, {All: []Condition{yes, yes}}}}, true},
		{"three levels", Conditions{All: []Condition{{Any: []Condition{no, {All: []Condition{yes}}}}}}, true},
	}
	for _, tc := range cases {
		m, err := tc.c.Compile()
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, m.Match(f), tc.name)
	}
	var nilMatcher *Matcher
	require.True(t, nilMatcher.Match(f))
}

func TestConditionCompileErrors(t *testing.T) {
	t.Parallel()
	leaf := func(field, op string, v any) Condition { return Condition{Field: field, Op: op, Value: v} }
	ok := leaf("event.data.x", "eq", 1.0)
	many := make([]any, MaxInValues+1)
	for i := range many {
		many[i] = float64(i)
	}
	tooMany := make([]Condition, MaxConditions+1)
	for i := range tooMany {
		tooMany[i] = ok
	}
	cases := []struct {
		name        string
		c           Conditions
		code, field string
	}{
		{"all and any", Conditions{All: []Condition{ok}, Any: []Condition{ok}}, "conditions_ambiguous", "conditions"},
		{"unknown root", Conditions{All: []Condition{leaf("order.total", "eq", 1.0)}}, "condition_field_unknown", "conditions.all[0].field"},
		{"unknown event field", Conditions{All: []Condition{leaf("event.foo", "eq", 1.0)}}, "condition_field_unknown", "conditions.all[0].field"},
		{"bare event.data", Conditions{All: []Condition{leaf("event.data", "eq", 1.0)}}, "condition_field_unknown", "conditions.all[0].field"},
		{"empty path", Conditions{All: []Condition{leaf("event.data.", "eq", 1.0)}}, "condition_field_unknown", "conditions.all[0].field"},
		{"empty segment", Conditions{All: []Condition{leaf("event.data.a..b", "eq", 1.0)}}, "condition_field_unknown", "conditions.all[0].field"},
		{"space in path", Conditions{All: []Condition{leaf("event.data.a b", "eq", 1.0)}}, "condition_field_unknown", "conditions.all[0].field"},
		{"unknown contact field", Conditions{All: []Condition{leaf("contact.phone", "eq", 1.0)}}, "condition_field_unknown", "conditions.all[0].field"},
		{"bare attributes", Conditions{All: []Condition{leaf("contact.attributes", "exists", true)}}, "condition_field_unknown", "conditions.all[0].field"},
		{"no field", Conditions{Any: []Condition{ok, leaf("", "eq", 1.0)}}, "condition_field_unknown", "conditions.any[1].field"},
		{"long field", Conditions{All: []Condition{leaf("event.data."+strings.Repeat("a", MaxFieldBytes), "eq", 1.0)}}, "condition_field_unknown", "conditions.all[0].field"},
		{"unknown op", Conditions{All: []Condition{leaf("event.data.x", "equals", 1.0)}}, "condition_op_unknown", "conditions.all[0].op"},
		{"upper-case op", Conditions{All: []Condition{leaf("event.data.x", "EQ", 1.0)}}, "condition_op_unknown", "conditions.all[0].op"},
		{"exists with a string", Conditions{All: []Condition{leaf("event.data.x", "exists", "yes")}}, "condition_value_invalid", "conditions.all[0].value"},
		{"exists without value", Conditions{All: []Condition{leaf("event.data.x", "exists", nil)}}, "condition_value_invalid", "conditions.all[0].value"},
		{"in with a scalar", Conditions{All: []Condition{leaf("event.data.x", "in", "a")}}, "condition_value_invalid", "conditions.all[0].value"},
		{"in with nothing", Conditions{All: []Condition{leaf("event.data.x", "in", []any{})}}, "condition_value_invalid", "conditions.all[0].value"},
		{"in with a list", Conditions{All: []Condition{leaf("event.data.x", "in", []any{[]any{1.0}})}}, "condition_value_invalid", "conditions.all[0].value"},
		{"in with null", Conditions{All: []Condition{leaf("event.data.x", "in", []any{nil})}}, "condition_value_invalid", "conditions.all[0].value"},
		{"in too long", Conditions{All: []Condition{leaf("event.data.x", "in", many)}}, "condition_value_invalid", "conditions.all[0].value"},
		{"gt with a boolean", Conditions{All: []Condition{leaf("event.data.x", "gt", true)}}, "condition_value_invalid", "conditions.all[0].value"},
		{"lte with a list", Conditions{All: []Condition{leaf("event.data.x", "lte", []any{1.0})}}, "condition_value_invalid", "conditions.all[0].value"},
		{"eq with null", Conditions{All: []Condition{leaf("event.data.x", "eq", nil)}}, "condition_value_invalid", "conditions.all[0].value"},
		{"eq with an object", Conditions{All: []Condition{leaf("event.data.x", "eq", map[string]any{})}}, "condition_value_invalid", "conditions.all[0].value"},
		{"eq with NaN", Conditions{All: []Condition{leaf("event.data.x", "eq", math.NaN())}}, "condition_value_invalid", "conditions.all[0].value"},
		{"gt with infinity", Conditions{All: []Condition{leaf("event.data.x", "gt", math.Inf(1))}}, "condition_value_invalid", "conditions.all[0].value"},
		{"ne with a long string", Conditions{All: []Condition{leaf("event.data.x", "ne", strings.Repeat("a", MaxValueBytes+1))}}, "condition_value_invalid", "conditions.all[0].value"},
		{"eq with a Go type", Conditions{All: []Condition{leaf("event.data.x", "eq", struct{}{})}}, "condition_value_invalid", "conditions.all[0].value"},
		{"test and group", Conditions{Any: []Condition{{Field: "event.data.x", All: []Condition{ok}}}}, "condition_mixed", "conditions.any[0]"},
		{"empty nested group", Conditions{All: []Condition{ok, {}}}, "condition_field_unknown", "conditions.all[1].field"},
		{"nested all and any", Conditions{All: []Condition{{All: []Condition{ok}, Any: []Condition{ok}}}}, "conditions_ambiguous", "conditions.all[0]"},
		{"too deep", Conditions{All: []Condition{{All: []Condition{{Any: []Condition{{All: []Condition{ok}}}}}}}}, "conditions_too_deep", "conditions.all[0].all[0].any[0]"},
		{"too many", Conditions{All: tooMany}, "conditions_too_many", "conditions.all[50]"},
		{"deep path", Conditions{Any: []Condition{ok, {All: []Condition{leaf("event.data.x", "between", 1.0)}}}}, "condition_op_unknown", "conditions.any[1].all[0].op"},
	}
	for _, tc := range cases {
		_, err := tc.c.Compile()
		requireProblem(t, err, tc.code, tc.field)
		require.False(t, tc.c.Match(facts()), "%s: conditions that do not compile match nothing", tc.name)
	}
}

func TestMapFactsLookup(t *testing.T) {
	t.Parallel()
	f := facts()
	for field, want := range map[string]any{
		"event.type":              EventRewardApproved,
		"event.data.amount":       10.0,
		"event.data.nested.a.b":   5.0,
		"contact.first_name":      "Ada",
		"contact.attributes.tier": "gold",
	} {
		got, ok := f.Lookup(field)
		require.True(t, ok, field)
		require.Equal(t, want, got, field)
	}
	for _, field := range []string{
		"", "event", "event.data", "event.data.", "event.data.null", "event.data.items.-1", "event.data.items.9",
		"contact", "contact.nope", "contact.attributes.", "contact.attributes.tier.x", "other.type",
	} {
		_, ok := f.Lookup(field)
		require.False(t, ok, field)
	}
	_, ok := MapFacts{}.Lookup("event.type")
	require.False(t, ok, "an empty event type is absent")
	_, ok = MapFacts{}.Lookup("contact.attributes.tier")
	require.False(t, ok)
}

func TestContactFields(t *testing.T) {
	t.Parallel()
	c := &contact.Contact{
		FirstName: "Ada", PhoneCountry: "US", SMSPreference: consent.OptedIn,
		Attributes: map[string]any{"tier": "gold"},
	}
	f := MapFacts{Contact: ContactFields(c)}
	m, err := Conditions{All: []Condition{
		{Field: "contact.first_name", Op: "eq", Value: "Ada"},
		{Field: "contact.last_name", Op: "exists", Value: false},
		{Field: "contact.email", Op: "exists", Value: false},
		{Field: "contact.phone_country", Op: "in", Value: []any{"US", "CA"}},
		{Field: "contact.sms_preference", Op: "eq", Value: "opted_in"},
		{Field: "contact.attributes.tier", Op: "eq", Value: "gold"},
	}}.Compile()
	require.NoError(t, err)
	require.True(t, m.Match(f))
	require.Equal(t, map[string]any{"sms_preference": "unknown"}, ContactFields(&contact.Contact{SMSPreference: consent.Unknown}))
}

// FuzzConditions decodes conditions and event data from arbitrary JSON: no
// input panics compiling or matching, a compiled Matcher agrees with
// Conditions.Match, and for every top-level test, eq and ne, and exists true
// and false, split present values between them.
func FuzzConditions(f *testing.F) {
	f.Add(`{"all":[{"field":"event.data.amount","op":"gte","value":10}]}`, `{"amount":"10"}`)
	f.Add(`{"any":[{"field":"event.data.a.b","op":"in","value":["x",1,true]},{"all":[{"field":"event.type","op":"exists","value":true}]}]}`, `{"a":{"b":1}}`)
	f.Add(`{"all":[{"field":"event.data.l.0","op":"lt","value":"2026"}]}`, `{"l":["2025-12-31"]}`)
	f.Add(`{"all":[{"field":"contact.attributes.tier","op":"ne","value":"gold"}]}`, `{}`)
	f.Fuzz(func(t *testing.T, conds, data string) {
		var c Conditions
		dec := json.NewDecoder(bytes.NewReader([]byte(conds)))
		dec.UseNumber()
		if dec.Decode(&c) != nil {
			return
		}
		var d map[string]any
		_ = json.Unmarshal([]byte(data), &d)
		attrs, _ := d["attributes"].(map[string]any)
		facts := MapFacts{EventType: "x.y", Data: d, Contact: map[string]any{"attributes": attrs}}
		m, err := c.Compile()
		if err != nil {
			require.False(t, c.Match(facts))
			return
		}
		require.Equal(t, m.Match(facts), c.Match(facts))
		for _, leaf := range append(c.All, c.Any...) {
			if leaf.Field == "" {
				continue
			}
			_, present := facts.Lookup(leaf.Field)
			eq := Conditions{All: []Condition{{Field: leaf.Field, Op: OpEq, Value: leaf.Value}}}
			ne := Conditions{All: []Condition{{Field: leaf.Field, Op: OpNe, Value: leaf.Value}}}
			if _, err := eq.Compile(); err == nil {
				require.Equal(t, present, eq.Match(facts) != ne.Match(facts), "%s", leaf.Field)
			}
			there := Conditions{All: []Condition{{Field: leaf.Field, Op: OpExists, Value: true}}}
			gone := Conditions{All: []Condition{{Field: leaf.Field, Op: OpExists, Value: false}}}
			require.NotEqual(t, there.Match(facts), gone.Match(facts))
		}
	})
}

// BenchmarkMatcherMatch measures one event through a three-condition rule,
// the per-event cost of fanning 100,000 events through an automation.
func BenchmarkMatcherMatch(b *testing.B) {
	var data map[string]any
	require.NoError(b, json.Unmarshal([]byte(`{"amount": 25, "reward_id": "rwd_1", "currency": "USD"}`), &data))
	f := MapFacts{
		EventType: EventRewardApproved,
		Data:      data,
		Contact:   map[string]any{"first_name": "Ada", "attributes": map[string]any{"tier": "gold"}},
	}
	var c Conditions
	require.NoError(b, json.Unmarshal([]byte(`{"all": [
		{"field": "event.data.amount", "op": "gte", "value": 10},
		{"field": "event.data.currency", "op": "eq", "value": "USD"},
		{"field": "contact.attributes.tier", "op": "in", "value": ["gold", "platinum"]}]}`), &c))
	m, err := c.Compile()
	require.NoError(b, err)
	var facts Facts = f // built once per event, matched against every automation
	require.True(b, m.Match(facts))
	b.ReportAllocs()
	for b.Loop() {
		m.Match(facts)
	}
}
