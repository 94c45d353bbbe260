package procfs

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReadCPUTimeCorpus reads every sample in testdata/proc_stat/<name>/stat
// and checks CPU numbers and cpuN irq/softirq (and a few other) seconds
// against the file's jiffies / 100.
func TestReadCPUTimeCorpus(t *testing.T) {
	type want struct {
		cpu                          int
		user, nice, irq, soft, steal float64 // jiffies from the file
	}
	cases := []struct {
		dir   string
		cpus  []int
		wants []want
	}{
		// cpu0 6088 14 5849 193612 93 2230 1398 0 0 0
		// cpu1 6245 14 6081 193353 32 2293 1312 0 0 0
		{"jds2001-2cpu-hyperv", []int{0, 1}, []want{
			{cpu: 0, user: 6088, nice: 14, irq: 2230, soft: 1398},
			{cpu: 1, user: 6245, nice: 14, irq: 2293, soft: 1312}}},
		// cpu0 4429 1429 2524 10997 187 154 38 7 0 0
		{"khandevops1-1cpu", []int{0}, []want{
			{cpu: 0, user: 4429, nice: 1429, irq: 154, soft: 38, steal: 7}}},
		// cpu0 44490 19 21045 1087069 220 1 3410 0 2 1
		// cpu2 46504 36 15916 1112321 441 0 326 0 4 3
		// cpu7 29098 268 10164 1139282 555 0 31 0 9 8
		{"node_exporter-8cpu", []int{0, 1, 2, 3, 4, 5, 6, 7}, []want{
			{cpu: 0, user: 44490, nice: 19, irq: 1, soft: 3410},
			{cpu: 2, user: 46504, nice: 36, irq: 0, soft: 326},
			{cpu: 7, user: 29098, nice: 268, irq: 0, soft: 31}}},
		// Same CPU lines; its intr line has ~66k fields.
		{"procfs-8cpu", []int{0, 1, 2, 3, 4, 5, 6, 7}, []want{
			{cpu: 0, user: 44490, nice: 19, irq: 1, soft: 3410},
			{cpu: 3, user: 47054, nice: 102, irq: 0, soft: 60}}},
		// cpu0 425755 28691658 182240 123289112 31892 7 23374 0 0 0
		// cpu3 136814 47464761 22292 105134104 2108 0 123 0 0 0
		{"twaite-8cpu", []int{0, 1, 2, 3, 4, 5, 6, 7}, []want{
			{cpu: 0, user: 425755, nice: 28691658, irq: 7, soft: 23374},
			{cpu: 3, user: 136814, nice: 47464761, irq: 0, soft: 123}}},
		// This machine (kernel 6.18.44, 2 vCPUs), see SOURCES.md.
		// cpu0 620 0 490 25560 6 0 3 2 0 0
		// cpu1 741 0 581 25252 53 0 11 4 0 0
		{"thishost-2cpu-6.18.44-fc-v669", []int{0, 1}, []want{
			{cpu: 0, user: 620, irq: 0, soft: 3, steal: 2},
			{cpu: 1, user: 741, irq: 0, soft: 11, steal: 4}}},
	}
	dirs, err := filepath.Glob("../../../testdata/proc_stat/*/stat")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) != len(cases) {
		t.Errorf("testdata has %d stat files, test covers %d", len(dirs), len(cases))
	}
	near := func(got, jiffies float64) bool { return math.Abs(got-jiffies/100) < 1e-9 }
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			times, err := ReadCPUTime(filepath.Join("../../../testdata/proc_stat", c.dir))
			if err != nil {
				t.Fatal(err)
			}
			var cpus []int
			for _, ct := range times {
				cpus = append(cpus, ct.CPU)
			}
			if !slices.Equal(cpus, c.cpus) {
				t.Fatalf("CPUs = %v, want %v", cpus, c.cpus)
			}
			for _, w := range c.wants {
				got := times[slices.Index(cpus, w.cpu)]
				if !near(got.IRQ, w.irq) || !near(got.SoftIRQ, w.soft) || !near(got.User, w.user) ||
					!near(got.Nice, w.nice) || !near(got.Steal, w.steal) {
					t.Errorf("cpu%d = %+v, want user %g nice %g irq %g softirq %g steal %g jiffies / 100",
						w.cpu, got, w.user, w.nice, w.irq, w.soft, w.steal)
				}
			}
		})
	}
}

