package nic

import "github.com/netirq/netirq_exporter/internal/kernel"

// The netdev qstats counters beyond packets and bytes (Linux 6.10+;
// attribute set "qstats" of Documentation/netlink/specs/netdev.yaml, the
// numbers of enum NETDEV_A_QSTATS_* in include/uapi/linux/netdev.h). A
// driver fills the ones it keeps (netdev_stat_ops) and the kernel leaves
// the others out of the reply, so each queue carries only what its driver
// counts. All are NLA_UINT (4 or 8 bytes).

// QStatCounter describes one of those counters.
type QStatCounter struct {
	Attr uint16         // NETDEV_A_QSTATS_*
	Name string         // the spec's name, e.g. "rx-hw-drops"
	Kind kernel.IRQKind // the queue type it is reported for
}

// QStatCounters lists them in attribute order.
var QStatCounters = []QStatCounter{
	{12, "rx-alloc-fail", kernel.KindRx},
	{13, "rx-hw-drops", kernel.KindRx},
	{14, "rx-hw-drop-overruns", kernel.KindRx},
	{15, "rx-csum-complete", kernel.KindRx},
	{16, "rx-csum-unnecessary", kernel.KindRx},
	{17, "rx-csum-none", kernel.KindRx},
	{18, "rx-csum-bad", kernel.KindRx},
	{19, "rx-hw-gro-packets", kernel.KindRx},
	{20, "rx-hw-gro-bytes", kernel.KindRx},
	{21, "rx-hw-gro-wire-packets", kernel.KindRx},
	{22, "rx-hw-gro-wire-bytes", kernel.KindRx},
	{23, "rx-hw-drop-ratelimits", kernel.KindRx},
	{24, "tx-hw-drops", kernel.KindTx},
	{25, "tx-hw-drop-errors", kernel.KindTx},
	{26, "tx-csum-none", kernel.KindTx},
	{27, "tx-needs-csum", kernel.KindTx},
	{28, "tx-hw-gso-packets", kernel.KindTx},
	{29, "tx-hw-gso-bytes", kernel.KindTx},
	{30, "tx-hw-gso-wire-packets", kernel.KindTx},
	{31, "tx-hw-gso-wire-bytes", kernel.KindTx},
	{32, "tx-hw-drop-ratelimits", kernel.KindTx},
	{33, "tx-stop", kernel.KindTx},
	{34, "tx-wake", kernel.KindTx},
}

// qstatIndex maps an attribute to its QStatCounters index.
var qstatIndex = func() map[uint16]int {
	m := make(map[uint16]int, len(QStatCounters))
	for i, c := range QStatCounters {
		m[c.Attr] = i
	}
	return m
}()

// QueueCounter is one reported counter of a queue.
type QueueCounter struct {
	Name  string // QStatCounter.Name
	Value uint64
}

// Counter returns the queue's counter called name, and whether the driver
// reported it.
func (s QueueStats) Counter(name string) (uint64, bool) {
	for _, c := range s.Counters {
		if c.Name == name {
			return c.Value, true
		}
	}
	return 0, false
}

// qstatCounterSet collects one reply's counters by table index.
type qstatCounterSet struct {
	val [numQStatCounters]uint64
	has [numQStatCounters]bool
}

// numQStatCounters is len(QStatCounters), as a constant for the arrays
// above (TestQStatCountersMatchSpec keeps them equal).
const numQStatCounters = 23

// add keeps attribute attr's value when it is a known counter.
func (cs *qstatCounterSet) add(attr uint16, b []byte) {
	i, ok := qstatIndex[attr]
	if !ok {
		return
	}
	v, err := nlUint(b)
	if err != nil {
		return // a malformed counter is left unreported, not exported as 0
	}
	cs.val[i], cs.has[i] = v, true
}

// forKind lists the reported counters that belong to a queue of kind, in
// table order.
func (cs *qstatCounterSet) forKind(kind kernel.IRQKind) []QueueCounter {
	var out []QueueCounter
	for i, c := range QStatCounters {
		if cs.has[i] && c.Kind == kind {
			out = append(out, QueueCounter{Name: c.Name, Value: cs.val[i]})
		}
	}
	return out
}
