package kernel

// IRQKind says what a NIC IRQ serves.
type IRQKind string

const (
	KindNone     IRQKind = ""         // not a NIC IRQ
	KindRx       IRQKind = "rx"       // one RX queue
	KindTx       IRQKind = "tx"       // one TX queue
	KindCombined IRQKind = "combined" // an RX+TX queue pair (TxRx, virtio-less single vector ...)
	KindOther    IRQKind = "other"    // a NIC vector that serves no data queue (misc, async, config, link)
)
