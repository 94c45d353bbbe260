package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/snapshot/snaptest"
)

// nicQueuesHost is ens1 with two combined queues (IRQs 40, 41), a
// 1024-of-8192 RX ring, qstats loss counters, BQL with the stall detector
// on tx-1, a tx_maxrate on tx-0, and NAPI 8193 with its own settings;
// stats (drops, overruns, allocation failures, stalls) are the counters'
// values.
func nicQueuesHost(t *testing.T, when time.Time, drops, overruns, allocFails, stalls uint64) *snapshot.Snapshot {
	t.Helper()
	s := snaptest.Host(t, []string{"0-3"}, "")
	s.Time = when
	snaptest.NIC(s, "ens1", 0, 2, 2)
	snaptest.IRQ(t, s, 40, "ens1", 0, kernel.KindCombined, "0", "0", "")
	snaptest.IRQ(t, s, 41, "ens1", 1, kernel.KindCombined, "1", "1", "")
	s.Rings = map[string]nic.Rings{"ens1": {Device: "ens1", Rx: 1024, RxMax: 8192, Tx: 1024, TxMax: 8192}}
	s.QueueStats = []nic.QueueStats{
		{Device: "ens1", Queue: 0, Kind: kernel.KindRx, Source: "netlink", Counters: []nic.QueueCounter{
			{Name: "rx-alloc-fail", Value: allocFails}, {Name: "rx-hw-drops", Value: drops}, {Name: "rx-hw-drop-overruns", Value: overruns}}},
		// queue 1's driver counts no loss: null, not 0.
		{Device: "ens1", Queue: 1, Kind: kernel.KindRx, Source: "netlink"},
	}
	s.BQL = []sysfs.TxQueueBQL{
		{Device: "ens1", Queue: 0, HasBQL: true, Limit: 30000, MaxRateMbps: 1000},
		{Device: "ens1", Queue: 1, HasBQL: true, Limit: 4500, StallThresholdMS: 100, StallCount: int64(stalls)},
	}
	s.NAPIs = []nic.NAPI{
		{ID: 8193, Device: "ens1", IRQ: 40, Settings: nic.NAPISettings{DeferHardIRQs: 2, GROFlushTimeout: 200000,
			HasDeferHardIRQs: true, HasGROFlushTimeout: true, HasIRQSuspendTimeout: true, HasThreaded: true}},
		// the defaults: not listed.
		{ID: 8194, Device: "ens1", IRQ: 41, Settings: nic.NAPISettings{HasDeferHardIRQs: true, HasGROFlushTimeout: true,
			HasIRQSuspendTimeout: true, HasThreaded: true}},
	}
	return s
}

