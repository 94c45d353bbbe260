package collector

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/snapshot/snaptest"
)

// TestNetQueuesEffectiveNodes: effective_nodes is in the kernel's list
// format, as the report writes it ("0-1", not "0,1").
func TestNetQueuesEffectiveNodes(t *testing.T) {
	s := snaptest.Host(t, []string{"0-1", "2-3"}, "")
	snaptest.NIC(s, "eth0", 0, 1, 1)
	snaptest.IRQ(t, s, 10, "eth0", 0, kernel.KindCombined, "0-3", "1-2", "")
	ch := make(chan prometheus.Metric, 100)
	if err := (netQueuesCollector{}).Update(s, ch); err != nil {
		t.Fatal(err)
	}
	close(ch)
	found := false
	for m := range ch {
		if !strings.Contains(m.Desc().String(), "netirq_net_queue_irq_info") {
			continue
		}
		var out dto.Metric
		if err := m.Write(&out); err != nil {
			t.Fatal(err)
		}
		for _, l := range out.Label {
			if l.GetName() == "effective_nodes" {
				found = true
				if l.GetValue() != "0-1" {
					t.Errorf("effective_nodes = %q, want \"0-1\"", l.GetValue())
				}
			}
		}
	}
	if !found {
		t.Fatal("no netirq_net_queue_irq_info series")
	}
}
