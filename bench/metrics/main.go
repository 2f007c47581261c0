// Command metrics times the SMS dashboard's query (GET /api/v1/metrics/sms)
// over an account with a million messages: it loads the messages and their
// hourly rollups in bulk, then asks the dashboard for 30 days by day and 90
// days by week, with and without a program filter, and reports p50 and p99.
// See README.md.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/heraldsms/herald/bench/internal/benchkit"
	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/metrics"
	"github.com/heraldsms/herald/internal/msgtemplate"
)

func main() {
	engine := flag.String("engine", "sqlite", "sqlite or postgres")
	dbURL := flag.String("database-url", os.Getenv("HERALD_TEST_POSTGRES_URL"), "PostgreSQL URL (engine postgres)")
	n := flag.Int("messages", 1_000_000, "messages to load")
	days := flag.Int("days", 90, "days the messages are spread over, up to now")
	programs := flag.Int("programs", 5, "programs")
	templates := flag.Int("templates", 50, "templates, spread over the programs")
	runs := flag.Int("runs", 50, "timed queries per case")
	foldSample := flag.Int("fold-sample", 20000, "messages written with their first log entries after the load, then folded and timed")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/metrics:", err)
			os.Exit(1)
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	p := params{engine: *engine, dbURL: *dbURL, messages: *n, days: *days, programs: *programs, templates: *templates,
		runs: *runs, foldSample: *foldSample}
	if err := run(p); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench/metrics:", err)
		os.Exit(1)
	}
}

type params struct {
	engine, dbURL       string
	messages, days      int
	programs, templates int
	runs, foldSample    int
}

// result is one line of output: a case's timings, or the load's.
type result struct {
	Engine string  `json:"engine"`
	Case   string  `json:"case"`
	Runs   int     `json:"runs,omitempty"`
	P50ms  float64 `json:"p50_ms,omitempty"`
	P99ms  float64 `json:"p99_ms,omitempty"`
	// CPUp50ms is this process's CPU time per query: with SQLite, the
	// whole query's work, whatever else the machine is doing.
	CPUp50ms float64 `json:"cpu_p50_ms,omitempty"`
	Seconds  float64 `json:"seconds,omitempty"`
	PerS     float64 `json:"per_s,omitempty"`
	Rows     int     `json:"rows,omitempty"`
	Messages int     `json:"messages,omitempty"`
}

