// Command pipeline measures the whole delivery path of Herald: messages
// accepted through the REST API, claimed by the dispatcher, sent over
// loopback HTTP to the built-in carrier simulator (Twilio's protocol), and
// reported back by the simulator's signed status callbacks until every one
// is delivered. It runs a whole Herald on a loopback port, on SQLite or
// PostgreSQL, and talks to it over HTTP like a program's backend would.
//
//	go run ./bench/pipeline -engine sqlite -n 20000
//	go run ./bench/pipeline -engine postgres -database-url postgres://… -n 20000
//	go run ./bench/pipeline -engine sqlite -n 20000 -rate 1000
//
// It prints one JSON line of results on stdout and a short summary on
// stderr. A run in which any message is not delivered, or reaches the
// carrier twice, still prints what it measured, with an error, and exits 1.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldsms/herald/bench/internal/benchkit"
	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/app"
	"github.com/heraldsms/herald/internal/config"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/sim"
)

// The simulator trusts the first token it sees for a sub-account SID.
const (
	simSID   = "AC11111111111111111111111111111111"
	simToken = "bench-token"
	sender   = "+18885550100"
	// The template puts the message's index after this marker, so the
	// simulator's copy of each message can be matched to its request.
	marker       = "order #"
	templateBody = "Hi {{first_name}}, your order #{{event.data.n}} is on its way."
)

