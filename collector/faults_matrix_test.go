package collector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/testutil"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The fault matrix: fixture host trees (testdata/hosts) copied to a temp
// dir and broken in the ways real hosts are odd or change under us. Every
// case checks that nothing panics, that a collector whose files are bad
// reports success 0 (or exports a partial result) and logs a line naming
// the file, that every other collector's output is exactly what it was on
// the intact tree, and, across scrapes, that no surviving counter series
// goes backwards. TestBadInput (exporter_faults_test.go) holds the first
// garbage/missing-file cases; the ones here extend it.

const bigHost = "../testdata/hosts/bigiron-8cpu"

// fmFamilies maps each core collector to the metric name prefixes it
// exports, to compare "everything else" between an intact and a broken tree.
var fmFamilies = map[string][]string{
	"interrupts":  {"netirq_irq_interrupts_total", "netirq_irq_info", "netirq_irq_summed_interrupts_total", "netirq_arch_"},
	"irqaffinity": {"netirq_irq_affinity_", "netirq_irq_effective_cpu", "netirq_irq_numa_node"},
	"softirqs":    {"netirq_softirqs_total"},
	"softnet":     {"netirq_softnet_"},
	"cputime":     {"netirq_cpu_seconds_total"},
	"netqueues":   {"netirq_net_"},
	"cputopology": {"netirq_cpu_info"},
}

// fmLog is a goroutine-safe log sink for the exporter's slog output.
type fmLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *fmLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// take returns what was logged since the last take.
func (l *fmLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	l.buf.Reset()
	return s
}

// fmScrape is one gather: the metric families, the success per collector
// and what the exporter logged while producing it.
type fmScrape struct {
	mfs     []*dto.MetricFamily
	success map[string]float64
	log     string
}

type fmExporter struct {
	e   *Exporter
	log *fmLog
}

func newFMExporter(t testing.TB, root string) *fmExporter {
	t.Helper()
	l := &fmLog{}
	e, err := NewExporter(hostConfig(root), slog.New(slog.NewTextHandler(l, nil)))
	if err != nil {
		t.Fatalf("NewExporter: %v", err)
	}
	return &fmExporter{e, l}
}

// scrape gathers through a pedantic registry: duplicate or inconsistent
// series fail the gather, hence the test.
func (x *fmExporter) scrape(t testing.TB) fmScrape {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(x.e)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	s := fmScrape{mfs: mfs, success: successes(mfs), log: x.log.take()}
	if strings.Contains(s.log, "panicked") {
		t.Fatalf("a collector panicked:\n%s", s.log)
	}
	return s
}

// fmSeriesKey renders a series' full label set.
func fmSeriesKey(name string, m *dto.Metric) string {
	labels := make([]string, 0, len(m.Label))
	for _, lp := range m.Label {
		labels = append(labels, lp.GetName()+"="+strconv.Quote(lp.GetValue()))
	}
	sort.Strings(labels)
	return name + "{" + strings.Join(labels, ",") + "}"
}

// fmCounters maps every counter series (full label set) to its value.
func fmCounters(mfs []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetType() != dto.MetricType_COUNTER || mf.GetName() == "netirq_scrape_snapshot_reads_total" {
			continue
		}
		for _, m := range mf.Metric {
			out[fmSeriesKey(mf.GetName(), m)] = m.GetCounter().GetValue()
		}
	}
	return out
}

// fmMonotonic fails when a counter series present in both scrapes went
// down. It returns how many series survived.
func fmMonotonic(t testing.TB, before, after fmScrape) int {
	t.Helper()
	a, b := fmCounters(before.mfs), fmCounters(after.mfs)
	n := 0
	for k, v := range a {
		if w, ok := b[k]; ok {
			n++
			if w < v {
				t.Errorf("counter went backwards: %s %v → %v", k, v, w)
			}
		}
	}
	return n
}

// fmText is the exposition text of the families with one of the prefixes.
func fmText(t testing.TB, mfs []*dto.MetricFamily, prefixes []string) string {
	t.Helper()
	var keep []*dto.MetricFamily
	for _, mf := range mfs {
		for _, p := range prefixes {
			if strings.HasPrefix(mf.GetName(), p) {
				keep = append(keep, mf)
				break
			}
		}
	}
	return exposition(t, keep, nil)
}

// fmIntact checks that every collector not in touched reports what it did
// on the intact tree: the same success and, for the core collectors, the
// very same series and values.
func fmIntact(t testing.TB, base, got fmScrape, touched []string) {
	t.Helper()
	if len(got.success) != len(base.success) {
		t.Errorf("success reported for %d collectors, %d on the intact tree", len(got.success), len(base.success))
	}
	for name, ok := range base.success {
		if slices.Contains(touched, name) {
			continue
		}
		if got.success[name] != ok {
			t.Errorf("collector %s: success %v, %v on the intact tree (it reads nothing that was broken)", name, got.success[name], ok)
		}
		if prefixes, core := fmFamilies[name]; core {
			if a, b := fmText(t, base.mfs, prefixes), fmText(t, got.mfs, prefixes); a != b {
				t.Errorf("collector %s's series changed although its files did not:\n%s", name, lineDiff(a, b))
			}
		}
	}
}

// fmFails checks that each collector in failing reports 0 and that the log
// names the broken file (every fragment of wantLog).
func fmFails(t testing.TB, got fmScrape, failing, wantLog []string) {
	t.Helper()
	for _, name := range failing {
		if got.success[name] != 0 {
			t.Errorf("collector %s: success %v, want 0", name, got.success[name])
		}
	}
	for _, frag := range wantLog {
		if !strings.Contains(got.log, frag) {
			t.Errorf("log does not name %q:\n%s", frag, got.log)
		}
	}
	if len(failing) > 0 && !strings.Contains(got.log, "collector failed") {
		t.Errorf("a collector failed without a log line:\n%s", got.log)
	}
}

func fmHas(mfs []*dto.MetricFamily, metric string, labels map[string]string) bool {
	return len(find(mfs, metric, labels)) > 0
}

// fmFamilyNames lists the families present, sorted.
func fmFamilyNames(mfs []*dto.MetricFamily) []string {
	var out []string
	for _, mf := range mfs {
		out = append(out, mf.GetName())
	}
	return out
}

