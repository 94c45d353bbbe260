package hostgen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/cpuset"
)

// Kernel threads, as a 6.18 kernel shows them below /proc: kthreadd (PID
// 2) lists its children in task/2/children; each per-CPU thread has comm,
// stat (utime, stime and the last CPU in fields 14, 15 and 39) and status
// (Cpus_allowed_list: its own CPU, to which smpboot binds it).

// ThreadPID is the PID Generate gives a per-CPU thread: the kernel starts
// a handful per CPU (cpuhp, migration, ksoftirqd, kworkers ...), so they
// are spread 8 apart; ksoftirqd/N is the 5th, backlog_napi/N the 7th.
func ThreadPID(backlog bool, cpu int) int {
	if backlog {
		return 16 + 8*cpu
	}
	return 14 + 8*cpu
}

// writeThreads writes kthreadd and the per-CPU receive threads of the
// online CPUs. Their system time follows the CPU's NIC load: ksoftirqd
// gets what spilled (a fiftieth of the NET_RX work), backlog_napi the RPS
// and netif_rx work (a tenth).
func (h *host) writeThreads(w *writer) {
	load := h.nicLoad()
	var children []string
	for _, c := range h.online {
		h.writeThread(w, ThreadPID(false, c), "ksoftirqd/"+strconv.Itoa(c), c, load[c]/5000)
		children = append(children, strconv.Itoa(ThreadPID(false, c)))
		if h.spec.BacklogThreads {
			h.writeThread(w, ThreadPID(true, c), "backlog_napi/"+strconv.Itoa(c), c, load[c]/1000+h.rng.Uint64N(100))
			children = append(children, strconv.Itoa(ThreadPID(true, c)))
		}
	}
	w.file("proc/2/comm", "kthreadd\n")
	w.file("proc/2/task/2/children", strings.Join(children, " ")+" ")
}

// writeThread writes /proc/<pid>/{comm,stat,status} of a thread bound to cpu.
func (h *host) writeThread(w *writer, pid int, comm string, cpu int, stime uint64) {
	dir := "proc/" + strconv.Itoa(pid) + "/"
	w.file(dir+"comm", comm+"\n")
	w.file(dir+"stat", fmt.Sprintf("%d (%s) S 2 0 0 0 -1 69238848 0 0 0 0 0 %d 0 0 20 0 1 0 3 0 0 "+
		"18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 %d 0 1 0 0 0 0 0 0 0 0 0 0 0\n", pid, comm, stime, cpu))
	w.file(dir+"status", "Name:\t"+comm+"\nUmask:\t0000\nState:\tS (sleeping)\nTgid:\t"+strconv.Itoa(pid)+
		"\nPPid:\t2\nCpus_allowed:\t"+FormatMask([]int{cpu}, h.spec.CPUs)+"\nCpus_allowed_list:\t"+cpuset.NewCPUSet(cpu).String()+
		"\nMems_allowed_list:\t0\n")
}
