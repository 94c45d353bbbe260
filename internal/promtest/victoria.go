//go:build linux

package promtest

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// VictoriaMetricsPackage is the Debian package of single-node
// VictoriaMetrics, a long-term store that takes Prometheus remote write
// and answers the Prometheus query API (MetricsQL, a superset of PromQL).
const VictoriaMetricsPackage = "victoria-metrics"

// VictoriaMetricsBinary is LookTool for victoria-metrics.
func VictoriaMetricsBinary(t testing.TB) string {
	t.Helper()
	return LookTool(t, VictoriaMetricsPackage, "victoria-metrics")
}

// StartVictoriaMetrics runs single-node VictoriaMetrics on a free
// 127.0.0.1 port with temporary storage, plus extraArgs, and returns once
// /-/ready answers. The result's query methods work as on a Prometheus;
// remote write goes to its URL + "/api/v1/write". Stopped and removed by
// t.Cleanup. Two flags differ from the defaults, for a test that queries
// what was written a second ago:
//
//   - -search.latencyOffset=0s: by default the newest 30 s are hidden
//     from queries (samples that may still be on their way);
//   - -search.disableCache: the response cache would keep answers given
//     while the store was still being filled.
func StartVictoriaMetrics(t testing.TB, extraArgs ...string) *Prometheus {
	t.Helper()
	bin := VictoriaMetricsBinary(t)
	dir := t.TempDir()
	p, addr := startServer(t, "victoria-metrics", dir, bin, func(addr string) []string {
		return append([]string{
			"-httpListenAddr=" + addr,
			"-storageDataPath=" + filepath.Join(dir, "data"),
			"-retentionPeriod=1d",
			"-search.latencyOffset=0s",
			"-search.disableCache",
			"-loggerLevel=WARN",
		}, extraArgs...)
	})
	return &Prometheus{URL: "http://" + addr, Addr: addr, Dir: dir, Process: p,
		client: &http.Client{Timeout: 30 * time.Second}}
}
