// Package clock lets code ask for the time through a value, so tests can
// move time forward instead of sleeping.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time. Times are UTC and truncated to microseconds, the
// precision both database engines keep, so a value read back equals the
// value written.
type Clock interface {
	Now() time.Time
}

// System is the real clock.
type System struct{}

// Now returns the current time in UTC, to the microsecond.
func (System) Now() time.Time { return Normalize(time.Now()) }

// Normalize makes t comparable with a stored timestamp: UTC, microseconds,
// no monotonic reading.
func Normalize(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Fake is a clock that only moves when told to. It is safe for concurrent use.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a fake clock set to t.
func NewFake(t time.Time) *Fake { return &Fake{now: Normalize(t)} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the fake time forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = Normalize(f.now.Add(d))
}

// Set moves the fake time to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = Normalize(t)
}

// WallTime returns the first instant at which loc's clocks read the given
// date and time. When clocks skip that reading (spring forward), it returns
// the instant they jump over it; when they read it twice (fall back), the
// earlier of the two. time.Date alone guarantees neither.
func WallTime(y int, mo time.Month, d, h, m int, loc *time.Location) time.Time {
	t := time.Date(y, mo, d, h, m, 0, 0, loc)
	want := time.Date(y, mo, d, h, m, 0, 0, time.UTC)
	ty, tmo, td := t.Date()
	got := time.Date(ty, tmo, td, t.Hour(), t.Minute(), 0, 0, time.UTC)
	start, end := t.ZoneBounds()
	switch {
	case got.After(want): // normalised forward across the gap
		return start
	case got.Before(want): // normalised backward: the gap ends where t's zone does
		return end
	}
	if start.IsZero() {
		return t
	}
	_, off := t.Zone()
	_, prevOff := start.Add(-time.Nanosecond).Zone()
	if prevOff <= off {
		return t
	}
	// Clocks went back at start; the same reading may have occurred before.
	if earlier := t.Add(-time.Duration(prevOff-off) * time.Second); earlier.Before(start) {
		return earlier
	}
	return t
}
