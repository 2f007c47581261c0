package automation

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/clock"
)

// Day is 24 hours. Herald's "d" suffix means exactly this, not a calendar
// day: a "3d" wait that spans a daylight-saving change lasts 72 hours, one
// hour more or less on the recipient's clock. The sending window, applied
// when the message goes out, is what keeps it at a decent local hour.
const Day = 24 * time.Hour

// maxDayDigits bounds the day count so that it cannot overflow a Duration
// (about 106,751 days).
const maxDayDigits = 5

// ParseDuration reads a wait such as "90m", "72h" or "3d": Go's duration
// syntax (time.ParseDuration) with a leading whole number of days allowed,
// alone or followed by a Go duration ("1d12h"). Marketers think in days, and
// "240h" is how a reminder ten days out reads otherwise.
func ParseDuration(s string) (time.Duration, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i == len(s) || s[i] != 'd' {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("automation: duration %q: use a number and a unit (m, h or d), such as 30m, 72h or 3d", s)
		}
		return d, nil
	}
	if i > maxDayDigits {
		return 0, fmt.Errorf("automation: duration %q is too long", s)
	}
	days, _ := strconv.Atoi(s[:i]) // at most five digits
	total := time.Duration(days) * Day
	rest := s[i+1:]
	if rest == "" {
		return total, nil
	}
	if rest[0] == '+' || rest[0] == '-' {
		return 0, fmt.Errorf("automation: duration %q: a sign may only lead", s)
	}
	d, err := time.ParseDuration(rest)
	if err != nil || d > (1<<63-1)-total {
		return 0, fmt.Errorf("automation: duration %q: use a number and a unit (m, h or d), such as 30m, 72h or 3d", s)
	}
	return total + d, nil
}

// Cron is a parsed standard five-field cron expression: minute, hour, day of
// month, month and day of week.
//
// Herald parses cron itself rather than through a library because the
// library most Go code uses, robfig/cron v3, silently skips a run whose local
// time falls in the hour that clocks skip in spring (its pull request #541,
// which would fix that, is unmerged), and a skipped promotion is exactly what
// a marketer would not notice. Five fields are little code; the behaviour at
// daylight-saving changes is Vixie/ISC cron's and is documented on Next.
type Cron struct {
	minute uint64 // bit n set: minute n runs
	hour   uint64
	dom    uint64 // bits 1–31
	month  uint64 // bits 1–12
	dow    uint64 // bits 0–6, Sunday is 0
	// domStar and dowStar record a field written starting with '*'. As in
	// Vixie cron, when both day fields are restricted a day matches either
	// of them; when one starts with '*', a day must match both.
	domStar, dowStar bool
}

// cronField describes one field of a cron expression.
type cronField struct {
	name     string
	min, max int
	names    []string // names[i] is value min+i, matched case-insensitively
}

var cronFields = [5]cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	// Day of week accepts 7 for Sunday too, folded onto 0 after parsing.
	{name: "day of week", min: 0, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}

// ParseCron parses a five-field expression such as "0 10 * * MON". Each
// field is "*", a value, a range "a-b", either with a step ("*/15",
// "9-17/2", "5/10" meaning 5 to the end by 10), or a comma-separated list of
// those. Months and days of week may be named (JAN, MON). Shorthands such
// as "@daily" and a seconds field are not accepted.
func ParseCron(spec string) (Cron, error) {
	parts := strings.Fields(spec)
	if len(parts) != 5 {
		return Cron{}, fmt.Errorf("automation: cron %q: want 5 fields (minute hour day-of-month month day-of-week), got %d", spec, len(parts))
	}
	var masks [5]uint64
	for i, p := range parts {
		m, err := parseCronField(p, cronFields[i])
		if err != nil {
			return Cron{}, fmt.Errorf("automation: cron %q: %s: %w", spec, cronFields[i].name, err)
		}
		masks[i] = m
	}
	if masks[4]&(1<<7) != 0 {
		masks[4] = masks[4]&^(1<<7) | 1
	}
	return Cron{
		minute: masks[0], hour: masks[1], dom: masks[2], month: masks[3], dow: masks[4],
		domStar: parts[2][0] == '*', dowStar: parts[4][0] == '*',
	}, nil
}

func parseCronField(s string, f cronField) (uint64, error) {
	var mask uint64
	for item := range strings.SplitSeq(s, ",") {
		rng, stepText, hasStep := strings.Cut(item, "/")
		lo, hi := f.min, f.max
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = cronValue(a, f); err != nil {
				return 0, err
			}
			hi = lo
			switch {
			case isRange:
				if hi, err = cronValue(b, f); err != nil {
					return 0, err
				}
			case hasStep:
				hi = f.max
			}
			if lo > hi {
				return 0, fmt.Errorf("range %q runs backwards", rng)
			}
		}
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 || n > f.max {
				return 0, fmt.Errorf("step %q is not a number from 1 to %d", stepText, f.max)
			}
			step = n
		}
		for v := lo; v <= hi; v += step {
			mask |= 1 << v
		}
	}
	return mask, nil
}

