package collector

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
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
//	go test ./collector -run '^$' -fuzz '^FuzzParseCPUList$' -fuzztime 10m -parallel 1

// fuzzMaxErr bounds the text of any parse error: garbage must not turn into
// a flood of log text (the parsers clip what they quote).
const fuzzMaxErr = 16 << 10

func checkErrLen(t *testing.T, err error) {
	t.Helper()
	if err != nil && len(err.Error()) > fuzzMaxErr {
		t.Fatalf("error text is %d bytes (limit %d): %.200q…", len(err.Error()), fuzzMaxErr, err.Error())
	}
}

// errMentions reports whether err, or any error it wraps (a combined
// error spells out only the first few), has s in its text.
func errMentions(err error, s string) bool {
	if err == nil {
		return false
	}
	if strings.Contains(err.Error(), s) {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if errMentions(e, s) {
				return true
			}
		}
	case interface{ Unwrap() error }:
		return errMentions(u.Unwrap(), s)
	}
	return false
}

// nonBlankLines counts the lines (split at '\n') that hold more than the
// blanks isBlank accepts.
func nonBlankLines(data []byte, blank func(string) bool) int {
	n := 0
	for line := range strings.SplitSeq(string(data), "\n") {
		if !blank(line) {
			n++
		}
	}
	return n
}

// scannerBlank is how bufio.Scanner + strings.TrimSpace (softirqs,
// softnet) see a blank line: ScanLines drops one trailing '\r'.
func scannerBlank(line string) bool {
	return strings.TrimSpace(strings.TrimSuffix(line, "\r")) == ""
}

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
		checkErrLen(t, err)
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
		lines := nonBlankLines(data, intrBlank)
		if rows > lines {
			t.Fatalf("%d rows from %d non-blank lines", rows, lines)
		}
		if err == nil && rows != lines && rows+1 != lines {
			t.Fatalf("%d non-blank lines gave %d rows and no error: lines were skipped silently", lines, rows)
		}
		if lines == 0 && err == nil {
			t.Fatal("empty input without an error")
		}
		_ = ClassifyIRQs(tab, nil)
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
		checkErrLen(t, err)
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
		lines := nonBlankLines(data, scannerBlank)
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
		checkErrLen(t, err)
		lines := nonBlankLines(data, scannerBlank)
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

// formatCPUMask renders s in the kernel's mask format (32-bit groups, most
// significant first), for the mask round trip.
func formatCPUMask(s cpuset.CPUSet) string {
	list := s.List()
	if len(list) == 0 {
		return "0"
	}
	groups := make([]uint32, list[len(list)-1]/32+1)
	for _, c := range list {
		groups[c/32] |= 1 << uint(c%32)
	}
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[len(groups)-1-i] = fmt.Sprintf("%08x", g)
	}
	return strings.Join(parts, ",")
}

// checkCPUSet holds for every set a parser returns: members in range, the
// list form round-trips through cpuset.ParseCPUList, the mask form through
// cpuset.ParseCPUMask.
func checkCPUSet(t *testing.T, s cpuset.CPUSet) {
	t.Helper()
	list := s.List()
	if len(list) != s.Count() || s.Count() > cpuset.MaxCPUs {
		t.Fatalf("List has %d members, Count %d", len(list), s.Count())
	}
	for _, c := range list {
		if c < 0 || c >= cpuset.MaxCPUs {
			t.Fatalf("member %d out of range [0,%d)", c, cpuset.MaxCPUs)
		}
	}
	str := s.String()
	back, err := cpuset.ParseCPUList(str)
	if err != nil {
		t.Fatalf("ParseCPUList(String()=%q): %v", kernel.Clip(str), err)
	}
	if !back.Equal(s) || back.String() != str {
		t.Fatalf("list round trip: %q became %q", kernel.Clip(str), kernel.Clip(back.String()))
	}
	mask := formatCPUMask(s)
	back, err = cpuset.ParseCPUMask(mask)
	if err != nil {
		t.Fatalf("ParseCPUMask(%q): %v", kernel.Clip(mask), err)
	}
	if !back.Equal(s) {
		t.Fatalf("mask round trip: %q became %q", kernel.Clip(str), kernel.Clip(back.String()))
	}
}

func FuzzParseSysfsInt(f *testing.F) {
	for _, s := range []string{"0\n", "-1\n", "1", " 42 ", "9223372036854775807", "9223372036854775808", "0x10", "", "1 2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		v, err := parseSysfsInt(text)
		want, wantErr := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if (err != nil) != (wantErr != nil) || err == nil && v != want {
			t.Fatalf("parseSysfsInt(%q) = %d, %v; strconv says %d, %v", text, v, err, want, wantErr)
		}
		if err != nil && len(err.Error()) > 512 {
			t.Fatalf("error text is %d bytes: garbage must be clipped", len(err.Error()))
		}
	})
}

