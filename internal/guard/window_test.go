package guard

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/phone"
	"github.com/heraldsms/herald/internal/problem"
)

// utc parses an RFC 3339 time for a table.
func utc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v.UTC()
}

// Numbers by area code: 213 Los Angeles, 212 and 734 Eastern, 305 Miami
// (Florida), 405 Oklahoma City, 410 Baltimore (Maryland), 203 Connecticut,
// 512 Austin (Texas), 208 Idaho (Mountain in the south, Pacific in the
// panhandle), 416 Toronto, 500 (non-geographic, US), 600 (non-geographic,
// Canada).
//
// Offsets used for expected values: in June, PDT is UTC-7, MDT UTC-6, CDT
// UTC-5, EDT UTC-4, BST UTC+1, NDT UTC-2:30; US clocks changed on 8 March
// and 1 November 2026.
func TestNextOpen(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		now      string
		to       Recipient
		w        Window
		want     string // "" when open now
		wantOpen bool
	}{
		{"07:59 in Los Angeles waits for 08:00 PT", "2026-06-15T14:59:00Z", Recipient{E164: "+12135550123"}, Window{}, "2026-06-15T15:00:00Z", false},
		{"08:00 in Los Angeles goes", "2026-06-15T15:00:00Z", Recipient{E164: "+12135550123"}, Window{}, "", true},
		{"20:59 in New York goes", "2026-06-16T00:59:00Z", Recipient{E164: "+12125550123"}, Window{}, "", true},
		{"20:59:59 in New York goes", "2026-06-16T00:59:59Z", Recipient{E164: "+12125550123"}, Window{}, "", true},
		{"21:00 in New York waits for 08:00", "2026-06-16T01:00:00Z", Recipient{E164: "+12125550123"}, Window{}, "2026-06-16T12:00:00Z", false},
		{"20:30 in Miami waits for 08:00 next day", "2026-06-16T00:30:00Z", Recipient{E164: "+13055550123"}, Window{}, "2026-06-16T12:00:00Z", false},
		{"19:59 in Miami goes", "2026-06-15T23:59:00Z", Recipient{E164: "+13055550123"}, Window{}, "", true},
		{"20:00 in Oklahoma waits", "2026-06-16T01:00:00Z", Recipient{E164: "+14055550123"}, Window{}, "2026-06-16T13:00:00Z", false},
		{"20:00 in Maryland waits", "2026-06-16T00:00:00Z", Recipient{E164: "+14105550123"}, Window{}, "2026-06-16T12:00:00Z", false},
		{"08:30 in Connecticut waits for 09:00", "2026-06-15T12:30:00Z", Recipient{E164: "+12035550123"}, Window{}, "2026-06-15T13:00:00Z", false},
		{"20:00 in Connecticut waits", "2026-06-16T00:00:00Z", Recipient{E164: "+12035550123"}, Window{}, "2026-06-16T13:00:00Z", false},
		{"08:30 Monday in Texas waits for 09:00", "2026-06-15T13:30:00Z", Recipient{E164: "+15125550123"}, Window{}, "2026-06-15T14:00:00Z", false},
		{"10:00 Sunday in Texas waits for noon", "2026-06-14T15:00:00Z", Recipient{E164: "+15125550123"}, Window{}, "2026-06-14T17:00:00Z", false},
		{"20:30 Saturday in Texas goes", "2026-06-14T01:30:00Z", Recipient{E164: "+15125550123"}, Window{}, "", true},
		{"21:00 Saturday in Texas waits for Sunday noon", "2026-06-14T02:00:00Z", Recipient{E164: "+15125550123"}, Window{}, "2026-06-14T17:00:00Z", false},
		{"spring forward: 01:00 EST waits for 08:00 EDT", "2026-03-08T06:00:00Z", Recipient{E164: "+17346263333"}, Window{}, "2026-03-08T12:00:00Z", false},
		{"fall back: 01:00 EDT waits for 08:00 EST", "2026-11-01T05:00:00Z", Recipient{E164: "+17346263333"}, Window{}, "2026-11-01T13:00:00Z", false},
		{"fall back: 20:59 EST goes", "2026-11-02T01:59:00Z", Recipient{E164: "+17346263333"}, Window{}, "", true},
		{"two zones: 07:30 Mountain is 06:30 Pacific", "2026-06-15T13:30:00Z", Recipient{E164: "+12085550123"}, Window{}, "2026-06-15T15:00:00Z", false},
		{"two zones: 20:59 Mountain goes", "2026-06-16T02:59:00Z", Recipient{E164: "+12085550123"}, Window{}, "", true},
		{"two zones: 21:00 Mountain waits", "2026-06-16T03:00:00Z", Recipient{E164: "+12085550123"}, Window{}, "2026-06-16T15:00:00Z", false},
		{"Canada: 07:30 in Toronto", "2026-06-15T11:30:00Z", Recipient{E164: "+14163922489"}, Window{}, "2026-06-15T12:00:00Z", false},
		{"Canada, no area: Pacific morning", "2026-06-15T14:30:00Z", Recipient{E164: "+16005550123", Country: "CA"}, Window{}, "2026-06-15T15:00:00Z", false},
		{"Canada, no area: Newfoundland evening", "2026-06-15T23:30:00Z", Recipient{E164: "+16005550123", Country: "CA"}, Window{}, "2026-06-16T15:00:00Z", false},
		{"US, no area: Pacific morning", "2026-06-15T14:30:00Z", Recipient{E164: "+15005550123", Country: "US"}, Window{}, "2026-06-15T15:00:00Z", false},
		{"US, no area: Eastern evening", "2026-06-16T01:00:00Z", Recipient{E164: "+15005550123", Country: "US"}, Window{}, "2026-06-16T15:00:00Z", false},
		{"contact zone wins over the area code", "2026-06-15T14:30:00Z", Recipient{E164: "+13055550123", TimeZone: "America/Los_Angeles"}, Window{}, "2026-06-15T15:00:00Z", false},
		{"and Florida's 20:00 still applies there", "2026-06-16T03:30:00Z", Recipient{E164: "+13055550123", TimeZone: "America/Los_Angeles"}, Window{}, "2026-06-16T15:00:00Z", false},
		{"an unknown contact zone is ignored", "2026-06-15T11:30:00Z", Recipient{E164: "+12125550123", TimeZone: "Mars/Olympus"}, Window{}, "2026-06-15T12:00:00Z", false},
		{"Local is not a contact zone", "2026-06-15T11:30:00Z", Recipient{E164: "+12125550123", TimeZone: "Local"}, Window{}, "2026-06-15T12:00:00Z", false},
		{"UK mobile, 07:59 BST", "2026-06-15T06:59:00Z", Recipient{E164: "+447400123456"}, Window{}, "2026-06-15T07:00:00Z", false},
		{"no zone at all is UTC", "2026-06-15T07:59:00Z", Recipient{E164: "+80012345678"}, Window{}, "2026-06-15T08:00:00Z", false},
		{"no number at all is UTC", "2026-06-15T21:00:00Z", Recipient{}, Window{}, "2026-06-16T08:00:00Z", false},
		{"account window opens later", "2026-06-15T13:00:00Z", Recipient{E164: "+12125550123"}, Window{Start: 10 * 60, End: 18 * 60}, "2026-06-15T14:00:00Z", false},
		{"account window closes earlier", "2026-06-15T22:00:00Z", Recipient{E164: "+12125550123"}, Window{Start: 10 * 60, End: 18 * 60}, "2026-06-16T14:00:00Z", false},
		{"a wider account window is clipped", "2026-06-15T11:00:00Z", Recipient{E164: "+12125550123"}, Window{Start: 0, End: 24 * 60}, "2026-06-15T12:00:00Z", false},
		{"account window and Florida's hours never meet: the law's hours", "2026-06-15T23:00:00Z", Recipient{E164: "+13055550123"}, Window{Start: 20 * 60, End: 21 * 60}, "", true},
		{"account window and Texas Sunday", "2026-06-14T15:00:00Z", Recipient{E164: "+15125550123"}, Window{Start: 8 * 60, End: 13 * 60}, "2026-06-14T17:00:00Z", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := utc(t, tc.now)
			got, open := NextOpen(now, tc.to, tc.w)
			require.Equal(t, tc.wantOpen, open)
			if tc.wantOpen {
				require.Equal(t, now, got)
				return
			}
			require.Equal(t, utc(t, tc.want), got)
		})
	}
}

