package procfs

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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
	if _, err := ReadCPUTime(bad); err == nil || !strings.Contains(err.Error(), "cpu0 abc") {
		t.Errorf("malformed stat: err = %v, want one quoting the line", err)
	}
}