// TestReadCPUTimeGapsAndErrors: cpuN lines out of order and with a gap
// (offline CPU) come back sorted; a missing or malformed file is an error.
func TestReadCPUTimeGapsAndErrors(t *testing.T) {
	dir := t.TempDir()
	stat := "cpu  30 0 0 0 0 0 0 0 0 0\n" +
		"cpu3 10 0 0 0 0 250 75 0 0 0\n" +
		"cpu0 20 0 0 0 0 100 50 0 0 0\n" +
		"intr 0\nctxt 1\nbtime 2\n"
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
	times, err := ReadCPUTime(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []CPUTime{{CPU: 0, User: 0.2, IRQ: 1, SoftIRQ: 0.5}, {CPU: 3, User: 0.1, IRQ: 2.5, SoftIRQ: 0.75}}
	if !slices.Equal(times, want) {
		t.Errorf("times = %+v, want %+v", times, want)
	}

	if _, err := ReadCPUTime(filepath.Join(dir, "nonexistent")); err == nil {
		t.Error("missing proc root: no error")
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "stat"), []byte("cpu0 abc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCPUTime(bad); err == nil || !strings.Contains(err.Error(), "stat: line 1: no btime line") {
		t.Errorf("malformed stat: err = %v, want one naming the line", err)
	}
}

// statNow is "now" for the parser tests: a day after statBtime, so a CPU
// can have counted at most ~95 million ticks (a day, 10 % and a minute)
// in one mode.
var (
	statBtime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	statNow   = statBtime.Add(24 * time.Hour)
)

// statFile is a /proc/stat of CPUs 0-2 with cpu1's line replaced.
func statFile(cpu1 string) string {
	return "cpu  30 0 30 300 0 0 0 0 0 0\n" +
		"cpu0 10 0 10 100 0 0 0 0 0 0\n" +
		cpu1 + "\n" +
		"cpu2 10 0 10 100 0 0 0 0 0 0\n" +
		"intr 5 1 2 2\nctxt 9\nbtime " + strconv.FormatInt(statBtime.Unix(), 10) + "\nprocesses 3\n"
}

// TestParseCPUTimeImpossibleValues: a cpuN line with a value that cannot
// be right (negative, not a number, beyond 64 bits or beyond the time
// since boot), too few values or a bad label is dropped and named by line
// and field; the other CPUs are kept unchanged.
func TestParseCPUTimeImpossibleValues(t *testing.T) {
	cases := []struct{ cpu1, want string }{
		{"cpu1 10 0 10 -1 0 0 0 0 0 0", "stat: line 3: cpu1: idle = -1: negative; dropped"},
		{"cpu1 10 0 10 100 0 -99999999999999999999 0 0 0 0", "stat: line 3: cpu1: irq is negative; dropped"},
		{"cpu1 10 0 10 100 0 0 x7 0 0 0", "stat: line 3: cpu1: softirq is not a decimal number (2 bytes starting with a letter); dropped"},
		{"cpu1 10 0 10 100 0 0 0 1.5 0 0", "stat: line 3: cpu1: steal is not a decimal number (3 bytes starting with a digit); dropped"},
		{"cpu1 18446744073709551616 0 10 100 0 0 0 0 0 0", "stat: line 3: cpu1: user is beyond 64 bits; dropped"},
		{"cpu1 10 0 10 18446744073709551515 0 0 0 0 0 0", "stat: line 3: cpu1: idle = 18446744073709551515 ticks, more than the 9510000 since boot (btime) allow; dropped"},
		{"cpu1 10 0 10 100 0 0 0 0 9510001 0", "stat: line 3: cpu1: guest = 9510001 ticks, more than the 9510000 since boot (btime) allow; dropped"},
		{"cpu1 10 0 10 100 0 0 0 0", ""}, // 2.6.11 to 2.6.23: no guest columns
		{"cpu1 10 0 10 100 0 0", "stat: line 3: cpu1: 6 values, want at least 8 (user to steal); dropped"},
		{"cpu01 10 0 10 100 0 0 0 0 0 0", "stat: line 3: a cpu label (5 bytes starting with a letter): not a cpuN label; dropped"},
		{"cpu-1 10 0 10 100 0 0 0 0 0 0", "stat: line 3: cpu-1: CPU number out of range [0,8192); dropped"},
		{"cpux 10 0 10 100 0 0 0 0 0 0", "stat: line 3: a cpu label (4 bytes starting with a letter): not a cpuN label; dropped"},
		{"cpu0 10 0 10 100 0 0 0 0 0 0", "stat: line 3: cpu0: given by line 2 already; dropped"},
		{"cpu9999 10 0 10 100 0 0 0 0 0 0", "stat: line 3: cpu9999: CPU number out of range [0,8192); dropped"},
	}
	for _, tc := range cases {
		times, err := ParseCPUTime(strings.NewReader(statFile(tc.cpu1)), statNow)
		if got := fmt.Sprint(err); tc.want == "" && err != nil || tc.want != "" && got != tc.want {
			t.Errorf("%s: error %v, want %q", tc.cpu1, err, tc.want)
		}
		var cpus []int
		for _, c := range times {
			cpus = append(cpus, c.CPU)
			if c.CPU != 1 && (c.User != 0.1 || c.Idle != 1) {
				t.Errorf("%s: cpu%d = %+v, want it unchanged", tc.cpu1, c.CPU, c)
			}
		}
		want := []int{0, 2}
		if tc.want == "" {
			want = []int{0, 1, 2}
		}
		if !slices.Equal(cpus, want) {
			t.Errorf("%s: CPUs %v, want %v", tc.cpu1, cpus, want)
		}
	}
}

// TestParseCPUTimeLimits: without btime, or with a btime after now (a
// copied tree, a wrong clock), no value is too large; a long intr line
// is skipped, a long cpu line is an error.
func TestParseCPUTimeLimits(t *testing.T) {
	huge := "cpu0 10 0 10 18446744073709551515 0 0 0 0 0 0\n"
	if _, err := ParseCPUTime(strings.NewReader(huge+"btime 1\n"), statNow); err == nil {
		t.Error("btime 1: the huge idle passed")
	}
	if times, err := ParseCPUTime(strings.NewReader(huge+"btime 99999999999\n"), statNow); err != nil || len(times) != 1 {
		t.Errorf("btime after now: %v, %v; want the line kept", times, err)
	}
	long := "cpu0 10 0 10 100 0 0 0 0 0 0\nintr" + strings.Repeat(" 123", 100000) + "\nbtime 1\n"
	if times, err := ParseCPUTime(strings.NewReader(long), statNow); err != nil || len(times) != 1 {
		t.Errorf("long intr line: %v, %v", times, err)
	}
	long = "cpu0 10 0 10 100 0 0 0 0 0 0" + strings.Repeat(" 0", 5000) + "\ncpu1 1 1 1 1 1 1 1 1 1 1\nbtime 1\n"
	if times, err := ParseCPUTime(strings.NewReader(long), statNow); err == nil || len(times) != 1 || times[0].CPU != 1 {
		t.Errorf("long cpu0 line: %v, %v; want cpu1 only and an error", times, err)
	}
}
