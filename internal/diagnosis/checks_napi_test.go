package diagnosis

import (
	"testing"

	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/snapshot/snaptest"
)

// napiHost: ens1 with 4 NAPIs 8193-8196 whose settings all say
// defer-hard-irqs 2, gro-flush-timeout 200 µs, threaded off.
func napiHost(t *testing.T) *snapshot.Snapshot {
	s := snaptest.Host(t, []string{"0-3"}, "")
	snaptest.NIC(s, "ens1", 0, 4, 4)
	for i := range 4 {
		s.NAPIs = append(s.NAPIs, nic.NAPI{ID: uint32(8193 + i), Device: "ens1", IRQ: 120 + i, Settings: nic.NAPISettings{
			DeferHardIRQs: 2, GROFlushTimeout: 200000, HasDeferHardIRQs: true, HasGROFlushTimeout: true,
			HasIRQSuspendTimeout: true, HasThreaded: true}})
	}
	return s
}

func TestNAPIDeferWithoutGROFlush(t *testing.T) {
	const check = "napi_defer_without_gro_flush"
	t.Run("consistent settings", func(t *testing.T) { expectNone(t, run(t, check, napiHost(t))) })
	t.Run("one NAPI", func(t *testing.T) {
		s := napiHost(t)
		s.NAPIs[3].Settings.GROFlushTimeout = 0
		expectFindings(t, run(t, check, s), Finding{Check: check, Severity: "info", Device: "ens1",
			Message: "NAPI 8196 of ens1 (1 of 4) defer hard IRQs (defer-hard-irqs 2) with gro-flush-timeout 0: no timer re-polls, so the IRQ is re-enabled at once and nothing is deferred.",
			Fix:     `ynl --family netdev --do napi-set --json '{"id": 8196, "gro-flush-timeout": 200000}'`})
	})
	t.Run("every NAPI: the device-wide fix", func(t *testing.T) {
		s := napiHost(t)
		for i := range s.NAPIs {
			s.NAPIs[i].Settings.GROFlushTimeout = 0
		}
		got := run(t, check, s)
		if len(got) != 1 || got[0].Fix != "echo 200000 > /sys/class/net/ens1/gro_flush_timeout" {
			t.Errorf("%s", dumpFindings(got))
		}
	})
	t.Run("kernel before 6.13: the sysfs files", func(t *testing.T) {
		s := napiHost(t)
		s.NAPIs = nil
		s.Tunables = &procfs.Tunables{NAPIDeferHardIRQs: map[string]int64{"ens1": 2, "eth$(x)": 1, "ok": 2},
			GROFlushTimeout: map[string]int64{"ens1": 0, "eth$(x)": 0, "ok": 20000}}
		expectFindings(t, run(t, check, s),
			Finding{Check: check, Severity: "info", Device: "ens1",
				Message: "ens1 has napi_defer_hard_irqs 2 with gro_flush_timeout 0: no timer re-polls, so the IRQ is re-enabled at once and nothing is deferred.",
				Fix:     "echo 200000 > /sys/class/net/ens1/gro_flush_timeout"},
			Finding{Check: check, Severity: "info", Device: "eth$(x)",
				Message: "eth$(x) has napi_defer_hard_irqs 1 with gro_flush_timeout 0: no timer re-polls, so the IRQ is re-enabled at once and nothing is deferred.",
				Fix:     "echo 200000 > /sys/class/net/'eth$(x)'/gro_flush_timeout"})
	})
	t.Run("the per-NAPI view wins over the device's sysfs", func(t *testing.T) {
		s := napiHost(t)
		s.Tunables = &procfs.Tunables{NAPIDeferHardIRQs: map[string]int64{"ens1": 2}, GROFlushTimeout: map[string]int64{"ens1": 0}}
		expectNone(t, run(t, check, s))
	})
}

func TestNAPISettingsDiffer(t *testing.T) {
	const check = "napi_settings_differ"
	t.Run("alike", func(t *testing.T) { expectNone(t, run(t, check, napiHost(t))) })
	t.Run("gro-flush-timeout, threaded and irq-suspend-timeout", func(t *testing.T) {
		s := napiHost(t)
		s.NAPIs[3].Settings.GROFlushTimeout = 0
		s.NAPIs[0].Settings.Threaded = nic.NAPIThreadedBusyPoll
		s.NAPIs[1].Settings.IRQSuspendTimeout = 20000000
		expectFindings(t, run(t, check, s), Finding{Check: check, Severity: "info", Device: "ens1",
			Message: "The NAPI instances of ens1 differ: gro-flush-timeout 200000 on NAPI 8193 8194 8195, 0 on NAPI 8196; " +
				"irq-suspend-timeout 0 on NAPI 8193 8195 8196, 20000000 on NAPI 8194; threaded disabled on NAPI 8194 8195 8196, busy-poll on NAPI 8193.",
			Fix: "echo 200000 > /sys/class/net/ens1/gro_flush_timeout && " +
				`ynl --family netdev --do napi-set --json '{"id": 8194, "irq-suspend-timeout": 0}' && ` +
				"echo 0 > /sys/class/net/ens1/threaded"})
	})
	t.Run("settings not reported (before 6.13): nothing to compare", func(t *testing.T) {
		s := napiHost(t)
		for i := range s.NAPIs {
			s.NAPIs[i].Settings = nic.NAPISettings{}
		}
		s.NAPIs[0].Settings.DeferHardIRQs = 5 // not reported: ignored
		expectNone(t, run(t, check, s))
	})
	t.Run("two devices are not compared with each other", func(t *testing.T) {
		s := napiHost(t)
		s.NAPIs = append(s.NAPIs, nic.NAPI{ID: 9000, Device: "ens2", Settings: nic.NAPISettings{HasDeferHardIRQs: true, HasGROFlushTimeout: true}})
		expectNone(t, run(t, check, s))
	})
}
