// Command automation measures automations end to end: N program events
// through one event-triggered automation, or one scheduled promotion to N
// contacts, each until every message has been handed to the built-in
// carrier simulator (Twilio's protocol, over loopback HTTP). It runs a
// whole Herald in-process on SQLite or PostgreSQL, as bench/pipeline does.
//
//	go run ./bench/automation -engine sqlite -scenario events -n 100000
//	go run ./bench/automation -engine postgres -database-url postgres://… -scenario promotion -n 100000
//
// It prints one JSON line of results on stdout and a short summary on
// stderr; a run that fails still prints what it measured, with an error,
// and exits 1.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
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
	"github.com/heraldsms/herald/internal/automation"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/sim"
)

// The simulator trusts the first token it sees for a sub-account SID.
const (
	simSID    = "AC11111111111111111111111111111111"
	simToken  = "bench-token"
	sender    = "+18885550100"
	eventType = "order.shipped"
)

type result struct {
	Engine   string `json:"engine"`
	Scenario string `json:"scenario"`
	// SimWorkers is how many callbacks the simulator posts at once.
	SimWorkers int `json:"sim_workers"`
	N          int `json:"n"`
	// EventsPerS is N over the time from the first event posted to the
	// last 202 (events only).
	EventsPerS float64 `json:"events_per_s,omitempty"`
	AcceptS    float64 `json:"accept_s,omitempty"`
	// FireDelayS is from the promotion's scheduled time to its run's start
	// (River moves scheduled jobs to available every few seconds).
	FireDelayS float64 `json:"fire_delay_s,omitempty"`
	// CreatedS is from the start (first event, or the run's start) to the
	// last message row written: the promotion's fan-out.
	CreatedS float64 `json:"created_s"`
	// MessagesPerS is N over HandedS, the time from the start to the
	// moment the last message had been handed to the simulator.
	MessagesPerS float64 `json:"messages_per_s"`
	HandedS      float64 `json:"handed_s"`
	Handed       int     `json:"handed"`
	// CallbacksLeft is how many of the messages handed over still had
	// status callbacks to come when the timed part ended: work the
	// simulator's callback workers (-sim-workers) leave for after it.
	// SettledS is from the start to the moment Herald had taken every
	// callback.
	CallbacksLeft int     `json:"callbacks_left"`
	SettledS      float64 `json:"settled_s"`
	settledAt     time.Time
	// PeakRSSMB is the high-water RSS of the whole process (Herald, the
	// simulator, the clients) over the timed part; PeakHeapMB the most
	// memory held by Go objects, sampled every 50 ms.
	PeakRSSMB  float64 `json:"peak_rss_mb"`
	PeakHeapMB float64 `json:"peak_heap_mb"`
	SetupS     float64 `json:"setup_s"`
	Error      string  `json:"error,omitempty"`
}

type options struct {
	engine, dbURL, scenario string
	n, clients, batch       int
	simWorkers              int
	mps                     float64
	timeout                 time.Duration
	cpuProfile, memProfile  string
}

