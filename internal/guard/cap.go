package guard

import (
	"time"

	"github.com/heraldsms/herald/internal/problem"
)

// Cap limits how many marketing messages one contact gets, across all of
// an account's programs: at most Max in any Period. The zero Cap is the
// default, one a day.
type Cap struct {
	Max    int
	Period time.Duration
}

// Bounds of an account's Cap. The default is one marketing message per
// contact per 24 hours; an account may only tighten it, with a longer
// period (at most 30 days) or, were the default ever raised, a smaller
// maximum. LegalMax is the most any state allows in 24 hours (Florida,
// Oklahoma, Maryland: three), a ceiling no setting can pass. Period is at
// least a day so that a count over it also bounds the count over the 24
// hours the state laws speak of.
const (
	DefaultCapMax    = 1
	DefaultCapPeriod = Day
	LegalMax         = 3
	MaxCapPeriod     = 30 * Day
)

// Effective returns the cap that applies: the default for the zero Cap.
func (c Cap) Effective() Cap {
	if c == (Cap{}) {
		return Cap{Max: DefaultCapMax, Period: DefaultCapPeriod}
	}
	return c
}

// Validate checks an account's cap: 1 to LegalMax messages, never more
// than the default allows, over whole hours from a day to 30 days.
func (c Cap) Validate() error {
	switch {
	case c == (Cap{}):
		return nil
	case c.Max < 1 || c.Max > LegalMax:
		return problem.Invalidf("cap_max_invalid", "frequency_cap.max", "max is from 1 to %d messages", LegalMax)
	case c.Max > DefaultCapMax:
		return problem.Invalidf("cap_above_default", "frequency_cap.max",
			"an account may only tighten the cap: at most %d message per %d hours, or fewer over a longer period",
			DefaultCapMax, int(DefaultCapPeriod/time.Hour))
	case c.Period < Day || c.Period > MaxCapPeriod || c.Period%time.Hour != 0:
		return problem.Invalidf("cap_period_invalid", "frequency_cap.period_hours", "period_hours is a whole number from 24 to 720")
	}
	return nil
}

// StateLimit returns the most marketing messages a state's law allows to
// the holder of e164 in 24 hours, for CapAllows, or 0 when no state limit
// applies. e164 is a normalised number such as "+13055550123".
func StateLimit(e164 string) int {
	return ruleFor(e164).dailyCap
}

// CapAllows decides whether one more marketing message may go to a contact
// who has had sentInPeriod of them in the last cap.Period (24 hours for the
// default cap). stateLimit is StateLimit of the contact's number: a state's
// per-24-hour maximum, which no account setting can exceed. A zero or
// invalid cap means the default.
func CapAllows(sentInPeriod int, c Cap, stateLimit int) bool {
	if c.Validate() != nil {
		c = Cap{}
	}
	c = c.Effective()
	limit := c.Max
	if stateLimit > 0 {
		limit = min(limit, stateLimit)
	}
	return sentInPeriod < limit
}
