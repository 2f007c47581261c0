package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/metrics"
)

// TestDashboardFollowsTheCarrier sends through the simulator and waits for
// the running server's fold to bring the dashboard up to date: the carrier's
// delivery, its failure and the opt-out it caused all show within seconds.
func TestDashboardFollowsTheCarrier(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, dbtest.Options(t, e), 50)
			ok := p.contact("+17346263333", consent.OptedIn)
			p.waitStatus(p.send(ok, 1).ID, message.Delivered)
			gone := p.contact("+14155550142", consent.OptedIn)
			p.app.Sim.SetUnsubscribed("+14155550142", true)
			p.waitStatus(p.send(gone, 2).ID, message.Failed)

			last := p.dashboardOnceTotals(func(c metrics.Totals) bool {
				return c.Delivered == 1 && c.Failed == 1 && c.OptOuts == 1
			})
			require.Equal(t, int64(2), last.Totals.Created)
			require.Equal(t, int64(1), last.Totals.Sent, "the carrier refused the second when it was sent")
			require.InDelta(t, 0.5, *last.Totals.DeliveryRate, 1e-9)
			require.Len(t, last.ByTemplate, 1)
			require.Equal(t, "Receipt", last.ByTemplate[0].TemplateName)
		})
	}
}

// dashboardOnceTotals waits for the running server's fold until the
// dashboard's totals around today satisfy caught, and returns that report.
func (p *pipeline) dashboardOnceTotals(caught func(metrics.Totals) bool) *metrics.Report {
	p.t.Helper()
	today := time.Now().UTC()
	q := metrics.Query{From: today.AddDate(0, 0, -1), To: today.AddDate(0, 0, 1), Interval: metrics.Day}
	var last *metrics.Report
	require.Eventually(p.t, func() bool {
		r, err := p.app.Metrics.Dashboard(context.Background(), p.acct, q)
		require.NoError(p.t, err)
		last = r
		return caught(r.Totals)
	}, 15*time.Second, 100*time.Millisecond, "the dashboard never caught up: %+v", last)
	return last
}