// TestNextOpenIsOpen checks NextOpen against itself over a year of hours for
// a spread of recipients: the answer is never earlier than now, asking again
// at the answer says open, and a minute before a later answer is closed.
func TestNextOpenIsOpen(t *testing.T) {
	t.Parallel()
	for _, to := range []Recipient{
		{E164: "+17346263333"}, {E164: "+13055550123"}, {E164: "+15125550123"}, {E164: "+12085550123"},
		{E164: "+19075550123"}, {E164: "+447400123456"}, {E164: "+61412345678"}, {E164: "+15005550123", Country: "US"},
		{E164: "+12035550123", TimeZone: "Pacific/Honolulu"},
	} {
		t.Run(to.E164+to.TimeZone, func(t *testing.T) {
			t.Parallel()
			start := utc(t, "2026-01-01T00:17:00Z")
			for h := 0; h < 366*24; h += 23 { // 23 is prime to 24: every hour of the day comes up
				now := start.Add(time.Duration(h) * time.Hour)
				got, open := NextOpen(now, to, Window{})
				require.False(t, got.Before(now), "at %s", now)
				if open {
					continue
				}
				require.LessOrEqual(t, got.Sub(now), 2*Day)
				_, again := NextOpen(got, to, Window{})
				require.True(t, again, "%s is not open", got)
				_, before := NextOpen(got.Add(-time.Minute), to, Window{})
				require.False(t, before, "%s was already open", got.Add(-time.Minute))
			}
		})
	}
}

