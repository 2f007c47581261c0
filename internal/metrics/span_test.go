package metrics

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/problem"
)

func date(s string) time.Time {
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		panic(err)
	}
	return d
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The expected instants come from the zones' published rules: New York
// springs forward on 8 March 2026 and falls back on 1 November; London
// goes to BST on 29 March; India is UTC+5:30 all year.
func TestPlanBuckets(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, zone, from, to string
		interval             Interval
		wantFrom, wantTo     string
		wantStarts           []string // the first few bucket starts, in UTC
		wantCount            int
		wantEnd              string
		// hour → index of the bucket it falls in
		hours map[string]int
	}{
		{name: "New York days across spring forward", zone: "America/New_York", from: "2026-03-07", to: "2026-03-09",
			interval: Day, wantFrom: "2026-03-07", wantTo: "2026-03-09",
			wantStarts: []string{"2026-03-07T05:00:00Z", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"},
			wantCount:  3, wantEnd: "2026-03-10T04:00:00Z",
			hours: map[string]int{"2026-03-08T04:00:00Z": 0, "2026-03-08T05:00:00Z": 1,
				"2026-03-09T03:00:00Z": 1, "2026-03-09T04:00:00Z": 2}},
		{name: "New York days across fall back", zone: "America/New_York", from: "2026-11-01", to: "2026-11-02",
			interval: Day, wantFrom: "2026-11-01", wantTo: "2026-11-02",
			wantStarts: []string{"2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"}, wantCount: 2, wantEnd: "2026-11-03T05:00:00Z",
			hours: map[string]int{"2026-11-02T04:00:00Z": 0, "2026-11-02T05:00:00Z": 1}},
		{name: "New York hours of the 23-hour day", zone: "America/New_York", from: "2026-03-08", to: "2026-03-08",
			interval: Hour, wantFrom: "2026-03-08", wantTo: "2026-03-08",
			wantStarts: []string{"2026-03-08T05:00:00Z", "2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z"},
			wantCount:  23, wantEnd: "2026-03-09T04:00:00Z",
			hours: map[string]int{"2026-03-08T07:00:00Z": 2, "2026-03-09T03:00:00Z": 22}},
		{name: "Kolkata days start at 18:30 UTC", zone: "Asia/Kolkata", from: "2026-02-28", to: "2026-03-01",
			interval: Day, wantFrom: "2026-02-28", wantTo: "2026-03-01",
			wantStarts: []string{"2026-02-27T18:30:00Z", "2026-02-28T18:30:00Z"}, wantCount: 2, wantEnd: "2026-03-01T18:30:00Z",
			// 18:00 UTC is 23:30 in India: it counts on the day it begins.
			hours: map[string]int{"2026-02-28T18:00:00Z": 0, "2026-02-28T19:00:00Z": 1, "2026-03-01T18:00:00Z": 1}},
		{name: "Kolkata hours are whole UTC hours", zone: "Asia/Kolkata", from: "2026-03-01", to: "2026-03-01",
			interval: Hour, wantFrom: "2026-03-01", wantTo: "2026-03-01",
			wantStarts: []string{"2026-02-28T19:00:00Z", "2026-02-28T20:00:00Z"}, wantCount: 24, wantEnd: "2026-03-01T18:30:00Z",
			hours: map[string]int{"2026-03-01T18:00:00Z": 23}},
		{name: "a week runs Monday to Sunday", zone: "UTC", from: "2026-11-25", to: "2026-11-25",
			interval: Week, wantFrom: "2026-11-23", wantTo: "2026-11-29",
			wantStarts: []string{"2026-11-23T00:00:00Z"}, wantCount: 1, wantEnd: "2026-11-30T00:00:00Z"},
		{name: "weeks from a Monday to a Sunday stay", zone: "America/Los_Angeles", from: "2026-11-02", to: "2026-11-15",
			interval: Week, wantFrom: "2026-11-02", wantTo: "2026-11-15",
			wantStarts: []string{"2026-11-02T08:00:00Z", "2026-11-09T08:00:00Z"}, wantCount: 2, wantEnd: "2026-11-16T08:00:00Z"},
		{name: "London months widen to whole months, BST in March", zone: "Europe/London", from: "2026-02-10", to: "2026-03-05",
			interval: Month, wantFrom: "2026-02-01", wantTo: "2026-03-31",
			wantStarts: []string{"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"}, wantCount: 2, wantEnd: "2026-03-31T23:00:00Z",
			hours: map[string]int{"2026-03-31T22:00:00Z": 1}},
		{name: "a leap February", zone: "UTC", from: "2028-02-29", to: "2028-02-29", interval: Month,
			wantFrom: "2028-02-01", wantTo: "2028-02-29", wantStarts: []string{"2028-02-01T00:00:00Z"}, wantCount: 1,
			wantEnd: "2028-03-01T00:00:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			loc, err := time.LoadLocation(tc.zone)
			require.NoError(t, err)
			sp, err := plan(Query{From: date(tc.from), To: date(tc.to), Interval: tc.interval}, loc, time.Now())
			require.NoError(t, err)
			require.Equal(t, tc.wantFrom, sp.from.Format(dateLayout))
			require.Equal(t, tc.wantTo, sp.to.Format(dateLayout))
			require.Len(t, sp.starts, tc.wantCount)
			for i, want := range tc.wantStarts {
				require.Equal(t, utc(want), sp.starts[i].UTC(), "start %d", i)
			}
			require.Equal(t, utc(tc.wantEnd), sp.end)
			if tc.interval != Hour {
				require.True(t, sp.start.Equal(sp.starts[0]), "the query starts where the first bucket does")
			}
			for hour, want := range tc.hours {
				require.Equal(t, want, sp.bucketOf(utc(hour)), "hour %s", hour)
			}
		})
	}
}