func run(p params) error {
	ctx := context.Background()
	var opts db.Options
	switch p.engine {
	case "sqlite":
		dir, err := os.MkdirTemp("", "herald-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		opts.DataDir = dir
	case "postgres":
		u, cleanup, err := benchkit.FreshSchema(ctx, p.dbURL)
		if err != nil {
			return err
		}
		defer cleanup()
		opts.URL = u
	default:
		return fmt.Errorf("engine %q: want sqlite or postgres", p.engine)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := open(ctx, opts, log)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	acct, _, err := a.Accounts.CreateAccount(ctx, account.NewAccount{Name: "Bench", TimeZone: "America/New_York"})
	if err != nil {
		return err
	}
	f, err := makeFixture(ctx, a, acct.ID, p)
	if err != nil {
		return err
	}
	out := json.NewEncoder(os.Stdout)
	start := time.Now()
	rows, err := load(ctx, a.DB, f, p)
	if err != nil {
		return err
	}
	_ = out.Encode(result{Engine: p.engine, Case: "load", Seconds: time.Since(start).Seconds(), Rows: rows, Messages: p.messages})
	if err := timeFold(ctx, a, f, p, out); err != nil {
		return err
	}
	if _, err := a.DB.Write().ExecContext(ctx, `ANALYZE`); err != nil {
		return err
	}
	return timeQueries(ctx, a.Metrics, f, p, out)
}

// herald is the part of Herald the benchmark needs, built as the app
// builds it.
type herald struct {
	DB        *db.DB
	Accounts  *account.Store
	Templates *msgtemplate.Service
	Metrics   *metrics.Service
}

func open(ctx context.Context, opts db.Options, log *slog.Logger) (*herald, error) {
	d, err := db.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	if _, err := d.Migrate(ctx); err != nil {
		_ = d.Close()
		return nil, err
	}
	c := clock.System{}
	accounts := account.NewStore(d, c)
	return &herald{DB: d, Accounts: accounts, Templates: msgtemplate.NewService(d, c, accounts, nil, log),
		Metrics: metrics.NewService(d, c, log)}, nil
}

// fixture is the account's programs and templates.
type fixture struct {
	accountID string
	programs  []string
	templates []string // template i belongs to program i % len(programs)
	now       time.Time
}

func makeFixture(ctx context.Context, a *herald, accountID string, p params) (fixture, error) {
	f := fixture{accountID: accountID, now: time.Now().UTC()}
	for i := 0; i < p.programs; i++ {
		pr, err := a.Accounts.CreateProgram(ctx, accountID, account.NewProgram{Name: fmt.Sprintf("Program %d", i+1)})
		if err != nil {
			return f, err
		}
		f.programs = append(f.programs, pr.ID)
	}
	for i := 0; i < p.templates; i++ {
		t, err := a.Templates.Create(ctx, accountID, msgtemplate.NewTemplate{Name: fmt.Sprintf("Template %d", i+1),
			Kind: "transactional", Body: "Hi {{first_name}}, your reward is ready."}, "bench")
		if err != nil {
			return f, err
		}
		f.templates = append(f.templates, t.ID)
	}
	return f, nil
}

var messageColumns = []string{"id", "account_id", "program_id", "template_id", "to_phone", "kind", "priority", "body",
	"encoding", "segments", "status", "next_attempt_at", "created_at", "updated_at"}

// firstEntryColumns write a message's first log entry, marked as made.
var firstEntryColumns = []string{"account_id", "message_id", "status", "occurred_at", "created"}

// load writes the messages in batches and their rollups beside them. It
// writes no log entries, so the fold has nothing of it to read; it tallies
// the rollups itself with the fold's own Tally: every outcome counted in
// the hour the message was made.
func load(ctx context.Context, d *db.DB, f fixture, p params) (int, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	tally := metrics.NewTally()
	span := time.Duration(p.days) * 24 * time.Hour
	const batch = 5000
	for done := 0; done < p.messages; done += batch {
		rows := make([][]any, 0, batch)
		for i := done; i < min(done+batch, p.messages); i++ {
			tpl := rng.IntN(len(f.templates))
			at := f.now.Add(-time.Duration(rng.Int64N(int64(span)))).Truncate(time.Microsecond)
			status, segments := outcome(rng)
			program := f.programs[tpl%len(f.programs)]
			rows = append(rows, []any{id.New(id.Message), f.accountID, program, f.templates[tpl],
				"+17346260000", "transactional", 0, "Hi Ava, your reward is ready.", "GSM-7", segments, status, at, at, at})
			c := metrics.Change{AccountID: f.accountID, ProgramID: program, TemplateID: f.templates[tpl], At: at,
				Segments: int64(segments)}
			for _, what := range lifeOf(status) {
				c.What = what
				tally.Add(c)
			}
		}
		err := d.InTx(ctx, func(tx *sql.Tx) error {
			return insertChunks(ctx, tx, "messages", messageColumns, rows, "")
		})
		if err != nil {
			return 0, fmt.Errorf("load messages: %w", err)
		}
	}
	err := d.InTx(ctx, func(tx *sql.Tx) error { return tally.Write(ctx, tx) })
	return tally.Len(), err
}

// lifeOf lists what the dashboard counts of a message that ended in status.
func lifeOf(status string) []string {
	switch status {
	case "delivered", "undelivered", "failed":
		return []string{"created", "sent", status}
	case "sent":
		return []string{"created", "sent"}
	}
	return []string{"created", status}
}

// chunk is the rows of one INSERT, small for the reasons of the fold's
// (see metrics.Tally.Write).
const chunk = 32

func insertChunks(ctx context.Context, tx *sql.Tx, table string, columns []string, rows [][]any, suffix string) error {
	for start := 0; start < len(rows); start += chunk {
		if err := db.InsertRows(ctx, tx, table, columns, rows[start:min(start+chunk, len(rows))], suffix); err != nil {
			return err
		}
	}
	return nil
}

// outcome draws a message's final status and segments: most delivered,
// some undelivered, failed, skipped or waiting in the limit queue.
func outcome(rng *rand.Rand) (string, int) {
	segments := 1 + rng.IntN(2)
	switch r := rng.IntN(100); {
	case r < 80:
		return "delivered", segments
	case r < 85:
		return "undelivered", segments
	case r < 88:
		return "failed", segments
	case r < 94:
		return "skipped", segments
	case r < 97:
		return "limit_queued", segments
	}
	return "sent", segments
}

// timeFold writes a sample of messages as Herald does, each with its first
// log entry, then times the fold that reads them from the log into the
// rollups.
func timeFold(ctx context.Context, a *herald, f fixture, p params, out *json.Encoder) error {
	if p.foldSample == 0 {
		return nil
	}
	rows := make([][]any, p.foldSample)
	first := make([][]any, p.foldSample)
	for i := range rows {
		at := f.now.Add(-time.Duration(i) * time.Second).Truncate(time.Microsecond)
		tpl := i % len(f.templates)
		msg := id.New(id.Message)
		rows[i] = []any{msg, f.accountID, f.programs[tpl%len(f.programs)], f.templates[tpl], "+17346260000",
			"transactional", 0, "Hi Ava, your reward is ready.", "GSM-7", 1, "queued", at, at, at}
		first[i] = []any{f.accountID, msg, "queued", at, true}
	}
	if err := a.DB.InTx(ctx, func(tx *sql.Tx) error {
		if err := insertChunks(ctx, tx, "messages", messageColumns, rows, ""); err != nil {
			return err
		}
		return insertChunks(ctx, tx, "message_events", firstEntryColumns, first, "")
	}); err != nil {
		return fmt.Errorf("fold sample: %w", err)
	}
	start := time.Now()
	n, err := a.Metrics.Fold(ctx)
	if err != nil {
		return err
	}
	if n != p.foldSample {
		return fmt.Errorf("folded %d changes, want %d", n, p.foldSample)
	}
	secs := time.Since(start).Seconds()
	return out.Encode(result{Engine: p.engine, Case: "fold", Seconds: secs, PerS: float64(n) / secs, Rows: n})
}

func timeQueries(ctx context.Context, m *metrics.Service, f fixture, p params, out *json.Encoder) error {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		return err
	}
	today := f.now.In(ny)
	date := func(daysBack int) time.Time {
		d := today.AddDate(0, 0, -daysBack)
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	}
	cases := []struct {
		name string
		q    metrics.Query
	}{
		{"30 days by day", metrics.Query{From: date(29), To: date(0), Interval: metrics.Day}},
		{"30 days by day, one program", metrics.Query{From: date(29), To: date(0), Interval: metrics.Day, ProgramID: f.programs[0]}},
		{"90 days by week", metrics.Query{From: date(89), To: date(0), Interval: metrics.Week}},
		{"90 days by week, one program", metrics.Query{From: date(89), To: date(0), Interval: metrics.Week, ProgramID: f.programs[0]}},
		{"90 days by week, one template", metrics.Query{From: date(89), To: date(0), Interval: metrics.Week, TemplateID: f.templates[0]}},
	}
	for _, c := range cases {
		var took, cpu []time.Duration
		for i := 0; i < p.runs+2; i++ {
			start, startCPU := time.Now(), cpuTime()
			r, err := m.Dashboard(ctx, f.accountID, c.q)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if r.Totals.Created == 0 {
				return fmt.Errorf("%s: the dashboard is empty", c.name)
			}
			if i >= 2 { // the first two warm the caches
				took = append(took, time.Since(start))
				cpu = append(cpu, cpuTime()-startCPU)
			}
		}
		_ = out.Encode(result{Engine: p.engine, Case: c.name, Runs: p.runs, P50ms: benchkit.PercentileMs(took, 0.50), P99ms: benchkit.PercentileMs(took, 0.99),
			CPUp50ms: benchkit.PercentileMs(cpu, 0.50)})
	}
	return nil
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
