package sim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldsms/herald/internal/provider"
	"github.com/heraldsms/herald/internal/provider/twilio"
	"github.com/heraldsms/herald/internal/sim"
)

// BenchmarkHandler measures the simulator's own cost per send, with no
// network: what is left of the machine for Herald and the loopback.
func BenchmarkHandler(b *testing.B) {
	s := sim.New(sim.Config{})
	b.Cleanup(s.Close)
	h := s.Handler()
	body := url.Values{"To": {handset}, "From": {sender}, "Body": {"Ana, your $20 reward is ready: https://r.example/abc"}}.Encode()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{header: http.Header{}}
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, "/2010-04-01/Accounts/"+testSID+"/Messages.json", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(testSID, testToken)
			clear(w.header)
			h.ServeHTTP(w, req)
			if w.status != http.StatusCreated {
				b.Fatalf("status %d", w.status)
			}
		}
	})
}

// BenchmarkSend measures sends per second through the real Twilio client
// over loopback HTTP, with keep-alive connections and many sends in flight,
// as Herald's dispatcher sends. Client, simulator and callback receiver share
// the machine's cores.
func BenchmarkSend(b *testing.B) {
	for _, bc := range []struct {
		name      string
		callbacks bool
		workers   int
	}{
		{"no_callbacks", false, 0},
		{"callbacks", true, 0}, // DefaultWorkers
		// Fewer callback workers leave more of the two cores to sends; the
		// callbacks then catch up after the burst.
		{"callbacks_4_workers", true, 4},
	} {
		b.Run(bc.name, func(b *testing.B) {
			benchSend(b, bc.callbacks, bc.workers)
		})
	}
}

func benchSend(b *testing.B, callbacks bool, workers int) {
	var delivered atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("MessageStatus") == "delivered" {
			delivered.Add(1)
		}
	}))
	b.Cleanup(rcv.Close)
	s := sim.New(sim.Config{QueueLimit: 10_000_000, InboxTotal: 10_000, Workers: workers})
	b.Cleanup(s.Close)
	srv := httptest.NewServer(http.StripPrefix("/sim", s.Handler()))
	b.Cleanup(srv.Close)

	client := twilio.New(twilio.NewHTTPClient(30*time.Second), nil)
	m := provider.Message{To: handset, From: sender, Body: "Ana, your $20 reward is ready: https://r.example/abc",
		Credentials: provider.Credentials{AccountSID: testSID, AuthToken: testToken, BaseURL: srv.URL + "/sim"}}
	if callbacks {
		m.StatusCallback = rcv.URL + "/webhooks/twilio/status"
	}
	b.SetParallelism(32) // 64 sends in flight on two cores
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := client.Send(context.Background(), m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "sends/s")
	if !callbacks {
		return
	}
	// Then wait for the queue to drain: every message's sent and delivered.
	for delivered.Load() < int64(b.N) {
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("%d of %d delivered callbacks after 5 minutes", delivered.Load(), b.N)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.ReportMetric(float64(2*b.N)/time.Since(start).Seconds(), "callbacks/s")
}
