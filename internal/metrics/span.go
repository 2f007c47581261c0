package metrics

import (
	"sort"
	"time"

	"github.com/heraldsms/herald/internal/problem"
)

// Interval is the width of one point of the series.
type Interval string

// The intervals. Days, weeks (Monday to Sunday) and months are the
// account's, in its time zone; hours are UTC hours, shown in local time.
const (
	Hour  Interval = "hour"
	Day   Interval = "day"
	Week  Interval = "week"
	Month Interval = "month"
)

// Limits of one query. The rollups are hourly, so the range bounds the rows
// a query sums (400 days × 24 hours × the account's templates) and the
// bucket cap bounds the series (31 days of hours).
const (
	MaxDays    = 400
	MaxBuckets = 744
	// defaultDays is the range when from is not given: the last 30 days.
	defaultDays = 30
)

const dateLayout = "2006-01-02"

// Query asks for an account's dashboard.
type Query struct {
	// From and To are dates in the account's time zone, both included.
	// Zero values mean the last 30 days up to today.
	From, To   time.Time
	Interval   Interval
	ProgramID  string
	TemplateID string
}

// ParseQuery reads a Query from URL parameters (from, to, interval,
// program_id, template_id), with stable codes for what is wrong.
func ParseQuery(get func(string) string) (Query, error) {
	q := Query{Interval: Interval(get("interval")), ProgramID: get("program_id"), TemplateID: get("template_id")}
	switch q.Interval {
	case "":
		q.Interval = Day
	case Hour, Day, Week, Month:
	default:
		return q, problem.Invalidf("invalid_interval", "interval", "interval must be hour, day, week or month; got %q", q.Interval)
	}
	var err error
	if q.From, err = parseDate(get("from"), "from"); err != nil {
		return q, err
	}
	if q.To, err = parseDate(get("to"), "to"); err != nil {
		return q, err
	}
	return q, nil
}

func parseDate(s, field string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(dateLayout, s)
	if err != nil || d.Year() < 2000 {
		return time.Time{}, problem.Invalidf("invalid_date", field, "%s must be a date like 2026-03-31 (from 2000 on); got %q", field, s)
	}
	return d, nil
}

// span is a query's range laid out in buckets.
type span struct {
	from, to time.Time // the effective dates, whole weeks or months for those intervals
	loc      *time.Location
	start    time.Time   // the first instant of from
	starts   []time.Time // each bucket's first instant, ascending
	end      time.Time   // the instant the last bucket ends
}

// plan resolves a query's dates against today (in loc) and lays out its
// buckets. Weeks and months widen the range to whole ones.
func plan(q Query, loc *time.Location, today time.Time) (span, error) {
	to, from := q.To, q.From
	if to.IsZero() {
		to = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, 1-defaultDays)
	}
	if from.After(to) {
		return span{}, problem.Invalidf("invalid_range", "from", "from (%s) is after to (%s)", from.Format(dateLayout), to.Format(dateLayout))
	}
	switch q.Interval {
	case Week:
		from = from.AddDate(0, 0, -(int(from.Weekday())+6)%7)
		to = to.AddDate(0, 0, (7-int(to.Weekday()))%7)
	case Month:
		from = time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
		to = time.Date(to.Year(), to.Month()+1, 0, 0, 0, 0, 0, time.UTC)
	}
	if days := int(to.Sub(from).Hours()/24) + 1; days > MaxDays {
		return span{}, problem.Invalidf("range_too_large", "from", "the range covers %d days; at most %d at a time", days, MaxDays)
	}
	// UTC, as the rollups keep time: SQLite compares timestamps as text.
	s := span{from: from, to: to, loc: loc, start: midnight(from, loc).UTC(), end: midnight(to.AddDate(0, 0, 1), loc).UTC()}
	s.starts = bucketStarts(from, to, q.Interval, loc)
	if len(s.starts) > MaxBuckets {
		return span{}, problem.Invalidf("range_too_large", "interval",
			"%d %ss is too many points; at most %d: pick a shorter range or a wider interval", len(s.starts), q.Interval, MaxBuckets)
	}
	return s, nil
}

// midnight is the first instant of a date (given as UTC midnight) in loc.
func midnight(d time.Time, loc *time.Location) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
}

// bucketStarts lists the first instant of each bucket from from to to.
// Hour buckets are the rollups' UTC hours; in a zone whose offset is not a
// whole number of hours a day then starts with its first whole UTC hour.
func bucketStarts(from, to time.Time, iv Interval, loc *time.Location) []time.Time {
	var out []time.Time
	if iv == Hour {
		start, end := midnight(from, loc), midnight(to.AddDate(0, 0, 1), loc)
		h := start.Truncate(time.Hour)
		if h.Before(start) {
			h = h.Add(time.Hour)
		}
		for ; h.Before(end) && len(out) <= MaxBuckets; h = h.Add(time.Hour) {
			out = append(out, h)
		}
		return out
	}
	for d := from; !d.After(to) && len(out) <= MaxBuckets; d = next(d, iv) {
		out = append(out, midnight(d, loc))
	}
	return out
}

func next(d time.Time, iv Interval) time.Time {
	switch iv {
	case Week:
		return d.AddDate(0, 0, 7)
	case Month:
		return d.AddDate(0, 1, 0)
	}
	return d.AddDate(0, 0, 1)
}

// bucketOf returns the index of the bucket an hour of the rollups falls in:
// the last bucket that starts at or before it. Hours outside the span are
// never read, so the index is always valid for them.
func (s span) bucketOf(hour time.Time) int {
	i := sort.Search(len(s.starts), func(i int) bool { return s.starts[i].After(hour) }) - 1
	return max(i, 0)
}

// bucketEnd is the instant bucket i ends.
func (s span) bucketEnd(i int) time.Time {
	if i+1 < len(s.starts) {
		return s.starts[i+1]
	}
	return s.end
}

// part is a stretch of a span read from one rollup.
type part struct {
	from, to time.Time
	daily    bool
}

// parts splits the span into whole UTC days, read from the daily rollup,
// and the hours before and after them, read from the hourly one.
func (s span) parts() []part {
	firstDay := s.start.Truncate(24 * time.Hour)
	if firstDay.Before(s.start) {
		firstDay = firstDay.Add(24 * time.Hour)
	}
	lastDay := s.end.Truncate(24 * time.Hour)
	if !firstDay.Before(lastDay) {
		return []part{{from: s.start, to: s.end}}
	}
	out := []part{{from: firstDay, to: lastDay, daily: true}}
	if s.start.Before(firstDay) {
		out = append(out, part{from: s.start, to: firstDay})
	}
	if lastDay.Before(s.end) {
		out = append(out, part{from: lastDay, to: s.end})
	}
	return out
}