// fmAtomicWrite replaces a file at once, as the kernel's files change
// between two reads but never mid-read.
func fmAtomicWrite(path string, data []byte) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// fmEditLines rewrites a file line by line; edit returns the new line and
// whether to keep it.
func fmEditLines(path string, edit func(line string) (string, bool)) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if l, keep := edit(line); keep {
			out = append(out, l)
		}
	}
	return fmAtomicWrite(path, []byte(strings.Join(out, "\n")))
}

// fmDropColumn removes the count column col (0-based) from a per-CPU table
// (/proc/interrupts, /proc/softirqs): the header's CPUn field and the col-th
// count of every row that has a count per CPU. Tails (chip, names) are kept
// byte for byte.
func fmDropColumn(text string, col int) string {
	lines := strings.Split(text, "\n")
	ncpu := -1
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if ncpu < 0 && strings.HasPrefix(trimmed, "CPU") && !strings.Contains(line, ":") {
			f := strings.Fields(line)
			ncpu = len(f)
			f = slices.Delete(f, col, col+1)
			lines[i] = strings.Repeat(" ", 11) + strings.Join(f, "       ")
			continue
		}
		colon := strings.Index(line, ":")
		if colon < 0 {
			continue
		}
		var counts []string
		pos := colon + 1
		end := pos
		for {
			p := pos
			for p < len(line) && line[p] == ' ' {
				p++
			}
			q := p
			for q < len(line) && line[q] >= '0' && line[q] <= '9' {
				q++
			}
			if q == p || q < len(line) && line[q] != ' ' {
				break
			}
			counts = append(counts, line[p:q])
			pos, end = q, q
		}
		if len(counts) < ncpu || col >= len(counts) {
			continue // ERR:, MIS: and other single-count rows
		}
		counts = slices.Delete(counts, col, col+1)
		var b strings.Builder
		b.WriteString(line[:colon+1])
		for _, c := range counts {
			fmt.Fprintf(&b, " %10s", c)
		}
		b.WriteString(line[end:])
		lines[i] = b.String()
	}
	return strings.Join(lines, "\n")
}