func cronValue(s string, f cronField) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < f.min || n > f.max || len(s) > 2 {
		return 0, fmt.Errorf("%q is not a value from %d to %d", s, f.min, f.max)
	}
	return n, nil
}

// cronHorizon bounds the search for the next run. Eight years covers every
// satisfiable expression from any starting day: the rarest, the 29th of
// February, recurs at most eight years apart (2096, 2104).
const cronHorizon = 8*366 + 1

// Next returns the first time after after at which the schedule fires in
// loc, and false if it never does (as with "0 0 30 2 *").
//
// Daylight-saving changes follow Vixie/ISC cron: a run whose local time is
// skipped when clocks go forward fires at the moment they jump (a 02:30 run
// fires at 03:00 on that day), and a run whose local time happens twice when
// clocks go back fires once, at the first. So a daily 10:00 promotion goes
// out at 10:00 local on both sides of a change.
func (c Cron) Next(after time.Time, loc *time.Location) (time.Time, bool) {
	local := after.In(loc)
	y, mo, d := local.Date()
	for day := 0; day < cronHorizon; day++ {
		date := time.Date(y, mo, d+day, 12, 0, 0, 0, loc)
		if !c.matchesDay(date) {
			continue
		}
		dy, dm, dd := date.Date()
		for h := range 24 {
			if c.hour&(1<<h) == 0 || (day == 0 && h < local.Hour()-3) {
				continue // 3 h is more than any clock change moves a time
			}
			for m := range 60 {
				if c.minute&(1<<m) == 0 {
					continue
				}
				if t := clock.WallTime(dy, dm, dd, h, m, loc); t.After(after) {
					return t.UTC(), true
				}
			}
		}
	}
	return time.Time{}, false
}

func (c Cron) matchesDay(t time.Time) bool {
	if c.month&(1<<int(t.Month())) == 0 {
		return false
	}
	dom := c.dom&(1<<t.Day()) != 0
	dow := c.dow&(1<<int(t.Weekday())) != 0
	if c.domStar || c.dowStar {
		return dom && dow
	}
	return dom || dow
}

// errNoSchedule is returned for a schedule trigger with neither at nor cron.
var errNoSchedule = errors.New("automation: schedule trigger has neither at nor cron")

// Next returns when a schedule trigger fires next after after: its at time
// once (and never again once past), or its cron expression's next run in its
// time zone. Event triggers, and schedule triggers that do not validate,
// return false.
func (t Trigger) Next(after time.Time) (time.Time, bool) {
	if t.Type != TriggerSchedule {
		return time.Time{}, false
	}
	s, err := t.schedule()
	if err != nil {
		return time.Time{}, false
	}
	if s.cron == nil {
		if s.at.After(after) {
			return s.at, true
		}
		return time.Time{}, false
	}
	return s.cron.Next(after, s.loc)
}

// maxCronBytes bounds a cron expression; the longest sensible one, every
// field a list, fits in a fraction of it.
const maxCronBytes = 200

// parsedSchedule is a schedule trigger read once.
type parsedSchedule struct {
	at   time.Time // when cron is nil
	cron *Cron
	loc  *time.Location
}

// schedule parses the trigger's at, or cron and time zone; errors name the
// JSON field at fault, for Validate.
func (t Trigger) schedule() (parsedSchedule, error) {
	switch {
	case t.At != "" && t.Cron != "":
		return parsedSchedule{}, invalid("schedule_ambiguous", "trigger.at", "give either at or cron, not both")
	case t.At != "":
		at, err := time.Parse(time.RFC3339, t.At)
		if err != nil {
			return parsedSchedule{}, invalid("at_invalid", "trigger.at", "at must be an RFC 3339 time with an offset, such as 2026-12-01T15:00:00Z")
		}
		if t.TimeZone != "" {
			return parsedSchedule{}, invalid("time_zone_not_allowed", "trigger.time_zone", "at carries its own offset; time_zone goes with cron")
		}
		return parsedSchedule{at: at.UTC()}, nil
	case t.Cron != "":
		if len(t.Cron) > maxCronBytes {
			return parsedSchedule{}, invalid("cron_invalid", "trigger.cron", "a cron expression has at most %d characters", maxCronBytes)
		}
		c, err := ParseCron(t.Cron)
		if err != nil {
			return parsedSchedule{}, invalid("cron_invalid", "trigger.cron", "%s", strings.TrimPrefix(err.Error(), "automation: "))
		}
		loc, err := loadZone(t.TimeZone, "trigger.time_zone")
		if err != nil {
			return parsedSchedule{}, err
		}
		return parsedSchedule{cron: &c, loc: loc}, nil
	}
	return parsedSchedule{}, errNoSchedule
}

// loadZone loads an IANA zone named in a definition. An empty name and
// "Local" are refused: the first would silently mean UTC and the second the
// server's own zone, neither of which a marketer meant.
func loadZone(name, field string) (*time.Location, error) {
	if name == "" {
		return nil, invalid("time_zone_required", field, "give the IANA time zone the schedule is read in, such as America/Chicago")
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, invalid("time_zone_invalid", field, "%q is not an IANA time zone such as America/Chicago", name)
	}
	return loc, nil
}
