package webhook_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/jobs"
	"github.com/heraldsms/herald/internal/secret"
	"github.com/heraldsms/herald/internal/webhook"
)

// testBundle is a webhook service on a fresh database with a running job
// queue and one account.
type testBundle struct {
	db    *db.DB
	box   *secret.Box
	svc   *webhook.Service
	queue *jobs.Queue
	acct  string
	other string // a second account
}

// fastRetries keeps a test's backoff in milliseconds.
var fastRetries = webhook.Config{FirstRetry: 20 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond, Timeout: 5 * time.Second}

func setup(t *testing.T, d *db.DB, cfg webhook.Config) *testBundle {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	box, err := secret.New("webhook test key")
	require.NoError(t, err)
	svc := webhook.NewService(d, clock.System{}, log, box, cfg)
	workers := river.NewWorkers()
	svc.AddWorkers(workers)
	require.NoError(t, jobs.Migrate(ctx, d, log))
	q, err := jobs.New(d, log, workers, jobs.Config{Queues: map[string]int{webhook.Queue: 4},
		FetchPollInterval: 20 * time.Millisecond, Test: true})
	require.NoError(t, err)
	svc.SetQueue(q)
	require.NoError(t, q.Start(ctx))
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, q.Stop(stopCtx))
	})
	accounts := account.NewStore(d, clock.System{})
	a, _, err := accounts.CreateAccount(ctx, account.NewAccount{Name: "Acme"})
	require.NoError(t, err)
	o, _, err := accounts.CreateAccount(ctx, account.NewAccount{Name: "Other"})
	require.NoError(t, err)
	return &testBundle{db: d, box: box, svc: svc, queue: q, acct: a.ID, other: o.ID}
}

// endpoint registers url for events on the bundle's account.
func (b *testBundle) endpoint(t *testing.T, url string, events ...string) webhook.EndpointWithSecret {
	t.Helper()
	e, err := b.svc.Create(context.Background(), b.acct, webhook.EndpointInput{URL: &url, Events: &events})
	require.NoError(t, err)
	return e
}

// waitSettled waits until every delivery of an endpoint has left pending,
// and returns them.
func (b *testBundle) waitSettled(t *testing.T, endpointID string, want int) []webhook.Delivery {
	t.Helper()
	var page webhook.DeliveryPage
	require.Eventually(t, func() bool {
		var err error
		page, err = b.svc.Deliveries(context.Background(), b.acct, endpointID, webhook.DeliveryFilter{})
		require.NoError(t, err)
		if len(page.Data) != want {
			return false
		}
		for _, d := range page.Data {
			if d.Status == "pending" {
				return false
			}
		}
		return true
	}, 20*time.Second, 10*time.Millisecond, "deliveries did not settle")
	return page.Data
}

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is an httptest endpoint that answers with the given statuses in
// turn (the last one from then on) and keeps every request.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []received
	// hang, when set, makes the first request wait this long.
	hang time.Duration
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	n := len(r.got)
	r.got = append(r.got, received{header: req.Header.Clone(), body: body})
	status := r.statuses[min(n, len(r.statuses)-1)]
	hang := r.hang
	r.mu.Unlock()
	if n == 0 && hang > 0 {
		select {
		case <-time.After(hang):
		case <-req.Context().Done():
		}
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status))
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}
