package delivery_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/provider"
	"github.com/heraldsms/herald/internal/provider/twilio"
	"github.com/heraldsms/herald/internal/sim"
)

// stalled holds every carrier call made before release until then, as a
// process stalled between a send's start and the wire would (the
// scheduler, the collector), and then makes it.
type stalled struct {
	provider.Provider
	release time.Time
}

func (s stalled) Send(ctx context.Context, m provider.Message) (provider.Result, error) {
	time.Sleep(time.Until(s.release))
	return s.Provider.Send(ctx, m)
}

// Sends held up between their start and the wire do not reach the carrier
// in a bunch with the sends started after them: the next send starts only
// once the one before it is on the wire, so the carrier, counting requests
// as they arrive, never sees the number's rate exceeded.
func TestAStallBeforeTheWireDoesNotBunchTheSends(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		// At 20 mps, 90 % of the rate is 18 sends a second and the bucket
		// holds one more; with the held-up send that makes 20, one below
		// what the test allows, which leaves room for the carrier's own
		// jitter (at 10 mps there would be none).
		const mps, n = 20, 48
		b := setup(t, d, utc(t, "2026-06-15T16:00:00Z")) // noon in New York
		carrier := sim.New(sim.Config{})
		t.Cleanup(carrier.Close)
		srv := httptest.NewServer(carrier.Handler())
		t.Cleanup(srv.Close)
		nums := []account.NumberInput{{Phone: "+18885550100", Kind: account.NumberBoth, MPS: mps}}
		_, err := b.accounts.Configure(b.ctx, b.acct, account.Setup{Numbers: &nums, Twilio: &account.TwilioSetup{
			AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "t", BaseURL: srv.URL}})
		require.NoError(t, err)
		var ids []string
		for i := range n {
			ids = append(ids, b.create(t, b.contact(t, phoneN(i), "")).ID)
		}
		// For 700 ms no call reaches the carrier: a dozen sends would have
		// started meanwhile and then arrived together.
		b.provider = stalled{Provider: twilio.New(nil, nil), release: time.Now().Add(700 * time.Millisecond)}
		b.start()
		for _, id := range ids {
			b.waitFor(t, id, message.Sent)
		}
		got := carrier.Received()
		require.Len(t, got, n)
		// At 90 % of the rate, after the held-up send and the bucket's one.
		require.LessOrEqual(t, sim.MostInWindow(got, time.Second), mps+1, "the number's rate was exceeded")
		require.LessOrEqual(t, sim.MostInWindow(got, 2*time.Second), 2*mps, "the number's rate was exceeded")
	})
}

func phoneN(i int) string {
	return "+1212555" + string(rune('0'+i/1000%10)) + string(rune('0'+i/100%10)) +
		string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}
