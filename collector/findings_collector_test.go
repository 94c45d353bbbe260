//go:build linux

package collector

import (
	"regexp"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/diagnosis"
	"github.com/netirq/netirq_exporter/internal/snapshot"
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

// rx_ring_below_max_with_drops needs two snapshots: on the first it is
// unknown (netirq_check_evaluated 0, no netirq_findings for it) without
// failing the collector, then judged.
func TestFindingsUnknownFirstScrape(t *testing.T) {
	s := netlinkSnapshot(t)
	counts := func() (map[string]float64, map[string]float64) {
		ch := make(chan prometheus.Metric, 1000)
		if err := (findingsCollector{}).Update(s, ch); err != nil {
			t.Fatal(err)
		}
		close(ch)
		findings, evaluated := map[string]float64{}, map[string]float64{}
		for m := range ch {
			d := readMetric(t, m)
			switch {
			case strings.Contains(m.Desc().String(), `"netirq_findings"`):
				findings[labelOf(d, "check")] = d.GetGauge().GetValue()
			case strings.Contains(m.Desc().String(), `"netirq_check_evaluated"`):
				evaluated[labelOf(d, "check")] = d.GetGauge().GetValue()
			}
		}
		return findings, evaluated
	}
	f, u := counts()
	if _, ok := f["rx_ring_below_max_with_drops"]; ok || u["rx_ring_below_max_with_drops"] != 0 {
		t.Errorf("first snapshot: findings %v, evaluated %v", f, u)
	}
	if f["napi_defer_without_gro_flush"] != 1 || f["napi_settings_differ"] != 1 {
		t.Errorf("NAPI checks on the synthetic NAPIs: %v", f)
	}
	s.RxQueueLoss = []snapshot.QueueLossRate{{Device: "ens1f0np0", Queue: 2, Overruns: 10, HasOverruns: true}}
	f, u = counts()
	if f["rx_ring_below_max_with_drops"] != 1 || u["rx_ring_below_max_with_drops"] != 1 {
		t.Errorf("second snapshot: findings %v, evaluated %v", f, u)
	}
}

func readMetric(t *testing.T, m prometheus.Metric) *dto.Metric {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	return &d
}
