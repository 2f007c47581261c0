package msgtemplate

import (
	"encoding/json"
	"testing"

	"github.com/heraldsms/herald/internal/segment"
)

// benchBody is a typical reward message: four tags, about 120 characters
// once rendered, one GSM-7 segment.
const benchBody = "Hi {{first_name}}, your {{reward_amount}} reward from {{program_name}} is approved! " +
	"Claim it: {{referral_link}} Reply STOP to opt out"

// BenchmarkRenderAndCount measures what creating one message costs in this
// package: render an already compiled template from an event decoded from
// JSON, then count its segments. The goal is under 1 µs per message per core.
func BenchmarkRenderAndCount(b *testing.B) {
	tmpl, err := Parse(benchBody)
	if err != nil {
		b.Fatal(err)
	}
	var event map[string]any
	if err := json.Unmarshal([]byte(`{"reward_amount":"$25","referral_link":"https://acmecoffee.com/r/alex25"}`), &event); err != nil {
		b.Fatal(err)
	}
	v := Values{FirstName: "Alex", ProgramName: "Acme Rewards", Brand: "Acme Coffee", EventData: event}
	b.ReportAllocs()
	for b.Loop() {
		out, err := tmpl.Render(v)
		if err != nil {
			b.Fatal(err)
		}
		if info := segment.Count(out); info.Segments != 1 {
			b.Fatalf("segments = %d, want 1", info.Segments)
		}
	}
}

// BenchmarkRenderEventNumbers renders values that arrive as JSON numbers
// and nested objects, the slower lookups, without the segment count.
func BenchmarkRenderEventNumbers(b *testing.B) {
	tmpl, err := Parse("{{brand}}: you earned {{points}} points on order {{event.data.order.id}} " +
		"({{event.data.order.total}} spent). Reply STOP to opt out")
	if err != nil {
		b.Fatal(err)
	}
	var event map[string]any
	if err := json.Unmarshal([]byte(`{"points":150,"order":{"id":48213,"total":42.5}}`), &event); err != nil {
		b.Fatal(err)
	}
	v := Values{Brand: "Acme Coffee", EventData: event}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(v); err != nil {
			b.Fatal(err)
		}
	}
}
