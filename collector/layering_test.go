package collector

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestLayering: the packages below the collectors (readers, snapshot,
// diagnosis, report) do not depend on the Prometheus client library, so
// that data flows one way (ARCHITECTURE.md).
func TestLayering(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	pkgs := []string{"./internal/cpuset", "./internal/kernel/...", "./internal/irqclass", "./internal/snapshot",
		"./internal/diagnosis", "./internal/report"}
	cmd := exec.Command(goBin, append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, pkgs...)...)
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/prometheus/client_golang") ||
			dep == "github.com/netirq/netirq_exporter/collector" {
			t.Errorf("a package below the collectors depends on %s", dep)
		}
	}
}
