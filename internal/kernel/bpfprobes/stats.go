package bpfprobes

import "time"

// The data the probes gather, as the exporter reads it: counters since the
// probes were attached, per CPU where the kernel keeps them per CPU.

// Softirq vectors, in the kernel's order (the rows of /proc/softirqs).
var VectorNames = [NumVectors]string{"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU"}

const (
	// NumVectors is the kernel's NR_SOFTIRQS.
	NumVectors = 10
	// VecNetTx and VecNetRx index VectorNames.
	VecNetTx = 2
	VecNetRx = 3
	// NumWaitBuckets is the number of finite wait buckets: bucket i counts
	// waits of at most 2^i µs, 1 µs to 131 ms (probes.bpf.c).
	NumWaitBuckets = 18
)

// WaitBucketBounds are the upper bounds of the finite wait buckets, in
// seconds: 1 µs, 2 µs, ... 131.072 ms.
func WaitBucketBounds() []float64 {
	out := make([]float64, NumWaitBuckets)
	for i := range out {
		out[i] = float64(uint64(1)<<i) * 1e-6
	}
	return out
}

// Stats is one read of the probes' maps.
type Stats struct {
	Mode Mode
	// Softirqs[cpu][vector]: one entry per possible CPU.
	Softirqs [][NumVectors]Softirq
	NAPIs    []NAPIPolls
	Probes   []ProbeStats
	// RunTimeKnown: the kernel counted the programs' run time
	// (kernel.bpf_stats_enabled is 1); else ProbeStats.RunTime is unknown.
	RunTimeKnown bool
}

// Softirq is one CPU's record of one vector.
type Softirq struct {
	// Time is the time between softirq_entry and softirq_exit; Runs counts
	// those pairs.
	Time time.Duration
	Runs uint64
	// Waits counts the waits measured from the first softirq_raise since
	// the vector last ran to its softirq_entry; WaitSum is their sum and
	// WaitBuckets their histogram (non-cumulative: bucket i holds the waits
	// in (2^(i-1), 2^i] µs, the last one those past 2^17 µs).
	Waits       uint64
	WaitSum     time.Duration
	WaitBuckets [NumWaitBuckets + 1]uint64
}

// NAPIPolls is one NAPI instance's polls. The per-CPU backlog (RPS,
// netif_rx: NAPIID 0, Device "") has a row per CPU; every other instance
// one row summed over the CPUs that polled it (CPU -1).
type NAPIPolls struct {
	NAPIID uint32 // 0: none known (the backlog; every instance in tracepoint mode)
	Device string
	CPU    int
	// Polls, the packets they handled (the work they reported) and the
	// polls that used their whole budget (work >= weight).
	Polls, Packets, Exhausted uint64
}

// IsBacklog says whether p is a CPU's backlog (RPS and netif_rx).
func (p NAPIPolls) IsBacklog() bool { return p.NAPIID == 0 && p.Device == "" }

// ProbeStats is one probe's own cost.
type ProbeStats struct {
	Name string // softirq_raise, softirq_entry, softirq_exit, napi_poll
	// Events is how often it ran; Lost the events it could not record
	// (the NAPI map full).
	Events, Lost uint64
	// RunTime is the CPU time its program ran, as the kernel counts it
	// while kernel.bpf_stats_enabled is 1 (Stats.RunTimeKnown).
	RunTime  time.Duration
	RunCount uint64
}

// ProbeNames are the probes, in the order of the probes map (probes.bpf.c).
var ProbeNames = []string{"softirq_raise", "softirq_entry", "softirq_exit", "napi_poll"}
