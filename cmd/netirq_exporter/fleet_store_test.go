//go:build linux

package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/promtest"
)

// The long-term store of TestFleetFederation (deploy/README.md, "Remote
// write to a long-term store"): single-node VictoriaMetrics, written to by
// the leaf through the README's remote-write-victoriametrics block, with
// the URL replaced and a 1 s batch deadline, as the remote-write block.

const fleetStoreBlock = "remote-write-victoriametrics"

// fleetStartStore starts VictoriaMetrics when it is installed; nil and
// why not otherwise (the store's subtest then skips, or fails under
// CI=true, while the rest of the fleet test runs).
func fleetStartStore(t *testing.T) (*promtest.Prometheus, string) {
	t.Helper()
	if _, err := promtest.FindTool("victoria-metrics"); err != nil {
		return nil, "victoria-metrics not found in PATH: install Debian package " + promtest.VictoriaMetricsPackage + " (make deps does, as root)"
	}
	return promtest.StartVictoriaMetrics(t), ""
}

// fleetAddRemoteWrite appends block's one remote_write entry to the leaf's
// configuration, its url replaced by url and a 1 s batch deadline.
func fleetAddRemoteWrite(t *testing.T, leafCfg, block, url string) string {
	t.Helper()
	var entry map[string]any
	if _, err := promtest.EditYAML(block, func(cfg map[string]any) error {
		rws, _ := cfg["remote_write"].([]any)
		if len(rws) != 1 {
			return fmt.Errorf("want one remote_write entry, got %d", len(rws))
		}
		entry = rws[0].(map[string]any)
		entry["url"] = url
		entry["queue_config"] = map[string]any{"batch_send_deadline": "1s"}
		return nil
	}); err != nil {
		t.Fatalf("%s block: %v", fleetStoreBlock, err)
	}
	out, err := promtest.EditYAML(leafCfg, func(cfg map[string]any) error {
		rws, _ := cfg["remote_write"].([]any)
		cfg["remote_write"] = append(rws, entry)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fleetCheckStore asserts on the store what the remote-write server
// passes: it holds the same series (the leaf writes both through the same
// filter), nothing raw or per CPU arrives, and every fleet dashboard query
// returns data there, the leaf's result.
func fleetCheckStore(ctx context.Context, t *testing.T, leaf, rwProm, store *promtest.Prometheus, fedJob, dashboards string, hosts []*fleetHost) {
	start := time.Now()
	for i := 0; ; i++ {
		want, got := fleetGlobalSeries(ctx, t, rwProm, fedJob), fleetGlobalSeries(ctx, t, store, fedJob)
		missing, extra := fleetDiff(want, got)
		if len(missing) == 0 && len(extra) == 0 {
			t.Logf("the store holds the %d series the remote-write server holds (after %s)", len(got), time.Since(start).Round(100*time.Millisecond))
			break
		}
		if i == 30 {
			t.Fatalf("the store and the remote-write server differ: the store lacks %v, has in addition %v", missing, extra)
		}
		time.Sleep(time.Second)
	}
	fleetWaitRange(ctx, t, rwProm, store)
	fleetCheckGlobal(ctx, t, leaf, store, fedJob, hosts)
	fleetCheckDashboard(ctx, t, leaf, store, dashboards, hosts)
}

// fleetWaitRange waits until a range query over the last two minutes (the
// dashboard check's) finds on the store every series the remote-write
// server has: VictoriaMetrics can answer instant queries for a series a
// few seconds before its range queries find it (measured here: a recorded
// series that appeared late had no range data for over 3 s).
func fleetWaitRange(ctx context.Context, t *testing.T, rwProm, store *promtest.Prometheus) {
	t.Helper()
	start := time.Now()
	names := func(p *promtest.Prometheus) map[string]bool {
		now := time.Now()
		series, err := p.QueryRange(ctx, `count by (__name__, instance) ({__name__=~".+"})`, now.Add(-2*time.Minute), now, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, s := range series {
			out[promtest.FormatLabels(s.Labels)] = true
		}
		return out
	}
	var missing []string
	for i := 0; i < 30; i++ {
		want, got := names(rwProm), names(store)
		missing = missing[:0]
		for k := range want {
			if !got[k] {
				missing = append(missing, k)
			}
		}
		if len(missing) == 0 {
			t.Logf("range queries on the store find every series (after %s)", time.Since(start).Round(100*time.Millisecond))
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("range queries on the store miss %d series for 30 s, e.g. %v", len(missing), missing[:min(5, len(missing))])
}
