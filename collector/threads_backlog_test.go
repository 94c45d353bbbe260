//go:build linux

package collector

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/netirq/netirq_exporter/internal/hostgen"
)

// TestThreadsCollectorBacklog: a generated 4-CPU host booted with
// thread_backlog_napi has backlog_napi/0-3 beside ksoftirqd/0-3; each gets
// its own family: ksoftirqd by CPU and mode, backlog_napi by CPU only (a
// kernel thread's utime stays 0), with the stat file's times.
func TestThreadsCollectorBacklog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "host")
	spec := hostgen.Spec{CPUs: 4, NUMANodes: 1, NICs: []hostgen.NIC{{Driver: hostgen.MLX5, Queues: 4}}, NonNICIRQs: 4,
		Seed: 2, Threads: true, BacklogThreads: true}
	if err := hostgen.Generate(dir, spec); err != nil {
		t.Fatal(err)
	}
	mfs := gather(t, newTestExporter(t, onlyCollectors(hostConfig(dir), "threads")))
	if s := successes(mfs)["threads"]; s != 1 {
		t.Fatalf("threads collector failed on the generated host")
	}
	if n := len(find(mfs, "netirq_ksoftirqd_cpu_seconds_total", nil)); n != 8 {
		t.Errorf("ksoftirqd: %d series, want 4 CPUs x 2 modes", n)
	}
	if n := len(find(mfs, "netirq_backlog_napi_cpu_seconds_total", nil)); n != 4 {
		t.Errorf("backlog_napi: %d series, want one per CPU", n)
	}
	for cpu := range 4 {
		c := strconv.Itoa(cpu)
		b := find(mfs, "netirq_backlog_napi_cpu_seconds_total", map[string]string{"cpu": c})
		k := find(mfs, "netirq_ksoftirqd_cpu_seconds_total", map[string]string{"cpu": c, "mode": "system"})
		if len(b) != 1 || len(k) != 1 || value(b[0]) == value(k[0]) {
			t.Errorf("CPU %d: backlog %v and ksoftirqd %v must be two series with their own times", cpu, b, k)
		}
	}
	if got := find(mfs, "netirq_napi_thread_info", nil); len(got) != 0 {
		t.Errorf("backlog threads exported as NAPI threads: %v", got)
	}
}
