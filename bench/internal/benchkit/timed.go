package benchkit

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
)

// Timed measures the timed part of a run: its peak resident memory and Go
// heap, the CPU it took, and a CPU profile when one is asked for.
type Timed struct {
	cpuAtStart   CPU
	cpu          CPU
	peakHeapMB   float64
	stopSampling func()
	profile      *os.File
	profileOnce  sync.Once
	stopOnce     sync.Once
	rssMB        float64
}

// StartTimed begins the timed part. Setup's memory is forgotten first (a
// GC, memory handed back, the kernel's high-water mark reset), so the
// peaks are the timed part's own. cpuProfile, when not empty, names the
// file the CPU profile goes to.
func StartTimed(cpuProfile string) (*Timed, error) {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	t := &Timed{}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		t.profile = f
	}
	t.stopSampling = SampleHeap(&t.peakHeapMB)
	t.cpuAtStart = ReadCPU()
	return t, nil
}

// Stop ends the timed part and returns its peak RSS and peak Go heap in
// MB. It is safe to call more than once (deferred, say, after an early
// return); later calls return the same figures.
func (t *Timed) Stop() (rssMB, heapMB float64) {
	t.stopOnce.Do(func() {
		t.cpu = t.cpuAtStart.Since()
		t.rssMB = PeakRSSMB()
		t.stopSampling()
		t.EndProfile()
	})
	return t.rssMB, t.peakHeapMB
}

// CPU is the CPU time the timed part took, once Stop has been called.
func (t *Timed) CPU() CPU { return t.cpu }

// EndProfile ends the CPU profile before the timed part ends, for a run
// whose measured work is over before what it waits for afterwards. It is
// safe to call more than once, and Stop calls it.
func (t *Timed) EndProfile() {
	t.profileOnce.Do(func() {
		if t.profile != nil {
			pprof.StopCPUProfile()
			t.profile.Close()
		}
	})
}

// Report prints a run's result as one JSON line on stdout (if the run got
// far enough to have one) and exits 1, after printing err, if the run
// failed. The result should carry err itself (its "error" field).
func Report[R any](res *R, err error) {
	if res != nil {
		_ = json.NewEncoder(os.Stdout).Encode(res)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
