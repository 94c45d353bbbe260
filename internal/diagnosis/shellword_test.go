package diagnosis

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
)

// TestShellWordRoundTrip: bash reads every quoted name back as the name,
// and nothing in it runs (q$(id>&2) would print uid= on stderr).
func TestShellWordRoundTrip(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	names := []string{"eth0", "ens1f0np0", "vlan.100", "q$(id>&2)", "a'b", `back\slash`, "sp ace", "semi;colon",
		"esc\x1b[31mred", "nl\nx", "tab\tx", "\xff\xfe", "é", "*", "-n", ""}
	for _, name := range names {
		word := ShellWord(name)
		cmd := exec.Command(bash, "-c", "printf '%s' "+word)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || string(out) != name || stderr.Len() > 0 {
			t.Errorf("ShellWord(%q) = %s: bash printed %q, stderr %q, err %v", name, word, out, stderr.String(), err)
		}
		if strings.ContainsAny(word, "\x1b\n\t") {
			t.Errorf("ShellWord(%q) = %q keeps a control character", name, word)
		}
	}
}

func TestFixCommandsQuoteDeviceNames(t *testing.T) {
	got := rpsFix("q$(id>&2)", 0, cpuset.NewCPUSet(0, 1))
	if want := "echo 3 > /sys/class/net/'q$(id>&2)'/queues/rx-0/rps_cpus"; got != want {
		t.Errorf("rpsFix = %q, want %q", got, want)
	}
	if got := xpsFix("esc\x1b", 1, cpuset.NewCPUSet(2)); got != `echo 4 > /sys/class/net/$'esc\x1b'/queues/tx-1/xps_cpus` {
		t.Errorf("xpsFix = %q", got)
	}
}
