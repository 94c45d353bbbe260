package collector

import (
	"regexp"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/diagnosis"
	"github.com/netirq/netirq_exporter/internal/snapshot/snaptest"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestFindingsCollectorBigiron(t *testing.T) {
	mfs := gather(t, newTestExporter(t, hostConfig("../testdata/hosts/bigiron-8cpu")))
	if ok := successes(mfs)["findings"]; ok != 1 {
		t.Errorf("findings collector success %v, want 1", ok)
	}
	for _, want := range []map[string]string{
		{"check": "irq_remote_numa", "severity": "warning", "device": "ens1f0", "queue": "4", "irq": "103", "cpu": "5"},
		{"check": "xps_on_isolated_cpu", "severity": "info", "device": "ens1f0", "queue": "7", "irq": "", "cpu": "7"},
	} {
		if got := find(mfs, "netirq_finding", want); len(got) != 1 || value(got[0]) != 1 {
			t.Errorf("netirq_finding%v: got %v", want, got)
		}
	}
	counts := map[string]float64{}
	for _, m := range find(mfs, "netirq_findings", nil) {
		counts[labelOf(m, "check")] = value(m)
	}
	if len(counts) != len(diagnosis.Checks) || counts["irq_remote_numa"] != 3 || counts["queue_irqs_share_cpu"] != 0 {
		t.Errorf("netirq_findings per check: %v", counts)
	}
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestFindingsCollectorCap: a check with more findings than the cap exports
// the cap as series and the full number in netirq_findings; findings of
// excluded devices are dropped.
func TestFindingsCollectorCap(t *testing.T) {
	s := snaptest.Host(t, []string{"0-3"}, "3")
	d := snaptest.NIC(s, "eth0", -1, maxFindingsPerCheck+10, 1)
	for i := range d.RxQueues {
		d.RxQueues[i].RPSCPUs = snaptest.CPUs(t, "2-3")
	}
	v := snaptest.NIC(s, "veth9", -1, 3, 1)
	for i := range v.RxQueues {
		v.RxQueues[i].RPSCPUs = snaptest.CPUs(t, "3")
	}
	ch := make(chan prometheus.Metric, 1000)
	if err := (findingsCollector{exclude: regexp.MustCompile(`^veth`)}).Update(s, ch); err != nil {
		t.Fatal(err)
	}
	close(ch)
	series, total := 0, -1.0
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		desc := m.Desc().String()
		switch {
		case strings.Contains(desc, `"netirq_finding"`) && labelOf(&pb, "check") == "rps_on_isolated_cpu":
			series++
			if labelOf(&pb, "device") != "eth0" {
				t.Errorf("excluded device exported: %v", pb.String())
			}
		case strings.Contains(desc, `"netirq_findings"`) && labelOf(&pb, "check") == "rps_on_isolated_cpu":
			total = pb.GetGauge().GetValue()
		}
	}
	if series != maxFindingsPerCheck || total != maxFindingsPerCheck+10 {
		t.Errorf("got %d series and netirq_findings %v, want %d and %d", series, total, maxFindingsPerCheck, maxFindingsPerCheck+10)
	}
}
