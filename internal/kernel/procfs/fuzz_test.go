package procfs

import (
	"bytes"
	"errors"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// Fuzz targets for every parser, with properties beyond "does not panic".
// FuzzParseInterrupts, FuzzParseSoftirqs and FuzzParseSoftnet (in the
// parsers' own test files) check the basic shape; the *Invariants targets
// here add the stronger properties: a skipped or shortened line always
// comes with an error, and error text stays short whatever the input.
//
// Seeds live in testdata/fuzz/<FuzzName>/ (go's corpus format, taken from
// the fixtures under ../testdata); crashers the fuzzer finds land there too
// and then run as regression cases on every `go test`.
//
//	make fuzz-short                                              # 10,000 inputs per target, as CI does
//	go test ./internal/kernel/procfs -run '^$' -fuzz '^FuzzParseSoftnetInvariants$' -fuzztime 10m -parallel 1

// intrBlank is ParseInterrupts' notion of a blank line.
func intrBlank(line string) bool {
	for i := 0; i < len(line); i++ {
		if !intrIsSpace(line[i]) {
			return false
		}
	}
	return true
}

func FuzzParseInterruptsInvariants(f *testing.F) {
	f.Add([]byte("           CPU0       CPU1\n  1:          9          0   IO-APIC   1-edge      i8042\nNMI:          0          0   Non-maskable interrupts\nERR:          0\n"))
	f.Add([]byte(" 38:          0        203  PCI-MSIX-0000:00:03.0   1-edge      virtio2-input.0\n 39: 1\n"))
	f.Add([]byte("CPU0\n 5: " + strings.Repeat("9", 64) + " x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := ParseInterrupts(bytes.NewReader(data))
		if tab == nil {
			t.Fatal("nil table")
		}
		testutil.CheckErrLen(t, err)
		var perr *InterruptsParseError
		if err != nil && !errors.As(err, &perr) {
			t.Fatalf("error %T is not an *InterruptsParseError: %v", err, err)
		}
		for i := 1; i < len(tab.CPUs); i++ {
			if tab.CPUs[i] <= tab.CPUs[i-1] {
				t.Fatalf("CPUs not strictly increasing: %v", tab.CPUs)
			}
		}
		for _, c := range tab.CPUs {
			if c < 0 || c >= cpuset.MaxCPUs {
				t.Fatalf("CPU %d out of range", c)
			}
		}
		irqs := map[int]bool{}
		for _, l := range tab.IRQs {
			if irqs[l.IRQ] {
				t.Fatalf("IRQ %d twice", l.IRQ)
			}
			irqs[l.IRQ] = true
			if l.IRQ < 0 || len(l.Counts) == 0 || len(l.Counts) > len(tab.CPUs) {
				t.Fatalf("IRQ %d: %d counts for %d CPUs", l.IRQ, len(l.Counts), len(tab.CPUs))
			}
			// A shortened row is a skipped cell: it must be reported.
			if err == nil && len(l.Counts) != len(tab.CPUs) {
				t.Fatalf("IRQ %d has %d counts for %d CPUs but no error", l.IRQ, len(l.Counts), len(tab.CPUs))
			}
		}
		for _, a := range tab.Arch {
			if a.Global && len(a.Counts) > 1 {
				t.Fatalf("global %s has %d counts", a.Name, len(a.Counts))
			}
			if !a.Global && len(a.Counts) > len(tab.CPUs) {
				t.Fatalf("%s: %d counts for %d CPUs", a.Name, len(a.Counts), len(tab.CPUs))
			}
		}
		// Every non-blank line is the header, a row, or an error.
		rows := len(tab.IRQs) + len(tab.Arch)
		lines := testutil.NonBlankLines(data, intrBlank)
		if rows > lines {
			t.Fatalf("%d rows from %d non-blank lines", rows, lines)
		}
		if err == nil && rows != lines && rows+1 != lines {
			t.Fatalf("%d non-blank lines gave %d rows and no error: lines were skipped silently", lines, rows)
		}
		if lines == 0 && err == nil {
			t.Fatal("empty input without an error")
		}
	})
}

func FuzzParseSoftirqsInvariants(f *testing.F) {
	f.Add([]byte("                    CPU0       CPU1\n          HI:          0          0\n      NET_RX:       1234        567\n"))
	f.Add([]byte("NET_RX: 1 2\nNET_TX: 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := ParseSoftirqs(bytes.NewReader(data))
		if tab == nil {
			t.Fatal("nil table")
		}
		testutil.CheckErrLen(t, err)
		seenCPU := map[int]bool{}
		for _, c := range tab.CPUs {
			if c < 0 || c >= cpuset.MaxCPUs || seenCPU[c] {
				t.Fatalf("bad CPU list %v", tab.CPUs)
			}
			seenCPU[c] = true
		}
		names := map[string]bool{}
		for _, v := range tab.Vectors {
			if v.Name == "" || names[v.Name] || strings.ContainsAny(v.Name, ": \t") {
				t.Fatalf("bad or repeated vector name %q", v.Name)
			}
			names[v.Name] = true
			if len(v.Counts) > len(tab.CPUs) {
				t.Fatalf("%s has %d counts for %d CPUs", v.Name, len(v.Counts), len(tab.CPUs))
			}
			if len(v.Counts) < len(tab.CPUs) && err == nil {
				t.Fatalf("%s has %d counts for %d CPUs but no error", v.Name, len(v.Counts), len(tab.CPUs))
			}
		}
		lines := testutil.NonBlankLines(data, testutil.ScannerBlank)
		if err == nil && lines != len(tab.Vectors)+1 {
			t.Fatalf("%d non-blank lines gave a header and %d vectors, no error: lines skipped silently", lines, len(tab.Vectors))
		}
		if lines == 0 && err == nil {
			t.Fatal("empty input without an error")
		}
	})
}

// onlineFromMask turns a fuzzed bit mask into an online CPU list; 0 is nil
// (topology unknown).
func onlineFromMask(mask uint64) []int {
	if mask == 0 {
		return nil
	}
	var out []int
	for mask != 0 {
		b := bits.TrailingZeros64(mask)
		out = append(out, b)
		mask &^= 1 << uint(b)
	}
	return out
}

func FuzzParseSoftnetInvariants(f *testing.F) {
	f.Add([]byte("00000001 00000002 00000003 00000000 00000000 00000000 00000000 00000000 00000000 00000004 00000005 00000006 00000000\n"), uint64(1))
	f.Add([]byte("1 0 0 0 0 0 0 0 0\n2 0 0 0 0 0 0 0 0\n"), uint64(0b101))
	f.Fuzz(func(t *testing.T, data []byte, onlineMask uint64) {
		online := onlineFromMask(onlineMask)
		rows, err := ParseSoftnet(bytes.NewReader(data), online)
		testutil.CheckErrLen(t, err)
		lines := testutil.NonBlankLines(data, testutil.ScannerBlank)
		if len(rows) > lines {
			t.Fatalf("%d rows from %d non-blank lines", len(rows), lines)
		}
		if len(rows) < lines && err == nil {
			t.Fatalf("%d non-blank lines gave %d rows and no error: rows skipped silently", lines, len(rows))
		}
		if lines == 0 && err == nil {
			t.Fatal("empty input without an error")
		}
		byPosition := online != nil && len(online) == lines
		seen := map[int]bool{}
		for _, r := range rows {
			if r.Columns < softnetMinColumns || r.CPU < 0 || r.CPU >= cpuset.MaxCPUs || seen[r.CPU] {
				t.Fatalf("bad or repeated row %+v", r)
			}
			seen[r.CPU] = true
			if r.CPUFromIndex != (r.Columns > softnetColCPUIndex) {
				t.Fatalf("CPUFromIndex %v with %d columns", r.CPUFromIndex, r.Columns)
			}
			if !r.CPUFromIndex && byPosition && !slices.Contains(online, r.CPU) {
				t.Fatalf("row CPU %d is not online (%v)", r.CPU, online)
			}
			if r.Columns <= softnetColReceivedRPS && r.ReceivedRPS != 0 ||
				r.Columns <= softnetColFlowLimitCount && r.FlowLimitCount != 0 ||
				r.Columns <= softnetColBacklogLen && r.BacklogLen != 0 ||
				r.Columns <= softnetColProcessQueue && r.ProcessQueueLen != 0 {
				t.Fatalf("row %+v has a value in a column the kernel did not print", r)
			}
		}
	})
}

// FuzzReadIRQAffinity fuzzes the contents (and presence, one bit per file)
// of /proc/irq/N/*: whatever they hold, each field is what its own parser
// makes of its file, and each file that does not parse is named in the error.
func FuzzReadIRQAffinity(f *testing.F) {
	f.Add("0-1\n", "3\n", "0\n", "1\n", "00000000\n", "0\n", uint8(0xff))
	f.Add("", "", "1\n", "", "00000002\n", "-1\n", uint8(0b101010))
	f.Add("0-\n", "zz\n", "x\n", "5-3\n", "1,2\n", "one\n", uint8(0xff))
	root := f.TempDir()
	dir := filepath.Join(root, "irq", "42")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, smpList, smpMask, effList, effMask, hint, node string, present uint8) {
		files := []struct {
			name, content string
			mask          bool
		}{
			{"smp_affinity_list", smpList, false}, {"smp_affinity", smpMask, true},
			{"effective_affinity_list", effList, false}, {"effective_affinity", effMask, true},
			{"affinity_hint", hint, true}, {"node", node, false},
		}
		has := func(i int) bool { return present&(1<<uint(i)) != 0 }
		for i, fl := range files {
			testutil.FuzzFile(t, dir, fl.name, has(i), fl.content)
		}
		aff, err := ReadIRQAffinity(root, 42)
		testutil.CheckErrLen(t, err)
		if errors.Is(err, os.ErrNotExist) {
			t.Fatalf("IRQ reported gone while its directory exists: %v", err)
		}
		if aff.IRQ != 42 {
			t.Fatalf("IRQ %d", aff.IRQ)
		}
		parse := func(i int) (cpuset.CPUSet, bool, error) {
			if !has(i) {
				return cpuset.CPUSet{}, false, nil
			}
			if files[i].mask {
				s, err := cpuset.ParseCPUMask(strings.TrimRight(files[i].content, "\n"))
				return s, err == nil, err
			}
			s, err := cpuset.ParseCPUList(strings.TrimRight(files[i].content, "\n"))
			return s, err == nil, err
		}
		// The list file wins over the mask; a bad file is named in the error.
		pick := func(list, mask int) (cpuset.CPUSet, bool, int) {
			if has(list) {
				s, ok, _ := parse(list)
				return s, ok, list
			}
			s, ok, _ := parse(mask)
			return s, ok, mask
		}
		mustName := func(i int) {
			if !testutil.ErrMentions(err, files[i].name) {
				t.Fatalf("%s holds %q, which does not parse, but the error is %v", files[i].name, testutil.Clip(files[i].content), err)
			}
		}
		smp, smpOK, smpFile := pick(0, 1)
		if !aff.SMPAffinity.Equal(smp) {
			t.Fatalf("SMPAffinity %q, want %q", aff.SMPAffinity, smp)
		}
		if !smpOK && has(smpFile) {
			mustName(smpFile)
		}
		if !has(0) && !has(1) && err == nil {
			t.Fatal("neither smp_affinity_list nor smp_affinity, but no error")
		}
		eff, effOK, effFile := pick(2, 3)
		if !aff.Effective.Equal(eff) || aff.HasEffective != effOK {
			t.Fatalf("Effective %q (has %v), want %q (%v)", aff.Effective, aff.HasEffective, eff, effOK)
		}
		if !effOK && has(effFile) {
			mustName(effFile)
		}
		h, hintOK, _ := parse(4)
		if !aff.Hint.Equal(h) || aff.HasHint != hintOK {
			t.Fatalf("Hint %q (has %v), want %q (%v)", aff.Hint, aff.HasHint, h, hintOK)
		}
		if !hintOK && has(4) {
			mustName(4)
		}
		wantNode := -1
		if has(5) {
			if v, perr := strconv.ParseInt(strings.TrimSpace(node), 10, 64); perr == nil {
				wantNode = int(v)
			} else {
				mustName(5)
			}
		}
		if aff.Node != wantNode {
			t.Fatalf("Node %d, want %d", aff.Node, wantNode)
		}
		for _, s := range []cpuset.CPUSet{aff.SMPAffinity, aff.Effective, aff.Hint} {
			testutil.CheckCPUSet(t, s)
		}
	})
}