func main() {
	app.TuneGC(os.Getenv) // as herald does
	var o options
	flag.StringVar(&o.engine, "engine", "sqlite", "sqlite or postgres")
	flag.StringVar(&o.dbURL, "database-url", os.Getenv("HERALD_TEST_POSTGRES_URL"), "PostgreSQL URL (engine postgres)")
	flag.StringVar(&o.scenario, "scenario", "promotion", "events (N events through one automation) or promotion (one send to N contacts)")
	flag.IntVar(&o.n, "n", 100000, "events, or contacts in the promotion's audience")
	flag.IntVar(&o.clients, "clients", 32, "concurrent API clients posting events")
	flag.IntVar(&o.batch, "batch", 0, "events: post them in batches of this many to /api/v1/events/batch (0: one at a time)")
	flag.IntVar(&o.simWorkers, "sim-workers", sim.DefaultWorkers, "how many status callbacks the simulator posts at once")
	flag.Float64Var(&o.mps, "mps", 10000, "the sender number's rate (the most an operator may set)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up if not every message is handed over by then")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed part to this file")
	flag.StringVar(&o.memProfile, "memprofile", "", "write a heap profile, taken at the end, to this file")
	flag.Parse()
	if o.n < 1 || o.clients < 1 || o.simWorkers < 1 || o.batch < 0 || o.batch > automation.MaxBatch || (o.scenario != "events" && o.scenario != "promotion") {
		fmt.Fprintln(os.Stderr, "bench: -n, -clients and -sim-workers must be positive, -batch at most 1,000; -scenario is events or promotion")
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
	app          *app.App
	base         string
	key          string
	acct         string
	template     string
	automationID string
	// handedOver is called once the simulator has taken every message,
	// before the wait for their callbacks: it ends the CPU profile, so the
	// profile is of the hand-over, not of the callbacks left after it.
	handedOver func()
}

func run(o options) (*result, error) {
	ctx := context.Background()
	setupStart := time.Now()
	h, cleanup, err := start(ctx, o)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	defer benchkit.CleanupOnSignal(cleanup)()
	res := &result{Engine: o.engine, Scenario: o.scenario, SimWorkers: o.simWorkers, N: o.n, SetupS: time.Since(setupStart).Seconds()}
	timed, err := benchkit.StartTimed(o.cpuProfile) // setup's memory (the contact import) is forgotten
	if err != nil {
		return nil, err
	}
	defer timed.Stop()
	h.handedOver = timed.EndProfile
	if o.scenario == "events" {
		err = runEvents(ctx, h, o, res)
	} else {
		err = runPromotion(ctx, h, o, res)
	}
	res.PeakRSSMB, res.PeakHeapMB = timed.Stop()
	if o.memProfile != "" && err == nil {
		err = benchkit.WriteHeapProfile(o.memProfile)
	}
	fmt.Fprintf(os.Stderr, "%s %s, n %d: events %.0f/s; created in %.2f s; handed %d at %.0f messages/s (%.2f s); "+
		"callbacks left %d, all taken at %.2f s; fire delay %.2f s; peak RSS %.0f MB, heap %.0f MB\n",
		o.engine, o.scenario, o.n, res.EventsPerS, res.CreatedS, res.Handed, res.MessagesPerS, res.HandedS,
		res.CallbacksLeft, res.SettledS, res.FireDelayS, res.PeakRSSMB, res.PeakHeapMB)
	return res, err
}

// runEvents posts N events, each for its own contact, and waits until the
// automation's N messages are with the simulator.
func runEvents(ctx context.Context, h *herald, o options, res *result) error {
	if err := h.automation(ctx, automation.Definition{Name: "Shipped",
		Trigger: automation.Trigger{Type: automation.TriggerEvent, Event: eventType},
		Steps:   []automation.Step{{Type: automation.StepSendSMS, TemplateID: h.template}}}); err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: o.clients, MaxIdleConnsPerHost: o.clients}}
	begin := time.Now()
	accepted := make(chan error, 1)
	go func() { accepted <- postEvents(client, h, o) }()
	var handedAt time.Time
	handed := make(chan error, 1)
	go func() {
		var err error
		handedAt, err = waitHanded(ctx, h, o.n, begin.Add(o.timeout), res)
		handed <- err
	}()
	if err := <-accepted; err != nil {
		return err
	}
	res.AcceptS = time.Since(begin).Seconds()
	res.EventsPerS = float64(o.n) / res.AcceptS
	herr := <-handed
	res.HandedS = handedSince(handedAt, begin)
	res.SettledS = handedSince(res.settledAt, begin)
	res.MessagesPerS = float64(res.Handed) / res.HandedS
	if last, lerr := lastCreated(ctx, h); lerr == nil {
		res.CreatedS = last.Sub(begin).Seconds()
	}
	return herr
}

// handedSince is the seconds from begin to the last hand-over, or to now
// when there was none.
func handedSince(at, begin time.Time) float64 {
	if at.IsZero() {
		return time.Since(begin).Seconds()
	}
	return at.Sub(begin).Seconds()
}

