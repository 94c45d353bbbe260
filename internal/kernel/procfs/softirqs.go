package procfs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
)

// procfs's Softirqs() drops the header's CPUn names (it assumes column i is CPU i), so we parse /proc/softirqs ourselves.

// softProcMaxLine bounds one line of /proc/softirqs or /proc/net/softnet_stat
// (8192 CPUs x 11 characters is ~90 KiB; a longer line is garbage).
const softProcMaxLine = 1 << 20

// softProcDescribe stands for a line or field in an error message: its
// length and first byte class in parentheses, never its text (see
// kernel.Describe).
func softProcDescribe(text string) string {
	return "(" + kernel.Describe(text) + ")"
}

// softProcScanner returns a line scanner that accepts lines up to
// softProcMaxLine. Its buffer starts at bufio's 4 KiB and doubles as long
// lines need (a 1,024-CPU line of /proc/softirqs is ~11 KiB): a 64 KiB
// buffer up front was the largest allocation of a small host's scrape.
func softProcScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, softProcMaxLine)
	return sc
}

// ParseSoftirqs parses /proc/softirqs:
//
//	              CPU0       CPU2       CPU3
//	    HI:          0          0          0
//	NET_RX:    2452582     469315     398117
//
// The header names the CPU of each column (the kernel prints one column per
// possible CPU, so offline CPUs keep a column of frozen counts). Vectors are
// returned in file order; their names are not checked against a list, since
// they change between kernels (BLOCK_IOPOLL became IRQ_POLL in 4.5).
//
// It never fails outright: problems are returned as an error next to the
// part of the table that parsed.
//   - A row with fewer counts than the header has CPUs (or with an unparsable
//     count) keeps the counts before the gap, so len(Counts) may be less than
//     len(CPUs); Counts[i] always belongs to CPUs[i]. Extra counts beyond the
//     header are dropped.
//   - A line that is not "NAME: counts", or repeats a vector name, is skipped.
//   - A file whose first line is not a CPUn header is read with CPUs 0..n-1
//     from its widest row (as for a headerless /proc/interrupts fragment).
//   - A header with a field other than CPUn, or naming a CPU twice, makes the
//     columns unattributable: the table is returned empty.
func ParseSoftirqs(r io.Reader) (*SoftirqTable, error) {
	t := &SoftirqTable{}
	errs := kernel.NewProblems("softirqs")
	sc := softProcScanner(r)
	lineNo := 0
	sawHeader, headerless := false, false
	widest := 0
	seen := map[string]bool{}
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		if !sawHeader {
			sawHeader = true
			if !strings.Contains(line, ":") {
				cpus, err := parseSoftirqsHeader(line)
				if err != nil {
					errs.AddLine(lineNo, "%v in the header", err)
					return &SoftirqTable{}, errs.Err()
				}
				t.CPUs = cpus
				continue
			}
			headerless = true
			errs.AddLine(lineNo, "no CPUn header (first line %s); assuming columns are CPU0..CPUn-1", softProcDescribe(line))
		}
		name, rest, _ := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if name == "" || strings.ContainsAny(name, " \t") {
			errs.AddLine(lineNo, "not a softirq row %s", softProcDescribe(line))
			continue
		}
		if len(name) > 64 {
			errs.AddLine(lineNo, "vector name too long %s", softProcDescribe(line))
			continue
		}
		if seen[name] {
			errs.AddLine(lineNo, "vector %s repeated, skipped", name)
			continue
		}
		seen[name] = true
		counts, complete := softirqCounts(name, rest, lineNo, errs)
		if !headerless {
			switch {
			case len(counts) > len(t.CPUs):
				errs.AddLine(lineNo, "vector %s has %d counts for %d CPUs, extra counts dropped", name, len(counts), len(t.CPUs))
				counts = counts[:len(t.CPUs)]
			case len(counts) < len(t.CPUs) && complete:
				errs.AddLine(lineNo, "vector %s has %d counts for %d CPUs (truncated row)", name, len(counts), len(t.CPUs))
			}
		} else if len(counts) > widest {
			widest = min(len(counts), cpuset.MaxCPUs)
			counts = counts[:widest]
		}
		t.Vectors = append(t.Vectors, SoftirqVector{Name: name, Counts: counts})
	}
	if err := sc.Err(); err != nil {
		errs.Add(fmt.Errorf("read after line %d: %w", lineNo, err))
	}
	if !sawHeader {
		errs.Add(errors.New("empty file"))
	}
	if headerless {
		numberColumns(t, widest, errs)
	}
	return t, errs.Err()
}

// softirqCounts parses the decimal counts of one row; at the first bad
// one it reports the problem and keeps the counts before it (complete is
// false then).
func softirqCounts(name, rest string, lineNo int, errs *kernel.Problems) (counts []uint64, complete bool) {
	fields := strings.Fields(rest)
	counts = make([]uint64, 0, len(fields))
	for _, f := range fields {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			errs.AddLine(lineNo, "vector %s: bad count %s for column %d, row truncated there", name, softProcDescribe(f), len(counts))
			return counts, false
		}
		counts = append(counts, v)
	}
	return counts, true
}

// numberColumns gives a headerless table CPUs 0..widest-1 and reports the
// rows narrower than the widest.
func numberColumns(t *SoftirqTable, widest int, errs *kernel.Problems) {
	t.CPUs = make([]int, widest)
	for i := range t.CPUs {
		t.CPUs[i] = i
	}
	for _, v := range t.Vectors {
		if len(v.Counts) < widest {
			errs.Add(fmt.Errorf("vector %s has %d counts, widest row has %d", v.Name, len(v.Counts), widest))
		}
	}
}

// parseSoftirqsHeader parses "CPU0 CPU1 ..." into CPU numbers.
func parseSoftirqsHeader(line string) ([]int, error) {
	fields := strings.Fields(line)
	cpus := make([]int, 0, len(fields))
	seen := map[int]bool{}
	for _, f := range fields {
		num, ok := strings.CutPrefix(f, "CPU")
		if !ok {
			return nil, fmt.Errorf("field %d %s is not CPUn", len(cpus)+1, softProcDescribe(f))
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || n >= cpuset.MaxCPUs || num != strconv.Itoa(n) {
			return nil, fmt.Errorf("field %d %s is not CPUn", len(cpus)+1, softProcDescribe(f))
		}
		if seen[n] {
			return nil, fmt.Errorf("CPU%d appears twice", n)
		}
		seen[n] = true
		cpus = append(cpus, n)
	}
	if len(cpus) == 0 {
		return nil, errors.New("no CPU columns")
	}
	return cpus, nil
}

// The softirq vectors of the network receive and transmit paths, as
// /proc/softirqs names them: what the collector exports by default and
// what the report sums.
const (
	SoftirqNetRX = "NET_RX"
	SoftirqNetTX = "NET_TX"
)

// SoftirqTable is /proc/softirqs.
type SoftirqTable struct {
	CPUs    []int // from the header's CPUn names
	Vectors []SoftirqVector
}

// SoftirqVector is one line of /proc/softirqs.
type SoftirqVector struct {
	Name   string // "NET_RX"
	Counts []uint64
}
