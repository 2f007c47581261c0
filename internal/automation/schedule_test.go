package automation

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// utc parses an RFC 3339 time for a table.
func utc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v.UTC()
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	ok := []struct {
		in   string
		want time.Duration
	}{
		{"30m", 30 * time.Minute},
		{"72h", 72 * time.Hour},
		{"1.5h", 90 * time.Minute},
		{"90s", 90 * time.Second},
		{"3d", 72 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"10d", 240 * time.Hour},
		{"0d", 0},
		{"365d", 8760 * time.Hour},
		{"99999d", 99999 * 24 * time.Hour},
		{"-5m", -5 * time.Minute}, // parses; Validate refuses it as out of range
	}
	for _, tc := range ok {
		got, err := ParseDuration(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	for _, in := range []string{
		"", "d", "3", "3days", "3D", "-1d", "1d-3h", "1d+3h", "1dd", "100000d", "abc", " 3d", "3d ", "1d1d", "1e3h",
	} {
		_, err := ParseDuration(in)
		require.Error(t, err, "%q", in)
	}
}

func TestParseCron(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{
		"0 10 * * MON", "*/15 9-17 * * 1-5", "0 0 1,15 * *", "5/10 * * * *", "0 12 * jan-mar sun",
		"0 0 * * 7", "59 23 31 12 6", "  0   8 * *   *  ", "0-59/30 0-23/6 1-31/10 1-12/3 0-7/2",
	} {
		_, err := ParseCron(spec)
		require.NoError(t, err, spec)
	}
	for _, spec := range []string{
		"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *",
		"* * * 13 *", "* * * 0 *", "* * * * 8", "*/0 * * * *", "*/60 * * * *", "5-1 * * * *",
		"a * * * *", "@daily", "1,,2 * * * *", "*/x * * * *", "-1 * * * *", "1-2-3 * * * *",
		"* * * JANUARY *", "* * * * MONDAY", "007 * * * *", "1/ * * * *", ", * * * *",
	} {
		_, err := ParseCron(spec)
		require.Error(t, err, "%q", spec)
	}
}

// The expected instants below are worked out by hand from the rules of
// daylight-saving time in the United States (second Sunday of March, first
// Sunday of November, at 02:00 local; in 2026 those are 8 March and
// 1 November), not by the code under test.
func TestCronNext(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, spec, zone, after, want string
	}{
		{"daily 10:00 across spring forward", "0 10 * * *", "America/New_York",
			"2026-03-07T15:00:00Z", "2026-03-08T14:00:00Z"}, // 10:00 EST, then 10:00 EDT
		{"daily 10:00 across fall back", "0 10 * * *", "America/New_York",
			"2026-10-31T14:00:00Z", "2026-11-01T15:00:00Z"}, // 10:00 EDT, then 10:00 EST
		{"later the same day is tomorrow", "0 10 * * *", "America/New_York",
			"2026-06-15T14:00:00Z", "2026-06-16T14:00:00Z"},
		{"skipped 02:30 runs when clocks jump", "30 2 * * *", "America/New_York",
			"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z"}, // 03:00 EDT
		{"the day after the jump is normal", "30 2 * * *", "America/New_York",
			"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"},
		{"repeated 01:30 runs at the first", "30 1 * * *", "America/New_York",
			"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z"}, // 01:30 EDT
		{"and not again at the second", "30 1 * * *", "America/New_York",
			"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}, // 01:30 EST next day
		{"weekly on Monday", "0 10 * * MON", "America/Chicago",
			"2026-12-01T00:00:00Z", "2026-12-07T16:00:00Z"}, // Tue 1 Dec → Mon 7 Dec 10:00 CST
		{"day of month or day of week", "0 9 13 * FRI", "UTC",
			"2026-02-01T00:00:00Z", "2026-02-06T09:00:00Z"}, // Friday 6th before the 13th
		{"day of month and starred day of week", "0 9 13 * *", "UTC",
			"2026-02-01T00:00:00Z", "2026-02-13T09:00:00Z"},
		{"29 February", "0 0 29 2 *", "UTC",
			"2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"every quarter hour", "*/15 * * * *", "UTC",
			"2026-06-15T12:07:30Z", "2026-06-15T12:15:00Z"},
		{"strictly after", "*/15 * * * *", "UTC",
			"2026-06-15T12:15:00Z", "2026-06-15T12:30:00Z"},
		{"Sunday as 7", "0 8 * * 7", "UTC",
			"2026-06-15T00:00:00Z", "2026-06-21T08:00:00Z"},
		{"Sunday as 0", "0 8 * * 0", "UTC",
			"2026-06-15T00:00:00Z", "2026-06-21T08:00:00Z"},
		{"year end", "0 0 1 1 *", "Europe/London",
			"2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z"},
		{"half-hour zone", "0 9 * * *", "Asia/Kolkata",
			"2026-06-15T00:00:00Z", "2026-06-15T03:30:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseCron(tc.spec)
			require.NoError(t, err)
			loc, err := time.LoadLocation(tc.zone)
			require.NoError(t, err)
			got, ok := c.Next(utc(t, tc.after), loc)
			require.True(t, ok)
			require.Equal(t, utc(t, tc.want), got)
			require.Equal(t, time.UTC, got.Location())
		})
	}
}

