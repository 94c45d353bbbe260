package procfs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
)

func softnetOpen(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("../../../testdata/proc_softnet_stat", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func softnetCPUs(rows []SoftnetRow) []int {
	var cpus []int
	for _, r := range rows {
		cpus = append(cpus, r.CPU)
	}
	return cpus
}

// softnetRow13 builds a 13-column row (5.10+) with the given index column.
func softnetRow13(processed, index string) string {
	return processed + " 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 " + index
}

// softnetRow10 builds a 10-column row (no index column).
func softnetRow10(processed string) string {
	return processed + " 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
}

// TestParseSoftnetCorpus parses every sample in testdata/proc_softnet_stat
// (no online list) and checks every row's CPU and chosen rows' counters,
// read by hand from the hex in the files.
func TestParseSoftnetCorpus(t *testing.T) {
	cases := []struct {
		file     string
		columns  []int // per kept row
		cpus     []int
		fromIdx  bool // CPUs come from the index column (all rows)
		rows     map[int]SoftnetRow
		errSubst string // "" = no error
	}{
		// 10 columns: processed, dropped, squeeze, 5 zeros, collision, received_rps.
		{file: "arthurchiao-6cpu-10col.txt", columns: []int{10, 10, 10, 10, 10, 10}, cpus: []int{0, 1, 2, 3, 4, 5},
			rows: map[int]SoftnetRow{
				0: {CPU: 0, Columns: 10, Processed: 0x6dcad223, TimeSqueeze: 1},
				4: {CPU: 4, Columns: 10, Processed: 0x6794b1b3, TimeSqueeze: 5},
			}},
		// 9 columns (2.6.32 layout, no received_rps).
		{file: "hjr3-2.6.32-6cpu-9col-derived.txt", columns: []int{9, 9, 9, 9, 9, 9}, cpus: []int{0, 1, 2, 3, 4, 5},
			rows: map[int]SoftnetRow{
				1: {CPU: 1, Columns: 9, Processed: 0x6f0e1565, TimeSqueeze: 2},
				5: {CPU: 5, Columns: 9, Processed: 0x6488cb92, TimeSqueeze: 1},
			}},
		// 11 columns (flow_limit_count).
		{file: "hjr3-3.11-8cpu-11col.txt", columns: []int{11, 11, 11, 11, 11, 11, 11, 11}, cpus: []int{0, 1, 2, 3, 4, 5, 6, 7},
			rows: map[int]SoftnetRow{
				0: {CPU: 0, Columns: 11, Processed: 0x22be3},
				7: {CPU: 7, Columns: 11, Processed: 0xcb3},
			}},
		// 13 columns: backlog and CPU index.
		{file: "hjr3-5.10.47-2cpu-13col.txt", columns: []int{13, 13}, cpus: []int{0, 1}, fromIdx: true,
			rows: map[int]SoftnetRow{
				0: {CPU: 0, CPUFromIndex: true, Columns: 13, Processed: 0x67f83, TimeSqueeze: 0x383},
				1: {CPU: 1, CPUFromIndex: true, Columns: 13, Processed: 0x6c62, TimeSqueeze: 0xc1},
			}},
		// 15 columns, no final newline.
		{file: "hjr3-6.4.7-2cpu-15col.txt", columns: []int{15, 15}, cpus: []int{0, 1}, fromIdx: true,
			rows: map[int]SoftnetRow{
				0: {CPU: 0, CPUFromIndex: true, Columns: 15, Processed: 0x78b644, TimeSqueeze: 0x3d},
				1: {CPU: 1, CPUFromIndex: true, Columns: 15, Processed: 0x6d1ebe, TimeSqueeze: 0x4f},
			}},
		// 13 columns with non-zero rps/flow/backlog; the 5th line repeats
		// index 00000000 (edited fixture): it is dropped, not allowed to
		// produce a second series for CPU 0.
		{file: "insights-rhel9-5line-13col.txt", columns: []int{13, 13, 13, 13}, cpus: []int{0, 1, 2, 3}, fromIdx: true,
			errSubst: "line 5: CPU 0 already given by line 1",
			rows: map[int]SoftnetRow{
				0: {CPU: 0, CPUFromIndex: true, Columns: 13, Processed: 0x358fe3, Dropped: 0x6283, ReceivedRPS: 0x855fc, FlowLimitCount: 0x76},
				1: {CPU: 1, CPUFromIndex: true, Columns: 13, Processed: 0x953d1a, Dropped: 0x446, TimeSqueeze: 0xb1,
					ReceivedRPS: 0x8eeb9a, FlowLimitCount: 0x2b, BacklogLen: 0xdc},
				2: {CPU: 2, CPUFromIndex: true, Columns: 13, Processed: 0x2600138, Dropped: 0x4bc7, ReceivedRPS: 0x2328493, BacklogLen: 0xa},
				3: {CPU: 3, CPUFromIndex: true, Columns: 13, Processed: 0x2883c47, Dropped: 0x7e2e, TimeSqueeze: 0x7b,
					ReceivedRPS: 0x2280d49, FlowLimitCount: 0xbd},
			}},
		// Processed above 2^31: unsigned.
		{file: "netutils-8cpu-10col-strange-cpu.txt", columns: []int{10, 10, 10, 10, 10, 10, 10, 10}, cpus: []int{0, 1, 2, 3, 4, 5, 6, 7},
			rows: map[int]SoftnetRow{
				0: {CPU: 0, Columns: 10, Processed: 0xa4a1bcc9, TimeSqueeze: 0x2052},
				6: {CPU: 6, Columns: 10, Processed: 0x9f11a2c3, TimeSqueeze: 0x1ef9},
			}},
		{file: "netutils-8cpu-10col.txt", columns: []int{10, 10, 10, 10, 10, 10, 10, 10}, cpus: []int{0, 1, 2, 3, 4, 5, 6, 7},
			rows: map[int]SoftnetRow{
				2: {CPU: 2, Columns: 10, Processed: 0xc31633d5, TimeSqueeze: 0xcb},
				7: {CPU: 7, Columns: 10, Processed: 0x7c0f3f79, TimeSqueeze: 0xc3},
			}},
		// 11 columns, no final newline; one row with drops.
		{file: "node_exporter-4cpu-11col.txt", columns: []int{11, 11, 11, 11}, cpus: []int{0, 1, 2, 3},
			rows: map[int]SoftnetRow{
				1: {CPU: 1, Columns: 11, Processed: 0xdfb82, Dropped: 0x29, TimeSqueeze: 0xa},
				3: {CPU: 3, Columns: 11, Processed: 0x2f8339, TimeSqueeze: 0x32},
			}},
		// Rows of 13/13/11/9/10 columns: the first two from their index,
		// the others by position.
		{file: "procfs-mixed-width-edited.txt", columns: []int{13, 13, 11, 9, 10}, cpus: []int{0, 1, 2, 3, 4},
			rows: map[int]SoftnetRow{
				1: {CPU: 1, CPUFromIndex: true, Columns: 13, Processed: 0x953d1a, Dropped: 0x446, TimeSqueeze: 0xb1,
					ReceivedRPS: 0x8eeb9a, FlowLimitCount: 0x2b, BacklogLen: 0xdc},
				2: {CPU: 2, Columns: 11, Processed: 0x15c73, Dropped: 0x20e76, TimeSqueeze: 0xf0000769,
					CPUCollision: 4, ReceivedRPS: 3, FlowLimitCount: 2},
				3: {CPU: 3, Columns: 9, Processed: 0x1663fb2, TimeSqueeze: 0x109a4, CPUCollision: 0x20e76},
				4: {CPU: 4, Columns: 10, Processed: 0x8e78, Dropped: 1, TimeSqueeze: 0x11, CPUCollision: 0x20, ReceivedRPS: 0x10},
			}},
		// Index column skips 6: CPU 6 offline, CPU 8 online.
		{file: "sysstat-root4-13col-edited.txt", columns: []int{13, 13, 13, 13, 13, 13, 13, 13}, cpus: []int{0, 1, 2, 3, 4, 5, 7, 8}, fromIdx: true,
			rows: map[int]SoftnetRow{
				1: {CPU: 1, CPUFromIndex: true, Columns: 13, Processed: 0x2970, BacklogLen: 0xa},
				6: {CPU: 7, CPUFromIndex: true, Columns: 13, Processed: 0x4958},
				7: {CPU: 8, CPUFromIndex: true, Columns: 13, Processed: 0x22},
			}},
		// This machine (kernel 6.18.44, 2 vCPUs), see SOURCES.md.
		{file: "thishost-2cpu-15col-6.18.44-fc-v669.txt", columns: []int{15, 15}, cpus: []int{0, 1}, fromIdx: true,
			rows: map[int]SoftnetRow{
				0: {CPU: 0, CPUFromIndex: true, Columns: 15, Processed: 0x15},
				1: {CPU: 1, CPUFromIndex: true, Columns: 15, Processed: 0x2fd},
			}},
	}
	files, err := filepath.Glob("../../../testdata/proc_softnet_stat/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(cases) {
		t.Errorf("testdata has %d softnet_stat files, test covers %d", len(files), len(cases))
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			rows, err := ParseSoftnet(softnetOpen(t, c.file), nil)
			switch {
			case c.errSubst == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case c.errSubst != "" && (err == nil || !strings.Contains(err.Error(), c.errSubst)):
				t.Errorf("error = %v, want one containing %q", err, c.errSubst)
			}
			if got := softnetCPUs(rows); !slices.Equal(got, c.cpus) {
				t.Errorf("CPUs = %v, want %v", got, c.cpus)
			}
			var cols []int
			for _, r := range rows {
				cols = append(cols, r.Columns)
				if c.fromIdx && !r.CPUFromIndex {
					t.Errorf("CPU %d: CPUFromIndex false", r.CPU)
				}
			}
			if !slices.Equal(cols, c.columns) {
				t.Errorf("Columns = %v, want %v", cols, c.columns)
			}
			for i, want := range c.rows {
				if i >= len(rows) {
					t.Errorf("no row %d", i)
					continue
				}
				if rows[i] != want {
					t.Errorf("row %d = %+v\nwant     %+v", i, rows[i], want)
				}
			}
		})
	}
}

