package collector

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/netirq/netirq_exporter/internal/hostgen"
)

// TestScaleIssue13Series measures what issue 13's families add to a scrape
// of the benchmark hosts (hostgen.Standard: 2 NICs x 64 queues, so 128 TX
// queues with byte_queue_limits, plus lo) at 8, 256 and 1,024 CPUs, booted
// with thread_backlog_napi (one backlog_napi/N per CPU). BQL series follow
// the TX queues, not the CPUs; backlog_napi's follow the CPUs, one each.
func TestScaleIssue13Series(t *testing.T) {
	if testing.Short() {
		t.Skip("generates hosts of up to 1,024 CPUs")
	}
	families := []string{"netirq_net_tx_queue_bql_", "netirq_net_tx_queue_maxrate_", "netirq_backlog_napi_",
		"netirq_irq_time_accounting", "netirq_pressure_irq_", "netirq_kernel_info"}
	for _, cpus := range []int{8, 256, 1024} {
		spec := hostgen.Standard(cpus, 2, 64, 1)
		spec.Threads, spec.BacklogThreads = true, true
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("host%d", cpus))
		if err := hostgen.Generate(dir, spec); err != nil {
			t.Fatal(err)
		}
		for _, all := range []bool{false, true} {
			cfg := hostConfig(dir)
			cfg.BQLAll = all
			mfs := gather(t, newTestExporter(t, cfg))
			for c, ok := range successes(mfs) {
				if ok != 1 {
					t.Errorf("%d CPUs: collector %s failed", cpus, c)
				}
			}
			counts, added := countByPrefix(mfs, families)
			// The two new collectors' own series (success, duration) and the
			// two new parts' read durations.
			added += 2*2 + 2
			mode := "default"
			if all {
				mode = "--collector.bql.all"
			}
			t.Logf("%4d CPUs, %-20s: +%d series of %d (%s)", cpus, mode, added, seriesCount(mfs), counts)
			wantBQL := 2 * 128 // limit and stall counter per TX queue
			if all {
				// + inflight, limit_min/max, hold_time, stall_thrs (no HZ in the
				// tree: no stall_max); tx_maxrate of every queue, lo's too.
				wantBQL = 7*128 + 129
			}
			if got := countOne(mfs, "netirq_net_tx_queue_bql_") + countOne(mfs, "netirq_net_tx_queue_maxrate_"); got != wantBQL {
				t.Errorf("%d CPUs %s: %d BQL/maxrate series, want %d", cpus, mode, got, wantBQL)
			}
			if got := countOne(mfs, "netirq_backlog_napi_"); got != cpus {
				t.Errorf("%d CPUs: %d backlog_napi series, want 1 per CPU", cpus, got)
			}
		}
	}
}

// countByPrefix counts the series of each family prefix, and their sum.
func countByPrefix(mfs []*dto.MetricFamily, prefixes []string) (string, int) {
	var parts []string
	total := 0
	for _, p := range prefixes {
		n := countOne(mfs, p)
		total += n
		parts = append(parts, fmt.Sprintf("%s* %d", p, n))
	}
	return strings.Join(parts, ", "), total
}

func countOne(mfs []*dto.MetricFamily, prefix string) int {
	n := 0
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), prefix) {
			n += len(mf.Metric)
		}
	}
	return n
}