func TestCronNever(t *testing.T) {
	t.Parallel()
	c, err := ParseCron("0 0 30 2 *")
	require.NoError(t, err)
	_, ok := c.Next(utc(t, "2026-01-01T00:00:00Z"), time.UTC)
	require.False(t, ok)
	_, ok = Cron{}.Next(utc(t, "2026-01-01T00:00:00Z"), time.UTC)
	require.False(t, ok, "the zero Cron never fires")
}

func TestTriggerNext(t *testing.T) {
	t.Parallel()
	now := utc(t, "2026-11-30T12:00:00Z")
	cases := []struct {
		name string
		trig Trigger
		want string // "" for none
	}{
		{"at ahead", Trigger{Type: TriggerSchedule, At: "2026-12-01T15:00:00Z"}, "2026-12-01T15:00:00Z"},
		{"at with offset", Trigger{Type: TriggerSchedule, At: "2026-12-01T10:00:00-05:00"}, "2026-12-01T15:00:00Z"},
		{"at passed", Trigger{Type: TriggerSchedule, At: "2026-11-30T11:59:59Z"}, ""},
		{"at now", Trigger{Type: TriggerSchedule, At: "2026-11-30T12:00:00Z"}, ""},
		{"at unreadable", Trigger{Type: TriggerSchedule, At: "tomorrow"}, ""},
		{"cron", Trigger{Type: TriggerSchedule, Cron: "0 10 * * MON", TimeZone: "America/Chicago"}, "2026-11-30T16:00:00Z"}, // Monday 06:00 CST → 10:00
		{"cron without zone", Trigger{Type: TriggerSchedule, Cron: "0 10 * * MON"}, ""},
		{"cron in an unknown zone", Trigger{Type: TriggerSchedule, Cron: "0 10 * * *", TimeZone: "Mars/Olympus"}, ""},
		{"cron unreadable", Trigger{Type: TriggerSchedule, Cron: "every monday", TimeZone: "UTC"}, ""},
		{"both", Trigger{Type: TriggerSchedule, At: "2026-12-01T15:00:00Z", Cron: "0 10 * * *", TimeZone: "UTC"}, ""},
		{"neither", Trigger{Type: TriggerSchedule}, ""},
		{"event", Trigger{Type: TriggerEvent, Event: EventRewardApproved}, ""},
	}
	for _, tc := range cases {
		got, ok := tc.trig.Next(now)
		if tc.want == "" {
			require.False(t, ok, tc.name)
			continue
		}
		require.True(t, ok, tc.name)
		require.Equal(t, utc(t, tc.want), got, tc.name)
	}
}

// FuzzCron: no input panics, and a parsed expression's next run is later
// than the time asked about, on a minute, and on a day the expression names.
func FuzzCron(f *testing.F) {
	for _, s := range []string{"0 10 * * MON", "*/15 9-17 * * 1-5", "30 2 * * *", "0 0 29 2 *", "5/10 1,2 * * 7", "* * * * *"} {
		f.Add(s, int64(1_780_000_000), "America/New_York")
	}
	f.Fuzz(func(t *testing.T, spec string, unix int64, zone string) {
		c, err := ParseCron(spec)
		if err != nil {
			return
		}
		loc, err := time.LoadLocation(zone)
		if err != nil || strings.Contains(zone, "Local") {
			loc = time.UTC
		}
		after := time.Unix(unix%(1<<34), 0) // years 1970 to about 2514
		next, ok := c.Next(after, loc)
		if !ok {
			return
		}
		require.True(t, next.After(after))
		require.Zero(t, next.Second())
		require.True(t, c.matchesDay(next.In(loc)) || c.matchesDay(next.In(loc).Add(-3*time.Hour)),
			"%s: %s is not a day the expression names", spec, next.In(loc))
	})
}

// FuzzParseDuration: no input panics, and anything without a day count
// reads as Go reads it.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"3d", "1d12h", "72h", "-5m", "99999d", "1.5h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if !strings.Contains(s, "d") {
			want, werr := time.ParseDuration(s)
			require.Equal(t, werr == nil, err == nil, "%q", s)
			if err == nil {
				require.Equal(t, want, d)
			}
		}
	})
}