// TestStateAreaCodes checks the area codes of each state rule against
// libphonenumber's geocoding, an independent source: every area code it
// places in one of those states must be listed, and every listed code it
// knows must be placed in that state.
func TestStateAreaCodes(t *testing.T) {
	t.Parallel()
	names := map[string]string{
		"Florida": "FL", "FL": "FL", "Oklahoma": "OK", "OK": "OK", "Maryland": "MD", "MD": "MD",
		"Connecticut": "CT", "CT": "CT", "Texas": "TX", "TX": "TX",
	}
	for code := 200; code <= 999; code++ {
		e164, where := "", ""
		for _, ex := range []int{200, 555, 720, 913} { // geocoding is by prefix, valid or not
			e164 = fmt.Sprintf("+1%d%d0123", code, ex)
			pn, err := phonenumbers.Parse(e164, "")
			require.NoError(t, err)
			if where, _ = phonenumbers.GetGeocodingForNumber(pn, "en"); where != "" {
				break
			}
		}
		if i := strings.LastIndex(where, ", "); i >= 0 {
			where = where[i+2:]
		}
		state, listed := names[where], ruleFor(e164).state
		switch {
		case state != "":
			require.Equal(t, state, listed, "area code %d is in %s", code, where)
		case listed != "":
			require.Empty(t, where, "area code %d is listed for %s but is in %s", code, listed, where)
		}
	}
}

func TestStateLimit(t *testing.T) {
	t.Parallel()
	for e164, want := range map[string]int{
		"+13055550123": 3, "+18505550123": 3, "+14055550123": 3, "+19185550123": 3, "+14105550123": 3,
		"+15125550123": 0, "+12035550123": 0, "+17346263333": 0, "+14163922489": 0, "+447400123456": 0,
		"+1305555012": 0, "": 0, "305": 0,
	} {
		require.Equal(t, want, StateLimit(e164), e164)
	}
}

func TestCapAllows(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		sent       int
		cap        Cap
		stateLimit int
		want       bool
	}{
		{"default: first of the day", 0, Cap{}, 0, true},
		{"default: second of the day", 1, Cap{}, 0, false},
		{"negative count", -1, Cap{}, 0, true},
		{"default cap in Florida", 1, Cap{}, 3, false},
		{"longer period: first", 0, Cap{Max: 1, Period: 7 * Day}, 0, true},
		{"longer period: second", 1, Cap{Max: 1, Period: 7 * Day}, 0, false},
		{"above the default falls back to it", 1, Cap{Max: 3, Period: Day}, 0, false},
		{"above the legal max falls back to the default", 1, Cap{Max: 50, Period: Day}, 0, false},
		{"a period under a day falls back to the default", 1, Cap{Max: 1, Period: time.Hour}, 0, false},
		{"zero max falls back to the default", 0, Cap{Period: Day}, 0, true},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, CapAllows(tc.sent, tc.cap, tc.stateLimit), tc.name)
	}
}

