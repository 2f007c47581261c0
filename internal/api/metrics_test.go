package api

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// metricsFixture is an account that sent three messages today: two for a
// program with one template, one with another template and no program.
type metricsFixture struct {
	program, referral, reminder string
	from, to                    string // yesterday and tomorrow in New York, the account's zone
}

func makeMetricsData(t *testing.T, b *testBundle) metricsFixture {
	t.Helper()
	b.enableSMS(b.acct, 100)
	var f metricsFixture
	res := b.do("POST", "/api/v1/programs", b.admin, map[string]any{"name": "Refer a friend"})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	f.program = res.json(t)["id"].(string)
	f.referral = b.approvedTemplate(b.admin, "transactional", "Hi {{first_name}}, your friend joined!")
	f.reminder = b.approvedTemplate(b.admin, "transactional", "Hi {{first_name}}, your points expire soon.")
	contactID := b.contactWith(b.admin, "+17346263333", "opted_in")
	for _, send := range []map[string]any{
		{"contact_id": contactID, "template_id": f.referral, "program_id": f.program},
		{"contact_id": contactID, "template_id": f.referral, "program_id": f.program},
		{"contact_id": contactID, "template_id": f.reminder},
	} {
		res := b.do("POST", "/api/v1/messages", b.admin, send)
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
	}
	_, err := b.srv.Metrics.Fold(context.Background())
	require.NoError(t, err)
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	today := time.Now().In(ny)
	f.from, f.to = today.AddDate(0, 0, -1).Format("2006-01-02"), today.AddDate(0, 0, 1).Format("2006-01-02")
	return f
}

func metricsPath(params map[string]string) string {
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	return "/api/v1/metrics/sms?" + q.Encode()
}

func TestSMSMetrics(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		f := makeMetricsData(t, b)
		viewer := b.keyWithRole(account.RoleViewer)

		res := b.do("GET", metricsPath(map[string]string{"from": f.from, "to": f.to}), viewer, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		body := res.json(t)
		require.Equal(t, f.from, body["from"])
		require.Equal(t, f.to, body["to"])
		require.Equal(t, "day", body["interval"])
		require.Equal(t, "America/New_York", body["time_zone"])
		require.Len(t, body["series"], 3, "one point a day, empty days included")
		totals := body["totals"].(map[string]any)
		require.EqualValues(t, 3, totals["created"])
		require.EqualValues(t, 0, totals["sent"])
		require.Nil(t, totals["delivery_rate"], "nothing has reached an outcome yet")
		byTemplate := body["by_template"].([]any)
		require.Len(t, byTemplate, 2)
		busiest := byTemplate[0].(map[string]any)
		require.Equal(t, f.referral, busiest["template_id"])
		require.Equal(t, "T transactional", busiest["template_name"])
		require.EqualValues(t, 2, busiest["created"])
		byProgram := body["by_program"].([]any)
		require.Len(t, byProgram, 2, "the program, and no program")
		require.Equal(t, "Refer a friend", byProgram[0].(map[string]any)["program_name"])
		require.Nil(t, byProgram[1].(map[string]any)["program_id"])

		res = b.do("GET", metricsPath(map[string]string{"from": f.from, "to": f.to, "template_id": f.reminder,
			"interval": "week"}), viewer, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		body = res.json(t)
		require.EqualValues(t, 1, body["totals"].(map[string]any)["created"])
		require.Equal(t, f.reminder, body["template_id"])
		require.Len(t, body["by_template"], 1)

		res = b.do("GET", metricsPath(map[string]string{"program_id": f.program}), viewer, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		body = res.json(t)
		require.Len(t, body["series"], 30, "the last 30 days by default")
		require.EqualValues(t, 2, body["totals"].(map[string]any)["created"])

		// Another account sees none of it.
		_, otherKey := b.newAccount("Other Co")
		res = b.do("GET", metricsPath(map[string]string{"from": f.from, "to": f.to}), otherKey, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.EqualValues(t, 0, res.json(t)["totals"].(map[string]any)["created"])
		require.NotContains(t, string(res.body), f.referral)
	})
}

func TestSMSMetricsRefusesBadInput(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	f := makeMetricsData(t, b)
	_, otherKey := b.newAccount("Other Co")
	res := b.do("POST", "/api/v1/programs", otherKey, map[string]any{"name": "Theirs"})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	theirProgram := res.json(t)["id"].(string)
	res = b.do("POST", "/api/v1/templates", otherKey, map[string]any{"name": "Theirs", "kind": "transactional", "body": "Hello"})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	theirTemplate := res.json(t)["id"].(string)

	cases := []struct {
		name        string
		params      map[string]string
		code, field string
	}{
		{"a month that does not exist", map[string]string{"from": "2026-13-01"}, "invalid_date", "from"},
		{"not a date", map[string]string{"to": "last week"}, "invalid_date", "to"},
		{"from after to", map[string]string{"from": "2026-03-02", "to": "2026-03-01"}, "invalid_range", "from"},
		{"two years", map[string]string{"from": "2024-01-01", "to": "2026-01-01", "interval": "month"}, "range_too_large", "from"},
		{"40 days of hours", map[string]string{"from": "2026-01-01", "to": "2026-02-09", "interval": "hour"}, "range_too_large", "interval"},
		{"an unknown interval", map[string]string{"interval": "quarter"}, "invalid_interval", "interval"},
		{"another account's program", map[string]string{"program_id": theirProgram}, "unknown_program", "program_id"},
		{"no such program", map[string]string{"program_id": "prg_nothing"}, "unknown_program", "program_id"},
		{"another account's template", map[string]string{"template_id": theirTemplate}, "unknown_template", "template_id"},
	}
	for _, tc := range cases {
		res := b.do("GET", metricsPath(tc.params), b.admin, nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.status, "%s: %s", tc.name, res.body)
		require.Equal(t, tc.code, res.errorCode(t), tc.name)
		require.Equal(t, tc.field, res.json(t)["error"].(map[string]any)["field"], tc.name)
	}
	// The program's own account reads it.
	res = b.do("GET", metricsPath(map[string]string{"program_id": f.program}), b.admin, nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	require.Equal(t, http.StatusUnauthorized, b.do("GET", metricsPath(nil), "", nil).status)
}
