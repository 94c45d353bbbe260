package procfs

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
)

// procfs's NetSoftnetStat() drops input_qlen/process_qlen and rejects the whole file on one bad row, so we parse it ourselves.

// Column positions of /proc/net/softnet_stat (net/core/net-procfs.c,
// softnet_seq_show). Columns 3-7 are always zero (old fastroute counters).
const (
	softnetColProcessed      = 0
	softnetColDropped        = 1
	softnetColTimeSqueeze    = 2
	softnetColCPUCollision   = 8
	softnetColReceivedRPS    = 9  // 2.6.39+ (10 columns)
	softnetColFlowLimitCount = 10 // 3.x+ (11 columns)
	softnetColBacklogLen     = 11 // 5.10+: input_qlen + process_qlen
	softnetColCPUIndex       = 12 // 5.10+ (13 columns)
	softnetColInputQueueLen  = 13 // 6.x (15 columns)
	softnetColProcessQueue   = 14 // 6.x (15 columns)

	softnetMinColumns = 9
)

// ParseSoftnet parses /proc/net/softnet_stat: one row of hex counters per
// online CPU, 9 to 15 columns depending on the kernel (rows of different
// widths in one file are accepted; columns beyond the 15th, from a future
// kernel, are ignored). Rows are returned in file order.
//
// The CPU of a row is, in order of preference:
//   - the kernel's index column (13+ columns, 5.10+): CPUFromIndex is set;
//   - online[k] for the k-th row (counting every non-blank line, parsed or
//     not), when online is non-nil and has exactly one entry per row: the
//     kernel prints rows for online CPUs only, in CPU order;
//   - otherwise k itself, which is right only when CPUs 0..n-1 are all online.
//
// online must be the online CPU numbers; it is sorted here (a copy).
//
// It never fails outright: a row with fewer than 9 columns, a non-hex
// field, an index beyond cpuset.MaxCPUs or a CPU already taken by an earlier row is
// skipped and reported in the error (naming the line); other rows are kept.
func ParseSoftnet(r io.Reader, online []int) ([]SoftnetRow, error) {
	errs := kernel.NewProblems("softnet_stat")
	lines := softnetLines(r, errs)

	var byPosition []int
	if online != nil && len(online) == len(lines) {
		byPosition = slices.Clone(online)
		slices.Sort(byPosition)
	}

	rows := make([]SoftnetRow, 0, len(lines))
	taken := map[int]int{} // CPU -> line number
	for k, l := range lines {
		row, idx, problem := parseSoftnetRow(l.text)
		if problem != "" {
			errs.AddLine(l.lineNo, "%s", problem)
			continue
		}
		switch {
		case row.Columns > softnetColCPUIndex:
			if idx >= cpuset.MaxCPUs {
				errs.AddLine(l.lineNo, "CPU index %d out of range %s", idx, softProcDescribe(l.text))
				continue
			}
			row.CPU, row.CPUFromIndex = int(idx), true
		case byPosition != nil:
			row.CPU = byPosition[k]
		default:
			row.CPU = k
		}
		if prev, dup := taken[row.CPU]; dup {
			errs.AddLine(l.lineNo, "CPU %d already given by line %d, row skipped", row.CPU, prev)
			continue
		}
		taken[row.CPU] = l.lineNo
		rows = append(rows, row)
	}
	return rows, errs.Err()
}

// softnetLine is a non-blank line of softnet_stat and its 1-based number.
type softnetLine struct {
	lineNo int
	text   string
}

// softnetLines reads every non-blank line first: the position fallback
// needs the row count.
func softnetLines(r io.Reader, errs *kernel.Problems) []softnetLine {
	sc := softProcScanner(r)
	var lines []softnetLine
	lineNo := 0
	for sc.Scan() {
		lineNo++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		lines = append(lines, softnetLine{lineNo, sc.Text()})
	}
	if err := sc.Err(); err != nil {
		errs.AddLine(lineNo+1, "read error: %v", err)
	} else if len(lines) == 0 {
		errs.Add(errors.New("empty file"))
	}
	return lines
}

// parseSoftnetRow parses the hex columns of one row: the row without its
// CPU, and the CPU index column (meaningful when the row has one). problem
// says why the row is unusable; "" when it is fine.
func parseSoftnetRow(text string) (row SoftnetRow, cpuIndex uint64, problem string) {
	fields := strings.Fields(text)
	if len(fields) < softnetMinColumns {
		return row, 0, fmt.Sprintf("%d columns, want at least %d", len(fields), softnetMinColumns)
	}
	vals := make([]uint64, min(len(fields), softnetColProcessQueue+1))
	for i := range vals {
		v, err := strconv.ParseUint(fields[i], 16, 64)
		if err != nil {
			return row, 0, fmt.Sprintf("column %d %s is not hex", i, softProcDescribe(fields[i]))
		}
		vals[i] = v
	}
	n := len(vals)
	row = SoftnetRow{
		Columns:      len(fields),
		Processed:    vals[softnetColProcessed],
		Dropped:      vals[softnetColDropped],
		TimeSqueeze:  vals[softnetColTimeSqueeze],
		CPUCollision: vals[softnetColCPUCollision],
	}
	at := func(col int) uint64 {
		if n > col {
			return vals[col]
		}
		return 0
	}
	row.ReceivedRPS = at(softnetColReceivedRPS)
	row.FlowLimitCount = at(softnetColFlowLimitCount)
	row.BacklogLen = at(softnetColBacklogLen)
	row.InputQueueLen = at(softnetColInputQueueLen)
	row.ProcessQueueLen = at(softnetColProcessQueue)
	return row, at(softnetColCPUIndex), ""
}

// SoftnetRow is one line of /proc/net/softnet_stat. Columns says how many
// columns the kernel printed; fields beyond it are zero and not exported.
type SoftnetRow struct {
	CPU             int
	CPUFromIndex    bool // CPU came from the kernel's index column (13+ columns)
	Columns         int
	Processed       uint64
	Dropped         uint64
	TimeSqueeze     uint64
	CPUCollision    uint64 // column 9; always 0 since 4.x but printed
	ReceivedRPS     uint64 // 10+ columns
	FlowLimitCount  uint64 // 11+ columns
	BacklogLen      uint64 // 13+ columns: input_qlen + process_qlen
	InputQueueLen   uint64 // 15 columns
	ProcessQueueLen uint64 // 15 columns
}
