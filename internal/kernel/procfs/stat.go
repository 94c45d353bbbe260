package procfs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
)

// statFields names the values of a cpuN line, in order (proc(5)); guest
// and guest_nice are already included in user and nice.
var statFields = []string{"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice"}

// statMinFields is the fewest values a cpuN line may have: through steal
// (every kernel since 2.6.11). A shorter line was cut.
const statMinFields = 8

// statMaxLine bounds the lines kept whole: cpuN lines are ~100 bytes; the
// intr line (one count per IRQ) can be long, but it is skipped unread.
const statMaxLine = 4 << 10

// ReadCPUTime reads the cpuN lines of <procRoot>/stat (ParseCPUTime), the
// time bound taken from the clock now.
//
// Hand-written rather than prometheus/procfs' FS.Stat: that opens the file
// blocking and has no parse over an io.Reader (so no cap, no FIFO refusal
// through kernel.ParseFile), and it rejects the whole file on one bad line
// while accepting values that cannot be right (a negative count).
func ReadCPUTime(procRoot string) ([]CPUTime, error) {
	return kernel.ParseFile(filepath.Join(procRoot, "stat"), StatCap, func(r io.Reader) ([]CPUTime, error) {
		return ParseCPUTime(r, time.Now())
	})
}

// ParseCPUTime parses the cpuN lines of /proc/stat (USER_HZ ticks, see
// userHZ) into seconds; the
// aggregate "cpu" line and every other line but btime are skipped. CPUs
// are sorted by number; offline CPUs have no line, so the list may have
// gaps.
//
// A cpuN line whose values cannot be right is left out and named in the
// error (line, CPU, field), the other CPUs are kept: a value that is not
// a decimal number, negative, beyond 64 bits, or more ticks than have
// passed since boot (btime, at now; with 10 % and a minute to spare), a
// line with fewer than statMinFields values, a CPU number beyond
// cpuset.MaxCPUs or given twice. Without a btime line the file was cut
// short after its cpu lines (the kernel prints btime after them): the
// last cpu line read may end mid-number, so the highest CPU is left out
// too. A file with no cpuN line returns nothing and an error.
func ParseCPUTime(r io.Reader, now time.Time) ([]CPUTime, error) {
	problems := kernel.NewProblems("stat")
	rows, btime := readStatLines(r, problems)
	if len(rows) == 0 {
		problems.Add(errors.New("no cpuN lines"))
		return nil, problems.Err()
	}
	if btime == 0 {
		last := rows[len(rows)-1]
		rows = rows[:len(rows)-1]
		problems.AddLine(last.lineNo, "no btime line after the cpu lines (cut short?); %s dropped", last.name())
	}
	limit := statTickLimit(btime, now)
	out := make([]CPUTime, 0, len(rows))
	seen := map[int]int{} // CPU → line
	for _, row := range rows {
		t, problem := row.cpuTime(limit)
		if prev, dup := seen[t.CPU]; dup && problem == "" {
			problem = fmt.Sprintf("given by line %d already", prev)
		}
		if problem != "" {
			problems.AddLine(row.lineNo, "%s: %s; dropped", row.name(), problem)
			continue
		}
		seen[t.CPU] = row.lineNo
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b CPUTime) int { return a.CPU - b.CPU })
	return out, problems.Err()
}

// statTickLimit is the most ticks a CPU can have counted in one mode since
// btime, with room for clock skew; 0 (no limit) when btime is unknown or
// after now.
func statTickLimit(btime int64, now time.Time) uint64 {
	up := now.Unix() - btime
	if btime <= 0 || up <= 0 {
		return 0
	}
	return uint64(up)*userHZ*11/10 + 60*userHZ
}

// statRow is a cpuN line, its values still text.
type statRow struct {
	lineNo int
	label  string // "cpu3"
	fields []string
}

