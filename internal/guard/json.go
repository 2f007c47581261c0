package guard

import (
	"encoding/json"
	"time"
)

// windowJSON is how the API writes a window: local wall times.
type windowJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// MarshalJSON writes the window that applies, {"start":"08:00","end":"21:00"}
// for the default.
func (w Window) MarshalJSON() ([]byte, error) {
	e := w.Effective()
	return json.Marshal(windowJSON{FormatClock(e.Start), FormatClock(e.End)})
}

// UnmarshalJSON reads a window written as MarshalJSON writes it, checking
// the times of day but not the span (see Validate).
func (w *Window) UnmarshalJSON(b []byte) error {
	var in windowJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	got, err := ParseWindow(in.Start, in.End)
	if err != nil {
		return err
	}
	*w = got
	return nil
}

// capJSON is how the API writes a cap: a count over whole hours.
type capJSON struct {
	Max         int `json:"max"`
	PeriodHours int `json:"period_hours"`
}

// MarshalJSON writes the cap that applies, {"max":1,"period_hours":24} for
// the default.
func (c Cap) MarshalJSON() ([]byte, error) {
	e := c.Effective()
	return json.Marshal(capJSON{e.Max, int(e.Period / time.Hour)})
}

// UnmarshalJSON reads a cap written as MarshalJSON writes it; see Validate.
func (c *Cap) UnmarshalJSON(b []byte) error {
	var in capJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*c = Cap{Max: in.Max, Period: time.Duration(in.PeriodHours) * time.Hour}
	return nil
}
