package diagnosis

// The checks of the NAPI instances' own settings (netdev napi-get, Linux
// 6.13+; threaded 6.17+), and of the device-wide sysfs files that set
// them on older kernels.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// suggestedGROFlushTimeout is the gro-flush-timeout the defer fix
// suggests (ns): 200 µs, a common starting point for IRQ deferral.
const suggestedGROFlushTimeout = 200000

// napisByDevice groups the NAPI instances that report their settings.
func napisByDevice(snap *snapshot.Snapshot) (map[string][]nic.NAPI, []string) {
	by := map[string][]nic.NAPI{}
	for _, n := range snap.NAPIs {
		if n.Settings.HasDeferHardIRQs && n.Settings.HasGROFlushTimeout {
			by[n.Device] = append(by[n.Device], n)
		}
	}
	names := make([]string, 0, len(by))
	for d := range by {
		names = append(names, d)
	}
	sort.Strings(names)
	return by, names
}

// checkDeferWithoutGROFlush: NAPI instances with defer-hard-irqs > 0 and
// gro-flush-timeout 0. Deferring hard IRQs means arming the NAPI timer
// instead of re-enabling the IRQ, and gro-flush-timeout is that timer:
// at 0 there is none, so the IRQ is re-enabled at once and the deferral
// asked for never happens. Judged per NAPI where the kernel reports the
// settings (6.13+), else per device from /sys/class/net/DEV.
func checkDeferWithoutGROFlush(snap *snapshot.Snapshot) []Finding {
	by, names := napisByDevice(snap)
	var out []Finding
	for _, dev := range names {
		var bad []nic.NAPI
		for _, n := range by[dev] {
			if n.Settings.DeferHardIRQs > 0 && n.Settings.GROFlushTimeout == 0 {
				bad = append(bad, n)
			}
		}
		if len(bad) > 0 {
			out = append(out, deferFinding(dev, bad, len(by[dev])))
		}
	}
	return append(out, deferWithoutGROFlushSysfs(snap, by)...)
}

func deferFinding(dev string, bad []nic.NAPI, all int) Finding {
	ids := make([]string, len(bad))
	for i, n := range bad {
		ids[i] = strconv.FormatUint(uint64(n.ID), 10)
	}
	f := Finding{Device: dev,
		Message: fmt.Sprintf("NAPI %s of %s (%d of %d) defer hard IRQs (defer-hard-irqs %d) with gro-flush-timeout 0: no timer re-polls, so the IRQ is re-enabled at once and nothing is deferred.",
			strings.Join(ids, ", "), dev, len(bad), all, bad[0].Settings.DeferHardIRQs)}
	if len(bad) == all {
		f.Fix = fmt.Sprintf("echo %d > /sys/class/net/%s/gro_flush_timeout", suggestedGROFlushTimeout, ShellWord(dev))
		return f
	}
	cmds := make([]string, len(bad))
	for i, n := range bad {
		cmds[i] = napiSetCommand(n.ID, "gro-flush-timeout", suggestedGROFlushTimeout)
	}
	f.Fix = strings.Join(cmds, " && ")
	return f
}

// napiSetCommand is the napi-set of one setting with the kernel's ynl
// tool (tools/net/ynl; packaged as ynl), the one way to set a single
// instance.
func napiSetCommand(id uint32, setting string, v uint64) string {
	return fmt.Sprintf(`ynl --family netdev --do napi-set --json '{"id": %d, "%s": %d}'`, id, setting, v)
}

// deferWithoutGROFlushSysfs is the device-wide form, for devices whose
// NAPIs do not report their settings (kernels before 6.13, or no netdev
// netlink): /sys/class/net/DEV/napi_defer_hard_irqs without
// gro_flush_timeout.
func deferWithoutGROFlushSysfs(snap *snapshot.Snapshot, perNAPI map[string][]nic.NAPI) []Finding {
	if snap.Tunables == nil {
		return nil
	}
	var names []string
	for dev, d := range snap.Tunables.NAPIDeferHardIRQs {
		gro, ok := snap.Tunables.GROFlushTimeout[dev]
		if d > 0 && ok && gro == 0 && len(perNAPI[dev]) == 0 {
			names = append(names, dev)
		}
	}
	sort.Strings(names)
	out := make([]Finding, 0, len(names))
	for _, dev := range names {
		out = append(out, Finding{Device: dev,
			Message: fmt.Sprintf("%s has napi_defer_hard_irqs %d with gro_flush_timeout 0: no timer re-polls, so the IRQ is re-enabled at once and nothing is deferred.",
				dev, snap.Tunables.NAPIDeferHardIRQs[dev]),
			Fix: fmt.Sprintf("echo %d > /sys/class/net/%s/gro_flush_timeout", suggestedGROFlushTimeout, ShellWord(dev))})
	}
	return out
}

