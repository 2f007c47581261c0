package automation

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/problem"
)

func (b *bundle) count(query string, args ...any) int {
	b.t.Helper()
	var n int
	require.NoError(b.t, b.db.Read().QueryRowContext(b.ctx, query, args...).Scan(&n))
	return n
}

// Events for one new contact, arriving at once, make that contact once and
// are all accepted: on PostgreSQL the ones that lose the race to create it
// find it on their second try.
func TestEventsForOneNewContactAtOnce(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		phone, ext := "+17346260042", "member-42"
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = b.svc.Ingest(b.ctx, b.acct, Event{ID: fmt.Sprintf("e-%d", i), Type: EventRewardAvailable,
					Contact: EventContact{ExternalID: &ext, Phone: &phone}})
			})
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "event %d", i)
		}
		require.Equal(t, 1, b.count(`SELECT count(*) FROM contacts WHERE account_id = $1`, b.acct))
		require.Equal(t, 8, b.count(`SELECT count(*) FROM events WHERE account_id = $1`, b.acct))
		require.Len(t, b.queue.pending("event.match"), 8)
	})
}

// An event whose contact is refused writes nothing: no contact, no event,
// no job, and its id stays free.
func TestEventWithABadContactWritesNothing(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		bad := "12" // with no external id to say who it is, a bad phone is refused
		_, err := b.svc.Ingest(b.ctx, b.acct, Event{ID: "e-1", Type: EventRewardAvailable,
			Contact: EventContact{Phone: &bad}})
		p, ok := problem.As(err)
		require.True(t, ok, "a problem, not %v", err)
		require.Equal(t, problem.Invalid, p.Kind)
		require.Equal(t, "contact.phone", p.Field)
		require.Zero(t, b.count(`SELECT count(*) FROM contacts WHERE account_id = $1`, b.acct))
		require.Zero(t, b.count(`SELECT count(*) FROM events WHERE account_id = $1`, b.acct))
		require.Empty(t, b.queue.pending("event.match"))

		good := "+17346260001"
		out, err := b.svc.Ingest(b.ctx, b.acct, Event{ID: "e-1", Type: EventRewardAvailable,
			Contact: EventContact{Phone: &good}})
		require.NoError(t, err)
		require.False(t, out.Duplicate, "the refused id was never stored")
	})
}
