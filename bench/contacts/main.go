// Command contacts measures two things a user waits for: contact upserts per
// second through the REST API, and the time and peak memory of importing a
// large CSV. It runs Herald's real HTTP handler on a loopback port and talks
// to it over HTTP, on SQLite or PostgreSQL.
//
//	go run ./bench/contacts -engine sqlite -upserts 20000 -import 100000
//	go run ./bench/contacts -engine postgres -database-url postgres://… -upserts 20000 -import 100000
//
// It prints one JSON line of results.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldsms/herald/bench/internal/benchkit"
	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/app"
	"github.com/heraldsms/herald/internal/config"
)

type result struct {
	Engine         string  `json:"engine"`
	Upserts        int     `json:"upserts"`
	Clients        int     `json:"clients"`
	UpsertsPerS    float64 `json:"upserts_per_s"`
	UpsertP50Ms    float64 `json:"upsert_p50_ms"`
	UpsertP99Ms    float64 `json:"upsert_p99_ms"`
	ImportRows     int     `json:"import_rows"`
	ImportSeconds  float64 `json:"import_s"`
	ImportRowsPerS float64 `json:"import_rows_per_s"`
	ImportCreated  int     `json:"import_created"`
	PeakRSSMB      float64 `json:"peak_rss_mb"`
}

func main() {
	engine := flag.String("engine", "sqlite", "sqlite or postgres")
	dbURL := flag.String("database-url", os.Getenv("HERALD_TEST_POSTGRES_URL"), "PostgreSQL URL (engine postgres)")
	upserts := flag.Int("upserts", 20000, "contact upserts to send over the API")
	clients := flag.Int("clients", 16, "concurrent API clients")
	importRows := flag.Int("import", 100000, "rows in the imported CSV")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(*engine, *dbURL, *upserts, *clients, *importRows); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(engine, dbURL string, upserts, clients, importRows int) error {
	ctx := context.Background()
	cfg := config.Config{Addr: "127.0.0.1:0", LogLevel: "warn", LogFormat: "text", SecretKey: "bench"}
	switch engine {
	case "sqlite":
		dir, err := os.MkdirTemp("", "herald-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
	case "postgres":
		u, cleanup, err := benchkit.FreshSchema(ctx, dbURL)
		if err != nil {
			return err
		}
		defer cleanup()
		cfg.DatabaseURL = u
	default:
		return fmt.Errorf("engine %q: want sqlite or postgres", engine)
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	_, key, err := a.Accounts.CreateAccount(ctx, account.NewAccount{Name: "Bench"})
	if err != nil {
		return err
	}
	res := result{Engine: engine, Upserts: upserts, Clients: clients, ImportRows: importRows}
	if err := benchUpserts(srv.URL, key, upserts, clients, &res); err != nil {
		return err
	}
	if err := benchImport(srv.URL, key, importRows, &res); err != nil {
		return err
	}
	res.PeakRSSMB = benchkit.PeakRSSMB()
	return json.NewEncoder(os.Stdout).Encode(res)
}

// benchUpserts sends n contact creations from several clients at once, as
// a program's backend syncing its members would.
func benchUpserts(base, key string, n, clients int, res *result) error {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var next atomic.Int64
	latencies := make([]time.Duration, n)
	errc := make(chan error, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				body := fmt.Sprintf(`{"external_id":"api-%d","phone":"+1734%07d","first_name":"Member %d","attributes":{"tier":"gold"}}`, i, 2000000+i, i)
				req, _ := http.NewRequest("POST", base+"/api/v1/contacts", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errc <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					errc <- fmt.Errorf("upsert %d: status %d", i, resp.StatusCode)
					return
				}
				latencies[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	select {
	case err := <-errc:
		return err
	default:
	}
	res.UpsertsPerS = float64(n) / elapsed.Seconds()
	res.UpsertP50Ms, res.UpsertP99Ms = benchkit.PercentileMs(latencies, 0.50), benchkit.PercentileMs(latencies, 0.99)
	return nil
}

// benchImport posts a generated CSV of n rows and times the answer.
func benchImport(base, key string, n int, res *result) error {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	fmt.Fprintln(w, "external_id,phone,first_name,last_name,email,sms_preference,city")
	prefs := []string{"opted_in", "opted_out", ""}
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "imp-%d,(415) %03d-%04d,First%d,Last%d,member%d@example.com,%s,City %d\n",
			i, 200+i/10000, i%10000, i, i, i, prefs[i%3], i%50)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/contacts/import", &buf)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "text/csv")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		Created, Updated, Failed int
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("import answer: %w", err)
	}
	res.ImportSeconds = time.Since(start).Seconds()
	res.ImportRowsPerS = float64(n) / res.ImportSeconds
	res.ImportCreated = out.Created
	if out.Created != n {
		return fmt.Errorf("import created %d of %d rows (%d failed)", out.Created, n, out.Failed)
	}
	return nil
}