func postEvents(client *http.Client, h *herald, o options) error {
	size := max(1, o.batch)
	var next atomic.Int64
	var failed atomic.Bool
	errc := make(chan error, o.clients)
	var wg sync.WaitGroup
	for range o.clients {
		wg.Go(func() {
			for !failed.Load() {
				first := int(next.Add(int64(size))) - size
				if first >= o.n {
					return
				}
				last := min(first+size, o.n)
				if err := postRange(client, h, o.batch > 0, first, last); err != nil {
					failed.Store(true)
					errc <- fmt.Errorf("events %d–%d: %w", first, last-1, err)
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// event is the body of event i: its own id and contact.
func event(i int) string {
	return `{"id":"e-` + strconv.Itoa(i) + `","type":"` + eventType + `","contact":{"external_id":"m-` +
		strconv.Itoa(i) + `"},"data":{"n":` + strconv.Itoa(i) + `}}`
}

// postRange posts events first to last-1: one at a time, or as one batch
// whose every event must be accepted.
func postRange(client *http.Client, h *herald, batch bool, first, last int) error {
	if !batch {
		for i := first; i < last; i++ {
			if err := post(client, h, "/api/v1/events", event(i), http.StatusAccepted, nil); err != nil {
				return err
			}
		}
		return nil
	}
	var b strings.Builder
	b.WriteString(`{"events":[`)
	for i := first; i < last; i++ {
		if i > first {
			b.WriteByte(',')
		}
		b.WriteString(event(i))
	}
	b.WriteString(`]}`)
	var answer struct {
		Counts map[string]int `json:"counts"`
	}
	if err := post(client, h, "/api/v1/events/batch", b.String(), http.StatusOK, &answer); err != nil {
		return err
	}
	if answer.Counts["accepted"] != last-first {
		return fmt.Errorf("batch accepted %d of %d: %v", answer.Counts["accepted"], last-first, answer.Counts)
	}
	return nil
}

func post(client *http.Client, h *herald, path, body string, want int, into any) error {
	req, _ := http.NewRequest("POST", h.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("status %d: %s", resp.StatusCode, answer)
	}
	if into != nil {
		return json.Unmarshal(answer, into)
	}
	return nil
}

// runPromotion schedules one promotion to every contact a couple of
// seconds out and times it from its run's start.
func runPromotion(ctx context.Context, h *herald, o options, res *result) error {
	at := time.Now().Add(2 * time.Second).Truncate(time.Second)
	def := automation.Definition{Name: "Spring sale",
		Trigger:  automation.Trigger{Type: automation.TriggerSchedule, At: at.Format(time.RFC3339)},
		Audience: &automation.Audience{},
		Steps:    []automation.Step{{Type: automation.StepSendSMS, TemplateID: h.template}}}
	if err := h.automation(ctx, def); err != nil {
		return err
	}
	deadline := time.Now().Add(o.timeout)
	var begin time.Time
	for begin.IsZero() {
		runs, err := h.app.Automations.Runs(ctx, h.acct, h.automationID)
		if err != nil {
			return err
		}
		if len(runs) > 0 {
			begin = runs[0].CreatedAt
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the promotion never fired")
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.FireDelayS = begin.Sub(at).Seconds()
	handedAt, err := waitHanded(ctx, h, o.n, deadline, res)
	res.HandedS = handedSince(handedAt, begin)
	res.SettledS = handedSince(res.settledAt, begin)
	res.MessagesPerS = float64(res.Handed) / res.HandedS
	runs, rerr := h.app.Automations.Runs(ctx, h.acct, h.automationID)
	if rerr == nil && len(runs) == 1 && runs[0].Status == automation.RunCompleted {
		res.CreatedS = runs[0].UpdatedAt.Sub(begin).Seconds()
		if c := runs[0].Counts; err == nil && (c == nil || c.Created != o.n) {
			err = fmt.Errorf("the run counts %+v, want %d created", c, o.n)
		}
	}
	return err
}

// waitHanded waits until the simulator has taken want messages and
// returns that moment. The simulator's count is an atomic load, so it is
// read every 20 ms; asking Herald's database instead (a GROUP BY over the
// messages) cost PostgreSQL half a core at 100,000 rows. Every two seconds
// it checks, by index, that no message has ended otherwise, and at the end
// that Herald's own rows agree (res.Handed: sent or delivered).
func waitHanded(ctx context.Context, h *herald, want int, deadline time.Time, res *result) (time.Time, error) {
	var at time.Time
	checked := time.Now()
	for at.IsZero() {
		if h.app.Sim.Accepted() >= want {
			at = time.Now()
			h.handedOver()
			res.CallbacksLeft = h.app.Sim.Pending()
			break
		}
		if time.Since(checked) >= 2*time.Second {
			if err := noneEndedBadly(ctx, h); err != nil {
				return time.Time{}, err
			}
			checked = time.Now()
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("timed out with %d of %d handed over", h.app.Sim.Accepted(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for h.app.Sim.Pending() > 0 {
		if time.Now().After(deadline) {
			return at, fmt.Errorf("timed out with %d messages' callbacks still to post", h.app.Sim.Pending())
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.settledAt = time.Now()
	for {
		counts, err := h.app.Messages.CountOutcomes(ctx, h.acct, message.Filter{})
		if err != nil {
			return at, err
		}
		res.Handed = counts["completed"] + counts["delivered"]
		if res.Handed >= want {
			return at, noneEndedBadly(ctx, h)
		}
		if time.Now().After(deadline) {
			return at, fmt.Errorf("the simulator took %d, but Herald counts %v", h.app.Sim.Accepted(), counts)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// noneEndedBadly fails when any message was skipped, failed, held by the
// monthly limit or cancelled.
func noneEndedBadly(ctx context.Context, h *herald) error {
	var status string
	var n int
	err := h.app.DB.Read().QueryRowContext(ctx, `SELECT status, count(*) FROM messages
		WHERE account_id = $1 AND status IN ('failed', 'skipped', 'limit_queued', 'cancelled')
		GROUP BY status LIMIT 1`, h.acct).Scan(&status, &n)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return fmt.Errorf("%d messages ended %s", n, status)
}

func lastCreated(ctx context.Context, h *herald) (time.Time, error) {
	var at time.Time
	err := h.app.DB.Read().QueryRowContext(ctx, `SELECT created_at FROM messages
		WHERE account_id = $1 ORDER BY created_at DESC LIMIT 1`, h.acct).Scan(&at)
	return at, err
}

// start opens a fresh database, runs Herald with the simulator on a
// loopback port and sets up one account ready to send: SMS on, a limit no
// run reaches, one fast sender number, an approved template (marketing for
// the promotion, transactional for events) and n opted-in contacts.
func start(ctx context.Context, o options) (*herald, func(), error) {
	a, base, cleanup, err := benchkit.Serve(ctx, o.engine, o.dbURL, nil,
		app.WithSimulator(func(c *sim.Config) {
			// Herald's own rows say what was handed over; the simulator keeps
			// only a few, so its record does not show in the peak memory.
			c.InboxTotal, c.InboxPerHandset = 1000, 1
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
	tpl := msgtemplate.NewTemplate{Name: "Order shipped", Kind: "transactional",
		Body: "Hi {{first_name}}, your order #{{event.data.n}} is on its way."}
	if o.scenario == "promotion" {
		tpl = msgtemplate.NewTemplate{Name: "Spring sale", Kind: "marketing",
			Body: "Bench: spring sale for {{first_name}}, 20% off this week. Reply STOP to opt out."}
	}
	t, err := a.Templates.Create(ctx, acct.ID, tpl, "bench")
	if err != nil {
		return fmt.Errorf("template: %w", err)
	}
	if _, err := a.Templates.Submit(ctx, acct.ID, t.ID, "bench"); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	if _, err := a.Templates.Decide(ctx, acct.ID, t.ID, msgtemplate.Review{Approve: true, Actor: "operator"}); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	h.template = t.ID
	if err := importContacts(ctx, h, o.n); err != nil {
		return err
	}
	if o.scenario == "promotion" {
		return inSendingWindow(ctx, h)
	}
	return nil
}

// inSendingWindow gives every contact a time zone where it is afternoon
// now. A marketing message waits for 08:00 in its recipient's zone, and
// the contacts' area codes are all in the United States: run at night
// there, the promotion would wait for the morning. The run measures the
// sending, not the waiting.
func inSendingWindow(ctx context.Context, h *herald) error {
	zones := []string{"America/Los_Angeles", "America/New_York", "Pacific/Honolulu", "Europe/London",
		"Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland"}
	best, bestGap := "", 24
	for _, z := range zones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			return err
		}
		if gap := abs(time.Now().In(loc).Hour() - 14); gap < bestGap {
			best, bestGap = z, gap
		}
	}
	_, err := h.app.DB.Write().ExecContext(ctx, `UPDATE contacts SET time_zone = $1 WHERE account_id = $2`, best, h.acct)
	return err
}

func abs(n int) int { return max(n, -n) }

// importContacts imports n opted-in contacts from a CSV written as it is
// read.
func importContacts(ctx context.Context, h *herald, n int) error {
	pr, pw := io.Pipe()
	go func() {
		w := &bytes.Buffer{}
		w.WriteString("external_id,phone,first_name,sms_preference\n")
		for i := range n {
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
	res, err := h.app.Contacts.Import(ctx, h.acct, pr, contact.Change{Source: consent.SourceImport, Actor: "bench"})
	_ = pr.Close()
	if err != nil {
		return fmt.Errorf("import contacts: %w", err)
	}
	if res.Created != n {
		return fmt.Errorf("import created %d of %d contacts (%d failed)", res.Created, n, res.Failed)
	}
	return nil
}

// automation creates, publishes and enables the scenario's automation.
func (h *herald) automation(ctx context.Context, def automation.Definition) error {
	a, err := h.app.Automations.Create(ctx, h.acct, def, "bench")
	if err != nil {
		return fmt.Errorf("automation: %w", err)
	}
	if _, err := h.app.Automations.Publish(ctx, h.acct, a.ID); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if _, err := h.app.Automations.SetEnabled(ctx, h.acct, a.ID, true); err != nil {
		return fmt.Errorf("enable: %w", err)
	}
	h.automationID = a.ID
	return nil
}

// phoneOf is the i-th distinct US mobile-capable number.
func phoneOf(i int) string {
	areas := []int{734, 415, 312, 617, 206}
	return fmt.Sprintf("+1%d%07d", areas[i/8_000_000%len(areas)], 2_000_000+i%8_000_000)
}
