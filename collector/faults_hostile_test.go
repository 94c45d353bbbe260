package collector

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The hostile half of the fault matrix (issue 12): a FIFO or a device node
// where a kernel file belongs. Before the bounded readers each FIFO case
// hung the scrape for good and /dev/zero was read without end; now the
// file is refused at once as "not a regular file", its collector fails and
// logs the path, and every other collector's output is what it was on the
// intact tree. Each case is bounded by the fault matrix' own scrape (no
// deadline needed: nothing may block).

// fmFIFO replaces rel (a file or a directory) with a named pipe.
func fmFIFO(rel string) func(*testing.T, string) {
	return func(t *testing.T, root string) {
		p := filepath.Join(root, rel)
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fmSymlink replaces rel with a symlink to target.
func fmSymlink(rel, target string) func(*testing.T, string) {
	return func(t *testing.T, root string) {
		p := filepath.Join(root, rel)
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFaultMatrixHostile(t *testing.T) {
	irqUsers := []string{"interrupts", "irqaffinity", "findings", "feeds", "netqueues"}
	fmRun(t, []fmCase{
		{name: "FIFO as /proc/interrupts", host: bigHost, breakIt: fmFIFO("proc/interrupts"),
			touched: irqUsers, failing: []string{"interrupts"}, wantLog: []string{"proc/interrupts", "named pipe"}},
		{name: "/dev/zero as /proc/interrupts", host: bigHost, breakIt: fmSymlink("proc/interrupts", "/dev/zero"),
			touched: irqUsers, failing: []string{"interrupts"}, wantLog: []string{"proc/interrupts", "character device"}},
		{name: "FIFO as /proc/softirqs", host: bigHost, breakIt: fmFIFO("proc/softirqs"),
			touched: []string{"softirqs", "findings"}, failing: []string{"softirqs"}, wantLog: []string{"proc/softirqs", "named pipe"}},
		{name: "FIFO as /proc/net/softnet_stat", host: bigHost, breakIt: fmFIFO("proc/net/softnet_stat"),
			touched: []string{"softnet", "findings"}, failing: []string{"softnet"}, wantLog: []string{"softnet_stat", "named pipe"}},
		{name: "FIFO as /proc/stat", host: bigHost, breakIt: fmFIFO("proc/stat"),
			touched: []string{"cputime", "findings", "irqtime"}, failing: []string{"cputime", "irqtime"}, wantLog: []string{"proc/stat", "named pipe"}},
		{name: "FIFO as smp_affinity_list", host: bigHost, breakIt: fmFIFO("proc/irq/100/smp_affinity_list"),
			touched: []string{"irqaffinity", "findings", "netqueues", "feeds"}, failing: []string{"irqaffinity"},
			wantLog: []string{"irq/100/smp_affinity_list", "named pipe"}},
		{name: "FIFO as rps_cpus", host: bigHost, breakIt: fmFIFO("sys/class/net/ens1f0/queues/rx-0/rps_cpus"),
			touched: []string{"netqueues", "findings", "feeds"}, failing: []string{"netqueues"},
			wantLog: []string{"rx-0/rps_cpus", "named pipe"}},
		{name: "FIFO as cpu/online", host: bigHost, breakIt: fmFIFO("sys/devices/system/cpu/online"),
			touched: []string{"cputopology", "findings", "netqueues"}, failing: []string{"cputopology"},
			wantLog: []string{"cpu/online", "named pipe"}},
		{name: "FIFO as /sys/class/net", host: bigHost, breakIt: fmFIFO("sys/class/net"),
			touched: []string{"netqueues", "findings", "feeds", "interrupts", "irqaffinity", "tunables", "queuestats", "napi", "ethtool", "bql"},
			failing: []string{"netqueues", "bql"}, wantLog: []string{"class/net"}},
		{name: "FIFO as byte_queue_limits/limit", host: bigHost, breakIt: fmFIFO("sys/class/net/ens1f0/queues/tx-2/byte_queue_limits/limit"),
			touched: []string{"bql", "netqueues", "findings"}, failing: []string{"bql"},
			wantLog: []string{"tx-2/byte_queue_limits/limit", "named pipe"}},
		{name: "/dev/zero as ifindex", host: bigHost, breakIt: fmSymlink("sys/class/net/ens1f0/ifindex", "/dev/zero"),
			touched: []string{"queuestats", "napi", "ethtool"}},
	})
}
