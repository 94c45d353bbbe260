package diagnosis

import (
	"testing"

	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/snapshot/snaptest"
)

func TestCheckRPSFunnel(t *testing.T) {
	snap := snaptest.Host(t, []string{"0-3"}, "")
	veth(t, snap, "vA", 1e5, "2", "2", "2", "2")   // funnel into one CPU
	veth(t, snap, "vB", 1e5, "0-3", "0-3", "", "") // spread
	veth(t, snap, "vC", 1e5, "1", "2", "", "")     // two queues, two CPUs: no funnel
	veth(t, snap, "vD", 1e5, "0", "0", "", "")     // two queues into one CPU
	got := run(t, "rps_funnel", snap)
	if len(got) != 2 || got[0].Device != "vA" || got[1].Device != "vD" {
		t.Fatalf("got %s", dumpFindings(got))
	}
	if got[0].CPU != "2" || got[0].Severity != "warning" {
		t.Errorf("vA: %+v", got[0])
	}
	wantFix := "echo f > /sys/class/net/vA/queues/rx-0/rps_cpus; echo f > /sys/class/net/vA/queues/rx-1/rps_cpus; " +
		"echo f > /sys/class/net/vA/queues/rx-2/rps_cpus; echo f > /sys/class/net/vA/queues/rx-3/rps_cpus"
	if got[0].Fix != wantFix {
		t.Errorf("fix %q\nwant %q", got[0].Fix, wantFix)
	}
	// Nowhere to spread to: a 1-CPU host.
	if got := run(t, "rps_funnel", func() *snapshot.Snapshot {
		s := snaptest.Host(t, []string{"0"}, "")
		veth(t, s, "v", 1, "0", "0")
		return s
	}()); len(got) != 0 {
		t.Errorf("1 CPU: %s", dumpFindings(got))
	}
}

// TestCheckSingleQueueNoRPSVirtual: a virtual single-queue device without
// RPS is a finding only while it carries traffic; idle veths (a container
// host has hundreds) and the first snapshot (rate unknown) are not.
func TestCheckSingleQueueNoRPSVirtual(t *testing.T) {
	snap := snaptest.Host(t, []string{"0-1"}, "")
	veth(t, snap, "vBusy", 150000, "")
	veth(t, snap, "vIdle", 3, "")
	got := run(t, "single_queue_no_rps", snap)
	if len(got) != 1 || got[0].Device != "vBusy" || got[0].Fix != "echo 3 > /sys/class/net/vBusy/queues/rx-0/rps_cpus" {
		t.Fatalf("got %s", dumpFindings(got))
	}
	snap.DeviceRxRates = nil
	if got := run(t, "single_queue_no_rps", snap); len(got) != 0 {
		t.Fatalf("rates unknown: %s", dumpFindings(got))
	}
}
