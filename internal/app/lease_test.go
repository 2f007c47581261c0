package app_test

import (
	"context"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/app"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/delivery"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/sim"
)

// Two Herald processes share one PostgreSQL database: the number is
// dispatched by one of them at a time, so the carrier sees its rate held
// and every message once; when that process stops, the other takes over.
func TestTwoProcessesShareANumber(t *testing.T) {
	t.Parallel()
	const mps, n = 10, 30
	dbOpts := dbtest.Options(t, db.Postgres)
	shortLease := app.WithDelivery(func(c *delivery.Config) { c.Poll, c.LeaseFor = 20*time.Millisecond, 2*time.Second })
	first := startPipeline(t, dbOpts, mps, shortLease)
	// A carrier both processes share, as they would share Twilio.
	carrier := sim.New(sim.Config{})
	t.Cleanup(carrier.Close)
	carrierSrv := httptest.NewServer(carrier.Handler())
	t.Cleanup(carrierSrv.Close)
	_, err := first.app.Accounts.Configure(context.Background(), first.acct, account.Setup{Twilio: &account.TwilioSetup{
		AccountSID: simSID, AuthToken: "sim-token", BaseURL: carrierSrv.URL}})
	require.NoError(t, err)

	ln, err2 := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err2)
	second := &pipeline{t: t, cfg: first.cfg, acct: first.acct, template: first.template, number: first.number}
	second.cfg.Addr, second.cfg.PublicURL = ln.Addr().String(), "http://"+ln.Addr().String()
	second.open(ln, shortLease)

	var ids []string
	for i := 0; i < n; i++ {
		c := first.contact(phoneN(i), consent.OptedIn)
		ids = append(ids, second.send(c, i).ID) // accepted by either process
	}
	for _, id := range ids[:n/3] {
		first.waitStatus(id, message.Sent, message.Delivered)
	}
	// The lease holder stops; the other process takes the number over.
	var holder string
	require.NoError(t, first.app.DB.Read().QueryRowContext(context.Background(),
		`SELECT holder FROM number_leases WHERE number_id = $1`, first.number).Scan(&holder))
	require.NotEmpty(t, holder)
	first.stop()
	for _, id := range ids {
		// Sent is enough: a status callback addressed to the stopped
		// process has nowhere to go in this test (in a cluster the public
		// URL is the load balancer's).
		second.waitStatus(id, message.Sent, message.Delivered)
	}
	got := carrier.Received()
	require.Len(t, got, n, "each message reached the carrier once")
	require.LessOrEqual(t, sim.MostInWindow(got, 2*time.Second), 2*mps, "the number's rate held across processes")
}
