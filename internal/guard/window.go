package guard

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/problem"
)

// Day is 24 hours, the period the state laws count messages over.
const Day = 24 * time.Hour

// The default sending window for marketing, in minutes after the
// recipient's local midnight: 08:00 to 21:00, the hours the FCC allows
// telephone solicitations, texts included (47 CFR § 64.1200(c)(1): not
// "before the hour of 8 a.m. or after 9 p.m. (local time at the called
// party's location)").
const (
	DefaultStart = 8 * 60
	DefaultEnd   = 21 * 60
)

// Window is the part of the day an account lets marketing go out, in
// minutes after local midnight: from Start (inclusive) to End (exclusive),
// so the default's last sending minute is 20:59. The zero Window means the
// default. An account may only narrow the default, and a state's stricter
// hours narrow it further for that state's numbers.
type Window struct {
	Start int
	End   int
}

// Effective returns the window that applies: the default for the zero
// Window.
func (w Window) Effective() Window {
	if w == (Window{}) {
		return Window{DefaultStart, DefaultEnd}
	}
	return w
}

// Validate checks an account's window: inside 08:00–21:00 and not empty.
func (w Window) Validate() error {
	switch {
	case w == (Window{}):
		return nil
	case w.Start < DefaultStart || w.Start >= DefaultEnd:
		return problem.Invalidf("window_start_invalid", "sending_window.start", "the window opens from 08:00 to 20:59")
	case w.End <= DefaultStart || w.End > DefaultEnd:
		return problem.Invalidf("window_end_invalid", "sending_window.end", "the window closes from 08:01 to 21:00")
	case w.Start >= w.End:
		return problem.Invalidf("window_empty", "sending_window.end", "the window must close after it opens")
	}
	return nil
}

// ParseWindow reads a window written as local wall times, "09:00" to
// "20:00". It does not validate the span; see Validate.
func ParseWindow(start, end string) (Window, error) {
	s, ok := parseClock(start)
	if !ok {
		return Window{}, problem.Invalidf("invalid_time_of_day", "sending_window.start", "start must be a time of day such as 09:00")
	}
	e, ok := parseClock(end)
	if !ok {
		return Window{}, problem.Invalidf("invalid_time_of_day", "sending_window.end", "end must be a time of day such as 20:00")
	}
	return Window{s, e}, nil
}

// parseClock reads "HH:MM", 00:00 to 24:00, as minutes after midnight.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	var h, m int
	for i, c := range []byte(s[:2] + s[3:]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		if i < 2 {
			h = h*10 + int(c-'0')
		} else {
			m = m*10 + int(c-'0')
		}
	}
	if m > 59 || h > 24 || (h == 24 && m > 0) {
		return 0, false
	}
	return h*60 + m, true
}

