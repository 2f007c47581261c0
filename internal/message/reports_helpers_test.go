package message_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/message"
)

// announcements records the outcomes the service announces, by message.
type announcements struct {
	mu   sync.Mutex
	byID map[string][]message.Status
}

func (a *announcements) of(id string) []message.Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.byID[id]
}

// inGroup makes the service commit all its work in one group with the
// given window, as SQLite's writer does, and records what it announces.
func (b *testBundle) inGroup(t *testing.T, d *db.DB, window time.Duration) *announcements {
	ctx, cancel := context.WithCancel(b.ctx)
	t.Cleanup(cancel)
	g := db.NewGroup(ctx, d, window, 64)
	b.svc.SetGroups(message.Groups{Accept: g, Dispatch: g, Reports: g})
	a := &announcements{byID: map[string][]message.Status{}}
	b.svc.OnOutcome = func(_ context.Context, m *message.Message) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.byID[m.ID] = append(a.byID[m.ID], m.Status)
	}
	return a
}

// statuses is a message's history as the statuses it went through.
func statuses(m *message.Message) []message.Status {
	var out []message.Status
	for _, e := range m.History {
		out = append(out, e.Status)
	}
	return out
}

// parked is how many carrier reports wait in the parking for their
// messages' send results.
func parked(t *testing.T, b *testBundle, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.Read().QueryRowContext(b.ctx, `SELECT count(*) FROM pending_statuses`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
