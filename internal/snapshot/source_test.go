package snapshot

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/hostgen"
)

// TestConcurrentReadEqualsSequential: reading the parts concurrently (each
// waiting for the parts it uses) gives the snapshot that reading them one
// after the other, in Part order, gives. Run with -race (make test does) it
// also checks that no two readers touch the same data unsynchronised.
func TestConcurrentReadEqualsSequential(t *testing.T) {
	root := t.TempDir()
	if err := hostgen.Generate(root, hostgen.Standard(64, 2, 32, 7)); err != nil {
		t.Fatal(err)
	}
	for _, dense := range []bool{false, true} {
		s := NewSource(filepath.Join(root, "proc"), filepath.Join(root, "sys"), partLast<<1-1, &IRQSelector{All: dense})

		sequential := &Snapshot{RPSSockFlowEntries: -1}
		noWait := func(Part) {}
		var wantParts []Part
		for p := Part(1); p <= partLast; p <<= 1 {
			if read, ok := partReaders[p]; ok && s.parts&p != 0 {
				read(s, sequential, noWait)
				wantParts = append(wantParts, p)
			}
		}
		for range 5 {
			concurrent := s.Snapshot()
			var gotParts []Part
			for _, d := range concurrent.ReadDurations {
				gotParts = append(gotParts, d.Part)
			}
			if !reflect.DeepEqual(gotParts, wantParts) {
				t.Fatalf("dense %v: read durations for %v, want %v", dense, gotParts, wantParts)
			}
			concurrent.Time, concurrent.ReadDurations = sequential.Time, nil
			if !reflect.DeepEqual(concurrent, sequential) {
				t.Fatalf("dense %v: the concurrent snapshot differs from the sequential one", dense)
			}
		}
		if len(sequential.Affinity) == 0 || len(sequential.IRQClasses) == 0 || len(sequential.Softnet) != 64 {
			t.Fatalf("dense %v: fixture too thin: %d affinities, %d classes, %d softnet rows", dense,
				len(sequential.Affinity), len(sequential.IRQClasses), len(sequential.Softnet))
		}
	}
}

// TestPanickingPartFailsItsPart: a part reader that panics fails its part;
// the parts that wait for it still run and the process lives on. (The
// collectors' half of this is TestPanickingPartFailsItsCollectors in
// collector, through a part error.)
func TestPanickingPartFailsItsPart(t *testing.T) {
	saved := partReaders[PartNetDevices]
	partReaders[PartNetDevices] = func(*Source, *Snapshot, func(Part)) { panic("boom") }
	defer func() { partReaders[PartNetDevices] = saved }()

	root := "../../testdata/hosts/bigiron-8cpu"
	s := NewSource(filepath.Join(root, "proc"), filepath.Join(root, "sys"), partLast<<1-1, nil)
	snap := s.Snapshot()
	if snap.NetDevicesErr == nil || !strings.Contains(snap.NetDevicesErr.Error(), "reading net_devices panicked: boom") {
		t.Fatalf("net devices error %v, want the panic", snap.NetDevicesErr)
	}
	if snap.Interrupts == nil || snap.Affinity == nil {
		t.Fatal("the parts after the one that panicked were not read")
	}
}
