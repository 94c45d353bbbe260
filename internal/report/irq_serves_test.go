package report

import "testing"

// TestReportQlcnicTx0OnLastRing: the report lists qlcnic's
// "eth0-tx-0-rx-3" vector under both queues it serves, rx 3 and tx 0
// (before, neither row had an IRQ).
func TestReportQlcnicTx0OnLastRing(t *testing.T) {
	r, _ := runInterruptsOnly(t, readShape(t, "qlcnic-8cpu-tx0-on-last-rx-ring.txt"))
	rx3 := queueRow(t, r, "eth0", 73, "rx", 3)
	tx0 := queueRow(t, r, "eth0", 73, "tx", 0)
	if rx3.InterruptsPerSecond == nil || tx0.InterruptsPerSecond == nil {
		t.Errorf("IRQ 73 rows without a rate: %+v %+v", rx3, tx0)
	}
	queueRow(t, r, "eth0", 70, "rx", 0)
	queueRow(t, r, "eth2", 78, "combined", 0)
}

// TestReportSharedINTxTwoNICs: the IRQ of a legacy line shared by eth0
// and eth1 is in both devices' queue tables (before, in eth0's only).
func TestReportSharedINTxTwoNICs(t *testing.T) {
	r, _ := runInterruptsOnly(t, readShape(t, "qemu-2cpu-two-nics-shared-intx.txt"))
	for _, dev := range []string{"eth0", "eth1"} {
		if q := queueRow(t, r, dev, 11, "combined", 0); q.InterruptsPerSecond == nil {
			t.Errorf("%s row without a rate: %+v", dev, q)
		}
	}
}
