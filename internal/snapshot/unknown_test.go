package snapshot

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// TestInterruptsMasked: an empty or blank /proc/interrupts, or its header
// alone, is masked; a real table (numbered rows, or named rows only as on
// s390x), garbage and a file that could not be read are not.
func TestInterruptsMasked(t *testing.T) {
	const header = "           CPU0       CPU1\n"
	for in, want := range map[string]bool{
		"":            true,
		"\n  \n":      true,
		header:        true,
		header + "\n": true,
		header + " 38:   5   6   PCI-MSI   eth0\n": false,
		header + "EXT:   1   2\nI/O:   3   4\n":    false, // s390x: no numbered IRQ
		"garbage line\n":                           false,
		header + "garbage line\n":                  false,
	} {
		table, err := procfs.ParseInterrupts(strings.NewReader(in))
		s := &Snapshot{Interrupts: table, InterruptsErr: err}
		if got := s.InterruptsMasked(); got != want {
			t.Errorf("%q: masked %v, want %v (err %v)", in, got, want, err)
		}
		if got := s.Unknown(PartInterrupts) == InterruptsMaskedReason; got != want {
			t.Errorf("%q: Unknown %q", in, s.Unknown(PartInterrupts))
		}
	}
	missing := &Snapshot{InterruptsErr: errors.New("open /proc/interrupts: no such file or directory")}
	if missing.InterruptsMasked() || !strings.HasPrefix(missing.Unknown(PartInterrupts), "/proc/interrupts could not be read: open") {
		t.Errorf("missing file: masked %v, unknown %q", missing.InterruptsMasked(), missing.Unknown(PartInterrupts))
	}
}

// TestUnknownParts: a part is unknown when it holds nothing and has an
// error; partial data, or no data without an error, is known.
func TestUnknownParts(t *testing.T) {
	bad := fmt.Errorf("broken")
	for _, tc := range []struct {
		snap    Snapshot
		part    Part
		unknown bool
	}{
		{Snapshot{NetDevicesErr: bad}, PartNetDevices, true},
		{Snapshot{NetDevices: []sysfs.NetDevice{{Name: "eth0"}}, NetDevicesErr: bad}, PartNetDevices, false},
		{Snapshot{}, PartNetDevices, false},
		{Snapshot{TopologyErr: bad}, PartTopology, true},
		{Snapshot{InterruptsErr: bad}, PartAffinity, true},
		{Snapshot{Interrupts: &procfs.InterruptTable{CPUs: []int{0}}}, PartAffinity, true}, // masked
		{Snapshot{ThreadsErr: bad}, PartThreads, true},
		{Snapshot{EthtoolErr: bad}, PartEthtool, true},
		{Snapshot{SoftnetErr: bad}, PartSoftirqs, false},
	} {
		if got := tc.snap.Unknown(tc.part) != ""; got != tc.unknown {
			t.Errorf("%s of %+v: unknown %q, want %v", tc.part, tc.snap, tc.snap.Unknown(tc.part), tc.unknown)
		}
	}
}
