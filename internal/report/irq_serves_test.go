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