// fmDropSoftnetCPU removes the row whose index column (13+ columns) is cpu.
func fmDropSoftnetCPU(text string, cpu int) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) > 12 /* the CPU index column of 13+ column rows */ {
			if v, err := strconv.ParseUint(f[12 /* the CPU index column of 13+ column rows */], 16, 64); err == nil && int(v) == cpu {
				continue
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

type fmCase struct {
	name    string
	host    string
	breakIt func(t *testing.T, root string)
	// touched are the collectors whose output may differ from the intact
	// tree (those reading the broken files and their dependents).
	touched []string
	failing []string // collectors that must report 0
	wantLog []string // fragments (relative to the root) the log must name
	check   func(t *testing.T, root string, base, got fmScrape)
}

// fmDo adapts the breakers of exporter_faults_test.go.
func fmDo(f func(string) error) func(*testing.T, string) {
	return func(t *testing.T, root string) {
		t.Helper()
		if err := f(root); err != nil {
			t.Fatal(err)
		}
	}
}

func fmGlobRemove(pattern string) func(*testing.T, string) {
	return func(t *testing.T, root string) {
		t.Helper()
		paths, _ := filepath.Glob(filepath.Join(root, pattern))
		if len(paths) == 0 {
			t.Fatalf("%s matches nothing", pattern)
		}
		for _, p := range paths {
			if err := os.RemoveAll(p); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func fmCopyFixture(rel, fixture string) func(*testing.T, string) {
	return func(t *testing.T, root string) {
		t.Helper()
		b, err := os.ReadFile(fixture)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, rel), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func fmSteps(steps ...func(*testing.T, string)) func(*testing.T, string) {
	return func(t *testing.T, root string) {
		t.Helper()
		for _, s := range steps {
			s(t, root)
		}
	}
}

// softnetWidthCase puts a softnet_stat of a kernel printing width columns
// into fc-2cpu: only the columns that kernel prints are exported.
func softnetWidthCase(width int, fixture string) fmCase {
	return fmCase{
		name: fmt.Sprintf("softnet %d columns", width), host: faultHost,
		breakIt: fmCopyFixture("proc/net/softnet_stat", "../testdata/proc_softnet_stat/"+fixture),
		touched: []string{"softnet", "findings"},
		check: func(t *testing.T, root string, base, got fmScrape) {
			b, _ := os.ReadFile(filepath.Join(root, "proc/net/softnet_stat"))
			rows := testutil.NonBlankLines(b, testutil.ScannerBlank)
			for _, col := range softnetColumns {
				name := col.desc.String()
				name = name[strings.Index(name, `"`)+1:]
				name = name[:strings.Index(name, `"`)]
				n := len(find(got.mfs, name, nil))
				want := 0
				if width >= col.minWidth {
					want = rows
				}
				if n != want {
					t.Errorf("%s: %d series from %d rows of %d columns, want %d", name, n, rows, width, want)
				}
			}
		},
	}
}

func TestFaultMatrix(t *testing.T) {
	cases := []fmCase{
		{
			name: "old kernel: no effective_affinity(_list)", host: bigHost,
			breakIt: fmSteps(fmGlobRemove("proc/irq/*/effective_affinity_list"), fmGlobRemove("proc/irq/*/effective_affinity")),
			touched: []string{"irqaffinity", "netqueues", "findings"},
			check: func(t *testing.T, _ string, base, got fmScrape) {
				if fmHas(got.mfs, "netirq_irq_effective_cpu", nil) {
					t.Error("netirq_irq_effective_cpu exported without effective_affinity files")
				}
				if !fmHas(got.mfs, "netirq_irq_affinity_info", map[string]string{"irq": "106", "smp_affinity": "0-6", "effective_affinity": ""}) {
					t.Error("affinity_info of IRQ 106 must keep smp_affinity 0-6 with an empty effective_affinity")
				}
			},
		},
		{
			name: "4.15-era kernel: effective_affinity mask only", host: bigHost,
			breakIt: fmGlobRemove("proc/irq/*/effective_affinity_list"),
		},
		{
			name: "pre-2.6.36 kernel: smp_affinity mask only", host: bigHost,
			breakIt: fmGlobRemove("proc/irq/*/smp_affinity_list"),
		},
		softnetWidthCase(9, "hjr3-2.6.32-6cpu-9col-derived.txt"),
		softnetWidthCase(10, "arthurchiao-6cpu-10col.txt"),
		softnetWidthCase(11, "hjr3-3.11-8cpu-11col.txt"),
		softnetWidthCase(13, "hjr3-5.10.47-2cpu-13col.txt"),
		softnetWidthCase(15, "hjr3-6.4.7-2cpu-15col.txt"),
		{
			name: "no /sys/class/net/*/queues", host: bigHost,
			breakIt: fmSteps(fmGlobRemove("sys/devices/*/*/*/net/*/queues"), fmGlobRemove("sys/devices/virtual/net/*/queues")),
			touched: []string{"netqueues", "findings", "tunables", "queuestats", "napi", "ethtool", "feeds"},
			check: func(t *testing.T, _ string, base, got fmScrape) {
				for _, m := range find(got.mfs, "netirq_net_rx_queues", nil) {
					if value(m) != 0 {
						t.Errorf("rx queues %v without a queues directory", value(m))
					}
				}
				if fmHas(got.mfs, "netirq_net_rx_queue_rps_cpus", nil) || fmHas(got.mfs, "netirq_net_tx_queue_xps_info", nil) {
					t.Error("queue series without a queues directory")
				}
				if !fmHas(got.mfs, "netirq_net_device_info", map[string]string{"device": "ens1f0"}) {
					t.Error("device info lost with the queues")
				}
			},
		},
		{
			name: "no /sys/devices/system/cpu (8 CPUs, indexed softnet)", host: bigHost,
			breakIt: fmGlobRemove("sys/devices/system/cpu"),
			touched: []string{"cputopology", "findings", "netqueues"},
			failing: []string{"cputopology"},
			wantLog: []string{"sys/devices/system/cpu"},
		},
		{
			name: "CONFIG_NUMA=n: no /sys/devices/system/node", host: bigHost,
			breakIt: fmGlobRemove("sys/devices/system/node"),
			touched: []string{"cputopology", "findings", "netqueues"},
			check: func(t *testing.T, _ string, base, got fmScrape) {
				if !fmHas(got.mfs, "netirq_cpu_info", map[string]string{"cpu": "5", "node": "-1"}) &&
					!fmHas(got.mfs, "netirq_cpu_info", map[string]string{"cpu": "5", "node": ""}) {
					t.Error("CPU 5 must have an unknown node without /sys/devices/system/node")
				}
			},
		},
		// Truncated and garbage content beyond TestBadInput's cases.
		{
			name: "softirqs cut mid-row", host: bigHost, breakIt: fmDo(truncate("proc/softirqs", 0.6)),
			touched: []string{"softirqs", "findings"}, failing: []string{"softirqs"}, wantLog: []string{"softirqs"},
			check: func(t *testing.T, _ string, base, got fmScrape) {
				if !fmHas(got.mfs, "netirq_softirqs_total", map[string]string{"vector": "NET_TX", "cpu": "0"}) {
					t.Error("the rows before the cut must still be exported")
				}
			},
		},
		{
			name: "softirqs empty", host: faultHost, breakIt: fmDo(write("proc/softirqs", "")),
			touched: []string{"softirqs", "findings"}, failing: []string{"softirqs"}, wantLog: []string{"proc/softirqs"},
		},
		{
			// A container runtime's mask. Before: findings success 1 with
			// netirq_findings 0 for every IRQ check ("no IRQ problems").
			name: "interrupts empty (masked)", host: bigHost, breakIt: fmDo(write("proc/interrupts", "")),
			// irqaffinity has no IRQ to read and fails only when the file
			// is missing (TestBadInput), as with garbage.
			touched: []string{"interrupts", "irqaffinity", "netqueues", "findings", "queuestats", "napi", "feeds"},
			failing: []string{"interrupts", "findings", "feeds"},
			wantLog: []string{"proc/interrupts", "checks not run: queue_irqs_share_cpu, irq_remote_numa, irq_on_isolated_cpu, affinity_differs_from_hint, napi_thread_unpinned: /proc/interrupts lists no interrupt"},
			check:   checkMasked,
		},
		{
			name: "interrupts header only (masked)", host: bigHost,
			breakIt: fmDo(write("proc/interrupts", "           CPU0       CPU1       CPU2       CPU3       CPU4       CPU5       CPU6       CPU7\n")),
			touched: []string{"interrupts", "irqaffinity", "netqueues", "findings", "queuestats", "napi", "feeds"},
			failing: []string{"interrupts", "findings", "feeds"},
			wantLog: []string{"/proc/interrupts lists no interrupt (empty, or only its CPU header): masked"},
			check:   checkMasked,
		},
		{
			name: "interrupts with a NUL-filled tail", host: bigHost,
			breakIt: func(t *testing.T, root string) {
				p := filepath.Join(root, "proc/interrupts")
				b, _ := os.ReadFile(p)
				if err := os.WriteFile(p, append(b, make([]byte, 5000)...), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			touched: []string{"interrupts", "findings"}, failing: []string{"interrupts"}, wantLog: []string{"proc/interrupts"},
			check: func(t *testing.T, _ string, base, got fmScrape) {
				if fmText(t, base.mfs, []string{"netirq_irq_interrupts_total"}) != fmText(t, got.mfs, []string{"netirq_irq_interrupts_total"}) {
					t.Error("the rows before the garbage must be exported unchanged")
				}
			},
		},
		{
			name: "softnet non-hex row", host: bigHost,
			breakIt: fmDo(func(root string) error {
				n := 0
				return fmEditLines(filepath.Join(root, "proc/net/softnet_stat"), func(l string) (string, bool) {
					if n++; n == 2 {
						return strings.Replace(l, "010fa45e", "0x0fa45e", 1), true
					}
					return l, true
				})
			}),
			touched: []string{"softnet", "findings"}, failing: []string{"softnet"}, wantLog: []string{"softnet_stat: line 2"},
			check: func(t *testing.T, _ string, base, got fmScrape) {
				if fmHas(got.mfs, "netirq_softnet_processed_packets_total", map[string]string{"cpu": "1"}) {
					t.Error("the bad row (CPU 1) was exported")
				}
				if n := len(find(got.mfs, "netirq_softnet_processed_packets_total", nil)); n != 7 {
					t.Errorf("%d good rows exported, want 7", n)
				}
			},
		},
		{
			name: "softnet empty", host: faultHost, breakIt: fmDo(write("proc/net/softnet_stat", "")),
			touched: []string{"softnet", "findings"}, failing: []string{"softnet"}, wantLog: []string{"softnet_stat"},
		},
		{
			name: "stat cut mid-line", host: bigHost, breakIt: fmDo(truncate("proc/stat", 0.32)),
			touched: []string{"cputime", "findings"}, failing: []string{"cputime"}, wantLog: []string{"proc/stat", "cpu4 dropped"},
			check: func(t *testing.T, _ string, base, got fmScrape) {
				// The cut falls in "cpu4 287665 99 1…": cpu0-3 are whole and kept.
				a := find(base.mfs, "netirq_cpu_seconds_total", map[string]string{"cpu": "3", "mode": "idle"})
				b := find(got.mfs, "netirq_cpu_seconds_total", map[string]string{"cpu": "3", "mode": "idle"})
				if len(a) != 1 || len(b) != 1 || value(a[0]) != value(b[0]) {
					t.Error("cpu3, before the cut, must be exported unchanged")
				}
				if fmHas(got.mfs, "netirq_cpu_seconds_total", map[string]string{"cpu": "4"}) {
					t.Error("cpu4, cut mid-line, exported with missing fields as 0")
				}
			},
		},
		{
			// Before: -0.01 s of idle exported for cpu1, success 1.
			name: "stat negative idle", host: bigHost,
			breakIt: fmDo(func(root string) error {
				return fmEditLines(filepath.Join(root, "proc/stat"), func(l string) (string, bool) {
					if f := strings.Fields(l); len(f) > 4 && f[0] == "cpu1" {
						f[4] = "-1"
						return strings.Join(f, " "), true
					}
					return l, true
				})
			}),
			touched: []string{"cputime", "findings"}, failing: []string{"cputime"},
			wantLog: []string{"proc/stat: stat: line 3: cpu1: idle = -1: negative; dropped"},
			check: func(t *testing.T, _ string, base, got fmScrape) {
				if fmHas(got.mfs, "netirq_cpu_seconds_total", map[string]string{"cpu": "1"}) {
					t.Error("cpu1, with a negative idle time, was exported")
				}
				a := find(base.mfs, "netirq_cpu_seconds_total", map[string]string{"cpu": "2", "mode": "idle"})
				b := find(got.mfs, "netirq_cpu_seconds_total", map[string]string{"cpu": "2", "mode": "idle"})
				if len(a) != 1 || len(b) != 1 || value(a[0]) != value(b[0]) {
					t.Error("cpu2 must be exported unchanged")
				}
			},
		},
		{
			name: "cpu online garbage", host: bigHost, breakIt: fmDo(write("sys/devices/system/cpu/online", "0-x\n")),
			touched: []string{"cputopology", "findings", "softnet", "netqueues"}, failing: []string{"cputopology"},
			wantLog: []string{"sys/devices/system/cpu/online"},
		},
		{
			name: "numa_node garbage", host: bigHost,
			breakIt: fmDo(write("sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0/numa_node", "zero\n")),
			touched: []string{"netqueues", "findings"}, failing: []string{"netqueues"},
			wantLog: []string{"0000:3b:00.0/numa_node"},
			check: func(t *testing.T, _ string, base, got fmScrape) {
				if !fmHas(got.mfs, "netirq_net_rx_queue_rps_cpus", map[string]string{"device": "ens1f0"}) {
					t.Error("queues of ens1f0 lost over its numa_node")
				}
			},
		},
		{
			name: "threaded garbage", host: bigHost, breakIt: fmDo(write("sys/devices/virtual/net/veth0/threaded", "\xff\xfe\n")),
			touched: []string{"netqueues", "findings"}, failing: []string{"netqueues"}, wantLog: []string{"veth0/threaded"},
		},
		{
			name: "rps_sock_flow_entries garbage", host: bigHost, breakIt: fmDo(write("proc/sys/net/core/rps_sock_flow_entries", "lots\n")),
			touched: []string{"netqueues", "findings", "tunables"}, failing: []string{"netqueues"},
			wantLog: []string{"rps_sock_flow_entries"},
		},
		{
			name: "rps_cpus larger than any sysfs attribute", host: bigHost,
			breakIt: fmDo(write("sys/devices/virtual/net/veth0/queues/rx-0/rps_cpus", strings.Repeat("f", 70<<10))),
			touched: []string{"netqueues", "findings"}, failing: []string{"netqueues"},
			wantLog: []string{"veth0/queues/rx-0/rps_cpus", "longer than"},
		},
		{
			name: "affinity_hint binary garbage", host: bigHost, breakIt: fmDo(write("proc/irq/103/affinity_hint", "\x00\x01\x02\n")),
			touched: []string{"irqaffinity", "findings", "netqueues"}, failing: []string{"irqaffinity"},
			wantLog: []string{"irq/103/affinity_hint"},
			check: func(t *testing.T, _ string, base, got fmScrape) {
				if !fmHas(got.mfs, "netirq_irq_affinity_info", map[string]string{"irq": "103", "smp_affinity": "4-5", "effective_affinity": "5"}) {
					t.Error("IRQ 103 lost its readable affinity over a bad hint")
				}
			},
		},
		{
			name: "irq node garbage", host: bigHost, breakIt: fmDo(write("proc/irq/99/node", "-\n")),
			touched: []string{"irqaffinity", "findings", "netqueues"}, failing: []string{"irqaffinity"}, wantLog: []string{"irq/99/node"},
		},
		{
			name: "smp_affinity_list is a directory", host: bigHost,
			breakIt: func(t *testing.T, root string) {
				p := filepath.Join(root, "proc/irq/100/smp_affinity_list")
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
			},
			touched: []string{"irqaffinity", "findings", "netqueues"}, failing: []string{"irqaffinity"},
			wantLog: []string{"irq/100/smp_affinity_list"},
		},
	}
	fmRun(t, cases)
}

// fmRun runs each case on a fresh copy of its host: scrape the intact
// tree, break it, scrape again, and compare.
func fmRun(t *testing.T, cases []fmCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { fmRunCase(t, tc) })
	}
}

func fmRunCase(t *testing.T, tc fmCase) {
	root := testutil.CopyTree(t, tc.host)
	base := newFMExporter(t, root).scrape(t)
	for name, ok := range base.success {
		if ok != 1 && fmFamilies[name] != nil {
			t.Fatalf("collector %s fails on the intact %s", name, tc.host)
		}
	}
	tc.breakIt(t, root)
	got := newFMExporter(t, root).scrape(t)
	fmIntact(t, base, got, tc.touched)
	fmFails(t, got, tc.failing, tc.wantLog)
	if len(tc.failing) == 0 {
		for _, name := range tc.touched {
			if fmFamilies[name] != nil && got.success[name] != 1 {
				t.Errorf("collector %s: success %v: this is a valid kernel layout, not a fault\n%s", name, got.success[name], got.log)
			}
		}
	}
	if tc.check != nil {
		tc.check(t, root, base, got)
	}
}

// checkMasked: with /proc/interrupts masked the exporter says so
// (netirq_interrupts_masked 1, the interrupts_masked finding), the IRQ
// checks are not evaluated and have no netirq_findings (unknown, not 0:
// bigiron-8cpu has 3 irq_remote_numa findings), and the other checks
// still run.
func checkMasked(t *testing.T, _ string, base, got fmScrape) {
	if m := find(got.mfs, "netirq_interrupts_masked", nil); len(m) != 1 || value(m[0]) != 1 {
		t.Error("netirq_interrupts_masked is not 1")
	}
	if m := find(base.mfs, "netirq_interrupts_masked", nil); len(m) != 1 || value(m[0]) != 0 {
		t.Error("netirq_interrupts_masked is not 0 on the intact tree")
	}
	if !fmHas(got.mfs, "netirq_finding", map[string]string{"check": "interrupts_masked", "severity": "warning", "device": ""}) {
		t.Error("no interrupts_masked finding")
	}
	for check, evaluated := range map[string]float64{"irq_remote_numa": 0, "affinity_differs_from_hint": 0, "rps_remote_numa": 1, "interrupts_masked": 1} {
		m := find(got.mfs, "netirq_check_evaluated", map[string]string{"check": check})
		if len(m) != 1 || value(m[0]) != evaluated {
			t.Errorf("netirq_check_evaluated{check=%q}: %v, want %v", check, m, evaluated)
		}
		if has := fmHas(got.mfs, "netirq_findings", map[string]string{"check": check}); has != (evaluated == 1) {
			t.Errorf("netirq_findings{check=%q} present: %v, want %v", check, has, evaluated == 1)
		}
	}
	if m := find(base.mfs, "netirq_findings", map[string]string{"check": "irq_remote_numa"}); len(m) != 1 || value(m[0]) != 3 {
		t.Error("the intact tree lost its 3 irq_remote_numa findings")
	}
}

// TestFaultMatrixHotplug takes CPU 3 of bigiron-8cpu offline between two
// scrapes (its column leaves interrupts and softirqs, its row softnet_stat
// and stat, online becomes 0-2,4-7) and brings it back: every collector
// keeps succeeding, CPU 3's series go and come back, and every other
// series keeps its exact value (no column is attributed to the wrong CPU).
func TestFaultMatrixHotplug(t *testing.T) {
	root := testutil.CopyTree(t, bigHost)
	x := newFMExporter(t, root)
	files := []string{"proc/interrupts", "proc/softirqs", "proc/net/softnet_stat", "proc/stat", "sys/devices/system/cpu/online"}
	orig := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		orig[f] = b
	}
	before := x.scrape(t)

	offline := map[string]string{
		"proc/interrupts":               fmDropColumn(string(orig["proc/interrupts"]), 3),
		"proc/softirqs":                 fmDropColumn(string(orig["proc/softirqs"]), 3),
		"proc/net/softnet_stat":         fmDropSoftnetCPU(string(orig["proc/net/softnet_stat"]), 3),
		"sys/devices/system/cpu/online": "0-2,4-7\n",
	}
	var stat []string
	for _, l := range strings.Split(string(orig["proc/stat"]), "\n") {
		if !strings.HasPrefix(l, "cpu3 ") {
			stat = append(stat, l)
		}
	}
	offline["proc/stat"] = strings.Join(stat, "\n")
	for f, text := range offline {
		if text == string(orig[f]) {
			t.Fatalf("%s unchanged by the offlining", f)
		}
		if err := fmAtomicWrite(filepath.Join(root, f), []byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	during := x.scrape(t)
	for _, f := range files {
		if err := fmAtomicWrite(filepath.Join(root, f), orig[f]); err != nil {
			t.Fatal(err)
		}
	}
	after := x.scrape(t)

	for i, s := range []fmScrape{before, during, after} {
		for name, ok := range s.success {
			if ok != before.success[name] {
				t.Errorf("scrape %d: collector %s success %v (was %v):\n%s", i, name, ok, before.success[name], s.log)
			}
		}
	}
	cpu3 := func(s fmScrape) int {
		n := 0
		for k := range fmCounters(s.mfs) {
			if strings.Contains(k, `cpu="3"`) {
				n++
			}
		}
		return n
	}
	if n := cpu3(during); n != 0 {
		t.Errorf("%d counter series of offline CPU 3 still exported", n)
	}
	if cpu3(before) == 0 || cpu3(after) != cpu3(before) {
		t.Errorf("CPU 3 series: %d before, %d after it came back", cpu3(before), cpu3(after))
	}
	if !fmHas(during.mfs, "netirq_cpu_info", map[string]string{"cpu": "3", "online": "false"}) {
		t.Error("netirq_cpu_info must show CPU 3 offline")
	}
	// Surviving series keep their exact value: nothing shifted columns.
	for _, pair := range [][2]fmScrape{{before, during}, {during, after}} {
		a, b := fmCounters(pair[0].mfs), fmCounters(pair[1].mfs)
		same := 0
		for k, v := range a {
			if w, ok := b[k]; ok {
				same++
				if w != v {
					t.Errorf("%s: %v → %v across the hotplug (a column went to the wrong CPU?)", k, v, w)
				}
			}
		}
		if same == 0 {
			t.Fatal("no series survived the hotplug")
		}
		fmMonotonic(t, pair[0], pair[1])
	}
	t.Logf("counter series: %d before, %d with CPU 3 offline, %d after", len(fmCounters(before.mfs)), len(fmCounters(during.mfs)), len(fmCounters(after.mfs)))
}

// TestFaultMatrixVanishAppear removes a NIC IRQ (line and /proc/irq/N) and
// a net device between two scrapes, then adds a new IRQ and device: every
// collector keeps succeeding, gone series go, new ones come, and survivors
// never go backwards.
func TestFaultMatrixVanishAppear(t *testing.T) {
	root := testutil.CopyTree(t, bigHost)
	x := newFMExporter(t, root)
	first := x.scrape(t)
	if !fmHas(first.mfs, "netirq_irq_info", map[string]string{"irq": "106"}) || !fmHas(first.mfs, "netirq_net_device_info", map[string]string{"device": "veth0"}) {
		t.Fatal("fixture lacks IRQ 106 or veth0")
	}

	// Vanish: IRQ 106 (mlx5_comp7) and veth0.
	intr := filepath.Join(root, "proc/interrupts")
	var line106 string
	if err := fmEditLines(intr, func(l string) (string, bool) {
		if strings.HasPrefix(strings.TrimSpace(l), "106:") {
			line106 = l
			return "", false
		}
		return l, true
	}); err != nil {
		t.Fatal(err)
	}
	must(t, os.RemoveAll(filepath.Join(root, "proc/irq/106")))
	must(t, os.Remove(filepath.Join(root, "sys/class/net/veth0")))
	must(t, os.RemoveAll(filepath.Join(root, "sys/devices/virtual/net/veth0")))
	second := x.scrape(t)

	// Appear: IRQ 107 (mlx5_comp8 on CPU 7) and veth1.
	line107 := strings.Replace(strings.Replace(line106, "106:", "107:", 1), "mlx5_comp7", "mlx5_comp8", 1)
	line107 = strings.Replace(line107, "8-edge", "9-edge", 1)
	b, _ := os.ReadFile(intr)
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "105:") {
			lines = slices.Insert(lines, i+1, line107)
			break
		}
	}
	must(t, fmAtomicWrite(intr, []byte(strings.Join(lines, "\n"))))
	must(t, testutil.CopyDir(filepath.Join(bigHost, "proc/irq/106"), filepath.Join(root, "proc/irq/107")))
	must(t, testutil.CopyDir(filepath.Join(bigHost, "sys/devices/virtual/net/veth0"), filepath.Join(root, "sys/devices/virtual/net/veth1")))
	must(t, os.Symlink("../../devices/virtual/net/veth1", filepath.Join(root, "sys/class/net/veth1")))
	third := x.scrape(t)

	for i, s := range []fmScrape{first, second, third} {
		for name, ok := range s.success {
			if ok != first.success[name] {
				t.Errorf("scrape %d: collector %s success %v (was %v): a vanished IRQ or device is not a failure\n%s", i, name, ok, first.success[name], s.log)
			}
		}
	}
	if fmHas(second.mfs, "netirq_irq_info", map[string]string{"irq": "106"}) || fmHas(second.mfs, "netirq_irq_affinity_info", map[string]string{"irq": "106"}) {
		t.Error("IRQ 106 still exported after it vanished")
	}
	if fmHas(second.mfs, "netirq_net_device_info", map[string]string{"device": "veth0"}) {
		t.Error("veth0 still exported after it vanished")
	}
	if !fmHas(third.mfs, "netirq_irq_interrupts_total", map[string]string{"irq": "107", "cpu": "4"}) ||
		!fmHas(third.mfs, "netirq_irq_affinity_info", map[string]string{"irq": "107"}) {
		t.Error("new IRQ 107 not exported")
	}
	if !fmHas(third.mfs, "netirq_net_rx_queue_rps_cpus", map[string]string{"device": "veth1"}) {
		t.Error("new device veth1 not exported")
	}
	t.Logf("surviving counter series: %d, %d", fmMonotonic(t, first, second), fmMonotonic(t, second, third))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestFaultMatrixRename renames the class/net symlink of the NIC (the
// device's directory keeps its name, as in a copied tree): its IRQs and
// queues follow the new name, nothing fails, nothing goes backwards.
func TestFaultMatrixRename(t *testing.T) {
	for _, h := range []struct{ host, from, irq string }{{bigHost, "ens1f0", "99"}, {faultHost, "eth0", ""}} {
		t.Run(filepath.Base(h.host), func(t *testing.T) {
			root := testutil.CopyTree(t, h.host)
			x := newFMExporter(t, root)
			before := x.scrape(t)
			if !fmHas(before.mfs, "netirq_irq_interrupts_total", map[string]string{"device": h.from}) {
				t.Fatalf("no IRQ of %s before the rename", h.from)
			}
			must(t, os.Rename(filepath.Join(root, "sys/class/net", h.from), filepath.Join(root, "sys/class/net/wan0")))
			after := x.scrape(t)
			for name, ok := range after.success {
				if ok != before.success[name] {
					t.Errorf("collector %s success %v after the rename (was %v)\n%s", name, ok, before.success[name], after.log)
				}
			}
			for _, metric := range []string{"netirq_irq_interrupts_total", "netirq_net_rx_queues", "netirq_net_queue_irq_info", "netirq_net_device_info"} {
				if fmHas(after.mfs, metric, map[string]string{"device": h.from}) {
					t.Errorf("%s still names %s after the rename", metric, h.from)
				}
				if fmHas(before.mfs, metric, map[string]string{"device": h.from}) && !fmHas(after.mfs, metric, map[string]string{"device": "wan0"}) {
					t.Errorf("%s does not name wan0 after the rename", metric)
				}
			}
			fmMonotonic(t, before, after)
			// Same counts, new name: each IRQ cell keeps its value.
			for _, m := range find(before.mfs, "netirq_irq_interrupts_total", map[string]string{"device": h.from}) {
				labels := map[string]string{"device": "wan0"}
				for _, lp := range m.Label {
					if lp.GetName() != "device" {
						labels[lp.GetName()] = lp.GetValue()
					}
				}
				if got := find(after.mfs, "netirq_irq_interrupts_total", labels); len(got) != 1 || value(got[0]) != value(m) {
					t.Errorf("IRQ cell %v lost its value over the rename", labels)
				}
			}
		})
	}
}

// TestFaultMatrixChangesDuringScrapes renames a device back and forth,
// frees and re-creates a NIC IRQ (/proc/irq/N and its interrupts line) while
// four goroutines scrape: no gather fails, no panic, the collectors that
// read nothing that changes always succeed with unchanged output, a failure
// of the others is logged naming a file, and no counter goes backwards
// between two scrapes of one scraper. Bounded: 3 s and 400 mutations, 150
// scrapes per scraper.
func TestFaultMatrixChangesDuringScrapes(t *testing.T) {
	root := testutil.CopyTree(t, bigHost)
	x := newFMExporter(t, root)
	base := x.scrape(t)

	intr := filepath.Join(root, "proc/interrupts")
	withIRQ, err := os.ReadFile(intr)
	must(t, err)
	var kept []string
	for _, l := range strings.Split(string(withIRQ), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "104:") {
			kept = append(kept, l)
		}
	}
	withoutIRQ := []byte(strings.Join(kept, "\n"))

	stop := make(chan struct{})
	var mutations int
	var mutErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(stop)
		deadline := time.Now().Add(3 * time.Second)
		for i := 0; i < 400 && time.Now().Before(deadline); i++ {
			var err error
			switch i % 4 {
			case 0:
				err = os.Rename(filepath.Join(root, "sys/class/net/veth0"), filepath.Join(root, "sys/class/net/veth9"))
			case 1:
				if err = os.Rename(filepath.Join(root, "proc/irq/104"), filepath.Join(root, "proc/irq/gone-104")); err == nil {
					err = fmAtomicWrite(intr, withoutIRQ)
				}
			case 2:
				err = os.Rename(filepath.Join(root, "sys/class/net/veth9"), filepath.Join(root, "sys/class/net/veth0"))
			case 3:
				if err = fmAtomicWrite(intr, withIRQ); err == nil {
					err = os.Rename(filepath.Join(root, "proc/irq/gone-104"), filepath.Join(root, "proc/irq/104"))
				}
			}
			if err != nil {
				mutErr = err
				return
			}
			mutations++
			time.Sleep(time.Duration(i%3) * time.Millisecond)
		}
	}()

	untouched := []string{"softirqs", "softnet", "cputime", "cputopology"}
	type result struct {
		scrapes, failures int
		failedLogs        []string
	}
	results := make([]result, 4)
	for g := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var prev *fmScrape
			for i := 0; i < 150; i++ {
				select {
				case <-stop:
					if i > 0 {
						return
					}
				default:
				}
				reg := prometheus.NewPedanticRegistry()
				reg.MustRegister(x.e)
				mfs, err := reg.Gather()
				if err != nil {
					t.Errorf("scraper %d: gather %d failed: %v", g, i, err)
					return
				}
				s := fmScrape{mfs: mfs, success: successes(mfs)}
				results[g].scrapes++
				for _, name := range untouched {
					if s.success[name] != 1 {
						t.Errorf("scraper %d: %s failed although none of its files changed", g, name)
					}
				}
				for name, ok := range s.success {
					if ok != base.success[name] {
						results[g].failures++
					}
				}
				if prev != nil {
					fmMonotonic(t, *prev, s)
				}
				prev = &s
			}
		}()
	}
	wg.Wait()
	if mutErr != nil {
		t.Fatalf("mutator: %v", mutErr)
	}
	log := x.log.take()
	if strings.Contains(log, "panicked") {
		t.Fatalf("a collector panicked:\n%s", log)
	}
	// Every failure logged names a file of the tree.
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		if l != "" && !strings.Contains(l, root) {
			t.Errorf("log line names no file under the tree: %s", l)
		}
	}
	total, failed := 0, 0
	for _, r := range results {
		total += r.scrapes
		failed += r.failures
	}
	final := x.scrape(t)
	for _, name := range untouched {
		a, b := fmText(t, base.mfs, fmFamilies[name]), fmText(t, final.mfs, fmFamilies[name])
		if a != b {
			t.Errorf("%s output changed:\n%s", name, lineDiff(a, b))
		}
	}
	t.Logf("%d mutations, %d scrapes, %d snapshot reads; %d collector results differed from the intact tree (transient, each logged)",
		mutations, total, x.e.Source().Reads(), failed)
}

// Unreadable files: chmod 000, scraped by an unprivileged user. Root reads
// anything, so as root the test binary re-executes itself as nobody
// (65534) to run fmUnprivilegedChild; as another user the scrape runs in
// process.

const fmChildEnv = "NETIRQ_FAULT_MATRIX_ROOTS"

type fmChildResult struct {
	Success  map[string]float64
	Log      string
	Families []string
	Text     map[string]string // core collector → its exposition text
	Err      string
}

// fmScrapeForReport scrapes root and summarizes it for the parent.
func fmScrapeForReport(root string) fmChildResult {
	l := &fmLog{}
	e, err := NewExporter(hostConfig(root), slog.New(slog.NewTextHandler(l, nil)))
	if err != nil {
		return fmChildResult{Err: err.Error()}
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	mfs, err := reg.Gather()
	if err != nil {
		return fmChildResult{Err: err.Error()}
	}
	r := fmChildResult{Success: successes(mfs), Log: l.take(), Families: fmFamilyNames(mfs), Text: map[string]string{}}
	for name, prefixes := range fmFamilies {
		var buf bytes.Buffer
		for _, mf := range mfs {
			for _, p := range prefixes {
				if strings.HasPrefix(mf.GetName(), p) {
					fmt.Fprintf(&buf, "%v\n", mf)
					break
				}
			}
		}
		r.Text[name] = buf.String()
	}
	return r
}

// TestFaultMatrixUnprivilegedChild is the re-executed half; it does
// nothing unless the parent set fmChildEnv.
func TestFaultMatrixUnprivilegedChild(t *testing.T) {
	spec := os.Getenv(fmChildEnv)
	if spec == "" {
		return // only TestFaultMatrixUnreadable runs it, as nobody
	}
	out := map[string]fmChildResult{}
	for _, kv := range strings.Split(spec, ";") {
		name, root, _ := strings.Cut(kv, "=")
		out[name] = fmScrapeForReport(root)
	}
	b, _ := json.Marshal(out)
	fmt.Printf("\nFMRESULT %s\n", b)
}

// fmRunUnprivileged scrapes each root as an unprivileged user.
func fmRunUnprivileged(t *testing.T, roots map[string]string) map[string]fmChildResult {
	t.Helper()
	if os.Geteuid() != 0 {
		out := map[string]fmChildResult{}
		for name, root := range roots {
			out[name] = fmScrapeForReport(root)
		}
		return out
	}
	self, err := os.Executable()
	must(t, err)
	// nobody must be able to run the binary: copy it out of go's 0700 build dir.
	dir, err := os.MkdirTemp("", "netirq-faults-bin-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	must(t, os.Chmod(dir, 0o755))
	bin := filepath.Join(dir, "collector.test")
	src, err := os.Open(self)
	must(t, err)
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	must(t, err)
	_, err = io.Copy(dst, src)
	src.Close()
	must(t, err)
	must(t, dst.Close())

	var spec []string
	for name, root := range roots {
		spec = append(spec, name+"="+root)
	}
	cmd := exec.Command(bin, "-test.run", "^TestFaultMatrixUnprivilegedChild$", "-test.count", "1", "-test.timeout", "60s")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, fmChildEnv + "=" + strings.Join(spec, ";")}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child as nobody: %v\n%s", err, out)
	}
	_, js, ok := strings.Cut(string(out), "FMRESULT ")
	if !ok {
		t.Fatalf("child printed no result:\n%s", out)
	}
	js, _, _ = strings.Cut(js, "\n")
	res := map[string]fmChildResult{}
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		t.Fatalf("child result: %v\n%s", err, out)
	}
	return res
}

func TestFaultMatrixUnreadable(t *testing.T) {
	cases := []struct {
		name    string
		rel     string // made unreadable (chmod 000)
		failing []string
		touched []string
		still   string // a series the broken collector must still export
	}{
		{"softirqs", "proc/softirqs", []string{"softirqs"}, []string{"softirqs", "findings"}, ""},
		{"softnet_stat", "proc/net/softnet_stat", []string{"softnet"}, []string{"softnet", "findings"}, ""},
		{"stat", "proc/stat", []string{"cputime", "irqtime"}, []string{"cputime", "findings", "irqtime"}, ""},
		{"interrupts", "proc/interrupts", []string{"interrupts", "irqaffinity", "feeds"},
			[]string{"interrupts", "irqaffinity", "netqueues", "findings", "queuestats", "napi", "feeds"}, ""},
		{"one IRQ's smp_affinity_list", "proc/irq/103/smp_affinity_list", []string{"irqaffinity"},
			[]string{"irqaffinity", "netqueues", "findings", "feeds"}, "netirq_irq_affinity_info"},
		{"one rps_cpus", "sys/devices/virtual/net/veth0/queues/rx-1/rps_cpus", []string{"netqueues"},
			[]string{"netqueues", "findings", "feeds"}, "netirq_net_tx_queue_xps_cpus"},
		{"cpu online", "sys/devices/system/cpu/online", []string{"cputopology"},
			[]string{"cputopology", "softnet", "netqueues", "findings", "feeds"}, "netirq_cpu_info"},
		{"class/net directory", "sys/class/net", []string{"netqueues", "feeds", "bql"},
			[]string{"netqueues", "interrupts", "irqaffinity", "findings", "tunables", "queuestats", "napi", "ethtool", "threads", "feeds", "bql"}, ""},
	}
	roots := map[string]string{}
	intact := testutil.CopyTree(t, bigHost)
	roots["intact"] = intact
	var restore []string
	t.Cleanup(func() {
		for _, p := range restore {
			os.Chmod(p, 0o755)
		}
	})
	for _, tc := range cases {
		root := testutil.CopyTree(t, bigHost)
		p := filepath.Join(root, tc.rel)
		must(t, os.Chmod(p, 0))
		restore = append(restore, p)
		roots[tc.name] = root
	}
	// nobody must be able to walk to the trees: open up t.TempDir's 0700 parents.
	for _, root := range roots {
		for d := root; d != os.TempDir() && d != "/" && d != "."; d = filepath.Dir(d) {
			must(t, os.Chmod(d, 0o755))
		}
	}
	res := fmRunUnprivileged(t, roots)
	base := res["intact"]
	if base.Err != "" {
		t.Fatal(base.Err)
	}
	for name, ok := range base.Success {
		if ok != 1 && fmFamilies[name] != nil {
			t.Errorf("intact tree as an unprivileged user: collector %s fails:\n%s", name, base.Log)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := res[tc.name]
			if got.Err != "" {
				t.Fatal(got.Err)
			}
			for name, ok := range base.Success {
				want := ok
				if slices.Contains(tc.failing, name) {
					want = 0
				} else if slices.Contains(tc.touched, name) {
					continue
				}
				if got.Success[name] != want {
					t.Errorf("collector %s: success %v, want %v\n%s", name, got.Success[name], want, got.Log)
				}
				if text, core := base.Text[name]; core && !slices.Contains(tc.touched, name) && got.Text[name] != text {
					t.Errorf("collector %s's output changed although it reads nothing unreadable", name)
				}
			}
			// The path may run through class/net/<dev>: name its last elements.
			want := tc.rel
			if parts := strings.Split(tc.rel, "/"); len(parts) > 4 {
				want = strings.Join(parts[len(parts)-4:], "/")
			}
			if !strings.Contains(got.Log, want) || !strings.Contains(got.Log, "permission denied") {
				t.Errorf("log does not say %s is unreadable:\n%s", want, got.Log)
			}
			if tc.still != "" && !slices.Contains(got.Families, tc.still) {
				t.Errorf("%s not exported: the readable part must be", tc.still)
			}
		})
	}
}
