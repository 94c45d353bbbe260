package bpfprobes

import (
	"bytes"
	"fmt"
	"path/filepath"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// Read returns what the probes counted since they were attached. Before
// they are (ErrAttaching) and when they could not be (*Error), it returns
// a Stats with only Mode set, and the error.
func (p *Probes) Read() (*Stats, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &Stats{Mode: p.mode}
	if p.err != nil {
		return s, p.err
	}
	var perCPU []probesCpuState
	if err := p.maps.Cpus.Lookup(uint32(0), &perCPU); err != nil {
		return s, fmt.Errorf("reading the per-CPU map: %w", err)
	}
	s.Softirqs = softirqsOf(perCPU)
	var err error
	if s.NAPIs, err = p.readNAPIs(); err != nil {
		return s, err
	}
	s.Probes, s.RunTimeKnown = p.probeStats(perCPU)
	return s, nil
}

// softirqsOf converts the per-CPU records.
func softirqsOf(perCPU []probesCpuState) [][NumVectors]Softirq {
	out := make([][NumVectors]Softirq, len(perCPU))
	for cpu := range perCPU {
		for vec, v := range perCPU[cpu].Softirqs {
			out[cpu][vec] = Softirq{Time: time.Duration(v.TimeNs), Runs: v.Runs, Waits: v.Waits,
				WaitSum: time.Duration(v.WaitNs), WaitBuckets: v.WaitBuckets}
		}
	}
	return out
}

// readNAPIs reads the NAPI map: the backlog per CPU, every other instance
// summed over its CPUs.
func (p *Probes) readNAPIs() ([]NAPIPolls, error) {
	var out []NAPIPolls
	var key probesNapiKey
	var perCPU []probesNapiStats
	iter := p.maps.Napis.Iterate()
	for iter.Next(&key, &perCPU) {
		row := NAPIPolls{NAPIID: key.NapiId, Device: deviceName(key.Dev), CPU: -1}
		for cpu, v := range perCPU {
			if row.IsBacklog() {
				if v.Polls > 0 {
					out = append(out, NAPIPolls{CPU: cpu, Polls: v.Polls, Packets: v.Packets, Exhausted: v.Exhausted})
				}
				continue
			}
			row.Polls, row.Packets, row.Exhausted = row.Polls+v.Polls, row.Packets+v.Packets, row.Exhausted+v.Exhausted
		}
		if !row.IsBacklog() {
			out = append(out, row)
		}
	}
	if err := iter.Err(); err != nil {
		return out, fmt.Errorf("reading the NAPI map: %w", err)
	}
	return out, nil
}

// deviceName is the NUL-terminated name; the classic tracepoint's
// "(no_device)" (the backlog) is "".
func deviceName(raw [16]int8) string {
	b := make([]byte, 0, len(raw))
	for _, c := range raw {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	if bytes.Equal(b, []byte("(no_device)")) {
		return ""
	}
	return string(b)
}

// probeStats sums each probe's events over the CPUs and adds the kernel's
// run-time count of its program. The kernel counts while statistics are
// on: kernel.bpf_stats_enabled is 1, or a process holds BPF_ENABLE_STATS
// (which the sysctl does not show; a run count above 0 does). The
// exporter turns neither on.
func (p *Probes) probeStats(perCPU []probesCpuState) ([]ProbeStats, bool) {
	enabled, _, err := sysfs.ReadInt(filepath.Join(p.opts.ProcPath, "sys", "kernel", "bpf_stats_enabled"))
	known := err == nil && enabled == 1
	out := make([]ProbeStats, len(ProbeNames))
	for i, name := range ProbeNames {
		out[i].Name = name
		for _, c := range perCPU {
			out[i].Events += c.Probes[i].Events
			out[i].Lost += c.Probes[i].Lost
		}
		if i < len(p.progs) {
			if st, err := p.progs[i].Stats(); err == nil {
				out[i].RunTime, out[i].RunCount = st.Runtime, st.RunCount
				known = known || st.RunCount > 0
			}
		}
	}
	return out, known
}