// FuzzParseCPUTime: whatever /proc/stat holds, the CPUs returned are
// sorted, in range and once each, every time is a non-negative number of
// seconds within 64 bits of ticks, a cpu line that gave no CPU comes with
// an error, and the error quotes nothing of the input (it is printable
// ASCII: a quoted byte of garbage would not be).
func FuzzParseCPUTime(f *testing.F) {
	files, _ := filepath.Glob("../../../testdata/proc_stat/*/stat")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b, int64(1_800_000_000))
		}
	}
	f.Add([]byte("cpu0 1 2 3 -1 5 6 7 8 9 10\ncpu1 x 0 0 0 0 0 0 0\ncpu2 1 1 1 1 1 1 1 1\nbtime 1000\n"), int64(2000))
	f.Add([]byte("cpu0 1 2 3 4 5 6 7 8\ncpu1 18446744073709551615 0 0 0 0 0 0 0\n"), int64(0))
	f.Fuzz(func(t *testing.T, data []byte, now int64) {
		times, err := ParseCPUTime(bytes.NewReader(data), time.Unix(now, 0))
		testutil.CheckErrLen(t, err)
		if err != nil {
			for _, c := range err.Error() {
				if c < 0x20 || c > 0x7e {
					t.Fatalf("error %q holds a byte of the input", err)
				}
			}
		}
		prev := -1
		for _, c := range times {
			if c.CPU <= prev || c.CPU >= cpuset.MaxCPUs {
				t.Fatalf("CPU %d after %d", c.CPU, prev)
			}
			prev = c.CPU
			for _, v := range []float64{c.User, c.Nice, c.System, c.Idle, c.Iowait, c.IRQ, c.SoftIRQ, c.Steal} {
				if !(v >= 0 && v <= math.MaxUint64/userHZ) {
					t.Fatalf("cpu%d: time %v", c.CPU, v)
				}
			}
		}
		if lines := statCPULines(data); len(times) > lines || len(times) < lines && err == nil {
			t.Fatalf("%d cpu lines gave %d CPUs and error %v", lines, len(times), err)
		}
	})
}

// statCPULines counts the lines ParseCPUTime must account for: a first
// field that starts with "cpu" but is not the aggregate, in lines short
// enough to be kept whole.
func statCPULines(data []byte) int {
	n := 0
	for line := range bytes.Lines(data) {
		f := strings.Fields(string(line))
		if len(line) < statMaxLine && len(f) > 0 && strings.HasPrefix(f[0], "cpu") && f[0] != "cpu" {
			n++
		}
	}
	return n
}
