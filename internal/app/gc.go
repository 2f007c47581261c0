package app

import (
	"runtime/debug"
)

// Herald's garbage collector settings, unless the operator chose their
// own. A message's way through Herald (its API request, its send, two
// carrier reports) leaves about 100 KB of garbage and keeps almost none, so
// at Go's default, a collection each time the heap doubles, the collector
// took about a fifth of the CPU of a full-speed run of bench/pipeline on
// SQLite. Collecting when the heap has grown fivefold cut the CPU per
// message by 8-22 % in alternating runs. The soft limit keeps a large live
// heap (a promotion's, with the simulator's record of 100,000 messages:
// 140 MB) from growing five times over: near the limit the collector runs
// as often as it must.
const (
	gcPercent   = 400
	memoryLimit = 200 << 20
)

// TuneGC applies Herald's collector settings when neither GOGC nor
// GOMEMLIMIT is set, and reports whether it did; with either set, the Go
// runtime's reading of the two stands as it is.
func TuneGC(getenv func(string) string) bool {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return false
	}
	debug.SetGCPercent(gcPercent)
	debug.SetMemoryLimit(memoryLimit)
	return true
}