// TestParseSoftnetIndexWins: the kernel's index column beats both the row
// position and the online list.
func TestParseSoftnetIndexWins(t *testing.T) {
	in := softnetRow13("0000000a", "00000000") + "\n" + softnetRow13("0000000b", "00000002") + "\n"
	for _, online := range [][]int{nil, {0, 1}} {
		rows, err := ParseSoftnet(strings.NewReader(in), online)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[1].CPU != 2 || !rows[1].CPUFromIndex || rows[1].Processed != 0xb {
			t.Errorf("online %v: rows = %+v, want row 1 on CPU 2 from index", online, rows)
		}
	}
	// A real file with a gap: online [0..7] has one entry per row, but the
	// index column says rows 6 and 7 are CPUs 7 and 8.
	rows, err := ParseSoftnet(softnetOpen(t, "sysstat-root4-13col-edited.txt"), []int{0, 1, 2, 3, 4, 5, 6, 7})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := softnetCPUs(rows), []int{0, 1, 2, 3, 4, 5, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("CPUs = %v, want %v", got, want)
	}
}

// TestParseSoftnetOnlineMapping: without an index column, row k is the k-th
// online CPU when the online list matches the row count, else CPU k.
func TestParseSoftnetOnlineMapping(t *testing.T) {
	in := softnetRow10("00000001") + "\n" + softnetRow10("00000002") + "\n" + softnetRow10("00000003") + "\n"
	cases := []struct {
		name   string
		online []int
		want   []int
	}{
		{"online matches rows", []int{0, 2, 3}, []int{0, 2, 3}},
		{"online unsorted", []int{3, 0, 2}, []int{0, 2, 3}},
		{"online nil", nil, []int{0, 1, 2}},
		{"online too short", []int{0, 2}, []int{0, 1, 2}},
		{"online too long", []int{0, 2, 3, 5}, []int{0, 1, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, err := ParseSoftnet(strings.NewReader(in), c.online)
			if err != nil {
				t.Fatal(err)
			}
			if got := softnetCPUs(rows); !slices.Equal(got, c.want) {
				t.Errorf("CPUs = %v, want %v", got, c.want)
			}
			for i, r := range rows {
				if r.CPUFromIndex {
					t.Errorf("row %d: CPUFromIndex true without an index column", i)
				}
				if r.Processed != uint64(i+1) {
					t.Errorf("row %d: Processed = %d, want %d", i, r.Processed, i+1)
				}
			}
		})
	}
	// The same on a real 11-column file: 4 rows, online CPUs 0,1,4,5.
	rows, err := ParseSoftnet(softnetOpen(t, "node_exporter-4cpu-11col.txt"), []int{0, 1, 4, 5})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := softnetCPUs(rows), []int{0, 1, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("CPUs = %v, want %v", got, want)
	}
	if rows[3].Processed != 0x2f8339 {
		t.Errorf("CPU 5 Processed = %#x, want 0x2f8339", rows[3].Processed)
	}
}

