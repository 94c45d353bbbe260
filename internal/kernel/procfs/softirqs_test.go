package procfs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var (
	softirqsNamesBlockIOPoll = []string{"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "BLOCK_IOPOLL", "TASKLET", "SCHED", "HRTIMER", "RCU"}
	softirqsNamesIRQPoll     = []string{"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU"}
)

// softirqsCount returns the count of vector name for CPU cpu, failing the
// test when either is missing.
func softirqsCount(t *testing.T, tab *SoftirqTable, name string, cpu int) uint64 {
	t.Helper()
	col := slices.Index(tab.CPUs, cpu)
	if col < 0 {
		t.Fatalf("CPU %d not in %v", cpu, tab.CPUs)
	}
	for _, v := range tab.Vectors {
		if v.Name == name {
			if col >= len(v.Counts) {
				t.Fatalf("%s has %d counts, no column for CPU %d", name, len(v.Counts), cpu)
			}
			return v.Counts[col]
		}
	}
	t.Fatalf("no vector %s", name)
	return 0
}

func softirqsNames(tab *SoftirqTable) []string {
	var names []string
	for _, v := range tab.Vectors {
		names = append(names, v.Name)
	}
	return names
}

// TestParseSoftirqsCorpus parses every sample in testdata/proc_softirqs and
// checks the CPUs, the vector order and NET_RX/NET_TX counts read by hand
// from the files.
func TestParseSoftirqsCorpus(t *testing.T) {
	type want struct {
		vector string
		cpu    int
		count  uint64
	}
	cases := []struct {
		file   string
		cpus   []int
		names  []string
		counts []want
	}{
		{"aepkolol-2cpu-arm.txt", []int{0, 1}, softirqsNamesBlockIOPoll, []want{
			{"NET_RX", 0, 409732}, {"NET_RX", 1, 4}, {"NET_TX", 0, 386393}, {"NET_TX", 1, 1}}},
		// Header without trailing spaces; counts close to 2^32.
		{"arthurchiao-4cpu-block-iopoll.txt", []int{0, 1, 2, 3}, softirqsNamesBlockIOPoll, []want{
			{"NET_RX", 0, 1671622615}, {"NET_RX", 3, 2674732223}, {"NET_TX", 0, 15774435}, {"NET_TX", 3, 749512},
			{"RCU", 1, 4231862865}}},
		{"jds2001-2cpu-hyperv.txt", []int{0, 1}, softirqsNamesIRQPoll, []want{
			{"NET_RX", 0, 232746}, {"NET_RX", 1, 202453}, {"NET_TX", 0, 34}, {"NET_TX", 1, 34}}},
		{"khandevops1-1cpu.txt", []int{0}, softirqsNamesIRQPoll, []want{
			{"NET_RX", 0, 3672}, {"NET_TX", 0, 1}, {"RCU", 0, 64809}}},
		// Four possible CPUs, two of them offline: their columns are all zero.
		{"netutils-4col-dualcore.txt", []int{0, 1, 2, 3}, softirqsNamesBlockIOPoll, []want{
			{"NET_RX", 0, 183741596}, {"NET_RX", 1, 182082160}, {"NET_RX", 2, 0}, {"NET_RX", 3, 0},
			{"NET_TX", 0, 98717}, {"NET_TX", 1, 98515}, {"NET_TX", 3, 0}}},
		{"netutils-8cpu-i7.txt", []int{0, 1, 2, 3, 4, 5, 6, 7}, softirqsNamesBlockIOPoll, []want{
			{"NET_RX", 4, 3497390485}, {"NET_RX", 7, 894237858}, {"NET_TX", 0, 20940277}, {"NET_TX", 5, 338057}}},
		{"netutils-8cpu-strange-cpu.txt", []int{0, 1, 2, 3, 4, 5, 6, 7}, softirqsNamesBlockIOPoll, []want{
			{"NET_RX", 0, 367647286}, {"NET_RX", 7, 367661451}, {"NET_TX", 1, 3218226}, {"NET_TX", 4, 5085186}}},
		{"node_exporter-2cpu.txt", []int{0, 1}, softirqsNamesIRQPoll, []want{
			{"NET_RX", 0, 43066}, {"NET_RX", 1, 104508}, {"NET_TX", 0, 2301}, {"NET_TX", 1, 2430}}},
		// Header without trailing spaces, one CPU.
		{"pcp-1cpu-i686.txt", []int{0}, softirqsNamesIRQPoll, []want{
			{"NET_RX", 0, 2315415}, {"NET_TX", 0, 28234}}},
		{"pcp-8cpu-x86_64.txt", []int{0, 1, 2, 3, 4, 5, 6, 7}, softirqsNamesBlockIOPoll, []want{
			{"NET_RX", 0, 2452582}, {"NET_RX", 7, 326415}, {"NET_TX", 0, 90951}, {"NET_TX", 7, 91}}},
		{"procfs-2cpu.txt", []int{0, 1}, softirqsNamesIRQPoll, []want{
			{"NET_RX", 0, 55919}, {"NET_RX", 1, 28694}, {"NET_TX", 0, 2419}, {"NET_TX", 1, 772}}},
		// This machine (kernel 6.18.44, 2 vCPUs), see SOURCES.md.
		{"thishost-2cpu-6.18.44-fc-v669.txt", []int{0, 1}, softirqsNamesIRQPoll, []want{
			{"NET_RX", 0, 600}, {"NET_RX", 1, 612}, {"NET_TX", 0, 4}, {"NET_TX", 1, 0}, {"BLOCK", 1, 9349}}},
	}
	files, err := filepath.Glob("../../../testdata/proc_softirqs/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(cases) {
		t.Errorf("testdata has %d softirqs files, test covers %d", len(files), len(cases))
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("../../../testdata/proc_softirqs", c.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			tab, err := ParseSoftirqs(f)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !slices.Equal(tab.CPUs, c.cpus) {
				t.Errorf("CPUs = %v, want %v", tab.CPUs, c.cpus)
			}
			if got := softirqsNames(tab); !slices.Equal(got, c.names) {
				t.Errorf("vectors = %v, want %v", got, c.names)
			}
			for _, v := range tab.Vectors {
				if len(v.Counts) != len(tab.CPUs) {
					t.Errorf("%s has %d counts for %d CPUs", v.Name, len(v.Counts), len(tab.CPUs))
				}
			}
			for _, w := range c.counts {
				if got := softirqsCount(t, tab, w.vector, w.cpu); got != w.count {
					t.Errorf("%s CPU%d = %d, want %d", w.vector, w.cpu, got, w.count)
				}
			}
		})
	}
}