// FormatClock writes minutes after midnight as "HH:MM".
func FormatClock(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// span is a stretch of a local day in minutes, [start, end); empty when
// start >= end.
type span struct{ start, end int }

func (s span) intersect(o span) span {
	return span{max(s.start, o.start), min(s.end, o.end)}
}

// stateRule is a US state's stricter law for marketing texts, applied to
// numbers of the state's area codes.
type stateRule struct {
	state string
	hours [7]span // by time.Weekday
	// dailyCap is the most marketing messages the law allows to one person
	// in 24 hours (on the same subject; Herald counts all marketing, which
	// is stricter); 0 when the state sets none.
	dailyCap int
}

func everyDay(start, end int) [7]span {
	var d [7]span
	for i := range d {
		d[i] = span{start, end}
	}
	return d
}

// federal is the rule where no state's is stricter.
var federal = &stateRule{hours: everyDay(DefaultStart, DefaultEnd)}

// stateRules are the states whose laws, as amended since 2021 to reach text
// messages, are stricter than the federal hours. A state's law protects its
// residents; Florida, Oklahoma and Connecticut presume that a number with one
// of their area codes belongs to one, and for Maryland and Texas the area
// code is the best sign of residence Herald has. Exemptions in the laws
// (prior express written consent in some, an existing business relationship
// in others) are not relied on: they vary and are disputed, and waiting
// costs a marketing message a few hours. Area codes were checked against
// libphonenumber's geocoding (see TestStateAreaCodes).
var stateRules = []struct {
	rule  stateRule
	codes string
}{
	// Florida Telephone Solicitation Act as amended by 2021 SB 1120:
	// § 501.616(6)(a) "before 8 a.m. or after 8 p.m. local time at the called
	// person's location", (6)(b) "more than three commercial telephone
	// solicitation phone calls ... over a 24-hour period on the same subject
	// matter or issue"; § 501.059 presumes a call to a Florida area code is
	// made to a Florida resident.
	{stateRule{state: "FL", hours: everyDay(8*60, 20*60), dailyCap: 3},
		"239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813 850 863 904 941 954"},
	// Oklahoma Telephone Solicitation Act of 2022 (HB 3168, 15 O.S.
	// § 775C.1 ff., in force 1 November 2022): 8:00 a.m. to 8:00 p.m. local
	// time, at most three calls or texts per 24 hours on the same subject,
	// and the same area-code presumption.
	{stateRule{state: "OK", hours: everyDay(8*60, 20*60), dailyCap: 3},
		"405 539 572 580 918"},
	// Maryland Stop the Spam Calls Act of 2023 (SB 90, Com. Law
	// § 14-4501 ff., in force 1 January 2024): 8:00 a.m. to 8:00 p.m. in the
	// called party's time zone, and at most three calls or text messages per
	// 24 hours about the same subject.
	{stateRule{state: "MD", hours: everyDay(8*60, 20*60), dailyCap: 3},
		"227 240 301 410 443 667"},
	// Connecticut, Gen. Stat. § 42-288a as amended by Public Act 23-98
	// (SB 1058, in force 1 October 2023): telephonic sales calls, text and
	// media messages included, only "between the hours of nine o'clock a.m.
	// and eight o'clock p.m. local time"; § 42-288(c) presumes a call to a
	// Connecticut area code takes place in the state.
	{stateRule{state: "CT", hours: everyDay(9*60, 20*60)}, "203 475 860 959"},
	// Texas, Bus. & Com. Code § 301.051, which 2025 SB 140 (in force
	// 1 September 2025) extended to text messages: not before 9 a.m. or
	// after 9 p.m. Monday to Saturday, nor before noon or after 9 p.m. on
	// Sunday.
	{stateRule{state: "TX", hours: texasHours()},
		"210 214 254 281 325 346 361 409 430 432 469 512 682 713 726 737 806 817 830 832 903 915 936 940 945 956 972 979"},
}

func texasHours() [7]span {
	d := everyDay(9*60, 21*60)
	d[time.Sunday] = span{12 * 60, 21 * 60}
	return d
}

// ruleByAreaCode indexes stateRules; it is built once and only read.
var ruleByAreaCode = func() map[string]*stateRule {
	m := make(map[string]*stateRule)
	for i := range stateRules {
		for _, code := range strings.Fields(stateRules[i].codes) {
			m[code] = &stateRules[i].rule
		}
	}
	return m
}()

// ruleFor returns the state rule for a +1 number, or the federal one.
func ruleFor(e164 string) *stateRule {
	if len(e164) == 12 && strings.HasPrefix(e164, "+1") {
		if r, ok := ruleByAreaCode[e164[2:5]]; ok {
			return r
		}
	}
	return federal
}

// Recipient is whom a marketing message is for: the number, normalised to
// E.164, the contact's own time zone when known, and the number's country
// (ISO 3166 alpha-2, as the contact keeps it) for numbers whose zone the
// numbering plan does not give.
type Recipient struct {
	E164     string
	TimeZone string
	Country  string
}

// maxAreaZones: libphonenumber answers a +1 number outside any geographic
// area code (500, 533, 8xx…) with every zone of the plan, from Guam to
// Newfoundland; more zones than an area code spans means "unknown".
const maxAreaZones = 4

// countryZones stand for a country whose number gives no zone. For the US
// and Canada they are the country's outermost mainland zones, so the window
// must be open from coast to coast (11:00–21:00 Eastern by default, 08:00
// to 16:30 Pacific in Canada).
var countryZones = map[string][]string{
	"US": {"America/New_York", "America/Los_Angeles"},
	"CA": {"America/St_Johns", "America/Vancouver"},
}

// zones returns where the recipient may be: the contact's own zone when it
// is set and real; otherwise the zones of the number's prefix (the area
// code and exchange in the North American plan) or of its country, all of
// which must be inside the window; otherwise UTC.
//
// The prefix lookup is libphonenumber's own, called directly: the numbers
// here were validated when their contacts were saved, and validating them
// again (phone.TimeZones does) costs 30–100 µs a message, most of a bulk
// send's budget.
func zones(r Recipient) []*time.Location {
	if r.TimeZone != "" {
		if loc, ok := location(r.TimeZone); ok {
			return []*time.Location{loc}
		}
	}
	var names []string
	if len(r.E164) > 1 && r.E164[0] == '+' {
		names, _ = phonenumbers.GetTimezonesForPrefix(r.E164)
	}
	if (len(names) > maxAreaZones && strings.HasPrefix(r.E164, "+1")) ||
		(len(names) == 1 && names[0] == phonenumbers.UNKNOWN_TIMEZONE) {
		names = nil
	}
	if len(names) == 0 {
		names = countryZones[r.Country]
	}
	return locationsOf(names)
}

// zoneSets memoises the locations of a list of zone names. The lists come
// from the numbering plan's data and the country table, so there are at
// most a few hundred of them.
var zoneSets sync.Map // joined names → []*time.Location

func locationsOf(names []string) []*time.Location {
	key := strings.Join(names, " ")
	if v, ok := zoneSets.Load(key); ok {
		return v.([]*time.Location)
	}
	locs := make([]*time.Location, 0, len(names))
	for _, name := range names {
		if loc, ok := location(name); ok {
			locs = append(locs, loc)
		}
	}
	if len(locs) == 0 {
		locs = []*time.Location{time.UTC}
	}
	zoneSets.Store(key, locs)
	return locs
}

// locations memoises time.LoadLocation, which reads and parses the zone
// file on every call (about 30 µs); a promotion asks for the same handful of
// zones for every recipient. Locations are immutable, so sharing them is
// safe, and the set of names is bounded by the zone database (unknown names
// are not kept).
var locations sync.Map // string → *time.Location

func location(name string) (*time.Location, bool) {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), true
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" || name == "" {
		return nil, false
	}
	locations.Store(name, loc)
	return loc, true
}

