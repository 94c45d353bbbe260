package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// HostTree builds a fake sysfs/procfs below t.TempDir().
type HostTree struct {
	t    *testing.T
	root string
}

// NewHostTree returns a tree rooted in a new t.TempDir().
func NewHostTree(t *testing.T) HostTree {
	t.Helper()
	return HostTree{t: t, root: t.TempDir()}
}

// Path is rel below the root.
func (h HostTree) Path(rel string) string { return filepath.Join(h.root, filepath.FromSlash(rel)) }

// File writes content to rel, creating its directories.
func (h HostTree) File(rel, content string) {
	h.t.Helper()
	p := h.Path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// Dir creates the directory rel.
func (h HostTree) Dir(rel string) {
	h.t.Helper()
	if err := os.MkdirAll(h.Path(rel), 0o755); err != nil {
		h.t.Fatal(err)
	}
}

// Link makes rel a symlink to target (relative to rel's directory).
func (h HostTree) Link(rel, target string) {
	h.t.Helper()
	p := h.Path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		h.t.Fatal(err)
	}
}

// Unreadable makes rel unreadable and reports whether that worked; root
// reads through permissions, so tests that need EACCES run themselves
// again as nobody first (RerunAsNobody).
func (h HostTree) Unreadable(rel string) bool {
	h.t.Helper()
	if os.Geteuid() == 0 {
		return false
	}
	if err := os.Chmod(h.Path(rel), 0); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { os.Chmod(h.Path(rel), 0o644) })
	return true
}

// VirtualDev adds a virtual device with one rx and one tx queue.
func (h HostTree) VirtualDev(name string) {
	h.t.Helper()
	h.Link("sys/class/net/"+name, "../../devices/virtual/net/"+name)
	dev := "sys/devices/virtual/net/" + name
	h.File(dev+"/threaded", "0\n")
	h.File(dev+"/queues/rx-0/rps_cpus", "00\n")
	h.File(dev+"/queues/rx-0/rps_flow_cnt", "0\n")
	h.File(dev+"/queues/tx-0/xps_rxqs", "0\n")
}