// TestParseSoftnetQueueLengths: a 15-column row with non-zero queue
// lengths (all real samples have empty queues).
func TestParseSoftnetQueueLengths(t *testing.T) {
	in := "00000100 00000002 00000003 00000000 00000000 00000000 00000000 00000000 00000000 00000010 00000020 00000005 00000001 00000003 00000002\n"
	rows, err := ParseSoftnet(strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := SoftnetRow{CPU: 1, CPUFromIndex: true, Columns: 15, Processed: 0x100, Dropped: 2, TimeSqueeze: 3,
		ReceivedRPS: 0x10, FlowLimitCount: 0x20, BacklogLen: 5, InputQueueLen: 3, ProcessQueueLen: 2}
	if len(rows) != 1 || rows[0] != want {
		t.Errorf("rows = %+v\nwant  %+v", rows, want)
	}
}

// TestParseSoftnetBadRows: broken rows are skipped with an error naming the
// line; the other rows are kept and keep their position.
func TestParseSoftnetBadRows(t *testing.T) {
	in := softnetRow10("00000001") + "\n" + // line 1: CPU 0
		"00000002 00000000 00000000 00000000\n" + // line 2: 4 columns
		softnetRow10("0000zz03") + "\n" + // line 3: not hex
		"\n" + // blank: ignored, not a row
		softnetRow10("00000004") + "\n" + // line 5: 4th row -> CPU 3
		softnetRow13("00000005", "ffffffff") + "\n" // line 6: index out of range
	rows, err := ParseSoftnet(strings.NewReader(in), nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []string{"line 2: 4 columns, want at least 9", "line 3: column 0 (8 bytes starting with a digit) is not hex", "line 6: CPU index 4294967295 out of range"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
	if got, want := softnetCPUs(rows), []int{0, 3}; !slices.Equal(got, want) {
		t.Errorf("CPUs = %v, want %v", got, want)
	}
	if len(rows) == 2 && (rows[0].Processed != 1 || rows[1].Processed != 4) {
		t.Errorf("rows = %+v", rows)
	}

	// A 16-column row from some future kernel keeps the 15 known columns.
	rows, err = ParseSoftnet(strings.NewReader(softnetRow13("00000007", "00000000")+" 00000001 00000002 0000abcd\n"), nil)
	if err != nil || len(rows) != 1 || rows[0].Columns != 16 || rows[0].InputQueueLen != 1 || rows[0].ProcessQueueLen != 2 {
		t.Errorf("16 columns: rows = %+v, err = %v", rows, err)
	}

	for _, in := range []string{"", "\n\n"} {
		rows, err := ParseSoftnet(strings.NewReader(in), []int{0})
		if err == nil || !strings.Contains(err.Error(), "empty file") || len(rows) != 0 {
			t.Errorf("%q: rows = %v, err = %v; want empty-file error", in, rows, err)
		}
	}
}

// TestParseSoftnetCutAnywhere cuts a real file at every byte: no panic, and
// whatever is kept is consistent.
func TestParseSoftnetCutAnywhere(t *testing.T) {
	data, err := os.ReadFile("../../../testdata/proc_softnet_stat/procfs-mixed-width-edited.txt")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= len(data); i++ {
		rows, _ := ParseSoftnet(strings.NewReader(string(data[:i])), []int{0, 1, 2, 3, 4})
		for _, r := range rows {
			if r.Columns < 9 || r.CPU < 0 || r.CPU > 4 {
				t.Fatalf("cut at %d: bad row %+v", i, r)
			}
		}
	}
}

func FuzzParseSoftnet(f *testing.F) {
	files, _ := filepath.Glob("../../../testdata/proc_softnet_stat/*.txt")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, _ := ParseSoftnet(strings.NewReader(string(data)), []int{0, 2, 3})
		seen := map[int]bool{}
		for _, r := range rows {
			if r.Columns < 9 || r.CPU < 0 || r.CPU >= cpuset.MaxCPUs || seen[r.CPU] {
				t.Fatalf("bad row %+v", r)
			}
			seen[r.CPU] = true
		}
	})
}