func FuzzParseQueueName(f *testing.F) {
	for _, s := range []string{"rx-0", "tx-15", "rx-", "rx", "xx-1", "rx-1a", "rx--1", "tx-99999999999999999999", "rx-007"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		kind, index, ok := parseQueueName(name)
		if !ok {
			if kind != "" || index != 0 {
				t.Fatalf("parseQueueName(%q) = %q, %d, false", name, kind, index)
			}
			return
		}
		if kind != "rx" && kind != "tx" || index < 0 {
			t.Fatalf("parseQueueName(%q) = %q, %d", name, kind, index)
		}
		// The name is exactly what the kernel prints ("rx-%u"): no two
		// directory names can give the same queue (and series) twice.
		if want := kind + "-" + strconv.Itoa(index); want != name {
			t.Fatalf("parseQueueName(%q) = %q, %d: the kernel's name for that is %q", name, kind, index, want)
		}
	})
}

func FuzzParseNodeName(f *testing.F) {
	for _, s := range []string{"node0", "node3", "node", "online", "possible", "has_cpu", "node8191", "node8192", "node-1", "node01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n, ok := parseNodeName(name)
		if !ok {
			return
		}
		if n < 0 || n >= cpuset.MaxCPUs {
			t.Fatalf("parseNodeName(%q) = %d out of range", name, n)
		}
		// readNodeCPUs reads "node"+n: it must be the directory listed.
		if want := "node" + strconv.Itoa(n); want != name {
			t.Fatalf("parseNodeName(%q) = %d, but the reader then opens %q", name, n, want)
		}
	})
}

// fuzzFile writes content to dir/name when present, removes it otherwise.
func fuzzFile(t *testing.T, dir, name string, present bool, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if !present {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		return
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
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
			fuzzFile(t, dir, fl.name, has(i), fl.content)
		}
		aff, err := ReadIRQAffinity(root, 42)
		checkErrLen(t, err)
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
			if !errMentions(err, files[i].name) {
				t.Fatalf("%s holds %q, which does not parse, but the error is %v", files[i].name, kernel.Clip(files[i].content), err)
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
			checkCPUSet(t, s)
		}
	})
}

// FuzzReadCPUTopology fuzzes devices/system/cpu/{possible,online,isolated,
// nohz_full} and node{0,1}/cpulist (presence one bit per file).
func FuzzReadCPUTopology(f *testing.F) {
	f.Add("0-7\n", "0-7\n", "\n", "(null)\n", "0-3\n", "4-7\n", uint8(0xff))
	f.Add("0-1\n", "0\n", "1\n", "", "0-1\n", "", uint8(0b010011))
	f.Add("0-\n", "x\n", "1-0\n", "\x00\n", ",\n", "8192\n", uint8(0xff))
	root := f.TempDir()
	cpuDir := filepath.Join(root, "devices", "system", "cpu")
	nodeDir := filepath.Join(root, "devices", "system", "node")
	for _, d := range []string{cpuDir, filepath.Join(nodeDir, "node0"), filepath.Join(nodeDir, "node1")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, possible, online, isolated, nohzFull, node0, node1 string, present uint8) {
		files := []struct{ dir, name, content string }{
			{cpuDir, "possible", possible}, {cpuDir, "online", online},
			{cpuDir, "isolated", isolated}, {cpuDir, "nohz_full", nohzFull},
			{filepath.Join(nodeDir, "node0"), "cpulist", node0}, {filepath.Join(nodeDir, "node1"), "cpulist", node1},
		}
		has := func(i int) bool { return present&(1<<uint(i)) != 0 }
		for i, fl := range files {
			fuzzFile(t, fl.dir, fl.name, has(i), fl.content)
		}
		topo, err := ReadCPUTopology(root)
		checkErrLen(t, err)
		if topo == nil {
			t.Fatalf("nil topology with the cpu directory present: %v", err)
		}
		parsed := make([]cpuset.CPUSet, len(files))
		for i, fl := range files {
			if !has(i) {
				if i < 2 && !errMentions(err, fl.name) {
					t.Fatalf("%s missing but the error is %v", fl.name, err)
				}
				continue
			}
			s, perr := cpuset.ParseCPUList(strings.TrimRight(fl.content, "\n"))
			if perr != nil && !errMentions(err, filepath.Join(fl.dir, fl.name)) {
				t.Fatalf("%s holds %q, which does not parse, but the error is %v", fl.name, kernel.Clip(fl.content), err)
			}
			parsed[i] = s
		}
		for i, got := range []cpuset.CPUSet{topo.Possible, topo.Online, topo.Isolated, topo.NohzFull} {
			if !got.Equal(parsed[i]) {
				t.Fatalf("%s = %q, want %q", files[i].name, got, parsed[i])
			}
			checkCPUSet(t, got)
		}
		for cpu, node := range topo.NodeOf {
			want := -1
			if parsed[5].Contains(cpu) {
				want = 1
			}
			if parsed[4].Contains(cpu) {
				want = 0 // the lower node wins
			}
			if node != want {
				t.Fatalf("CPU %d on node %d, want %d", cpu, node, want)
			}
		}
		if n := parsed[4].Union(parsed[5]).Count(); len(topo.NodeOf) != n {
			t.Fatalf("NodeOf has %d CPUs, node cpulists %d", len(topo.NodeOf), n)
		}
	})
}