// TestParseSoftirqsHeaderCPUs shows that CPU numbers come from the header
// names, not from column positions (CPU1 offline and not possible here).
func TestParseSoftirqsHeaderCPUs(t *testing.T) {
	in := "                    CPU0       CPU2       CPU3\n" +
		"      NET_TX:         10         20         30\n" +
		"      NET_RX:        100        200        300\n"
	tab, err := ParseSoftirqs(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 2, 3}; !slices.Equal(tab.CPUs, want) {
		t.Fatalf("CPUs = %v, want %v", tab.CPUs, want)
	}
	if got := softirqsCount(t, tab, "NET_RX", 2); got != 200 {
		t.Errorf("NET_RX CPU2 = %d, want 200", got)
	}
	if got := softirqsCount(t, tab, "NET_TX", 3); got != 30 {
		t.Errorf("NET_TX CPU3 = %d, want 30", got)
	}
}

// TestParseSoftirqsDamaged feeds broken files: what parses is kept, the
// error names the faulty line.
func TestParseSoftirqsDamaged(t *testing.T) {
	cases := []struct {
		name      string
		in        string
		cpus      []int
		vectors   map[string][]uint64 // every vector expected, with its counts
		order     []string
		errSubstr []string // "" = no error expected
	}{
		{
			name: "truncated row",
			in: "    CPU0 CPU1 CPU2\n" +
				"NET_TX: 1 2 3\n" +
				"NET_RX: 4 5\n" +
				"   RCU: 7 8 9\n",
			cpus:      []int{0, 1, 2},
			vectors:   map[string][]uint64{"NET_TX": {1, 2, 3}, "NET_RX": {4, 5}, "RCU": {7, 8, 9}},
			order:     []string{"NET_TX", "NET_RX", "RCU"},
			errSubstr: []string{"line 3", "NET_RX", "truncated"},
		},
		{
			name: "garbage line skipped",
			in: "    CPU0 CPU1\n" +
				"NET_TX: 1 2\n" +
				"this is not a softirq row\n" +
				"NET_RX: 3 4\n",
			cpus:      []int{0, 1},
			vectors:   map[string][]uint64{"NET_TX": {1, 2}, "NET_RX": {3, 4}},
			order:     []string{"NET_TX", "NET_RX"},
			errSubstr: []string{"line 3: not a softirq row (25 bytes starting with a letter)"},
		},
		{
			name: "bad count cuts the row",
			in: "    CPU0 CPU1 CPU2\n" +
				"NET_RX: 5 x 7\n",
			cpus:      []int{0, 1, 2},
			vectors:   map[string][]uint64{"NET_RX": {5}},
			order:     []string{"NET_RX"},
			errSubstr: []string{"line 2: vector NET_RX: bad count (1 byte starting with a letter) for column 1"},
		},
		{
			name: "extra counts dropped",
			in: "    CPU0 CPU1\n" +
				"NET_RX: 5 6 7\n",
			cpus:      []int{0, 1},
			vectors:   map[string][]uint64{"NET_RX": {5, 6}},
			order:     []string{"NET_RX"},
			errSubstr: []string{"line 2", "3 counts for 2 CPUs"},
		},
		{
			name: "repeated vector skipped",
			in: "    CPU0\n" +
				"NET_RX: 5\n" +
				"NET_RX: 6\n",
			cpus:      []int{0},
			vectors:   map[string][]uint64{"NET_RX": {5}},
			order:     []string{"NET_RX"},
			errSubstr: []string{"line 3", "repeated"},
		},
		{
			name: "no header: CPUs 0..n-1 from widest row",
			in: "NET_TX: 1 2\n" +
				"NET_RX: 3 4\n",
			cpus:      []int{0, 1},
			vectors:   map[string][]uint64{"NET_TX": {1, 2}, "NET_RX": {3, 4}},
			order:     []string{"NET_TX", "NET_RX"},
			errSubstr: []string{"line 1", "no CPUn header"},
		},
		{
			name:      "bad header field",
			in:        "    CPU0 CPUX\nNET_RX: 1 2\n",
			vectors:   map[string][]uint64{},
			errSubstr: []string{"line 1: field 2 (4 bytes starting with a letter) is not CPUn in the header"},
		},
		{
			name:      "CPU twice in header",
			in:        "    CPU0 CPU0\nNET_RX: 1 2\n",
			vectors:   map[string][]uint64{},
			errSubstr: []string{"CPU0 appears twice"},
		},
		{
			name:      "empty",
			in:        "",
			vectors:   map[string][]uint64{},
			errSubstr: []string{"empty file"},
		},
		{
			name:      "blank lines only",
			in:        "\n  \n",
			vectors:   map[string][]uint64{},
			errSubstr: []string{"empty file"},
		},
		{
			name:    "blank lines and tabs are fine",
			in:      "\n    CPU0 CPU1\n\nNET_RX:\t1\t2\n\n",
			cpus:    []int{0, 1},
			vectors: map[string][]uint64{"NET_RX": {1, 2}},
			order:   []string{"NET_RX"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab, err := ParseSoftirqs(strings.NewReader(c.in))
			if tab == nil {
				t.Fatal("nil table")
			}
			if len(c.errSubstr) == 0 && err != nil {
				t.Errorf("unexpected error: %v", err)
			}
			if len(c.errSubstr) > 0 {
				if err == nil {
					t.Fatalf("no error, want one containing %q", c.errSubstr)
				}
				for _, s := range c.errSubstr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
			}
			if !slices.Equal(tab.CPUs, c.cpus) {
				t.Errorf("CPUs = %v, want %v", tab.CPUs, c.cpus)
			}
			if got := softirqsNames(tab); !slices.Equal(got, c.order) {
				t.Errorf("vectors = %v, want %v", got, c.order)
			}
			for _, v := range tab.Vectors {
				if want := c.vectors[v.Name]; !slices.Equal(v.Counts, want) {
					t.Errorf("%s = %v, want %v", v.Name, v.Counts, want)
				}
			}
		})
	}
}