// napiSetting is one per-NAPI setting as checkNAPISettingsDiffer sees it.
type napiSetting struct {
	name  string // the spec's name (napi-set attribute)
	sysfs string // the /sys/class/net/DEV file that sets it for every NAPI; "" none
	get   func(nic.NAPISettings) (uint64, bool)
}

var napiSettings = []napiSetting{
	{"defer-hard-irqs", "napi_defer_hard_irqs", func(s nic.NAPISettings) (uint64, bool) { return uint64(s.DeferHardIRQs), s.HasDeferHardIRQs }},
	{"gro-flush-timeout", "gro_flush_timeout", func(s nic.NAPISettings) (uint64, bool) { return s.GROFlushTimeout, s.HasGROFlushTimeout }},
	{"irq-suspend-timeout", "", func(s nic.NAPISettings) (uint64, bool) { return s.IRQSuspendTimeout, s.HasIRQSuspendTimeout }},
	{"threaded", "threaded", func(s nic.NAPISettings) (uint64, bool) { return uint64(s.Threaded), s.HasThreaded }},
}

// checkNAPISettingsDiffer: the NAPI instances of one device disagree on a
// setting. The device's sysfs files set every instance alike; a difference
// comes from napi-set on single instances (a busy-poll or AF_XDP setup for
// some queues, a script that stopped half way) and makes those queues'
// latency and CPU cost differ from the rest. The fix sets the device-wide
// value every instance shares with most others.
func checkNAPISettingsDiffer(snap *snapshot.Snapshot) []Finding {
	by := map[string][]nic.NAPI{}
	for _, n := range snap.NAPIs {
		by[n.Device] = append(by[n.Device], n)
	}
	names := make([]string, 0, len(by))
	for d := range by {
		names = append(names, d)
	}
	sort.Strings(names)
	var out []Finding
	for _, dev := range names {
		var what, fixes []string
		for _, st := range napiSettings {
			desc, fix, differ := settingSpread(dev, by[dev], st)
			if differ {
				what, fixes = append(what, desc), append(fixes, fix)
			}
		}
		if len(what) > 0 {
			out = append(out, Finding{Device: dev,
				Message: fmt.Sprintf("The NAPI instances of %s differ: %s.", dev, strings.Join(what, "; ")),
				Fix:     strings.Join(fixes, " && ")})
		}
	}
	return out
}

// settingSpread describes how dev's NAPIs spread over values of st
// ("gro-flush-timeout 200000 on NAPI 8193, 8194, 0 on NAPI 8195") and the
// command that gives them all the most common one.
func settingSpread(dev string, napis []nic.NAPI, st napiSetting) (desc, fix string, differ bool) {
	ids := map[uint64][]uint32{}
	for _, n := range napis {
		if v, ok := st.get(n.Settings); ok {
			ids[v] = append(ids[v], n.ID)
		}
	}
	if len(ids) < 2 {
		return "", "", false
	}
	values := make([]uint64, 0, len(ids))
	for v := range ids {
		values = append(values, v)
	}
	// Most common first; among equals the lower value.
	sort.Slice(values, func(i, j int) bool {
		a, b := len(ids[values[i]]), len(ids[values[j]])
		return a > b || a == b && values[i] < values[j]
	})
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = fmt.Sprintf("%s on NAPI %s", settingValue(st, v), joinIDs(ids[v]))
	}
	common := values[0]
	if st.sysfs != "" {
		fix = fmt.Sprintf("echo %d > /sys/class/net/%s/%s", common, ShellWord(dev), st.sysfs)
	} else {
		var cmds []string
		for _, v := range values[1:] {
			for _, id := range ids[v] {
				cmds = append(cmds, napiSetCommand(id, st.name, common))
			}
		}
		fix = strings.Join(cmds, " && ")
	}
	return st.name + " " + strings.Join(parts, ", "), fix, true
}

func settingValue(st napiSetting, v uint64) string {
	if st.name == "threaded" {
		return nic.NAPIThreaded(v).String()
	}
	return strconv.FormatUint(v, 10)
}

func joinIDs(ids []uint32) string {
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(s, " ")
}
