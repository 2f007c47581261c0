package msgtemplate

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// decode parses an event payload as the API will: numbers kept as
// json.Number when useNumber is set, float64 otherwise.
func decode(t *testing.T, payload string, useNumber bool) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(payload)))
	if useNumber {
		dec.UseNumber()
	}
	var m map[string]any
	require.NoError(t, dec.Decode(&m))
	return m
}

func TestRender(t *testing.T) {
	t.Parallel()

	full := Values{FirstName: "Alex", LastName: "Morgan", ProgramName: "Acme Rewards", Brand: "Acme Coffee",
		RewardAmount: "$25", Points: "150", Tier: "Gold", ReferralLink: "https://acme.co/r/alex"}
	tests := []struct {
		name    string
		body    string
		values  Values
		event   string // JSON for EventData, decoded to float64 numbers
		number  bool   // decode event with json.Number instead
		attrs   string // JSON for Attributes
		want    string
		missing []string
	}{
		{name: "no tags", body: "Thanks for joining!", want: "Thanks for joining!"},
		{name: "every known tag", values: full,
			body: "{{brand}}: {{first_name}} {{last_name}}, {{reward_amount}} {{points}} {{tier}} {{program_name}} {{referral_link}}",
			want: "Acme Coffee: Alex Morgan, $25 150 Gold Acme Rewards https://acme.co/r/alex"},
		{name: "fallback when missing", body: `Hi {{first_name | default: "there"}}!`, want: "Hi there!"},
		{name: "fallback when blank", body: `Hi {{first_name | default: "there"}}!`, values: Values{FirstName: "  "}, want: "Hi there!"},
		{name: "value beats fallback", body: `Hi {{first_name | default: "there"}}!`, values: Values{FirstName: "Sam"}, want: "Hi Sam!"},
		{name: "empty fallback renders nothing", body: `Hi{{first_name | default: ""}}!`, want: "Hi!"},
		{name: "escaped fallback", body: `{{first_name | default: "say \"hi\" \\o/"}}`, want: `say "hi" \o/`},
		{name: "missing without fallback", body: "{{first_name}} {{tier}} {{first_name}} {{points | default: \"some\"}}",
			missing: []string{"first_name", "tier"}},
		{name: "every missing tag listed", body: "{{brand}} {{event.data.code}} {{contact.attributes.city}}",
			missing: []string{"brand", "event.data.code", "contact.attributes.city"}},
		{name: "reward from event float", body: "{{reward_amount}}", event: `{"reward_amount": 25}`, want: "25"},
		{name: "reward from event fraction", body: "{{reward_amount}}", event: `{"reward_amount": 12.5}`, want: "12.5"},
		{name: "reward falls back to amount", body: "{{reward_amount}}", event: `{"amount": "€10"}`, want: "€10"},
		{name: "typed field beats event data", body: "{{reward_amount}}", values: Values{RewardAmount: "$25.00"},
			event: `{"reward_amount": 25}`, want: "$25.00"},
		{name: "points from json.Number", body: "{{points}}", event: `{"points": 150}`, number: true, want: "150"},
		{name: "json.Number drops zero fraction", body: "{{points}}", event: `{"points": 150.00}`, number: true, want: "150"},
		{name: "json.Number keeps a price", body: "{{reward_amount}}", event: `{"reward_amount": 10.50}`, number: true, want: "10.50"},
		{name: "json.Number exponent", body: "{{points}}", event: `{"points": 1e3}`, number: true, want: "1000"},
		{name: "large float has no exponent", body: "{{points}}", event: `{"points": 12345678}`, want: "12345678"},
		{name: "zero is a value", body: `{{points | default: "no"}}`, event: `{"points": 0}`, want: "0"},
		{name: "negative zero", body: "{{points}}", event: `{"points": -0.0}`, want: "0"},
		{name: "tier from event", body: "{{tier}}", event: `{"tier": "Platinum"}`, want: "Platinum"},
		{name: "bool", body: "{{event.data.vip}}", event: `{"vip": true}`, want: "true"},
		{name: "nested event data", body: "Total {{event.data.order.total}} for {{event.data.order.customer.name}}",
			event: `{"order": {"total": 40.0, "customer": {"name": "Kim"}}}`, want: "Total 40 for Kim"},
		{name: "array index", body: "{{event.data.items.1.sku}}", event: `{"items": [{"sku": "A1"}, {"sku": "B2"}]}`, want: "B2"},
		{name: "array index out of range", body: `{{event.data.items.5.sku | default: "item"}}`,
			event: `{"items": [{"sku": "A1"}]}`, want: "item"},
		{name: "object is missing", body: `{{event.data.order | default: "your order"}}`,
			event: `{"order": {"id": 7}}`, want: "your order"},
		{name: "null is missing", body: "{{event.data.code}}", event: `{"code": null}`, missing: []string{"event.data.code"}},
		{name: "path through a string is missing", body: "{{event.data.code.x}}", event: `{"code": "A"}`,
			missing: []string{"event.data.code.x"}},
		{name: "referral link from attributes", body: "{{referral_link}}", attrs: `{"referral_link": "https://a.co/x"}`,
			want: "https://a.co/x"},
		{name: "event referral link beats attributes", body: "{{referral_link}}",
			event: `{"referral_link": "https://a.co/event"}`, attrs: `{"referral_link": "https://a.co/attr"}`,
			want: "https://a.co/event"},
		{name: "nested attribute", body: "{{contact.attributes.address.city}}", attrs: `{"address": {"city": "Lyon"}}`,
			want: "Lyon"},
		{name: "attribute keys are case-sensitive", body: `{{contact.attributes.City | default: "?"}}`,
			attrs: `{"city": "Lyon"}`, want: "?"},
		{name: "multi-byte text kept", body: "Olá {{first_name}} 🎉", values: Values{FirstName: "José"}, want: "Olá José 🎉"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := Parse(tt.body)
			require.NoError(t, err)
			v := tt.values
			if tt.event != "" {
				v.EventData = decode(t, tt.event, tt.number)
			}
			if tt.attrs != "" {
				v.Attributes = decode(t, tt.attrs, false)
			}
			got, err := tmpl.Render(v)
			if tt.missing != nil {
				var merr *MissingValueError
				require.ErrorAs(t, err, &merr)
				require.Equal(t, tt.missing, merr.Tags)
				require.Empty(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestRenderGoValues(t *testing.T) {
	t.Parallel()
	tmpl, err := Parse("{{event.data.a}} {{event.data.b}} {{event.data.c}} {{event.data.d}} {{event.data.e.f}}")
	require.NoError(t, err)
	got, err := tmpl.Render(Values{EventData: map[string]any{
		"a": 7, "b": int64(-3), "c": uint32(9), "d": float32(2.5), "e": map[string]string{"f": "g"},
	}})
	require.NoError(t, err)
	require.Equal(t, "7 -3 9 2.5 g", got)

	_, err = tmpl.Render(Values{EventData: map[string]any{
		"a": math.NaN(), "b": math.Inf(1), "c": struct{}{}, "d": []any{}, "e": nil,
	}})
	var merr *MissingValueError
	require.ErrorAs(t, err, &merr)
	require.Len(t, merr.Tags, 5)
}

func TestSampleValues(t *testing.T) {
	t.Parallel()
	tmpl, err := Parse("{{first_name}}, {{contact.attributes.favorite_store}} / {{event.data.order.items.0}} " +
		"/ {{event.data.order.id}} / {{referral_link}}")
	require.NoError(t, err)
	got, err := tmpl.Render(tmpl.SampleValues())
	require.NoError(t, err)
	require.Equal(t, "Alex, favorite store / sample / id / https://acmecoffee.com/r/alex25", got)
}

func TestSampleValuesOverlappingPaths(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		"{{event.data.order}} {{event.data.order.id}}",
		"{{event.data.order.id}} {{event.data.order}}",
	} {
		tmpl, err := Parse(body)
		require.NoError(t, err)
		_, err = tmpl.Render(tmpl.SampleValues())
		var merr *MissingValueError
		require.ErrorAs(t, err, &merr, body)
		require.Equal(t, []string{"event.data.order"}, merr.Tags, body)
	}
}