type result struct {
	Engine  string  `json:"engine"`
	N       int     `json:"n"`
	Clients int     `json:"clients"`
	Rate    float64 `json:"rate"` // messages/s asked for; 0 is as fast as possible
	// SimDelayMs is the simulator's wait before each status callback.
	SimDelayMs float64 `json:"sim_delay_ms"`
	// SimWorkers is how many callbacks the simulator posts at once.
	SimWorkers int `json:"sim_workers"`
	// AcceptedPerS is N over the time from the first request to the last
	// 202; DeliveredPerS is N over the time from the first request to the
	// moment Herald holds every message as delivered.
	AcceptedPerS  float64 `json:"accepted_per_s"`
	DeliveredPerS float64 `json:"delivered_per_s"`
	AcceptS       float64 `json:"accept_s"`
	DeliverS      float64 `json:"deliver_s"`
	Delivered     int     `json:"delivered"`
	// P50Ms…MaxMs: from the client receiving a message's 202 to the
	// simulator receiving its send request (acceptance → carrier).
	// LatencyN is how many messages they are over: all N unless -sim-keep
	// bounds the simulator's record.
	LatencyN int     `json:"latency_n"`
	P50Ms    float64 `json:"p50_ms"`
	P90Ms    float64 `json:"p90_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	// APIP50Ms and APIP99Ms: request start → 202, as the client sees it.
	APIP50Ms float64 `json:"api_p50_ms"`
	APIP99Ms float64 `json:"api_p99_ms"`
	// PeakRSSMB is the process's high-water RSS (client, Herald and the
	// simulator together), read when the last message is delivered.
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// PeakHeapMB is the most memory held by live and not yet swept Go
	// objects, sampled every 50 ms during the timed part.
	PeakHeapMB float64 `json:"peak_heap_mb"`
	// CPUUsPerMsg is the CPU this process (clients, Herald and the
	// simulator) took in the timed part, per message; MachineCPUUsPerMsg
	// is the whole machine's, PostgreSQL's server included.
	CPUUsPerMsg        float64 `json:"cpu_us_per_msg"`
	MachineCPUUsPerMsg float64 `json:"machine_cpu_us_per_msg"`
	SetupS             float64 `json:"setup_s"`
	// Duplicates counts messages the simulator received more than once;
	// latencies use each message's first arrival.
	Duplicates int `json:"duplicates"`
	// Error says why a run failed; the other fields hold what was measured
	// up to then.
	Error string `json:"error,omitempty"`
}

// finish is when the wait for delivery ended, and how many were delivered.
type finish struct {
	d   time.Duration
	n   int
	err error
}

type options struct {
	engine, dbURL string
	n, clients    int
	rate, mps     float64
	simDelay      time.Duration
	simKeep       int
	simWorkers    int
	timeout       time.Duration
	stall         time.Duration
	cpuProfile    string
	memProfile    string
}

func main() {
	app.TuneGC(os.Getenv) // as herald does
	var o options
	flag.StringVar(&o.engine, "engine", "sqlite", "sqlite or postgres")
	flag.StringVar(&o.dbURL, "database-url", os.Getenv("HERALD_TEST_POSTGRES_URL"), "PostgreSQL URL (engine postgres)")
	flag.IntVar(&o.n, "n", 20000, "messages to send")
	flag.IntVar(&o.clients, "clients", 32, "concurrent API clients, each on its own keep-alive connection")
	flag.Float64Var(&o.rate, "rate", 0, "messages per second across all clients; 0 sends as fast as the API answers")
	flag.Float64Var(&o.mps, "mps", 10000, "the sender number's rate (the most an operator may set)")
	flag.DurationVar(&o.simDelay, "sim-delay", 0, "the simulator's wait before each status callback")
	flag.IntVar(&o.simWorkers, "sim-workers", sim.DefaultWorkers, "how many status callbacks the simulator posts at once")
	flag.IntVar(&o.simKeep, "sim-keep", 0, "how many received messages the simulator keeps, the newest; latencies are over those (0: all)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up if not every message is delivered by then")
	flag.DurationVar(&o.stall, "stall", 3*time.Minute, "give up when no message has changed status for this long")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed part to this file")
	flag.StringVar(&o.memProfile, "memprofile", "", "write a heap profile, taken when the last message is delivered, to this file")
	flag.Parse()
	if o.simKeep <= 0 || o.simKeep > o.n {
		o.simKeep = o.n + 1 // and the warm-up message
	}
	if o.n < 1 || o.clients < 1 || o.rate < 0 || o.simWorkers < 1 {
		fmt.Fprintln(os.Stderr, "bench: -n, -clients and -sim-workers must be positive, -rate not negative")
		os.Exit(2)
	}
	res, err := run(o)
	if res != nil && err != nil {
		res.Error = err.Error()
	}
	benchkit.Report(res, err)
}

// herald is a whole Herald serving on a loopback port, with the built-in
// simulator as its carrier.
type herald struct {
	app      *app.App
	base     string
	key      string
	acct     string
	template string
}

// run returns the result, nil if the run failed before timing began.
func run(o options) (*result, error) {
	ctx := context.Background()
	setupStart := time.Now()
	h, cleanup, err := start(ctx, o)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	defer benchkit.CleanupOnSignal(cleanup)()
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: o.clients, MaxIdleConnsPerHost: o.clients, IdleConnTimeout: time.Minute,
	}}
	// One message before timing: the dispatcher has taken the number's
	// lease and the connections to the simulator and back are open.
	if _, err := send(client, h, "warmup", "warmup"); err != nil {
		return nil, fmt.Errorf("warm-up message: %w", err)
	}
	if _, err := waitDelivered(ctx, h, 1, time.Now().Add(30*time.Second), 30*time.Second); err != nil {
		return nil, fmt.Errorf("warm-up message: %w", err)
	}
	res := &result{Engine: o.engine, N: o.n, Clients: o.clients, Rate: o.rate,
		SimDelayMs: float64(o.simDelay.Microseconds()) / 1000, SimWorkers: o.simWorkers, SetupS: time.Since(setupStart).Seconds()}

	timed, err := benchkit.StartTimed(o.cpuProfile)
	if err != nil {
		return nil, err
	}
	defer timed.Stop()
	// acceptedAt[i] is when message i's 202 arrived, as time since start.
	acceptedAt := make([]time.Duration, o.n)
	apiLatency := make([]time.Duration, o.n)
	start := time.Now()
	accepted := make(chan error, 1)
	go func() { accepted <- sendAll(client, h, o, start, acceptedAt, apiLatency) }()
	delivered := make(chan finish, 1)
	go func() {
		n, err := waitDelivered(ctx, h, o.n+1, start.Add(o.timeout), o.stall)
		delivered <- finish{time.Since(start), n, err}
	}()
	if err := <-accepted; err != nil {
		return res, err
	}
	res.AcceptS = time.Since(start).Seconds()
	res.AcceptedPerS = float64(o.n) / res.AcceptS
	done := <-delivered
	res.PeakRSSMB, res.PeakHeapMB = timed.Stop()
	cpu := timed.CPU()
	res.CPUUsPerMsg = float64(cpu.Process.Microseconds()) / float64(o.n)
	res.MachineCPUUsPerMsg = float64(cpu.Machine.Microseconds()) / float64(o.n)
	if o.memProfile != "" {
		if err := benchkit.WriteHeapProfile(o.memProfile); err != nil {
			return res, err
		}
	}
	res.Delivered = max(done.n-1, 0) // the warm-up message is not counted
	// The poll sees the end up to one poll late; the last delivered row's
	// own time says when it happened.
	if last, err := lastDelivered(ctx, h); err == nil {
		if d := last.Sub(start); d > 0 && d < done.d {
			done.d = d
		}
	}
	res.DeliverS = done.d.Seconds()
	res.DeliveredPerS = float64(res.Delivered) / res.DeliverS

	toCarrier, dups := carrierLatencies(h.app.Sim.Received(), start, acceptedAt)
	res.Duplicates, res.LatencyN = dups, len(toCarrier)
	missing := min(o.n, o.simKeep) - len(toCarrier)
	if len(toCarrier) > 0 {
		res.P50Ms, res.P90Ms = benchkit.PercentileMs(toCarrier, 0.50), benchkit.PercentileMs(toCarrier, 0.90)
		res.P99Ms, res.MaxMs = benchkit.PercentileMs(toCarrier, 0.99), benchkit.PercentileMs(toCarrier, 1)
	}
	res.APIP50Ms, res.APIP99Ms = benchkit.PercentileMs(apiLatency, 0.50), benchkit.PercentileMs(apiLatency, 0.99)

	mode := "full speed"
	if o.rate > 0 {
		mode = fmt.Sprintf("paced at %.0f/s", o.rate)
	}
	fmt.Fprintf(os.Stderr, "%s, %d messages, %d clients, %s: accepted %.0f/s (%.2f s), delivered %d at %.0f/s (%.2f s); "+
		"202 → carrier p50 %.1f ms, p99 %.1f ms; API p99 %.1f ms; peak RSS %.0f MB; CPU per message %.0f µs (machine %.0f µs)\n",
		o.engine, o.n, o.clients, mode, res.AcceptedPerS, res.AcceptS, res.Delivered, res.DeliveredPerS, res.DeliverS,
		res.P50Ms, res.P99Ms, res.APIP99Ms, res.PeakRSSMB, res.CPUUsPerMsg, res.MachineCPUUsPerMsg)
	switch {
	case done.err != nil:
		return res, fmt.Errorf("%d of %d messages delivered: %w", res.Delivered, o.n, done.err)
	case missing > 0:
		return res, fmt.Errorf("the simulator kept no record of %d messages", missing)
	case dups > 0:
		return res, fmt.Errorf("%d messages reached the carrier more than once", dups)
	}
	return res, nil
}

// start opens a fresh database, runs Herald with the simulator on a
// loopback port and sets up one account ready to send: SMS on, a limit no
// run reaches, one fast sender number, an approved transactional template
// and n opted-in contacts imported from CSV (plus one for the warm-up).
func start(ctx context.Context, o options) (*herald, func(), error) {
	a, base, cleanup, err := benchkit.Serve(ctx, o.engine, o.dbURL, func(c *config.Config) { c.SimDelay = o.simDelay },
		app.WithSimulator(func(c *sim.Config) {
			// Keep every message (or the newest -sim-keep), so each one's
			// arrival can be read back.
			c.InboxTotal = o.simKeep
			c.InboxPerHandset = max(c.InboxPerHandset, 10)
			c.Workers = o.simWorkers
		}))
	if err != nil {
		return nil, nil, err
	}
	h := &herald{app: a, base: base}
	if err := setUp(ctx, h, o); err != nil {
		cleanup()
		return nil, nil, err
	}
	return h, cleanup, nil
}

func setUp(ctx context.Context, h *herald, o options) error {
	a := h.app
	acct, key, err := a.Accounts.CreateAccount(ctx, account.NewAccount{Name: "Bench", BrandName: "Bench"})
	if err != nil {
		return err
	}
	h.acct, h.key = acct.ID, key
	on := true
	limit := int64(1_000_000_000)
	nums := []account.NumberInput{{Phone: sender, Kind: account.NumberBoth, MPS: o.mps}}
	if _, err := a.Accounts.Configure(ctx, acct.ID, account.Setup{SMSEnabled: &on, MonthlyLimit: &limit, Numbers: &nums,
		Twilio: &account.TwilioSetup{AccountSID: simSID, AuthToken: simToken, BaseURL: h.base + "/sim"}}); err != nil {
		return fmt.Errorf("configure account: %w", err)
	}
	tpl, err := a.Templates.Create(ctx, acct.ID, msgtemplate.NewTemplate{Name: "Order shipped", Kind: "transactional",
		Body: templateBody}, "bench")
	if err != nil {
		return fmt.Errorf("template: %w", err)
	}
	if _, err := a.Templates.Submit(ctx, acct.ID, tpl.ID, "bench"); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	if _, err := a.Templates.Decide(ctx, acct.ID, tpl.ID, msgtemplate.Review{Approve: true, Actor: "operator"}); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	h.template = tpl.ID
	// The CSV is written as it is read, so its size does not show in the
	// peak memory.
	pr, pw := io.Pipe()
	go func() {
		w := &bytes.Buffer{}
		w.WriteString("external_id,phone,first_name,sms_preference\n")
		fmt.Fprintf(w, "warmup,%s,Warm,opted_in\n", phoneOf(o.n))
		for i := 0; i < o.n; i++ {
			fmt.Fprintf(w, "m-%d,%s,Member%d,opted_in\n", i, phoneOf(i), i)
			if w.Len() > 32<<10 {
				if _, err := pw.Write(w.Bytes()); err != nil {
					return
				}
				w.Reset()
			}
		}
		_, _ = pw.Write(w.Bytes())
		_ = pw.Close()
	}()
	res, err := a.Contacts.Import(ctx, acct.ID, pr, contact.Change{Source: consent.SourceImport, Actor: "bench"})
	_ = pr.Close()
	if err != nil {
		return fmt.Errorf("import contacts: %w", err)
	}
	if res.Created != o.n+1 {
		return fmt.Errorf("import created %d of %d contacts (%d failed: %+v)", res.Created, o.n+1, res.Failed,
			res.Errors[:min(len(res.Errors), 3)])
	}
	return nil
}

// phoneOf is the i-th distinct US mobile-capable number, spread over a few
// area codes so a run of up to 40 million has enough.
func phoneOf(i int) string {
	areas := []int{734, 415, 312, 617, 206}
	return fmt.Sprintf("+1%d%07d", areas[i/8_000_000%len(areas)], 2_000_000+i%8_000_000)
}

// sendAll sends messages 0..n-1 from o.clients clients, each with its own
// keep-alive connection, as fast as the API answers or paced to o.rate in
// total: message i is not sent before start + i/rate.
func sendAll(client *http.Client, h *herald, o options, start time.Time, acceptedAt, apiLatency []time.Duration) error {
	var next atomic.Int64
	var failed atomic.Bool
	errc := make(chan error, o.clients)
	var wg sync.WaitGroup
	for c := 0; c < o.clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= o.n {
					return
				}
				if o.rate > 0 {
					due := start.Add(time.Duration(float64(i) / o.rate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
				}
				t0 := time.Now()
				at, err := send(client, h, "m-"+strconv.Itoa(i), strconv.Itoa(i))
				if err != nil {
					failed.Store(true)
					errc <- fmt.Errorf("message %d: %w", i, err)
					return
				}
				acceptedAt[i], apiLatency[i] = at.Sub(start), at.Sub(t0)
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// send posts one message to a contact by external id, checks that it was
// accepted for sending, and returns when the answer's headers arrived.
func send(client *http.Client, h *herald, externalID, n string) (time.Time, error) {
	body := `{"external_id":"` + externalID + `","template_id":"` + h.template + `","data":{"n":"` + n + `"}}`
	req, _ := http.NewRequest("POST", h.base+"/api/v1/messages", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	at := time.Now()
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return at, err
	}
	if resp.StatusCode != http.StatusAccepted {
		return at, fmt.Errorf("status %d: %s", resp.StatusCode, answer)
	}
	if !bytes.Contains(answer, []byte(`"status":"queued"`)) {
		return at, fmt.Errorf("not queued: %s", answer)
	}
	return at, nil
}

// waitDelivered waits until Herald counts want messages delivered. It
// fails as soon as any message ends otherwise, at the deadline, or when
// nothing has moved for stall.
//
// Herald's count reads every message of the account (a GROUP BY status, 30
// ms at 20,000 on PostgreSQL), and asked every 250 ms it took a tenth of
// the server's time in a run. So the simulator's own counters, read in
// memory, say when the carrier has taken every message and posted all its
// callbacks; until then Herald is asked only every countEvery, to catch a
// message that ended otherwise. Callbacks that Herald parked (a status
// before its send result) land after the carrier goes quiet, so the count
// is polled until it is complete.
func waitDelivered(ctx context.Context, h *herald, want int, deadline time.Time, stall time.Duration) (int, error) {
	const countEvery = 2 * time.Second
	var (
		last           map[string]int
		lastTaken      = -1
		lastPending    = -1
		moved, counted = time.Now(), time.Time{}
		delivered      int
	)
	for {
		now := time.Now()
		taken, pending := h.app.Sim.Accepted(), h.app.Sim.Pending()
		if taken != lastTaken || pending != lastPending {
			lastTaken, lastPending, moved = taken, pending, now
		}
		if quiet := taken >= want && pending == 0; quiet || now.Sub(counted) >= countEvery {
			counts, err := h.app.Messages.CountOutcomes(ctx, h.acct, message.Filter{})
			if err != nil {
				return 0, err
			}
			counted, delivered = now, counts["delivered"]
			if delivered >= want {
				return delivered, nil
			}
			for _, bad := range []string{"failed", "skipped", "limit_queued", "cancelled"} {
				if counts[bad] > 0 {
					return delivered, fmt.Errorf("%d messages ended %s (counts %v)", counts[bad], bad, counts)
				}
			}
			if !maps.Equal(counts, last) {
				last, moved = counts, now
			}
		}
		switch {
		case now.After(deadline):
			return delivered, fmt.Errorf("timed out (counts %v)", last)
		case now.Sub(moved) > stall:
			return delivered, fmt.Errorf("nothing moved for %v (counts %v)", stall, last)
		}
		if taken >= want && pending == 0 {
			time.Sleep(250 * time.Millisecond)
		} else {
			time.Sleep(25 * time.Millisecond)
		}
	}
}

// lastDelivered is when Herald recorded its last delivered status.
func lastDelivered(ctx context.Context, h *herald) (time.Time, error) {
	var at time.Time
	err := h.app.DB.Read().QueryRowContext(ctx, `SELECT updated_at FROM messages
		WHERE account_id = $1 AND status = 'delivered' ORDER BY updated_at DESC LIMIT 1`, h.acct).Scan(&at)
	return at, err
}

// carrierLatencies matches each message the simulator received to its
// request by the index in its body, and returns for each the time from its
// 202 to its first arrival at the carrier, and how many arrived more than
// once.
func carrierLatencies(got []sim.Received, start time.Time, acceptedAt []time.Duration) (lat []time.Duration, dups int) {
	lat = make([]time.Duration, 0, len(acceptedAt))
	seen := make([]bool, len(acceptedAt))
	for _, r := range got {
		at := strings.Index(r.Body, marker)
		if at < 0 {
			continue
		}
		rest := r.Body[at+len(marker):]
		i, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, ' '), 0)])
		if err != nil || i < 0 || i >= len(acceptedAt) {
			continue // the warm-up message
		}
		if seen[i] {
			dups++
			continue
		}
		seen[i] = true
		lat = append(lat, r.ReceivedAt.Sub(start)-acceptedAt[i])
	}
	return lat, dups
}
