package delivery_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
)

// The dispatcher claims the next batch while the last one is being sent;
// the carrier must still get the messages in the order they were claimed
// (oldest first), batch after batch, even with one request in flight.
func TestBatchesGoInClaimOrder(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, utc(t, "2026-06-15T16:00:00Z")) // noon in New York
		b.cfg.Batch, b.cfg.InFlight = 3, 1
		b.carrier.delay = 20 * time.Millisecond // the next claim is made while a batch is still going
		var want []string
		for i := range 12 {
			m := b.create(t, b.contact(t, fmt.Sprintf("+121255501%02d", i), ""))
			require.Equal(t, message.Queued, m.Status)
			want = append(want, m.ID)
			b.clock.Advance(time.Second) // each one newer than the last
		}
		b.start()
		for _, id := range want {
			b.waitFor(t, id, message.Sent)
		}
		b.carrier.mu.Lock()
		defer b.carrier.mu.Unlock()
		require.Equal(t, want, b.carrier.sent)
	})
}
