package benchkit

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPU is CPU time spent so far: by this process, and by the whole machine
// (every process, PostgreSQL's server among them). The difference of two
// readings says what a stretch of work cost, which on a machine whose
// speed varies from run to run is steadier than the work's wall time.
type CPU struct {
	Process time.Duration
	Machine time.Duration
}

// ReadCPU reads both clocks. The machine's is zero where /proc/stat cannot
// be read.
func ReadCPU() CPU {
	var c CPU
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		c.Process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	c.Machine, _ = machineBusy()
	return c
}

// Since is the CPU spent between c and now.
func (c CPU) Since() CPU {
	now := ReadCPU()
	return CPU{Process: now.Process - c.Process, Machine: now.Machine - c.Machine}
}

// machineBusy sums the first line of /proc/stat over the states that are
// work done on this machine's cores: user, nice, system, irq and softirq.
// Idle, I/O wait and the time the hypervisor gave to others (steal) are
// not; guest time is already inside user.
func machineBusy() (time.Duration, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, fmt.Errorf("benchkit: /proc/stat is empty")
	}
	return parseCPULine(sc.Text())
}

// parseCPULine reads /proc/stat's first line: "cpu" and the ticks each
// state took, in the kernel's order (user nice system idle iowait irq
// softirq steal …).
func parseCPULine(line string) (time.Duration, error) {
	fields := strings.Fields(line)
	if len(fields) < 8 || fields[0] != "cpu" {
		return 0, fmt.Errorf("benchkit: unexpected /proc/stat line %q", line)
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} { // user nice system irq softirq
		v, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("benchkit: /proc/stat: %w", err)
		}
		ticks += v
	}
	// The kernel counts in USER_HZ, 100 on every Linux architecture Go
	// supports.
	return time.Duration(ticks) * (time.Second / 100), nil
}