// readStatLines returns the cpuN lines and btime (0 when absent). Lines
// that are neither are skipped without being kept (intr can be long).
func readStatLines(r io.Reader, problems *kernel.Problems) (rows []statRow, btime int64) {
	br := bufio.NewReaderSize(r, statMaxLine)
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadSlice('\n')
		long := err == bufio.ErrBufferFull
		// Split before reading on: the next ReadSlice reuses line's bytes.
		fields := strings.Fields(string(statKey(line, long)))
		for err == bufio.ErrBufferFull { // the rest of a long line
			_, err = br.ReadSlice('\n')
		}
		if len(line) > 0 {
			switch {
			case len(fields) == 0 || fields[0] == "cpu":
			case fields[0] == "btime" && len(fields) == 2:
				btime, _ = strconv.ParseInt(fields[1], 10, 64)
			case strings.HasPrefix(fields[0], "cpu") && long:
				problems.AddLine(lineNo, "a cpu line longer than %d bytes; left out", statMaxLine)
			case strings.HasPrefix(fields[0], "cpu"):
				rows = append(rows, statRow{lineNo, fields[0], fields[1:]})
			}
		}
		if err != nil {
			if err != io.EOF {
				problems.AddLine(lineNo, "read error: %v", err)
			}
			return rows, btime
		}
	}
}

// statKey is what of a line is worth splitting: all of it, or, of a line
// too long to be a cpu line, only enough to see its key.
func statKey(line []byte, long bool) []byte {
	if !long {
		return line
	}
	line = bytes.TrimLeft(line, " \t")
	return line[:min(len(line), 16)]
}

// cpu is the CPU number of the label; ok is false unless the label is
// "cpu" and a number as the kernel prints it.
func (row statRow) cpu() (int, bool) {
	digits := row.label[len("cpu"):]
	cpu, err := strconv.Atoi(digits)
	return cpu, err == nil && digits == strconv.Itoa(cpu)
}

// name is the label for an error: itself when it is a cpuN label, a
// description otherwise (kernel.Describe).
func (row statRow) name() string {
	if _, ok := row.cpu(); ok {
		return row.label
	}
	return "a cpu label (" + kernel.Describe(row.label) + ")"
}

// cpuTime checks and converts one cpuN line; problem says why it cannot
// be right ("" when it can).
func (row statRow) cpuTime(limit uint64) (CPUTime, string) {
	cpu, ok := row.cpu()
	switch {
	case !ok:
		return CPUTime{}, "not a cpuN label"
	case cpu < 0 || cpu >= cpuset.MaxCPUs:
		return CPUTime{}, fmt.Sprintf("CPU number out of range [0,%d)", cpuset.MaxCPUs)
	case len(row.fields) < statMinFields:
		return CPUTime{}, fmt.Sprintf("%d values, want at least %d (user to steal)", len(row.fields), statMinFields)
	}
	var v [8]float64
	for i, f := range row.fields[:min(len(row.fields), len(statFields))] {
		ticks, problem := statTicks(f, limit)
		if problem != "" {
			return CPUTime{}, statFields[i] + " " + problem
		}
		if i < len(v) {
			v[i] = float64(ticks) / userHZ
		}
	}
	return CPUTime{CPU: cpu, User: v[0], Nice: v[1], System: v[2], Idle: v[3],
		Iowait: v[4], IRQ: v[5], SoftIRQ: v[6], Steal: v[7]}, ""
}

// statTicks parses one value; problem says why it cannot be right.
func statTicks(f string, limit uint64) (uint64, string) {
	ticks, err := strconv.ParseUint(f, 10, 64)
	switch {
	case err == nil && limit > 0 && ticks > limit:
		return 0, fmt.Sprintf("= %d ticks, more than the %d since boot (btime) allow", ticks, limit)
	case err == nil:
		return ticks, ""
	case errors.Is(err, strconv.ErrRange):
		return 0, "is beyond 64 bits"
	}
	if digits, neg := strings.CutPrefix(f, "-"); neg && digits != "" && strings.Trim(digits, "0123456789") == "" {
		if n, err := strconv.ParseInt(f, 10, 64); err == nil {
			return 0, fmt.Sprintf("= %d: negative", n)
		}
		return 0, "is negative"
	}
	return 0, "is not a decimal number (" + kernel.Describe(f) + ")"
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