// TestReportRxRingAndHardwareDrops: two snapshots 2 s apart give each RX
// queue's hardware drops, overruns and allocation failures per second
// (null where the driver counts none), the device's RX ring, and the
// ring check runs on the report's own two snapshots.
func TestReportRxRingAndHardwareDrops(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	r := BuildReport(nicQueuesHost(t, t0, 100, 80, 10, 0), nicQueuesHost(t, t0.Add(2*time.Second), 300, 240, 14, 0))
	d := deviceOf(t, r, "ens1")
	if d.RxRing == nil || d.RxRingMax == nil || *d.RxRing != 1024 || *d.RxRingMax != 8192 {
		t.Errorf("rx ring %v/%v, want 1024/8192", d.RxRing, d.RxRingMax)
	}
	q0 := queueRow(t, r, "ens1", 40, "combined", 0)
	approx(t, "queue 0 hw drops/s", q0.RxHWDropsPerSecond, 100)
	approx(t, "queue 0 overruns/s", q0.RxHWDropOverrunsPerSecond, 80)
	approx(t, "queue 0 alloc failures/s", q0.RxAllocFailuresPerSecond, 2)
	if q1 := queueRow(t, r, "ens1", 41, "combined", 1); q1.RxHWDropsPerSecond != nil || q1.RxHWDropOverrunsPerSecond != nil {
		t.Errorf("queue 1 counts no loss, got %+v", q1)
	}
	found := false
	for _, f := range r.Findings {
		found = found || f.Check == "rx_ring_below_max_with_drops"
	}
	for _, u := range r.UnknownChecks {
		if u.Check == "rx_ring_below_max_with_drops" {
			t.Errorf("rx_ring_below_max_with_drops unknown in a report of two snapshots: %s", u.Reason)
		}
	}
	if !found {
		t.Errorf("no rx_ring_below_max_with_drops finding in %+v", r.Findings)
	}
	text := reportText(t, r)
	for _, want := range []string{"rx ring 1024/8192", "HW_DROPS/S", "OVERRUNS/S", "ALLOC_FAILS/S"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
	js := reportJSON(t, r)
	for _, want := range []string{`"rx_ring":1024`, `"rx_ring_max":8192`, `"rx_hw_drops_per_second":100`,
		`"rx_hw_drop_overruns_per_second":80`, `"rx_alloc_failures_per_second":2`, `"rx_hw_drops_per_second":null`} {
		if !strings.Contains(js, want) {
			t.Errorf("JSON lacks %s:\n%s", want, js)
		}
	}
}

// TestReportBQL: each TX queue's byte queue limit, the stalls counted
// between the two snapshots (not the counter's total) and tx_maxrate.
func TestReportBQL(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	r := BuildReport(nicQueuesHost(t, t0, 0, 0, 0, 40), nicQueuesHost(t, t0.Add(2*time.Second), 0, 0, 0, 43))
	q0, q1 := queueRow(t, r, "ens1", 40, "combined", 0), queueRow(t, r, "ens1", 41, "combined", 1)
	if q0.BQLLimitBytes == nil || *q0.BQLLimitBytes != 30000 || q0.TxMaxRateMbps != 1000 {
		t.Errorf("tx-0: limit %v, maxrate %d; want 30000, 1000", q0.BQLLimitBytes, q0.TxMaxRateMbps)
	}
	if q0.BQLStalls == nil || *q0.BQLStalls != 0 {
		t.Errorf("tx-0 stalls %v, want 0", q0.BQLStalls)
	}
	if q1.BQLLimitBytes == nil || *q1.BQLLimitBytes != 4500 || q1.BQLStalls == nil || *q1.BQLStalls != 3 || q1.TxMaxRateMbps != 0 {
		t.Errorf("tx-1: %+v, want limit 4500, 3 stalls, no maxrate", q1)
	}
	text := reportText(t, r)
	for _, want := range []string{"BQL_LIMIT", "BQL_STALLS", "TX_MAXRATE", "1000Mbit", "4500"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
	js := reportJSON(t, r)
	for _, want := range []string{`"bql_limit_bytes":4500`, `"bql_stalls":3`, `"tx_maxrate_mbps":1000`} {
		if !strings.Contains(js, want) {
			t.Errorf("JSON lacks %s:\n%s", want, js)
		}
	}
	// No BQL read (the part off): null limits, and no BQL column.
	prev, cur := nicQueuesHost(t, t0, 0, 0, 0, 0), nicQueuesHost(t, t0.Add(2*time.Second), 0, 0, 0, 0)
	prev.BQL, cur.BQL = nil, nil
	r = BuildReport(prev, cur)
	if q := queueRow(t, r, "ens1", 40, "combined", 0); q.BQLLimitBytes != nil || q.BQLStalls != nil {
		t.Errorf("without BQL: %+v", q)
	}
	if text := reportText(t, r); strings.Contains(text, "BQL_LIMIT") {
		t.Errorf("BQL column without BQL:\n%s", text)
	}
}

// TestReportNAPISettings: only the NAPI instances whose settings are not
// the defaults are listed, with their values.
func TestReportNAPISettings(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	r := BuildReport(nicQueuesHost(t, t0, 0, 0, 0, 0), nicQueuesHost(t, t0.Add(2*time.Second), 0, 0, 0, 0))
	d := deviceOf(t, r, "ens1")
	if len(d.NAPIs) != 1 {
		t.Fatalf("NAPI settings %+v, want only 8193 (8194 has the defaults)", d.NAPIs)
	}
	n := d.NAPIs[0]
	if n.NAPIID != 8193 || n.IRQ != 40 || n.DeferHardIRQs == nil || *n.DeferHardIRQs != 2 || n.Threaded != "disabled" {
		t.Errorf("NAPI 8193: %+v", n)
	}
	approx(t, "gro_flush_timeout", n.GROFlushTimeoutSeconds, 0.0002)
	approx(t, "irq_suspend_timeout", n.IRQSuspendTimeoutSeconds, 0)
	text := reportText(t, r)
	if want := "NAPI 8193 (IRQ 40): defer_hard_irqs 2, gro_flush_timeout 200µs, irq_suspend_timeout 0s, threaded disabled"; !strings.Contains(text, want) {
		t.Errorf("text report lacks %q:\n%s", want, text)
	}
	if strings.Contains(text, "\n  NAPI 8194") {
		t.Errorf("NAPI 8194 has the defaults but is listed:\n%s", text)
	}
	if js := reportJSON(t, r); !strings.Contains(js, `"napi_settings":[{"napi_id":8193,"irq":40,"defer_hard_irqs":2,"gro_flush_timeout_seconds":0.0002,"irq_suspend_timeout_seconds":0,"threaded":"disabled"}]`) {
		t.Errorf("JSON napi_settings:\n%s", js)
	}
}

func deviceOf(t *testing.T, r Report, name string) ReportDevice {
	t.Helper()
	for _, d := range r.Devices {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no device %s in %+v", name, r.Devices)
	return ReportDevice{}
}

func reportText(t *testing.T, r Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func reportJSON(t *testing.T, r Report) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
