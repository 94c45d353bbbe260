package snapshot

import (
	"math/bits"
	"path/filepath"
	"reflect"
	"slices"
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
		s := NewSource(Options{ProcPath: filepath.Join(root, "proc"), SysPath: filepath.Join(root, "sys"), Parts: PartAll, Selector: &IRQSelector{All: dense}})

		sequential := &Snapshot{RPSSockFlowEntries: -1}
		noWait := func(Part) {}
		var wantParts []Part
		for _, sp := range partTable {
			if s.parts&sp.part != 0 {
				sp.read(s, sequential, noWait)
				wantParts = append(wantParts, sp.part)
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
			// Rates come from the Source's previous snapshot, not from a part.
			concurrent.Time, concurrent.ReadDurations, concurrent.DeviceRxRates, concurrent.RxQueueLoss = sequential.Time, nil, nil, nil
			concurrent.BQLStallsBefore, concurrent.BQLStallsBeforeTime = nil, sequential.BQLStallsBeforeTime
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
	i := slices.IndexFunc(partTable, func(sp partSpec) bool { return sp.part == PartNetDevices })
	saved := partTable[i].read
	partTable[i].read = func(*Source, *Snapshot, func(Part)) { panic("boom") }
	defer func() { partTable[i].read = saved }()

	root := "../../testdata/hosts/bigiron-8cpu"
	s := NewSource(Options{ProcPath: filepath.Join(root, "proc"), SysPath: filepath.Join(root, "sys"), Parts: PartAll})
	snap := s.Snapshot()
	if snap.NetDevicesErr == nil || !strings.Contains(snap.NetDevicesErr.Error(), "reading net_devices panicked: boom") {
		t.Fatalf("net devices error %v, want the panic", snap.NetDevicesErr)
	}
	if snap.Interrupts == nil || snap.Affinity == nil {
		t.Fatal("the parts after the one that panicked were not read")
	}
}

// TestPartTable: every Part has one row, in bit order, whose needs and
// uses come before it; NewSource adds the needs.
func TestPartTable(t *testing.T) {
	if len(partTable) != bits.Len(uint(partLast)) {
		t.Fatalf("%d rows for %d parts", len(partTable), bits.Len(uint(partLast)))
	}
	for i, sp := range partTable {
		if sp.part != Part(1)<<i || sp.name == "" || sp.read == nil || sp.err == nil {
			t.Errorf("row %d: part %d name %q", i, sp.part, sp.name)
		}
		for _, d := range append(slices.Clone(sp.needs), sp.uses...) {
			if d >= sp.part {
				t.Errorf("%s depends on %s, a later part", sp.name, d)
			}
		}
	}
	if got, want := withNeeds(PartAffinity), PartAffinity|PartInterrupts|PartNetDevices; got != want {
		t.Errorf("withNeeds(affinity) = %b, want %b", got, want)
	}
	if got := withNeeds(PartThreads); got != PartThreads {
		t.Errorf("withNeeds(threads) = %b: uses are not needs", got)
	}
}