func TestWindowAndCapValidate(t *testing.T) {
	t.Parallel()
	for _, w := range []Window{{}, {Start: 480, End: 1260}, {Start: 600, End: 660}, {Start: 1200, End: 1260}, {Start: 600, End: 601}} {
		require.NoError(t, w.Validate(), "%+v", w)
	}
	for w, want := range map[Window][2]string{
		{Start: 479, End: 1260}:  {"window_start_invalid", "sending_window.start"},
		{Start: 1260, End: 1260}: {"window_start_invalid", "sending_window.start"},
		{Start: -1, End: 600}:    {"window_start_invalid", "sending_window.start"},
		{Start: 600, End: 1261}:  {"window_end_invalid", "sending_window.end"},
		{Start: 600, End: 480}:   {"window_end_invalid", "sending_window.end"},
		{Start: 700, End: 600}:   {"window_empty", "sending_window.end"},
		{Start: 600, End: 600}:   {"window_empty", "sending_window.end"},
	} {
		requireProblem(t, w.Validate(), want[0], want[1])
	}
	for _, c := range []Cap{{}, {Max: 1, Period: Day}, {Max: 1, Period: 30 * Day}, {Max: 1, Period: 36 * time.Hour}} {
		require.NoError(t, c.Validate(), "%+v", c)
	}
	for c, code := range map[Cap]string{
		{Max: 0, Period: Day}:               "cap_max_invalid",
		{Max: 4, Period: Day}:               "cap_max_invalid",
		{Max: 2, Period: Day}:               "cap_above_default",
		{Max: 3, Period: 3 * Day}:           "cap_above_default",
		{Max: 1, Period: 23 * time.Hour}:    "cap_period_invalid",
		{Max: 1, Period: 31 * Day}:          "cap_period_invalid",
		{Max: 1, Period: Day + time.Minute}: "cap_period_invalid",
		{Max: 1}:                            "cap_period_invalid",
	} {
		requireProblem(t, c.Validate(), code, "")
	}
}

func TestParseWindow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		start, end string
		want       Window
	}{
		{"08:00", "21:00", Window{480, 1260}},
		{"09:30", "20:15", Window{570, 1215}},
		{"00:00", "24:00", Window{0, 1440}},
	} {
		got, err := ParseWindow(tc.start, tc.end)
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
		require.Equal(t, tc.start, FormatClock(got.Start))
	}
	for _, bad := range [][2]string{{"8:00", "21:00"}, {"08:00", "9pm"}, {"25:00", "21:00"}, {"08:60", "21:00"},
		{"24:01", "21:00"}, {"", "21:00"}, {"08-00", "21:00"}, {"０８:00", "21:00"}} {
		_, err := ParseWindow(bad[0], bad[1])
		requireProblem(t, err, "invalid_time_of_day", "")
	}
}

// TestZonesMatchThePhonePackage checks that looking zones up by prefix, as
// zones does without validating the number again, answers what the phone
// package's validated lookup answers, for a number of every area code that
// has one.
func TestZonesMatchThePhonePackage(t *testing.T) {
	t.Parallel()
	checked := 0
	for code := 200; code <= 999; code++ {
		e164 := fmt.Sprintf("+1%d2%02d0123", code, code%100)
		want := phone.TimeZones(e164)
		if len(want) == 0 || len(want) > maxAreaZones {
			continue
		}
		checked++
		var got []string
		for _, loc := range zones(Recipient{E164: e164}) {
			got = append(got, loc.String())
		}
		require.Equal(t, want, got, e164)
	}
	require.Greater(t, checked, 300)
}

// requireProblem asserts err is an Invalid problem with the code and the
// field, each unless "".
func requireProblem(t *testing.T, err error, code, field string) {
	t.Helper()
	require.Error(t, err)
	p, ok := problem.As(err)
	require.True(t, ok, "%v is not a problem", err)
	require.Equal(t, problem.Invalid, p.Kind)
	if code != "" {
		require.Equal(t, code, p.Code, p.Message)
	}
	if field != "" {
		require.Equal(t, field, p.Field, p.Message)
	}
	require.NotEmpty(t, p.Message)
}

func BenchmarkNextOpen(b *testing.B) {
	now := utc(b, "2026-06-16T02:30:00Z")
	for _, bb := range []struct {
		name string
		to   Recipient
	}{
		{"area_code", Recipient{E164: "+13055550123"}},
		{"contact_zone", Recipient{E164: "+13055550123", TimeZone: "America/New_York"}},
		{"two_zones", Recipient{E164: "+12085550123"}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				NextOpen(now, bb.to, Window{})
			}
		})
	}
}
