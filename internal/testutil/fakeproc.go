package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FakeProc builds /proc-like trees for the reader tests.
type FakeProc struct {
	t    *testing.T
	Root string
}

// NewFakeProc makes an empty proc directory below t.TempDir().
func NewFakeProc(t *testing.T) FakeProc {
	root := filepath.Join(t.TempDir(), "proc")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	return FakeProc{t, root}
}

func (p FakeProc) Write(rel, content string) {
	p.t.Helper()
	path := filepath.Join(p.Root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// Kthreadd makes PID 2 with the given children list.
func (p FakeProc) Kthreadd(children ...int) {
	var b strings.Builder
	for _, c := range children {
		fmt.Fprintf(&b, "%d ", c)
	}
	p.Write("2/comm", "kthreadd\n")
	p.Write("2/task/2/children", b.String())
}

// Thread makes /proc/<pid>/{comm,stat,status}.
func (p FakeProc) Thread(pid int, comm string, utime, stime uint64, processor int, allowed string) {
	dir := strconv.Itoa(pid)
	p.Write(dir+"/comm", comm+"\n")
	p.Write(dir+"/stat", FakeStat(pid, comm, utime, stime, processor))
	p.Write(dir+"/status", "Name:\t"+comm+"\nUmask:\t0022\nCpus_allowed:\tf\nCpus_allowed_list:\t"+allowed+"\nMems_allowed_list:\t0\n")
}

// StandardThreads builds a tree with two ksoftirqd, two napi threads (one of
// a device whose name holds '-'), a kworker, a user process outside
// Kthreadd's children and one child that vanished.
func StandardThreads(t *testing.T) FakeProc {
	p := NewFakeProc(t)
	p.Kthreadd(3, 14, 22, 300, 301, 999)
	p.Thread(1, "systemd", 100, 200, 1, "0-3")
	p.Thread(3, "kworker/0:0H", 1, 1, 0, "0")
	p.Thread(14, "ksoftirqd/0", 4, 18, 0, "0")
	p.Thread(22, "ksoftirqd/1", 7, 230, 1, "1")
	p.Thread(300, "napi/veth-a-b-8194", 12, 345, 3, "2-3")
	p.Thread(301, "napi/eth0-8193", 0, 99, 2, "0-3")
	// 999 is listed but gone (exited between the two reads).
	// 500 is a napi thread that is no child of kthreadd: the children list
	// is used, so it is not seen.
	p.Thread(500, "napi/ghost-1", 1, 1, 0, "0")
	return p
}

func FakeStat(pid int, comm string, utime, stime uint64, processor int) string {
	return fmt.Sprintf("%d (%s) S 2 0 0 0 -1 69238848 0 0 0 0 %d %d 0 0 20 0 1 0 24 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 17 %d 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		pid, comm, utime, stime, processor)
}

// FakeTunables builds <root>/proc/sys/net/core and <root>/sys/class/net.
func FakeTunables(t *testing.T) (procRoot, sysRoot string) {
	t.Helper()
	root := t.TempDir()
	procRoot, sysRoot = filepath.Join(root, "proc"), filepath.Join(root, "sys")
	files := map[string]string{
		"proc/sys/net/core/netdev_budget":         "600\n",
		"proc/sys/net/core/netdev_budget_usecs":   "8000\n",
		"proc/sys/net/core/netdev_max_backlog":    "5000\n",
		"proc/sys/net/core/dev_weight":            "64\n",
		"proc/sys/net/core/flow_limit_table_len":  "8192\n",
		"proc/sys/net/core/flow_limit_cpu_bitmap": "00000000,00000005\n",
		"proc/sys/net/core/rps_sock_flow_entries": "0\n",
		// eth0 busy-polls: defer 2 IRQs, 200 µs flush timer.
		"sys/devices/pci0000:00/0000:00:03.0/net/eth0/gro_flush_timeout":    "200000\n",
		"sys/devices/pci0000:00/0000:00:03.0/net/eth0/napi_defer_hard_irqs": "2\n",
		"sys/devices/virtual/net/veth-x/gro_flush_timeout":                  "0\n",
		"sys/devices/virtual/net/veth-x/napi_defer_hard_irqs":               "0\n",
		// An old kernel (before 5.7): no napi_defer_hard_irqs.
		"sys/devices/virtual/net/old0/gro_flush_timeout": "0\n",
		"sys/class/net/bonding_masters":                  "bond0\n",
	}
	for rel, content := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for dev, target := range map[string]string{
		"eth0":   "../../devices/pci0000:00/0000:00:03.0/net/eth0",
		"veth-x": "../../devices/virtual/net/veth-x",
		"old0":   "../../devices/virtual/net/old0",
		"gone0":  "../../devices/virtual/net/gone0", // dangling: vanished
	} {
		if err := os.Symlink(target, filepath.Join(sysRoot, "class", "net", dev)); err != nil {
			t.Fatal(err)
		}
	}
	return procRoot, sysRoot
}

// FakeProcesses makes /proc/<pid>/comm for each pid → comm.
// FakeProcesses writes <procRoot>/<pid>/comm for each process.
func FakeProcesses(t *testing.T, procRoot string, procs map[int]string) {
	t.Helper()
	for pid, comm := range procs {
		dir := filepath.Join(procRoot, strconv.Itoa(pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "comm"), []byte(comm+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