func TestPlanDefaultsToTheLastThirtyDays(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	// 02:00 UTC on 1 December is still 30 November in New York.
	sp, err := plan(Query{Interval: Day}, loc, utc("2026-12-01T02:00:00Z").In(loc))
	require.NoError(t, err)
	require.Equal(t, "2026-11-01", sp.from.Format(dateLayout))
	require.Equal(t, "2026-11-30", sp.to.Format(dateLayout))
	require.Len(t, sp.starts, 30)
}

func TestPlanRefusesBadRanges(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, from, to string
		interval       Interval
		code, field    string
	}{
		{"from after to", "2026-03-02", "2026-03-01", Day, "invalid_range", "from"},
		{"over 400 days", "2025-01-01", "2026-02-05", Month, "range_too_large", "from"},
		{"32 days of hours", "2026-03-01", "2026-04-01", Hour, "range_too_large", "interval"},
	}
	for _, tc := range cases {
		_, err := plan(Query{From: date(tc.from), To: date(tc.to), Interval: tc.interval}, time.UTC, time.Now())
		p, ok := problem.As(err)
		require.True(t, ok, "%s: %v", tc.name, err)
		require.Equal(t, tc.code, p.Code, tc.name)
		require.Equal(t, tc.field, p.Field, tc.name)
	}
	// The largest ranges that are allowed.
	_, err := plan(Query{From: date("2026-03-01"), To: date("2026-03-31"), Interval: Hour}, time.UTC, time.Now())
	require.NoError(t, err)
	_, err = plan(Query{From: date("2026-01-01"), To: date("2027-02-04"), Interval: Day}, time.UTC, time.Now())
	require.NoError(t, err)
}

func TestParseQuery(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		params      map[string]string
		code, field string
	}{
		{"defaults", map[string]string{}, "", ""},
		{"all given", map[string]string{"from": "2026-01-01", "to": "2026-01-31", "interval": "week",
			"program_id": "prg_1", "template_id": "tpl_1"}, "", ""},
		{"unknown interval", map[string]string{"interval": "year"}, "invalid_interval", "interval"},
		{"not a date", map[string]string{"from": "yesterday"}, "invalid_date", "from"},
		{"no such day", map[string]string{"to": "2026-02-30"}, "invalid_date", "to"},
		{"a time, not a date", map[string]string{"from": "2026-02-01T00:00:00Z"}, "invalid_date", "from"},
		{"before 2000", map[string]string{"from": "1999-12-31"}, "invalid_date", "from"},
	}
	for _, tc := range cases {
		q, err := ParseQuery(func(k string) string { return tc.params[k] })
		if tc.code == "" {
			require.NoError(t, err, tc.name)
			require.NotEmpty(t, q.Interval, tc.name)
			continue
		}
		p, ok := problem.As(err)
		require.True(t, ok, "%s: %v", tc.name, err)
		require.Equal(t, tc.code, p.Code, tc.name)
		require.Equal(t, tc.field, p.Field, tc.name)
	}
}

// The tables read whole UTC days from the daily rollup and the rest from
// the hourly one: together the parts must cover the span exactly once.
func TestSpanParts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, zone, from, to string
		want                 []part
	}{
		{"New York: whole UTC days between two partial ones", "America/New_York", "2026-03-07", "2026-03-09", []part{
			{from: utc("2026-03-08T00:00:00Z"), to: utc("2026-03-10T00:00:00Z"), daily: true},
			{from: utc("2026-03-07T05:00:00Z"), to: utc("2026-03-08T00:00:00Z")},
			{from: utc("2026-03-10T00:00:00Z"), to: utc("2026-03-10T04:00:00Z")},
		}},
		{"Kolkata: one local day holds no whole UTC day", "Asia/Kolkata", "2026-02-28", "2026-02-28", []part{
			{from: utc("2026-02-27T18:30:00Z"), to: utc("2026-02-28T18:30:00Z")},
		}},
		{"UTC: whole days only", "UTC", "2026-03-01", "2026-03-02", []part{
			{from: utc("2026-03-01T00:00:00Z"), to: utc("2026-03-03T00:00:00Z"), daily: true},
		}},
	}
	for _, tc := range cases {
		loc, err := time.LoadLocation(tc.zone)
		require.NoError(t, err)
		sp, err := plan(Query{From: date(tc.from), To: date(tc.to), Interval: Day}, loc, time.Now())
		require.NoError(t, err)
		got := sp.parts()
		require.Len(t, got, len(tc.want), tc.name)
		for i := range got {
			require.True(t, tc.want[i].from.Equal(got[i].from) && tc.want[i].to.Equal(got[i].to) && tc.want[i].daily == got[i].daily,
				"%s: part %d is %+v, want %+v", tc.name, i, got[i], tc.want[i])
		}
	}
}
