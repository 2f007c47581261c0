// Package benchkit holds what Herald's benchmark programs share: a
// PostgreSQL schema of their own, memory readings and percentiles.
package benchkit

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// PercentileMs is the p-th percentile (0 to 1) of d in milliseconds; d
// must not be empty.
func PercentileMs(d []time.Duration, p float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[int(float64(len(s)-1)*p)].Microseconds()) / 1000
}

// PeakRSSMB reads the process's high-water resident memory (Linux).
func PeakRSSMB() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

// SampleHeap keeps the peak of the Go heap's objects in *peakMB until the
// returned function (safe to call more than once) is called.
func SampleHeap(peakMB *float64) (stop func()) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			*peakMB = max(*peakMB, float64(sample[0].Value.Uint64())/(1<<20))
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return sync.OnceFunc(func() { close(quit); <-done })
}

// WriteHeapProfile writes the heap profile as it is now to path.
func WriteHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// FreshSchema makes a schema of its own on the server so a run never
// touches other data, and returns the URL that uses it and a function that
// drops it.
func FreshSchema(ctx context.Context, base string) (string, func(), error) {
	if base == "" {
		return "", nil, fmt.Errorf("engine postgres needs -database-url")
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, err
	}
	schema := fmt.Sprintf("herald_bench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	}, nil
}
