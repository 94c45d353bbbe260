package netbsd

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
)

// wm4 is a 4-CPU amd64 host whose wm(4) has four TXRX vectors and a LINK
// vector, every vector on CPU 0 (the imbalance the alerts look for), plus
// a wired interrupt shared by two devices.
func wm4() []intrListLine {
	on0 := []bool{true, false, false, false}
	return []intrListLine{
		{id: "ioapic0 pin 9", xname: "acpi0", counts: []uint64{5, 0, 0, 0}, assigned: on0},
		{id: "ioapic0 pin 17", xname: "uhci0, ehci0", counts: []uint64{1, 0, 0, 0}, assigned: on0},
		{id: "msix0 vec 0", xname: "wm0TXRX0", counts: []uint64{91823, 0, 0, 0}, assigned: on0},
		{id: "msix0 vec 1", xname: "wm0TXRX1", counts: []uint64{88012, 0, 0, 0}, assigned: on0},
		{id: "msix0 vec 2", xname: "wm0TXRX2", counts: []uint64{90441, 0, 0, 0}, assigned: on0},
		{id: "msix0 vec 3", xname: "wm0TXRX3", counts: []uint64{87550, 0, 0, 0}, assigned: on0},
		{id: "msix0 vec 4", xname: "wm0LINK", counts: []uint64{2, 0, 0, 0}, assigned: on0},
	}
}

func TestDecodeIntrList(t *testing.T) {
	got, err := DecodeIntrList(encodeIntrList(4, wm4()))
	if err != nil {
		t.Fatal(err)
	}
	if got.NCPU != 4 || len(got.Lines) != 7 {
		t.Fatalf("%d CPUs, %d lines", got.NCPU, len(got.Lines))
	}
	want := IntrLine{ID: "msix0 vec 2", Devices: "wm0TXRX2", Counts: []uint64{90441, 0, 0, 0}, Assigned: cpuset.NewCPUSet(0)}
	if l := got.Lines[4]; !reflect.DeepEqual(l, want) {
		t.Errorf("line 4 = %+v, want %+v", l, want)
	}
	if got.Lines[1].Devices != "uhci0, ehci0" {
		t.Errorf("shared line's devices %q", got.Lines[1].Devices)
	}
}

// TestDecodeIntrListFullNames: strncpy leaves no NUL in a name that fills
// its field; the whole field is the name.
func TestDecodeIntrListFullNames(t *testing.T) {
	id, xname := strings.Repeat("i", 64), strings.Repeat("x", 256)
	got, err := DecodeIntrList(encodeIntrList(1, []intrListLine{{id: id, xname: xname, counts: []uint64{7}}}))
	if err != nil {
		t.Fatal(err)
	}
	if l := got.Lines[0]; l.ID != id || l.Devices != xname || l.Counts[0] != 7 || !l.Assigned.IsEmpty() {
		t.Errorf("got %+v", l)
	}
}

// TestDecodeIntrListZeroTail: a buffer sized before an interrupt went
// away ends in zeroed space; only il_nintrs lines are interrupts.
func TestDecodeIntrListZeroTail(t *testing.T) {
	b := encodeIntrList(2, []intrListLine{{id: "msix0 vec 0", xname: "wm0TXRX0", counts: []uint64{1, 2}}})
	b = append(b, make([]byte, 64+256+32)...)
	got, err := DecodeIntrList(b)
	if err != nil || len(got.Lines) != 1 {
		t.Fatalf("%v lines, err %v", got, err)
	}
}