// TestParseSoftirqsCutAnywhere cuts a real file at every byte: no panic,
// never more counts than CPUs, and an error whenever a row lost counts.
func TestParseSoftirqsCutAnywhere(t *testing.T) {
	data, err := os.ReadFile("../../../testdata/proc_softirqs/arthurchiao-4cpu-block-iopoll.txt")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= len(data); i++ {
		tab, err := ParseSoftirqs(strings.NewReader(string(data[:i])))
		short := false
		for _, v := range tab.Vectors {
			if len(v.Counts) > len(tab.CPUs) {
				t.Fatalf("cut at %d: %s has %d counts for %d CPUs", i, v.Name, len(v.Counts), len(tab.CPUs))
			}
			short = short || len(v.Counts) < len(tab.CPUs)
		}
		if short && err == nil {
			t.Fatalf("cut at %d: a row is short but no error", i)
		}
	}
}

func FuzzParseSoftirqs(f *testing.F) {
	files, _ := filepath.Glob("../../../testdata/proc_softirqs/*.txt")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("CPU0 CPU99999999999999999999\nX: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, _ := ParseSoftirqs(strings.NewReader(string(data)))
		if tab == nil {
			t.Fatal("nil table")
		}
		for _, v := range tab.Vectors {
			if len(v.Counts) > len(tab.CPUs) {
				t.Fatalf("%s has %d counts for %d CPUs", v.Name, len(v.Counts), len(tab.CPUs))
			}
		}
	})
}
