package report

import (
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/diagnosis"
)

// TestTextEscapesKernelStrings: an ESC or another control character in a
// device name reaches the terminal as \xHH, never raw; UTF-8 stays.
func TestTextEscapesKernelStrings(t *testing.T) {
	r := Report{
		Devices: []ReportDevice{{Name: "red\x1b[31mdev", NUMANode: -1, Threaded: -1}, {Name: "café", NUMANode: -1, Threaded: -1}},
		Findings: []diagnosis.Finding{{Check: "single_queue_no_rps", Severity: "info", Device: "red\x1b[31mdev\u009b",
			Message: "red\x1b[31mdev has one RX queue", Fix: "echo 3 > /sys/class/net/$'red\\x1b[31mdev'/queues/rx-0/rps_cpus"}},
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\u009b") {
		t.Fatalf("raw control character in the report:\n%q", out)
	}
	for _, want := range []string{`red\x1b[31mdev`, `\xc2\x9b`, "café", `$'red\x1b[31mdev'`} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
