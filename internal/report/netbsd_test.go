package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel/netbsd"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// bsdSnapshot is a 4-CPU NetBSD host whose wm0 has its four queue vectors
// and its link vector on CPU 0, at t seconds with each queue having
// counted rate*t (queue i: 500-10i per second).
func bsdSnapshot(t float64) *snapshot.Snapshot {
	var lines []netbsd.IntrLine
	add := func(id, name string, cpu int, perSecond float64) {
		counts := make([]uint64, 4)
		counts[cpu] = uint64(perSecond * t)
		lines = append(lines, netbsd.IntrLine{ID: id, Devices: name, Counts: counts, Assigned: cpuset.NewCPUSet(cpu)})
	}
	add("ioapic0 pin 9", "acpi0", 0, 3)
	for q := range 4 {
		add("msix0 vec "+string(rune('0'+q)), "wm0TXRX"+string(rune('0'+q)), 0, float64(500-10*q))
	}
	add("msix0 vec 4", "wm0LINK", 0, 0.5)
	nics := irqclass.NetBSDNICs{Interfaces: map[string]bool{"wm0": true}}
	return &snapshot.Snapshot{Time: time.Unix(1700000000, 0).Add(time.Duration(t * float64(time.Second))),
		IntrList: &netbsd.IntrList{NCPU: 4, Lines: lines}, IntrClasses: irqclass.ClassifyNetBSD(lines, nics), RPSSockFlowEntries: -1}
}

// TestBuildNetBSDReport: the report of a NetBSD host is its interrupt
// distribution: the NIC interrupts with their rates and assigned CPUs, the
// NIC interrupt rate per CPU, and the queue interrupts stacked on CPU 0
// with the intrctl commands that spread them.
func TestBuildNetBSDReport(t *testing.T) {
	r := BuildReport(bsdSnapshot(100), bsdSnapshot(110))
	if r.OS != "netbsd" || len(r.Unread) != 0 || len(r.Interrupts) != 5 || len(r.CPUs) != 4 {
		t.Fatalf("os %q, unread %v, %d interrupts, %d CPUs", r.OS, r.Unread, len(r.Interrupts), len(r.CPUs))
	}
	q1 := r.Interrupts[1]
	if q1.ID != "msix0 vec 1" || q1.Name != "wm0TXRX1" || q1.Device != "wm0" || q1.Queue != 1 || q1.Kind != "combined" || q1.AssignedCPUs != "0" {
		t.Errorf("queue 1: %+v", q1)
	}
	approx(t, "queue 1 interrupts/s", q1.InterruptsPerSecond, 490)
	if link := r.Interrupts[4]; link.Queue != -1 || link.Kind != "other" {
		t.Errorf("link: %+v", link)
	}
	approx(t, "CPU 0 NIC interrupts/s", r.CPUs[0].NICInterruptsPerSecond, 500+490+480+470+0.5)
	approx(t, "CPU 1 NIC interrupts/s", r.CPUs[1].NICInterruptsPerSecond, 0)
	if len(r.Findings) != 3 || r.Findings[2].Fix != "intrctl affinity -i 'msix0 vec 3' -c 3" {
		t.Errorf("findings %+v", r.Findings)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(NetBSD), 4 CPUs, 10.00 s", "  wm0     1      combined  msix0 vec 1  wm0TXRX1  0         490",
		"0    1940", "[warning] queue_irqs_share_cpu: wm0 queue 2 interrupt msix0 vec 2 CPU 0", "fix: intrctl affinity -i 'msix0 vec 2' -c 2"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	first := BuildReport(bsdSnapshot(0), bsdSnapshot(0))
	if first.Interrupts[0].InterruptsPerSecond != nil || first.CPUs[0].NICInterruptsPerSecond != nil {
		t.Errorf("no interval, yet rates: %+v", first.Interrupts[0])
	}
}

// TestNetBSDReportUnread: without the interrupt list the report says so
// (the command exits 3); a Linux report's JSON has neither os nor
// interrupts.
func TestNetBSDReportUnread(t *testing.T) {
	cur := &snapshot.Snapshot{IntrListErr: netbsdReadError("sysctl kern.intr.list: permission denied")}
	if r := BuildReport(&snapshot.Snapshot{}, cur); r.OS != "netbsd" || len(r.Unread) != 1 || !strings.Contains(r.Unread[0], "permission denied") {
		t.Errorf("unread %v", r.Unread)
	}
	b, err := json.Marshal(BuildReport(&snapshot.Snapshot{RPSSockFlowEntries: -1}, &snapshot.Snapshot{RPSSockFlowEntries: -1}))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(`"os"`)) || bytes.Contains(b, []byte(`"interrupts"`)) {
		t.Errorf("Linux JSON: %s", b)
	}
}

type netbsdReadError string

func (e netbsdReadError) Error() string { return string(e) }
