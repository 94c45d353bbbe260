package procfs

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
	procfslib "github.com/prometheus/procfs"
)

// ReadCPUTime reads the cpuN lines of <procRoot>/stat with procfs, which
// parses them fully and already converts USER_HZ ticks to seconds (it
// assumes USER_HZ is 100, the value on all mainstream architectures). The
// aggregate "cpu" line is left out. CPUs are sorted by number; offline CPUs
// have no line, so the list may have gaps.
//
// procfs rejects the whole file on any malformed line, so then nothing is
// returned. A CPU number beyond cpuset.MaxCPUs is dropped and reported.
func ReadCPUTime(procRoot string) ([]CPUTime, error) {
	// procfs opens the file blocking (a FIFO would hang it) and reads at
	// most 1 MiB: check first that it is a regular file.
	f, err := kernel.OpenRegular(filepath.Join(procRoot, "stat"))
	if err != nil {
		return nil, fmt.Errorf("stat: %w", err)
	}
	f.Close()
	fs, err := procfslib.NewFS(procRoot)
	if err != nil {
		return nil, fmt.Errorf("stat: %w", err)
	}
	st, err := fs.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat: %w", err)
	}
	if len(st.CPU) == 0 {
		// procfs skips lines it does not know, so garbage parses "fine".
		return nil, fmt.Errorf("stat: %s has no cpuN lines", filepath.Join(procRoot, "stat"))
	}
	// Every kernel prints btime after the cpu lines; procfs does not notice
	// when it is missing. Then the file was cut short (a partial copy) and
	// the last cpu line read may end mid-number, its missing fields read as
	// 0, which would make the counters drop: the kernel prints cpu lines in
	// CPU order, so the highest CPU is dropped and the file reported.
	var cut int64 = -1
	if st.BootTime == 0 {
		for cpu := range st.CPU {
			cut = max(cut, cpu)
		}
	}
	out := make([]CPUTime, 0, len(st.CPU))
	var bad []int64
	for cpu, s := range st.CPU {
		if cpu < 0 || cpu >= cpuset.MaxCPUs {
			bad = append(bad, cpu)
			continue
		}
		if cpu == cut {
			continue
		}
		out = append(out, CPUTime{
			CPU:     int(cpu),
			User:    s.User,
			Nice:    s.Nice,
			System:  s.System,
			Idle:    s.Idle,
			Iowait:  s.Iowait,
			IRQ:     s.IRQ,
			SoftIRQ: s.SoftIRQ,
			Steal:   s.Steal,
		})
	}
	slices.SortFunc(out, func(a, b CPUTime) int { return a.CPU - b.CPU })
	if cut >= 0 {
		return out, fmt.Errorf("stat: %s has no btime line after its cpu lines (cut short?); cpu%d dropped",
			filepath.Join(procRoot, "stat"), cut)
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return out, fmt.Errorf("stat: CPU numbers out of range, lines dropped: %v", bad)
	}
	return out, nil
}

// CPUTime is one cpuN line of /proc/stat, in seconds.
type CPUTime struct {
	CPU                                                   int
	User, Nice, System, Idle, Iowait, IRQ, SoftIRQ, Steal float64
}

// Total is the sum of every mode: the CPU's whole time.
func (t CPUTime) Total() float64 {
	return t.User + t.Nice + t.System + t.Idle + t.Iowait + t.IRQ + t.SoftIRQ + t.Steal
}
