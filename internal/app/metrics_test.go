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

			today := time.Now().UTC()
			q := metrics.Query{From: today.AddDate(0, 0, -1), To: today.AddDate(0, 0, 1), Interval: metrics.Day}
			var last *metrics.Report
			require.Eventually(t, func() bool {
				r, err := p.app.Metrics.Dashboard(context.Background(), p.acct, q)
				require.NoError(t, err)
				last = r
				return r.Totals.Delivered == 1 && r.Totals.Failed == 1 && r.Totals.OptOuts == 1
			}, 15*time.Second, 100*time.Millisecond, "the dashboard never caught up: %+v", last)
			require.Equal(t, int64(2), last.Totals.Created)
			require.Equal(t, int64(1), last.Totals.Sent, "the carrier refused the second when it was sent")
			require.InDelta(t, 0.5, *last.Totals.DeliveryRate, 1e-9)
			require.Len(t, last.ByTemplate, 1)
			require.Equal(t, "Receipt", last.ByTemplate[0].TemplateName)
		})
	}
}
