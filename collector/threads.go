package collector

import (
	"regexp"
	"strconv"

	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The threads collector exports the kernel threads that run receive work
// outside of interrupt exit (internal/kernel/procfs/threads.go):
//
//   - napi/<dev>-<napi_id>: with threaded NAPI (/sys/class/net/<dev>/threaded,
//     exported by netqueues as netirq_net_device_threaded) each NAPI instance
//     polls in its own thread, which the scheduler places like any task. Its
//     CPU time is the device's receive work; its allowed CPUs and last CPU
//     show where that work can and did run.
//   - ksoftirqd/N: softirq work that did not finish at irq exit (more than
//     ~2 ms or 10 restarts) spills into CPU N's ksoftirqd, where it competes
//     with user tasks. Its CPU time rising is the "spilling into ksoftirqd"
//     symptom. ksoftirqd is bound to its CPU, so its last CPU says nothing
//     and is not exported.
//   - backlog_napi/N (6.10+, with thread_backlog_napi or PREEMPT_RT): the
//     per-CPU backlog NAPI (RPS/RFS targets, netif_rx from veth, loopback,
//     tunnels) polled in a thread bound to CPU N. Its work runs with bottom
//     halves disabled, not in softirq, so /proc/stat counts it as system
//     time: like a NAPI thread's it must be added to the CPU's network work.
//
// diagnosis.Finding them reads the comm of each of kthreadd's children
// (/proc/2/task/2/children): on the 2-CPU build machine 59 candidates cost
// about 0.35 ms of CPU per scrape, against 0.63 ms for the fallback that
// reads every /proc/<pid>/comm of its ~108 processes (about 6 µs per file
// on that VM, so ~60 ms per scrape on a host with 10k processes); see
// BenchmarkKernelThreads*.
func init() {
	register(factory{
		name: "threads", help: "CPU time, allowed CPUs and last CPU of napi/<dev>-<id>, backlog_napi/N and ksoftirqd/N kernel threads from /proc/<pid>",
		defaultEnabled: true, parts: snapshot.PartThreads,
		build: func(cfg *Config) Collector { return threadsCollector{exclude: cfg.DeviceExclude} },
	})
}

var (
	napiThreadSecondsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "napi_thread", "cpu_seconds_total"),
		"CPU time of a threaded NAPI kernel thread napi/<device>-<napi_id> (utime/stime of /proc/<pid>/stat), by mode.",
		[]string{"device", "napi_id", "mode"}, nil)
	napiThreadInfoDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "napi_thread", "info"),
		"A threaded NAPI kernel thread: its PID and the CPUs it may run on (Cpus_allowed_list).",
		[]string{"device", "napi_id", "pid", "allowed_cpus"}, nil)
	napiThreadLastCPUDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "napi_thread", "last_cpu"),
		"The CPU a threaded NAPI kernel thread last ran on (field 39 of /proc/<pid>/stat).",
		[]string{"device", "napi_id"}, nil)
	napiThreadLastCPUInfoDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "napi_thread", "last_cpu_info"),
		"1 for the CPU a threaded NAPI kernel thread last ran on, as a label: the recording rules charge the thread's CPU time to that CPU.",
		[]string{"device", "napi_id", "cpu"}, nil)
	ksoftirqdSecondsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "ksoftirqd", "cpu_seconds_total"),
		"CPU time of ksoftirqd/<cpu>, by mode: softirq work that spilled out of irq exit into the per-CPU thread.",
		[]string{"cpu", "mode"}, nil)
	// One series per CPU, without ksoftirqd's mode label: a kernel thread
	// never runs in user mode (its utime stays 0), and at 1,024 CPUs the
	// label would cost 1,024 series of zeros.
	backlogSecondsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "backlog_napi", "cpu_seconds_total"),
		"CPU time (utime+stime) of backlog_napi/<cpu> (threaded backlog NAPI, 6.10+): RPS/RFS and netif_rx work of that CPU, counted as system time, not softirq.",
		[]string{"cpu"}, nil)
)

type threadsCollector struct {
	exclude *regexp.Regexp
}

func (c threadsCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	if snap.Threads == nil && snap.ThreadsErr != nil {
		return snap.ThreadsErr
	}
	type napiKey struct {
		device string
		id     uint32
	}
	seenNAPI := map[napiKey]bool{}
	type cpuKey struct {
		kind procfs.ThreadKind
		cpu  int
	}
	seenCPU := map[cpuKey]bool{}
	for _, t := range snap.Threads {
		user, system := t.UserSeconds, t.SystemSeconds
		if t.Kind().PerCPU() {
			// Two ksoftirqd/N for one N cannot happen on one host; a
			// broken tree must not make the scrape fail on duplicates.
			if seenCPU[cpuKey{t.Kind(), t.CPU}] {
				continue
			}
			seenCPU[cpuKey{t.Kind(), t.CPU}] = true
			cpu := strconv.Itoa(t.CPU)
			if t.Backlog {
				ch <- prometheus.MustNewConstMetric(backlogSecondsDesc, prometheus.CounterValue, user+system, cpu)
				continue
			}
			ch <- prometheus.MustNewConstMetric(ksoftirqdSecondsDesc, prometheus.CounterValue, user, cpu, "user")
			ch <- prometheus.MustNewConstMetric(ksoftirqdSecondsDesc, prometheus.CounterValue, system, cpu, "system")
			continue
		}
		if c.exclude != nil && c.exclude.MatchString(t.Device) {
			continue
		}
		// NAPI IDs are unique host-wide, across network namespaces.
		key := napiKey{t.Device, t.NAPIID}
		if seenNAPI[key] {
			continue
		}
		seenNAPI[key] = true
		id := strconv.FormatUint(uint64(t.NAPIID), 10)
		ch <- prometheus.MustNewConstMetric(napiThreadSecondsDesc, prometheus.CounterValue, user, t.Device, id, "user")
		ch <- prometheus.MustNewConstMetric(napiThreadSecondsDesc, prometheus.CounterValue, system, t.Device, id, "system")
		ch <- prometheus.MustNewConstMetric(napiThreadInfoDesc, prometheus.GaugeValue, 1,
			t.Device, id, strconv.Itoa(t.PID), t.Allowed.String())
		if t.LastCPU >= 0 {
			ch <- prometheus.MustNewConstMetric(napiThreadLastCPUDesc, prometheus.GaugeValue, float64(t.LastCPU), t.Device, id)
			ch <- prometheus.MustNewConstMetric(napiThreadLastCPUInfoDesc, prometheus.GaugeValue, 1, t.Device, id, strconv.Itoa(t.LastCPU))
		}
	}
	return snap.ThreadsErr
}
