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
	var err error
	if s.Softirqs, err = p.readSoftirqs(); err != nil {
		return s, err
	}
	if s.NAPIs, err = p.readNAPIs(); err != nil {
		return s, err
	}
	s.Probes, s.RunTimeKnown, err = p.readProbes()
	return s, err
}

// readSoftirqs reads the per-CPU softirq records, one lookup per vector.
func (p *Probes) readSoftirqs() ([][NumVectors]Softirq, error) {
	var out [][NumVectors]Softirq
	for vec := uint32(0); vec < NumVectors; vec++ {
		var perCPU []probesSoftirqStats
		if err := p.maps.Softirqs.Lookup(vec, &perCPU); err != nil {
			return nil, fmt.Errorf("reading the softirq map: %w", err)
		}
		if out == nil {
			out = make([][NumVectors]Softirq, len(perCPU))
		}
		for cpu, v := range perCPU {
			if cpu < len(out) {
				out[cpu][vec] = Softirq{Time: time.Duration(v.TimeNs), Runs: v.Runs, Waits: v.Waits,
					WaitSum: time.Duration(v.WaitNs), WaitBuckets: v.WaitBuckets}
			}
		}
	}
	return out, nil
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

// readProbes sums each probe's events over the CPUs and adds the kernel's
// run-time count of its program, known while kernel.bpf_stats_enabled is
// 1 (which the exporter reads, never writes).
func (p *Probes) readProbes() ([]ProbeStats, bool, error) {
	enabled, _, err := sysfs.ReadInt(filepath.Join(p.opts.ProcPath, "sys", "kernel", "bpf_stats_enabled"))
	known := err == nil && enabled == 1
	out := make([]ProbeStats, len(ProbeNames))
	for i, name := range ProbeNames {
		out[i].Name = name
		var perCPU []probesProbeStats
		if err := p.maps.Probes.Lookup(uint32(i), &perCPU); err != nil {
			return out, known, fmt.Errorf("reading the probe map: %w", err)
		}
		for _, v := range perCPU {
			out[i].Events += v.Events
			out[i].Lost += v.Lost
		}
		if i < len(p.progs) {
			if st, err := p.progs[i].Stats(); err == nil {
				out[i].RunTime, out[i].RunCount = st.Runtime, st.RunCount
			}
		}
	}
	return out, known, nil
}
