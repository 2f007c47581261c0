package delivery_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/provider"
)

// Each send gives the carrier the configured status callback naming the
// message, so a callback can be matched to its message before the
// carrier's own answer (and its id) has been written.
func TestStatusCallbacksNameTheirMessage(t *testing.T) {
	t.Parallel()
	for _, base := range []string{
		"https://herald.example/webhooks/twilio/status",
		"https://user:pass@herald.example/webhooks/twilio/status?region=us",
	} {
		t.Run(base, func(t *testing.T) {
			t.Parallel()
			dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
				b := setup(t, d, utc(t, "2026-06-15T16:00:00Z")) // noon in New York
				b.cfg.StatusCallback = base
				var ids []string
				for i := range 3 {
					ids = append(ids, b.create(t, b.contact(t, fmt.Sprintf("+121255502%02d", i), "")).ID)
				}
				b.start()
				for _, id := range ids {
					b.waitFor(t, id, message.Sent)
				}
				b.carrier.mu.Lock()
				defer b.carrier.mu.Unlock()
				require.Len(t, b.carrier.callbacks, len(ids))
				for i, cb := range b.carrier.callbacks {
					u, err := url.Parse(cb)
					require.NoError(t, err)
					want, err := url.Parse(base)
					require.NoError(t, err)
					q := want.Query()
					q.Set(message.CallbackParam, b.carrier.sent[i])
					require.Equal(t, q, u.Query(), "the configured query is kept and the message named")
					u.RawQuery, want.RawQuery = "", ""
					require.Equal(t, want.String(), u.String())
				}
			})
		})
	}
}

// A carrier whose status callback arrives before its answer to the send
// (Twilio's often do): the report waits for the send's result to be
// written and then moves the message, instead of being parked for later.
func TestACallbackThatBeatsTheCarriersAnswerWaitsForTheResult(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, utc(t, "2026-06-15T16:00:00Z"))
		b.cfg.StatusCallback = "https://herald.example/webhooks/twilio/status"
		seen := make(chan message.Status, 10) // the message's status when each report returned
		b.carrier.onSend = func(m provider.Message) {
			u, err := url.Parse(m.StatusCallback)
			if err != nil {
				t.Error(err)
				return
			}
			report := message.CarrierStatus{CarrierID: "SM" + m.ID, Status: "delivered", Token: "tok-" + m.ID,
				MessageID: u.Query().Get(message.CallbackParam)}
			go func() {
				if err := b.messages.ApplyCarrierStatus(b.ctx, b.acct, report); err != nil {
					t.Error(err)
				}
				got, err := b.messages.Get(b.ctx, b.acct, m.ID)
				if err != nil {
					t.Error(err)
					return
				}
				seen <- got.Status
			}()
			time.Sleep(20 * time.Millisecond) // the callback is in before the answer
		}
		var ids []string
		for i := range 3 {
			ids = append(ids, b.create(t, b.contact(t, fmt.Sprintf("+121255503%02d", i), "")).ID)
		}
		b.start()
		for range ids {
			select {
			case s := <-seen:
				require.Equal(t, message.Delivered, s, "the report returned before it moved the message")
			case <-time.After(10 * time.Second):
				t.Fatal("a report never returned")
			}
		}
		for _, id := range ids {
			m := b.waitFor(t, id, message.Delivered)
			var history []message.Status
			for _, e := range m.History {
				history = append(history, e.Status)
			}
			require.Equal(t, []message.Status{message.Queued, message.Sending, message.Sent, message.Delivered}, history)
		}
		var parked int
		require.NoError(t, d.Read().QueryRowContext(b.ctx, `SELECT count(*) FROM pending_statuses`).Scan(&parked))
		require.Zero(t, parked)
	})
}
