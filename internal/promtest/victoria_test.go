//go:build linux

package promtest

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestVictoriaMetricsRemoteWrite: a Prometheus that scrapes
// VictoriaMetrics' own /metrics and remote-writes them to it; the series
// arrive there and answer the query API.
func TestVictoriaMetricsRemoteWrite(t *testing.T) {
	vm := StartVictoriaMetrics(t)
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs: [{targets: ['%s']}]\n"+
		"remote_write:\n  - url: %s/api/v1/write\n    queue_config: {batch_send_deadline: 1s}\n", vm.Addr, vm.URL)
	StartPrometheus(t, cfg, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := vm.WaitFor(ctx, `up{job="self"}`, func(s []Sample) bool { return len(s) == 1 && s[0].Value == 1 }, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("on VictoriaMetrics: %v", s)
	if _, err := vm.QueryRange(ctx, `rate(vm_http_requests_total[10s])`, time.Now().Add(-time.Minute), time.Now(), time.Second); err != nil {
		t.Error(err)
	}
}