// horizon bounds the search for an opening; every rule opens at least once
// a week.
const horizon = 8 * Day

// NextOpen says when a marketing message to r may go out under the
// account's window w: now and true when the window is open now, otherwise
// the next opening (in UTC) and false.
//
// The window is open when the local time is inside w, the default hours and
// the hours of the state of the number's area code, in every zone the
// recipient may be in (see Recipient and zones). Should those zones share no
// open minute, or should the account's window and the state's hours not
// overlap, NextOpen falls back to the first zone alone and then to the legal
// hours alone, so it always answers, and never outside the legal hours of
// the zone it settles on.
func NextOpen(now time.Time, r Recipient, w Window) (time.Time, bool) {
	rule := ruleFor(r.E164)
	locs := zones(r)
	t, ok := nextCommon(now, locs, rule, w)
	if !ok {
		t, ok = nextCommon(now, locs[:1], rule, w)
	}
	if !ok {
		t, _ = nextCommon(now, locs[:1], rule, Window{})
	}
	if t.Equal(now) {
		return now, true
	}
	return t.UTC(), false
}

// nextCommon returns the first instant at or after now open in every zone.
func nextCommon(now time.Time, locs []*time.Location, rule *stateRule, w Window) (time.Time, bool) {
	t := now
	for range 64 {
		moved := false
		for _, loc := range locs {
			next, ok := nextInZone(t, loc, rule, w)
			if !ok {
				return time.Time{}, false
			}
			if next.After(t) {
				t, moved = next, true
			}
		}
		if !moved {
			return t, true
		}
		if t.Sub(now) > horizon {
			break
		}
	}
	return time.Time{}, false
}

// nextInZone returns the first instant at or after t that is open in loc.
// Openings and closings are local wall times, so on the day clocks change
// 08:00 is still 08:00.
func nextInZone(t time.Time, loc *time.Location, rule *stateRule, w Window) (time.Time, bool) {
	ew := w.Effective()
	want := span{ew.Start, ew.End}
	y, m, d := t.In(loc).Date()
	for day := range 8 {
		date := time.Date(y, m, d+day, 12, 0, 0, 0, loc)
		s := rule.hours[date.Weekday()].intersect(want).intersect(span{DefaultStart, DefaultEnd})
		if s.start >= s.end {
			continue
		}
		dy, dm, dd := date.Date()
		if open := clock.WallTime(dy, dm, dd, s.start/60, s.start%60, loc); t.Before(open) {
			return open, true
		}
		if t.Before(clock.WallTime(dy, dm, dd, s.end/60, s.end%60, loc)) {
			return t, true
		}
	}
	return time.Time{}, false
}
