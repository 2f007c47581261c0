package api

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// daytimeZone names a fixed-offset zone where it is about noon now, so a
// test on the real clock can send marketing inside the sending window at
// any hour. (Etc/GMT+5 is UTC-5: the sign is POSIX's.)
func daytimeZone(now time.Time) string {
	offset := now.UTC().Hour() - 12 // hours behind UTC
	if offset >= 0 {
		return fmt.Sprintf("Etc/GMT+%d", offset)
	}
	return fmt.Sprintf("Etc/GMT-%d", -offset)
}

// daytimeContact makes an opted-in contact whose own zone is daytime now.
func (b *testBundle) daytimeContact(phone string) string {
	b.t.Helper()
	res := b.do("POST", "/api/v1/contacts", b.admin, map[string]any{"phone": phone, "first_name": "Ava",
		"sms_preference": "opted_in", "time_zone": daytimeZone(time.Now())})
	require.Equal(b.t, http.StatusCreated, res.status, "%s", res.body)
	return res.json(b.t)["id"].(string)
}

func TestMarketingSettings(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		defaults := map[string]any{
			"sending_window": map[string]any{"start": "08:00", "end": "21:00"},
			"frequency_cap":  map[string]any{"max": float64(1), "period_hours": float64(24)},
		}
		viewer := b.keyWithRole("viewer")
		res := b.do("GET", "/api/v1/settings/marketing", viewer, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, defaults, res.json(t))

		require.Equal(t, http.StatusForbidden, b.do("PUT", "/api/v1/settings/marketing", b.keyWithRole("editor"),
			map[string]any{"frequency_cap": map[string]any{"max": 1, "period_hours": 48}}).status)

		res = b.do("PUT", "/api/v1/settings/marketing", b.admin, map[string]any{
			"sending_window": map[string]any{"start": "09:30", "end": "20:00"}})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		res = b.do("PUT", "/api/v1/settings/marketing", b.admin, map[string]any{
			"frequency_cap": map[string]any{"max": 1, "period_hours": 72}})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		want := map[string]any{
			"sending_window": map[string]any{"start": "09:30", "end": "20:00"},
			"frequency_cap":  map[string]any{"max": float64(1), "period_hours": float64(72)},
		}
		require.Equal(t, want, res.json(t), "a field left out keeps its value")
		acct := b.do("GET", "/api/v1/account", viewer, nil).json(t)
		require.Equal(t, want["sending_window"], acct["sending_window"])
		require.Equal(t, want["frequency_cap"], acct["frequency_cap"])

		res = b.do("PUT", "/api/v1/settings/marketing", b.admin, defaults)
		require.Equal(t, defaults, res.json(t), "back to the defaults")

		// Another account's settings are its own.
		_, otherKey := b.newAccount("Other")
		require.Equal(t, defaults, b.do("GET", "/api/v1/settings/marketing", otherKey, nil).json(t))
	})
}

func TestMarketingSettingsRefuseBadInput(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	window := func(start, end any) map[string]any {
		return map[string]any{"sending_window": map[string]any{"start": start, "end": end}}
	}
	limit := func(max, hours any) map[string]any {
		return map[string]any{"frequency_cap": map[string]any{"max": max, "period_hours": hours}}
	}
	cases := []struct {
		name  string
		body  any
		code  string
		field string
	}{
		{"empty object", map[string]any{}, "required", ""},
		{"opens before 08:00", window("07:30", "20:00"), "window_start_invalid", "sending_window.start"},
		{"closes after 21:00", window("09:00", "21:30"), "window_end_invalid", "sending_window.end"},
		{"closes before it opens", window("18:00", "10:00"), "window_empty", "sending_window.end"},
		{"opens when it closes", window("10:00", "10:00"), "window_empty", "sending_window.end"},
		{"not a time of day", window("9am", "20:00"), "invalid_time_of_day", "sending_window.start"},
		{"minutes out of range", window("09:00", "20:75"), "invalid_time_of_day", "sending_window.end"},
		{"a number for a time", window(900, "20:00"), "invalid_type", "sending_window.start"},
		{"cap of zero", limit(0, 24), "cap_max_invalid", "frequency_cap.max"},
		{"cap above the law", limit(4, 24), "cap_max_invalid", "frequency_cap.max"},
		{"cap above the default", limit(2, 24), "cap_above_default", "frequency_cap.max"},
		{"period under a day", limit(1, 12), "cap_period_invalid", "frequency_cap.period_hours"},
		{"period over 30 days", limit(1, 721), "cap_period_invalid", "frequency_cap.period_hours"},
		{"fractional hours", limit(1, 24.5), "invalid_type", "frequency_cap.period_hours"},
		{"unknown field", map[string]any{"quiet_hours": true}, "unknown_field", "quiet_hours"},
		{"not JSON", "{", "malformed_json", ""},
	}
	for _, tc := range cases {
		res := b.do("PUT", "/api/v1/settings/marketing", b.admin, tc.body)
		require.Contains(t, []int{http.StatusUnprocessableEntity, http.StatusBadRequest}, res.status, "%s: %s", tc.name, res.body)
		require.Equal(t, tc.code, res.errorCode(t), tc.name)
		if tc.field != "" {
			require.Equal(t, tc.field, res.json(t)["error"].(map[string]any)["field"], tc.name)
		}
	}
	// A bad cap next to a good window changes neither.
	bad := map[string]any{"sending_window": map[string]any{"start": "10:00", "end": "18:00"},
		"frequency_cap": map[string]any{"max": 9, "period_hours": 24}}
	require.Equal(t, "cap_max_invalid", b.do("PUT", "/api/v1/settings/marketing", b.admin, bad).errorCode(t))
	got := b.do("GET", "/api/v1/settings/marketing", b.admin, nil).json(t)
	require.Equal(t, map[string]any{"start": "08:00", "end": "21:00"}, got["sending_window"])
}
