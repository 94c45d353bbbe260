package collector

import (
	"errors"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/netbsd"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The evcnt collector exports NetBSD's event counters (kern.evcnt, what
// `vmstat -e` prints), a few of the thousands a host has: the per-CPU
// runs of the net soft interrupt as netirq_softirqs_total{vector="net"}
// (every level with --collector.softirqs.all), and the counters of NIC
// queues (wm(4) "rxq00…"/"txq00…" of group wm0, ixg(4) group "ixg0 q0")
// as netirq_evcnt_total with their device and queue, leaving out wm's
// per-segment-count histogram. --collector.evcnt.include adds counters by
// "group name". It reads the interrupt list too, to know which devices
// are NICs: those with NIC interrupts. Registered on NetBSD only.
var evcntFactory = factory{
	name: "evcnt", help: "NetBSD: the net soft interrupt per CPU and the NIC queues' event counters from kern.evcnt (vmstat -e)",
	defaultEnabled: true, parts: snapshot.PartEvcnt | snapshot.PartIntrList,
	build: func(cfg *Config) Collector {
		return evcntCollector{allSoftints: cfg.SoftirqsAll, include: cfg.EvcntInclude}
	},
}

const bsdSoftintHelp = "Runs of a soft interrupt level per CPU (NetBSD kern.evcnt group softint, \"net/N\"): vector net by default, bio, clk and ser with --collector.softirqs.all."

var (
	bsdSoftintDesc = prometheus.NewDesc(softirqsName, bsdSoftintHelp, []string{"vector", "cpu"}, nil)
	evcntDesc      = prometheus.NewDesc(prometheus.BuildFQName(namespace, "evcnt", "total"),
		"A NetBSD event counter (kern.evcnt, vmstat -e): group and name as vmstat prints them, type misc, intr or trap; device, queue and kind for a NIC queue's counter.",
		[]string{"group", "name", "type", "device", "queue", "kind"}, nil)
)

// Names of the counters: the soft interrupts' ("net/3", "net block/3";
// sys/kern/kern_softint.c rev 1.70), wm(4)'s per queue ("rxq00intr";
// if_wm.c's WM_Q_EVCNT_ATTACH: "%s%02d%s"), the groups of drivers that
// name one per queue ("ixg0 q1": "%s q%d"), and wm's transmit segment
// histogram ("txq00txseg12"), 256 counters a queue, left out.
var (
	softintNameRe  = regexp.MustCompile(`^([a-z]+)/(\d+)$`)
	wmQueueRe      = regexp.MustCompile(`^(rx|tx)q(\d+)`)
	queueGroupRe   = regexp.MustCompile(`^(\S+) q(\d+)$`)
	wmTxSegRe      = regexp.MustCompile(`txseg\d+$`)
	softintDefault = map[string]bool{"net": true}
)

type evcntCollector struct {
	allSoftints bool
	include     *regexp.Regexp
}

func (c evcntCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	return sendMatrices(c, snap, ch)
}

// updateMatrices sends the queue (and included) counters and returns the
// soft interrupt matrix.
func (c evcntCollector) updateMatrices(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) ([]*cpuMatrix, error) {
	if snap.Evcnts == nil && snap.EvcntsErr != nil {
		return nil, snap.EvcntsErr
	}
	nics := bsdNICDevices(snap)
	softints := map[string]map[int]uint64{} // level → CPU index → runs
	var errs []error
	for _, e := range snap.Evcnts {
		if m := softintNameRe.FindStringSubmatch(e.Name); e.Group == "softint" && m != nil && (c.allSoftints || softintDefault[m[1]]) {
			cpu, _ := strconv.Atoi(m[2])
			if softints[m[1]] == nil {
				softints[m[1]] = map[int]uint64{}
			}
			softints[m[1]][cpu] = e.Count
			continue
		}
		dev, queue, kind := evcntQueue(e, nics)
		if dev == "" && (c.include == nil || !c.include.MatchString(e.Group+" "+e.Name)) {
			continue
		}
		if !utf8.ValidString(e.Group) || !utf8.ValidString(e.Name) {
			errs = append(errs, errors.New("event counter "+strconv.Quote(e.Group+" "+e.Name)+" left out: not UTF-8"))
			continue
		}
		ch <- prometheus.MustNewConstMetric(evcntDesc, prometheus.CounterValue, float64(e.Count),
			e.Group, e.Name, e.Type.String(), dev, queue, string(kind))
	}
	return []*cpuMatrix{softintMatrix(softints)}, errors.Join(append([]error{snap.EvcntsErr}, errs...)...)
}

// evcntQueue says which NIC queue counter e is: its device, queue and kind
// (rx or tx for wm's rxqNN/txqNN, combined for a per-queue group); ""
// when it is none or one of wm's segment histogram.
func evcntQueue(e netbsd.Evcnt, nics map[string]bool) (dev, queue string, kind kernel.IRQKind) {
	if m := queueGroupRe.FindStringSubmatch(e.Group); m != nil && nics[m[1]] {
		q, _ := strconv.Atoi(m[2])
		return m[1], strconv.Itoa(q), kernel.KindCombined
	}
	if m := wmQueueRe.FindStringSubmatch(e.Name); m != nil && nics[e.Group] && !wmTxSegRe.MatchString(e.Name) {
		q, _ := strconv.Atoi(m[2])
		return e.Group, strconv.Itoa(q), kernel.IRQKind(m[1])
	}
	return "", "", kernel.KindNone
}

// bsdNICDevices are the devices with NIC interrupts in snap's list.
func bsdNICDevices(snap *snapshot.Snapshot) map[string]bool {
	out := map[string]bool{}
	for _, cl := range snap.IntrClasses {
		if cl.IsNIC() {
			out[cl.Device] = true
		}
	}
	return out
}

// softintMatrix is the soft interrupt runs, a row per level, over the CPU
// indexes the counters name.
func softintMatrix(runs map[string]map[int]uint64) *cpuMatrix {
	var cpus []int
	seen := map[int]bool{}
	var levels []string
	for level, byCPU := range runs {
		levels = append(levels, level)
		for cpu := range byCPU {
			if !seen[cpu] {
				seen[cpu] = true
				cpus = append(cpus, cpu)
			}
		}
	}
	sort.Ints(cpus)
	sort.Strings(levels)
	m := &cpuMatrix{desc: bsdSoftintDesc, name: softirqsName, help: bsdSoftintHelp, cpus: newCPUColumns(cpus)}
	for _, level := range levels {
		counts := make([]uint64, len(cpus))
		for i, cpu := range cpus {
			counts[i] = runs[level][cpu]
		}
		m.rows = append(m.rows, matrixRow{counts: counts, pairs: []*dto.LabelPair{labelPair(&labelVector, strings.Clone(level))}})
	}
	return m
}