// TestDecodeIntrListRefuses: a header of another version or layout is
// refused, not misread; a short buffer keeps its whole lines.
func TestDecodeIntrListRefuses(t *testing.T) {
	good := encodeIntrList(4, wm4())
	ne := binary.NativeEndian
	for name, c := range map[string]struct {
		edit func(b []byte) []byte
		want string
	}{
		"short":      {func(b []byte) []byte { return b[:39] }, "shorter than its 40-byte header"},
		"version 2":  {func(b []byte) []byte { ne.PutUint32(b[0:], 2); return b }, "version 2"},
		"no CPUs":    {func(b []byte) []byte { ne.PutUint32(b[4:], 0); return b }, "0 CPUs"},
		"negative":   {func(b []byte) []byte { ne.PutUint32(b[8:], 0xffffffff); return b }, "-1 interrupts"},
		"ILP32 line": {func(b []byte) []byte { ne.PutUint64(b[24:], 64+256+12*4); return b }, "another layout"},
		"offset":     {func(b []byte) []byte { ne.PutUint64(b[32:], 8); return b }, "first line at 8"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := DecodeIntrList(c.edit(append([]byte(nil), good...)))
			if err == nil || !strings.Contains(err.Error(), c.want) || got != nil {
				t.Errorf("got %v, %v; want an error with %q", got, err, c.want)
			}
		})
	}
	got, err := DecodeIntrList(good[:40+3*(320+64)+100])
	if err == nil || !strings.Contains(err.Error(), "3 of 7 interrupts fit") || len(got.Lines) != 3 {
		t.Errorf("cut buffer: %d lines, %v", len(got.Lines), err)
	}
}

// TestIntrctlListFixture: the lines of a real `intrctl list`
// (testdata/README.md), encoded into the kernel's layout and decoded,
// print back as intrctl prints them.
func TestIntrctlListFixture(t *testing.T) {
	header, lines, ncpu := readIntrctlList(t, "testdata/intrctl-list-oriono6.txt")
	list, err := DecodeIntrList(encodeIntrList(ncpu, lines))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(formatIntrctlList(list))
	want := strings.Fields(header + "\n" + strings.Join(fixtureLines(t), "\n"))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded list prints as\n%s\nwant the fixture's tokens", formatIntrctlList(list))
	}
	rge := list.Lines[len(list.Lines)-2]
	if rge.ID != "gicv3-its irq 9" || rge.Devices != "rge0" || rge.Counts[0] != 7022 || rge.Assigned.String() != "0" {
		t.Errorf("rge0's line: %+v", rge)
	}
	if ipi := list.Lines[0]; ipi.Assigned.Count() != 8 {
		t.Errorf("IPI ast assigned to %s, want every CPU", ipi.Assigned)
	}
}

// formatIntrctlList prints l as intrctl_list() does (without -c): the
// interrupt id, per CPU the count with '*' when assigned, the device names.
func formatIntrctlList(l *IntrList) string {
	var b strings.Builder
	b.WriteString("interrupt id ")
	for i := range l.NCPU {
		fmt.Fprintf(&b, "CPU%d  ", i)
	}
	b.WriteString("device name(s)\n")
	for _, line := range l.Lines {
		b.WriteString(line.ID + " ")
		for cpu, c := range line.Counts {
			mark := " "
			if line.Assigned.Contains(cpu) {
				mark = "*"
			}
			fmt.Fprintf(&b, "%d%s ", c, mark)
		}
		b.WriteString(line.Devices + "\n")
	}
	return b.String()
}

// readIntrctlList reads the fixture: its header line and, per interrupt,
// the id (its first three words: every id of this fixture is "<pic> irq
// <n>"), ncpu counts with their '*' and the device names.
func readIntrctlList(t *testing.T, path string) (header string, lines []intrListLine, ncpu int) {
	t.Helper()
	all := fixtureLinesOf(t, path, true)
	header = all[0]
	ncpu = strings.Count(header, " CPU")
	for _, text := range all[1:] {
		f := strings.Fields(text)
		l := intrListLine{id: strings.Join(f[:3], " "), xname: strings.Join(f[3+ncpu:], " ")}
		for _, c := range f[3 : 3+ncpu] {
			n, err := strconv.ParseUint(strings.TrimSuffix(c, "*"), 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", text, err)
			}
			l.counts = append(l.counts, n)
			l.assigned = append(l.assigned, strings.HasSuffix(c, "*"))
		}
		lines = append(lines, l)
	}
	return header, lines, ncpu
}

func fixtureLines(t *testing.T) []string {
	return fixtureLinesOf(t, "testdata/intrctl-list-oriono6.txt", false)
}

func fixtureLinesOf(t *testing.T, path string, withHeader bool) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if !withHeader {
		out = out[1:]
	}
	return out
}
