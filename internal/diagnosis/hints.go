package diagnosis

// When an affinity_hint is no placement to restore (affinity_differs_from_hint).
//
// irq_set_affinity_hint() used to set the hint and apply it as the IRQ's
// affinity; since 5.17 ("genirq: Provide new interfaces for affinity
// hints") a driver calls irq_update_affinity_hint() to only
// publish it, or irq_set_affinity_and_hint() to do both. Drivers converted
// to the first leave their IRQs where the kernel put them: a smp_affinity
// that differs from such a hint is the kernel's default placement, not a
// driver's spread that irqbalance or a script undid. Upstream:
//
//	5.17  i40e, iavf, ixgbe, enic, be2net, mlx4 (Nitesh Narayan Lal's series, tip irq/core)
//	6.11  ice   (dee55767dc8c "ice: use irq_update_affinity_hint()")
//	6.13  bnxt_en, nfp, atlantic (fcf42409c6e1, d9e2e290f714, 2cd78740effc)
//
// mlx5 (irq_set_affinity_and_hint) still applies its hint. Since 6.15 ice
// and idpf publish no hint at all (4063af296762, deab38f8f011: the core's
// NAPI IRQ affinity, netif_set_affinity_auto, places the IRQs), so the
// check never sees one. Distribution kernels backport such changes (the
// bnxt_en one came from Red Hat), so a release number alone cannot clear a
// driver; the behaviour can: an IRQ whose smp_affinity is what the kernel
// gives an IRQ nobody placed (irq_setup_affinity: default_smp_affinity ∩
// online CPUs, narrowed to the IRQ's node when that leaves some) was not
// moved off a hint, whatever the driver and release.

import (
	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// hintPublishedOnlySince maps a netdev's driver (device/driver) to the
// first upstream release whose driver publishes its hint without applying
// it.
var hintPublishedOnlySince = map[string]procfs.KernelVersion{
	"i40e": {Major: 5, Minor: 17}, "iavf": {Major: 5, Minor: 17}, "ixgbe": {Major: 5, Minor: 17},
	"enic": {Major: 5, Minor: 17}, "be2net": {Major: 5, Minor: 17}, "mlx4_core": {Major: 5, Minor: 17},
	"ice":     {Major: 6, Minor: 11},
	"bnxt_en": {Major: 6, Minor: 13}, "nfp": {Major: 6, Minor: 13}, "atlantic": {Major: 6, Minor: 13},
}

// hintNotApplied reports whether q's hint is none to restore: its driver
// on this kernel only publishes hints, or q sits where the kernel puts an
// IRQ nobody placed.
func hintNotApplied(snap *snapshot.Snapshot, driver string, q nicIRQ) bool {
	if since, ok := hintPublishedOnlySince[driver]; ok && snap.Kernel != nil && snap.Kernel.Version.AtLeast(since.Major, since.Minor) {
		return true
	}
	unplaced, ok := unplacedAffinity(snap, q.Aff.Node)
	return ok && q.Aff.SMPAffinity.Equal(unplaced)
}

// driverOf is d's driver, "" for no device (an IRQ of a device sysfs
// does not show).
func driverOf(d *sysfs.NetDevice) string {
	if d == nil {
		return ""
	}
	return d.Driver
}

// unplacedAffinity is the smp_affinity the kernel gives an IRQ of node
// when neither a driver nor user space sets one; ok is false when
// default_smp_affinity or the online CPUs are unknown.
func unplacedAffinity(snap *snapshot.Snapshot, node int) (cpuset.CPUSet, bool) {
	on := online(snap)
	if snap.Kernel == nil || !snap.Kernel.HasDefaultIRQAffinity || on.IsEmpty() {
		return cpuset.CPUSet{}, false
	}
	mask := snap.Kernel.DefaultIRQAffinity.Intersect(on)
	if mask.IsEmpty() {
		mask = on
	}
	if node < 0 {
		return mask, true
	}
	var nodeMask cpuset.CPUSet
	for _, c := range on.List() {
		if nodeOf(snap, c) == node {
			nodeMask.Add(c)
		}
	}
	if narrowed := mask.Intersect(nodeMask); !narrowed.IsEmpty() {
		mask = narrowed
	}
	return mask, true
}
