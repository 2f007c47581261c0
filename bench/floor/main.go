// Command floor measures the least a message's trip through Herald can cost
// on this machine, with none of Herald in it: the loopback HTTP exchanges a
// message makes, and the fewest SQL writes that keep its row and history.
// Herald's own pipeline (bench/pipeline) is measured against the sum.
//
//	go run ./bench/floor -part http
//	go run ./bench/floor -part sql -engine sqlite
//	go run ./bench/floor -part sql -engine postgres -database-url postgres://…
//
// Each part prints one JSON line on stdout and a summary on stderr.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/heraldsms/herald/bench/internal/benchkit"
)

type result struct {
	Part    string `json:"part"`
	Engine  string `json:"engine,omitempty"`
	N       int    `json:"n"`
	Listing bool   `json:"listing,omitempty"`
	// PerS is exchanges a second for the http part, message lives a second
	// for the sql part.
	PerS float64 `json:"per_s"`
	// MachineCPUUs is the CPU the whole machine (this process and any
	// database server) spent per exchange or per message life.
	MachineCPUUs float64 `json:"machine_cpu_us"`
	ProcessCPUUs float64 `json:"process_cpu_us"`
	// PerMessageUs is MachineCPUUs for what one message needs: four
	// exchanges for the http part, one life for the sql part.
	PerMessageUs float64 `json:"per_message_us"`
	Seconds      float64 `json:"seconds"`
}

func main() {
	part := flag.String("part", "http", "http or sql")
	engine := flag.String("engine", "sqlite", "sqlite or postgres (the sql part)")
	dbURL := flag.String("database-url", os.Getenv("HERALD_TEST_POSTGRES_URL"), "PostgreSQL server (the sql part); the run makes and drops a schema of its own")
	n := flag.Int("n", 40000, "exchanges (http) or message lives (sql)")
	clients := flag.Int("clients", 32, "concurrent HTTP clients (http)")
	batch := flag.Int("batch", 100, "messages per statement (sql)")
	streams := flag.Int("streams", 0, "concurrent writers (sql); 0 is 1 on SQLite, 4 on PostgreSQL")
	listing := flag.Bool("listing", false, "give the message table the indexes listing by account, status and contact needs (sql)")
	flag.Parse()

	ctx := context.Background()
	var (
		res *result
		err error
	)
	switch *part {
	case "http":
		res, err = runHTTP(ctx, *n, *clients)
	case "sql":
		if *streams == 0 {
			*streams = 1
			if *engine == "postgres" {
				*streams = 4
			}
		}
		res, err = runSQL(ctx, sqlRun{engine: *engine, url: *dbURL, n: *n, batch: *batch, streams: *streams, listing: *listing})
	default:
		err = fmt.Errorf("unknown part %q", *part)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "%s %s: %.0f/s, machine CPU %.1f µs each, %.0f µs a message\n",
		res.Part, res.Engine, res.PerS, res.MachineCPUUs, res.PerMessageUs)
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

// measure times work and divides its CPU by count.
func measure(part string, count int, work func() error) (*result, error) {
	cpu := benchkit.ReadCPU()
	start := time.Now()
	if err := work(); err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	spent := cpu.Since()
	return &result{
		Part:         part,
		N:            count,
		PerS:         float64(count) / elapsed.Seconds(),
		MachineCPUUs: float64(spent.Machine.Microseconds()) / float64(count),
		ProcessCPUUs: float64(spent.Process.Microseconds()) / float64(count),
		Seconds:      elapsed.Seconds(),
	}, nil
}
