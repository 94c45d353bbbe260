package irqclass

import (
	"slices"
	"strconv"

	"github.com/netirq/netirq_exporter/internal/kernel"
)

// IRQClass is the classification of one IRQ.
//
// It names one device, queue and kind: what the per-IRQ metrics label an
// IRQ with. Also holds what else the same IRQ serves, nil for nearly every
// IRQ; consumers that ask which queues an IRQ feeds (the diagnosis' feeds,
// the report's queue tables) go through Serves. Two shapes fill it:
//
//   - A legacy INTx line shared by NICs, "uhci_hcd:usb1, eth0, eth1": the
//     class is eth0's, Also has eth1's (combined queue 0 each).
//   - qlcnic "eth0-tx-0-rx-3": one vector for rx queue 3 and tx queue 0.
//     The class is rx queue 3 and Also has tx queue 0. Not combined queue
//     3: combined N means rx N and tx N everywhere else (ethtool channels,
//     the report's rows, the queue-stats check), which would claim a tx
//     queue 3 that the one-tx-ring driver lacks and still lose tx queue 0.
//     With one ring ("eth2-tx-0-rx-0") rx 0 and tx 0 are both queue 0: that
//     is combined queue 0, Also empty.
type IRQClass struct {
	IRQ int
	// Device is the net device name when known ("eth0"); otherwise the best
	// stable handle the IRQ name gives ("0000:01:00.0", "virtio0"). Empty
	// for IRQs that are not a NIC's.
	Device string
	Queue  int // queue index; -1 when the IRQ serves no single queue
	Kind   kernel.IRQKind
	// Driver names the naming rule that matched ("mlx5", "i40e", "virtio_net",
	// "msi_irqs" ...), for debugging classification.
	Driver string
	Also   []QueueRef // more queues or vectors of the same IRQ (see above)
}

// QueueRef is one queue, or other vector, of a device that an IRQ serves.
type QueueRef struct {
	Device string
	Queue  int // -1: no single queue
	Kind   kernel.IRQKind
}

// IsQueue reports whether r is one data queue (not a misc vector, not a
// vector shared by every queue).
func (r QueueRef) IsQueue() bool {
	return r.Queue >= 0 && (r.Kind == kernel.KindRx || r.Kind == kernel.KindTx || r.Kind == kernel.KindCombined)
}

// Serves lists what the IRQ serves: its own device, queue and kind, then
// Also. Nil when the IRQ is not a NIC's.
func (c IRQClass) Serves() []QueueRef {
	if !c.IsNIC() {
		return nil
	}
	return append([]QueueRef{{Device: c.Device, Queue: c.Queue, Kind: c.Kind}}, c.Also...)
}

// IsNIC reports whether the IRQ belongs to a network device.
func (c IRQClass) IsNIC() bool { return c.Kind != kernel.KindNone }

// QueueLabel is the queue index as a label value: "" when the IRQ serves
// no single queue. The metrics and the findings both use it.
func (c IRQClass) QueueLabel() string {
	if c.Queue < 0 {
		return ""
	}
	return strconv.Itoa(c.Queue)
}

// addAlso adds to Also the refs the class does not serve yet.
func (c *IRQClass) addAlso(refs []QueueRef) {
	for _, r := range refs {
		if !slices.Contains(c.Serves(), r) {
			c.Also = append(c.Also, r)
		}
	}
}
