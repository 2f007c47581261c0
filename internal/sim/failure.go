package sim

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Failure makes the Messages API refuse requests, to test how Herald copes
// with a carrier under strain: a 429 storm, an outage, a flaky minute.
// Requests, For and Probability combine: with Requests 10 and Probability
// 0.5, the mode ends after ten refusals, about twenty requests.
type Failure struct {
	// Status is the HTTP status to answer: 429 (Twilio code 20429, with a
	// Retry-After header), or a 5xx (code 20500). 0 ends failures.
	Status int
	// Requests ends the mode after this many refusals; 0 means no limit.
	Requests int
	// For ends the mode this long after it is set, by Config.Clock; 0 means
	// no limit.
	For time.Duration
	// Probability refuses each request with this chance, in (0, 1]; 0 means
	// every request.
	Probability float64
	// RetryAfter is sent on a 429, in whole seconds rounded up; 0 means 1 s.
	RetryAfter time.Duration
}

// failureState is the current Failure. Its flag keeps the send path free of
// the mutex while no failure is set, which is almost always.
type failureState struct {
	active atomic.Bool
	mu     sync.Mutex
	f      Failure
	left   int       // refusals still to make when f.Requests > 0
	until  time.Time // end of the window when f.For > 0
}

// SetFailure starts a failure mode, replacing any current one. A zero
// Failure (Status 0) ends it.
func (s *Sim) SetFailure(f Failure) {
	st := &s.fail
	st.mu.Lock()
	defer st.mu.Unlock()
	st.f, st.left, st.until = f, f.Requests, time.Time{}
	if f.For > 0 {
		st.until = s.now().Add(f.For)
	}
	st.active.Store(f.Status != 0)
}

// check decides whether this request is refused, and with what: the error,
// and the Retry-After seconds for a 429.
func (st *failureState) check(now time.Time, draw func() float64) (apiError, int, bool) {
	if !st.active.Load() {
		return apiError{}, 0, false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	f := st.f
	if f.Status == 0 || (!st.until.IsZero() && !now.Before(st.until)) {
		st.active.Store(false)
		return apiError{}, 0, false
	}
	if f.Probability > 0 && draw() >= f.Probability {
		return apiError{}, 0, false
	}
	if f.Requests > 0 {
		st.left--
		if st.left <= 0 {
			st.f = Failure{}
			st.active.Store(false)
		}
	}
	return failureError(f.Status), retryAfterSeconds(f), true
}

func failureError(status int) apiError {
	switch {
	case status == http.StatusTooManyRequests:
		return apiError{status, 20429, "Too Many Requests"}
	case status >= 500:
		return apiError{status, 20500, "An internal server error has occurred"}
	default:
		return apiError{status, 0, http.StatusText(status)}
	}
}

func retryAfterSeconds(f Failure) int {
	if f.Status != http.StatusTooManyRequests {
		return 0
	}
	if f.RetryAfter <= 0 {
		return 1
	}
	return int((f.RetryAfter + time.Second - 1) / time.Second)
}
