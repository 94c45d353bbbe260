package collector

import (
	"slices"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/bpfprobes"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The bpf collector's NAPI families and its own cost.

var (
	napiLabels   = []string{"device", "napi_id", "queue", "cpu"}
	napiHelpTail = " From napi:napi_poll (bpf collector). One series per NAPI instance (napi_id; empty in tracepoint mode, where instances are known by device only; queue: its RX queues from the netdev netlink map), summed over CPUs; the per-CPU backlog that RPS and netif_rx (veth, loopback) feed has device and napi_id empty and one series per CPU."

	napiPollsDesc     = prometheus.NewDesc(namespace+"_napi_polls_total", "NAPI polls."+napiHelpTail, napiLabels, nil)
	napiPacketsDesc   = prometheus.NewDesc(namespace+"_napi_packets_total", "Packets the NAPI polls handled (the work they reported)."+napiHelpTail, napiLabels, nil)
	napiExhaustedDesc = prometheus.NewDesc(namespace+"_napi_budget_exhausted_polls_total",
		"NAPI polls that used their whole budget (work reached the weight, 64 by default): the instance had more packets than one poll may take, so it is polled again; the share of such polls tells an instance that cannot keep up."+napiHelpTail, napiLabels, nil)

	bpfEventsDesc = prometheus.NewDesc(namespace+"_bpf_probe_events_total",
		"Times each probe of the bpf collector ran (its tracepoint fired).", []string{"probe"}, nil)
	bpfLostDesc = prometheus.NewDesc(namespace+"_bpf_probe_lost_events_total",
		"Events a probe could not record (the NAPI map full: 4,096 instances).", []string{"probe"}, nil)
	bpfRunDesc = prometheus.NewDesc(namespace+"_bpf_probe_run_seconds_total",
		"CPU time each probe's program ran, as the kernel counts it while BPF statistics are on (kernel.bpf_stats_enabled 1, or a process holding BPF_ENABLE_STATS; the exporter does neither); absent otherwise: unknown (netirq_bpf_probe_run_time_known).", []string{"probe"}, nil)
	bpfRunKnownDesc = prometheus.NewDesc(namespace+"_bpf_probe_run_time_known",
		"1 when the kernel counts the probes' run time (kernel.bpf_stats_enabled is 1) and netirq_bpf_probe_run_seconds_total is exported; 0: unknown.", nil, nil)
)

type napiRowKey struct{ device, napiID, queue, cpu string }

// sendNAPIs sends the polls of each NAPI instance, with the RX queues the
// netdev netlink map gives its napi_id; rows with the same labels (a
// device name in two namespaces, in tracepoint mode) are summed.
func (c bpfCollector) sendNAPIs(snap *snapshot.Snapshot, s *bpfprobes.Stats, ch chan<- prometheus.Metric) {
	queues := napiQueues(snap)
	rows := map[napiRowKey]*bpfprobes.NAPIPolls{}
	var order []napiRowKey
	for _, n := range s.NAPIs {
		if n.Device != "" && c.exclude != nil && c.exclude.MatchString(n.Device) {
			continue
		}
		k := napiRowKey{device: n.Device, cpu: cpuLabel(n.CPU)}
		if n.NAPIID != 0 {
			k.napiID, k.queue = strconv.FormatUint(uint64(n.NAPIID), 10), queues[n.NAPIID]
		}
		r, ok := rows[k]
		if !ok {
			r = &bpfprobes.NAPIPolls{}
			rows[k] = r
			order = append(order, k)
		}
		r.Polls, r.Packets, r.Exhausted = r.Polls+n.Polls, r.Packets+n.Packets, r.Exhausted+n.Exhausted
	}
	for _, k := range order {
		r := rows[k]
		for _, m := range []struct {
			d *prometheus.Desc
			v uint64
		}{{napiPollsDesc, r.Polls}, {napiPacketsDesc, r.Packets}, {napiExhaustedDesc, r.Exhausted}} {
			ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.v), k.device, k.napiID, k.queue, k.cpu)
		}
	}
}

// napiQueues maps a napi_id to its RX queues ("0", "0,4"), from the
// snapshot's netdev map.
func napiQueues(snap *snapshot.Snapshot) map[uint32]string {
	byID := map[uint32][]int{}
	for _, q := range snap.QueueNAPIs {
		if q.NAPIID != 0 && q.Kind == kernel.KindRx {
			byID[q.NAPIID] = append(byID[q.NAPIID], q.Queue)
		}
	}
	out := make(map[uint32]string, len(byID))
	for id, qs := range byID {
		slices.Sort(qs)
		s := make([]string, len(qs))
		for i, q := range qs {
			s[i] = strconv.Itoa(q)
		}
		out[id] = strings.Join(s, ",")
	}
	return out
}

// sendProbeCost sends the probes' events, lost events and run time.
func sendProbeCost(s *bpfprobes.Stats, ch chan<- prometheus.Metric) {
	known := 0.0
	if s.RunTimeKnown {
		known = 1
	}
	ch <- prometheus.MustNewConstMetric(bpfRunKnownDesc, prometheus.GaugeValue, known)
	for _, p := range s.Probes {
		ch <- prometheus.MustNewConstMetric(bpfEventsDesc, prometheus.CounterValue, float64(p.Events), p.Name)
		ch <- prometheus.MustNewConstMetric(bpfLostDesc, prometheus.CounterValue, float64(p.Lost), p.Name)
		if s.RunTimeKnown {
			ch <- prometheus.MustNewConstMetric(bpfRunDesc, prometheus.CounterValue, p.RunTime.Seconds(), p.Name)
		}
	}
}
