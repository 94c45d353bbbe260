package collector

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestPanickingPartFailsItsCollectors: a part that failed (as a panicking
// reader fails it: no data, an error; see snapshot's
// TestPanickingPartFailsItsPart) fails the collectors that use that part;
// the other collectors succeed.
func TestPanickingPartFailsItsCollectors(t *testing.T) {
	e := newTestExporter(t, hostConfig("../testdata/hosts/bigiron-8cpu"))
	snap := e.Source().Snapshot()
	snap.NetDevices, snap.NetDevicesErr = nil, errors.New("reading net_devices panicked: boom")
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(snapCollector{e: e, snap: snap})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	got := successes(mfs)
	if got["netqueues"] != 0 {
		t.Errorf("netqueues success %v, want 0", got["netqueues"])
	}
	for _, name := range []string{"softirqs", "softnet", "cputime", "cputopology"} {
		if got[name] != 1 {
			t.Errorf("%s success %v, want 1", name, got[name])
		}
	}
}
