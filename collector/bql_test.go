//go:build linux

package collector

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/netlab"
	"github.com/netirq/netirq_exporter/internal/testutil"
	dto "github.com/prometheus/client_model/go"
)

// TestBQLAll: bigiron-8cpu's ens1f0 has 8 TX queues with BQL (hand-made
// values, see its SOURCE.md), veth0 2 without (6.9+ hides BQL on
// IFF_NO_QUEUE devices). By default 8 limits, 8 stall counters and the one
// queue with a tx_maxrate; --collector.bql.all adds 5 families per BQL
// queue and tx_maxrate of all 10 queues, in base units.
func TestBQLAll(t *testing.T) {
	def := gather(t, newTestExporter(t, hostConfig("../testdata/hosts/bigiron-8cpu")))
	cfg := hostConfig("../testdata/hosts/bigiron-8cpu")
	cfg.BQLAll = true
	all := gather(t, newTestExporter(t, cfg))
	for _, c := range []struct {
		name      string
		def, all  int
		label     map[string]string
		wantValue float64
	}{
		{"netirq_net_tx_queue_bql_limit_bytes", 8, 8, map[string]string{"queue": "1"}, 151400},
		{"netirq_net_tx_queue_bql_stalls_total", 8, 8, map[string]string{"queue": "5"}, 3},
		{"netirq_net_tx_queue_maxrate_bytes_per_second", 1, 10, map[string]string{"device": "ens1f0", "queue": "6"}, 125e6},
		{"netirq_net_tx_queue_bql_inflight_bytes", 0, 8, map[string]string{"queue": "1"}, 3028},
		{"netirq_net_tx_queue_bql_limit_min_bytes", 0, 8, map[string]string{"queue": "0"}, 0},
		{"netirq_net_tx_queue_bql_limit_max_bytes", 0, 8, map[string]string{"queue": "0"}, 1879048192},
		{"netirq_net_tx_queue_bql_hold_time_seconds", 0, 8, map[string]string{"queue": "0"}, 1},
		{"netirq_net_tx_queue_bql_stall_threshold_seconds", 0, 8, map[string]string{"queue": "0"}, 0.1},
		// 412 jiffies at CONFIG_HZ=1000 (its config.gz).
		{"netirq_net_tx_queue_bql_stall_max_seconds", 0, 8, map[string]string{"queue": "5"}, 0.412},
	} {
		if got := len(find(def, c.name, nil)); got != c.def {
			t.Errorf("default: %d %s series, want %d", got, c.name, c.def)
		}
		if got := len(find(all, c.name, nil)); got != c.all {
			t.Errorf("--collector.bql.all: %d %s series, want %d", got, c.name, c.all)
		}
		if m := find(all, c.name, c.label); len(m) != 1 || value(m[0]) != c.wantValue {
			t.Errorf("%s%v = %v, want %v", c.name, c.label, m, c.wantValue)
		}
	}
	if got := find(all, "netirq_net_tx_queue_bql_limit_bytes", map[string]string{"device": "veth0"}); len(got) != 0 {
		t.Errorf("veth0 has no byte_queue_limits, but exported %v", got)
	}
}

// TestBQLThisHost reads this machine's TX queues through the exporter and
// compares each series with the file it comes from (eth0 on the build VM:
// virtio_net has BQL since 6.9).
func TestBQLThisHost(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BQLAll = true
	compareBQLWithFiles(t, gather(t, newTestExporter(t, cfg)), "/sys")
}

// TestBQLLab: veth has no byte_queue_limits since 6.9 (IFF_NO_QUEUE and
// LLTX; commit 74293ea1c4db), only tx_maxrate; an ifb in the same
// namespace has BQL. Read through the lab's own sysfs mount.
func TestBQLLab(t *testing.T) {
	testutil.NeedRoot(t)
	lab := netlab.New(t, netlab.Options{Queues: 4})
	ifb := lab.AddIFB(t)
	cfg := labConfig(lab)
	cfg.BQLAll = true
	mfs := gather(t, newTestExporter(t, cfg))
	if s := successes(mfs)["bql"]; s != 1 {
		t.Errorf("bql collector failed on the lab")
	}
	veth := map[string]string{"device": lab.RxDevice()}
	if got := find(mfs, "netirq_net_tx_queue_bql_limit_bytes", veth); len(got) != 0 {
		t.Errorf("veth %s exports BQL: %v", lab.RxDevice(), got)
	}
	if got := find(mfs, "netirq_net_tx_queue_maxrate_bytes_per_second", veth); len(got) != 4 {
		t.Errorf("veth %s: %d tx_maxrate series, want its 4 TX queues", lab.RxDevice(), len(got))
	}
	if got := find(mfs, "netirq_net_tx_queue_bql_limit_bytes", map[string]string{"device": ifb}); len(got) != 4 {
		t.Errorf("ifb %s: %d BQL limits, want its 4 TX queues", ifb, len(got))
	}
	compareBQLWithFiles(t, mfs, lab.SysfsRoot())
}

// compareBQLWithFiles checks every BQL and tx_maxrate series against its
// file below sysRoot, in the file's unit; limit and inflight move with
// traffic, so they must equal the file read before or after the scrape's.
func compareBQLWithFiles(t *testing.T, mfs []*dto.MetricFamily, sysRoot string) {
	t.Helper()
	files := map[string]struct {
		file  string
		scale float64
	}{
		"netirq_net_tx_queue_bql_limit_bytes":             {"byte_queue_limits/limit", 1},
		"netirq_net_tx_queue_bql_stalls_total":            {"byte_queue_limits/stall_cnt", 1},
		"netirq_net_tx_queue_bql_inflight_bytes":          {"byte_queue_limits/inflight", 1},
		"netirq_net_tx_queue_bql_limit_min_bytes":         {"byte_queue_limits/limit_min", 1},
		"netirq_net_tx_queue_bql_limit_max_bytes":         {"byte_queue_limits/limit_max", 1},
		"netirq_net_tx_queue_bql_hold_time_seconds":       {"byte_queue_limits/hold_time", 1e-3},
		"netirq_net_tx_queue_bql_stall_threshold_seconds": {"byte_queue_limits/stall_thrs", 1e-3},
		"netirq_net_tx_queue_maxrate_bytes_per_second":    {"tx_maxrate", 1e6 / 8},
	}
	n := 0
	for name, f := range files {
		for _, m := range find(mfs, name, nil) {
			l := labels(m)
			path := filepath.Join(sysRoot, "class/net", l["device"], "queues", "tx-"+l["queue"], f.file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%s exported for %s, which is unreadable: %v", name, path, err)
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
			if err != nil {
				t.Fatal(err)
			}
			moves := f.file == "byte_queue_limits/limit" || f.file == "byte_queue_limits/inflight" // with traffic
			if got := value(m); got != v*f.scale && !moves {
				t.Errorf("%s%v = %v, but %s holds %v (x%v)", name, l, got, path, v, f.scale)
			}
			n++
			t.Logf("%s %v = %v (%s: %v)", name, l, value(m), f.file, v)
		}
	}
	if n == 0 {
		t.Skipf("no TX queue with byte_queue_limits or tx_maxrate below %s", sysRoot)
	}
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, lp := range m.Label {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}
