package testutil

import (
	"os"
	"os/exec"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
)

// NeedTool finds a command the test needs; it skips without it, but fails
// in CI, where `make deps` must have installed it.
func NeedTool(t *testing.T, name, debPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := name + " not found: install the Debian package " + debPackage + " (make deps does, as root)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// OnlineCPUs reads this machine's online CPUs; it skips the test without them.
func OnlineCPUs(t testing.TB) cpuset.CPUSet {
	t.Helper()
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		t.Skipf("no /sys/devices/system/cpu/online: %v", err)
	}
	set, err := cpuset.ParseCPUList(string(b))
	if err != nil || set.IsEmpty() {
		t.Fatalf("online CPUs %q: %v", b, err)
	}
	return set
}

// NeedRoot skips a test that needs root, or fails it under CI=true.
func NeedRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("needs root (euid %d); CI=true: live netlink tests must not skip", os.Geteuid())
		}
		t.Skipf("skipping: needs root (euid %d) for a lab network namespace", os.Geteuid())
	}
}
