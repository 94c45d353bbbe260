package procfs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"golang.org/x/sys/unix"
)

// This file finds the kernel threads that run network receive work outside
// of interrupt exit: napi/<dev>-<napi_id> (threaded nic.NAPI, one per nic.NAPI
// instance of a device with /sys/class/net/<dev>/threaded on),
// ksoftirqd/N (softirq work that spilled out of irq exit, one per CPU) and
// backlog_napi/N (6.10+, net/core/dev.c: one per CPU, bound to it, when the
// per-CPU backlog NAPI is threaded: boot parameter thread_backlog_napi, or
// always on PREEMPT_RT; it then processes what RPS, RFS and netif_rx (veth,
// loopback, tunnels) queue to that CPU's backlog, instead of NET_RX softirq).
//
// Finding them cheaply: every kernel thread is a child of kthreadd (PID 2),
// and /proc/2/task/2/children (CONFIG_PROC_CHILDREN, on in the usual distro
// kernels) lists exactly those: a few per CPU plus driver threads (59 on the
// 2-CPU build machine), however many user processes the host runs. Only
// their comm is read, and stat and status only for the matches. Without
// that file, or when PID 2 is not kthreadd (a procfs of a child PID
// namespace, which shows no kernel thread at all), every /proc/<pid>/comm
// is read instead, one open+read per process on the host (see
// BenchmarkKernelThreads* and the numbers in threads.go's doc). Kernel
// threads live in the initial PID namespace only: a containerised exporter
// needs the host's procfs (hostPID, or the host's /proc mounted at
// --path.procfs).
//
// The kernel documents the children file as exact only for stopped tasks: a
// thread created or exiting during the read may be missed for one scrape.
// Kernel threads are long-lived, so this is accepted.
//
// stat and status have small parsers of their own (ParseThreadStat,
// ParseThreadAllowedCPUs) rather than procfs' Proc.Stat and
// Proc.NewStatus: three stat fields are needed, procfs stats the PID
// directory before each read, and its Cpus_allowed_list parse turns
// garbage into CPU 0. TestParseThreadStatFixtures checks both agree.
//
// Names: since Linux 5.17 /proc shows a kernel thread's full name (up to 63
// bytes). Older kernels cut comm at 15 bytes, which can cut the NAPI ID of
// napi/<dev>-<id>; the netdev netlink NAPI list (Snapshot.NAPIs, its
// ThreadPID), when that part was read, names those threads authoritatively.

// USER_HZ: /proc/stat and /proc/<pid>/stat count time in clock ticks of
// USER_HZ, which is 100 on every architecture this exporter is built for
// (the kernel converts to it whatever its CONFIG_HZ).
const userHZ = 100

const (
	napiThreadPrefix      = "napi/"
	ksoftirqdThreadPrefix = "ksoftirqd/"
	backlogThreadPrefix   = "backlog_napi/"
	kthreaddPID           = 2
	procThreadReadLimit   = 64 << 10
)

// ParseKernelThreadName classifies a kernel thread's name. For
// "napi/eth0-8193" it returns Device "eth0", NAPIID 8193 and CPU -1 (a
// device name may contain '-': the ID follows the last one); for
// "ksoftirqd/3" and "backlog_napi/3" CPU 3. ok is false for any other
// name, and for a napi name whose ID does not parse (a name cut at 15 bytes
// by an old kernel).
func ParseKernelThreadName(name string) (t KernelThread, ok bool) {
	t = KernelThread{Name: name, CPU: -1, LastCPU: -1}
	switch {
	case strings.HasPrefix(name, backlogThreadPrefix):
		cpu, ok := parseDecimal(name[len(backlogThreadPrefix):], 31)
		if !ok || cpu >= cpuset.MaxCPUs {
			return t, false
		}
		t.Backlog, t.CPU = true, int(cpu)
		return t, true
	case strings.HasPrefix(name, napiThreadPrefix):
		rest := name[len(napiThreadPrefix):]
		i := strings.LastIndexByte(rest, '-')
		if i <= 0 {
			return t, false
		}
		id, ok := parseDecimal(rest[i+1:], 32)
		if !ok {
			return t, false
		}
		t.Device, t.NAPIID = rest[:i], uint32(id)
		return t, true
	case strings.HasPrefix(name, ksoftirqdThreadPrefix):
		cpu, ok := parseDecimal(name[len(ksoftirqdThreadPrefix):], 31)
		if !ok || cpu >= cpuset.MaxCPUs {
			return t, false
		}
		t.CPU = int(cpu)
		return t, true
	}
	return t, false
}

// parseDecimal accepts only ASCII digits (no sign, no blanks).
func parseDecimal(s string, bitSize int) (uint64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, bitSize)
	return v, err == nil
}

// ThreadStat is what this exporter uses of /proc/<pid>/stat.
type ThreadStat struct {
	PID   int
	Comm  string
	UTime uint64 // field 14, clock ticks (USER_HZ)
	STime uint64 // field 15
	// Processor is field 39, the CPU the task last ran on; -1 when the
	// kernel prints fewer fields (before 2.2).
	Processor int
}

// ParseThreadStat parses one /proc/<pid>/stat line. The comm is everything
// between the first '(' and the last ')': it may hold blanks and parentheses.
func ParseThreadStat(r io.Reader) (ThreadStat, error) {
	b, err := io.ReadAll(io.LimitReader(r, procThreadReadLimit+1))
	if err != nil {
		return ThreadStat{}, err
	}
	if len(b) > procThreadReadLimit {
		return ThreadStat{}, fmt.Errorf("stat: longer than %d bytes", procThreadReadLimit)
	}
	l, rp := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if l < 0 || rp < l {
		return ThreadStat{}, fmt.Errorf("stat: no (comm) in %s", kernel.Describe(string(b)))
	}
	st := ThreadStat{Comm: string(b[l+1 : rp]), Processor: -1}
	pid, ok := parseDecimal(string(bytes.TrimSpace(b[:l])), 31)
	if !ok {
		return ThreadStat{}, fmt.Errorf("stat: bad pid (%s)", kernel.Describe(string(bytes.TrimSpace(b[:l]))))
	}
	st.PID = int(pid)
	// fields[0] is field 3 (state): field N is fields[N-3].
	fields := strings.Fields(string(b[rp+1:]))
	const utime, stime, processor = 14 - 3, 15 - 3, 39 - 3
	if len(fields) <= stime {
		return ThreadStat{}, fmt.Errorf("stat: %d fields after comm, want at least %d", len(fields), stime+1)
	}
	var okU, okS bool
	st.UTime, okU = parseDecimal(fields[utime], 64)
	st.STime, okS = parseDecimal(fields[stime], 64)
	if !okU || !okS {
		return ThreadStat{}, fmt.Errorf("stat: bad utime/stime (%s; %s)", kernel.Describe(fields[utime]), kernel.Describe(fields[stime]))
	}
	if len(fields) > processor {
		cpu, ok := parseDecimal(fields[processor], 31)
		if !ok || cpu >= cpuset.MaxCPUs {
			return ThreadStat{}, fmt.Errorf("stat: bad processor (%s)", kernel.Describe(fields[processor]))
		}
		st.Processor = int(cpu)
	}
	return st, nil
}

// ParseThreadAllowedCPUs returns the Cpus_allowed_list of a
// /proc/<pid>/status file.
func ParseThreadAllowedCPUs(r io.Reader) (cpuset.CPUSet, error) {
	sc := bufio.NewScanner(io.LimitReader(r, procThreadReadLimit))
	sc.Buffer(make([]byte, 0, 4096), procThreadReadLimit)
	for sc.Scan() {
		key, val, found := strings.Cut(sc.Text(), ":")
		if found && key == "Cpus_allowed_list" {
			set, err := cpuset.ParseCPUList(val)
			if err != nil {
				return cpuset.CPUSet{}, fmt.Errorf("status: Cpus_allowed_list: %w", err)
			}
			return set, nil
		}
	}
	if err := sc.Err(); err != nil {
		return cpuset.CPUSet{}, fmt.Errorf("status: %w", err)
	}
	return cpuset.CPUSet{}, errors.New("status: no Cpus_allowed_list line")
}

// ReadKernelThreads returns the napi/*, backlog_napi/N and ksoftirqd/N
// threads below procRoot: napi threads sorted by device and NAPI ID, then
// backlog_napi and then ksoftirqd by CPU. napiByPID (may be nil) maps a napi thread's PID to its NAPI instance
// as netlink reports it; it wins over the name, which old kernels cut.
//
// A thread that exits between listing and reading is left out silently. A
// thread whose stat is garbage is left out and named in the error; one
// whose status is unreadable is kept with an empty Allowed and named in the
// error. Only an unreadable procRoot returns no threads.
func ReadKernelThreads(procRoot string, napiByPID map[int]nic.NAPI) ([]KernelThread, error) {
	pids, err := kernelThreadCandidates(procRoot)
	if err != nil {
		return nil, fmt.Errorf("kernel threads: %w", err)
	}
	problems := kernel.NewProblems("kernel threads")
	var out []KernelThread
	for _, pid := range pids {
		t, ok, err := readKernelThread(procRoot, pid, napiByPID)
		problems.Add(err)
		if ok {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, compareKernelThreads)
	return out, problems.Err()
}

// compareKernelThreads orders napi threads (by device, NAPI ID), then
// backlog_napi and ksoftirqd threads (by CPU); PID breaks ties.
func compareKernelThreads(a, b KernelThread) int {
	if ak, bk := a.Kind(), b.Kind(); ak != bk {
		return int(ak) - int(bk)
	}
	if c := strings.Compare(a.Device, b.Device); c != 0 {
		return c
	}
	if a.NAPIID != b.NAPIID {
		if a.NAPIID < b.NAPIID {
			return -1
		}
		return 1
	}
	if a.CPU != b.CPU {
		return a.CPU - b.CPU
	}
	return a.PID - b.PID
}

// kernelThreadCandidates lists kthreadd's children when the kernel offers
// them, otherwise every PID below procRoot.
func kernelThreadCandidates(procRoot string) ([]int, error) {
	if pids, ok := KthreaddChildren(procRoot); ok {
		return pids, nil
	}
	return allPIDs(procRoot)
}

// KthreaddChildren reads /proc/2/task/2/children. ok is false when the file
// is absent or unreadable, or PID 2 is not kthreadd (a child PID namespace's
// procfs), so that the caller scans every PID instead.
func KthreaddChildren(procRoot string) (pids []int, ok bool) {
	pidDir := filepath.Join(procRoot, strconv.Itoa(kthreaddPID))
	comm, err := readProcComm(filepath.Join(pidDir, "comm"))
	if err != nil || comm != "kthreadd" {
		return nil, false
	}
	text, err := readProcSmall(filepath.Join(pidDir, "task", strconv.Itoa(kthreaddPID), "children"))
	if err != nil {
		return nil, false
	}
	for _, f := range strings.Fields(text) {
		if pid, ok := parseDecimal(f, 31); ok && pid > 0 {
			pids = append(pids, int(pid))
		}
	}
	return pids, true
}

// allPIDs lists the numeric entries of procRoot.
func allPIDs(procRoot string) ([]int, error) {
	d, err := os.OpenFile(procRoot, os.O_RDONLY|syscall.O_DIRECTORY, 0) // never blocks on a FIFO
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var pids []int
	for {
		names, err := d.Readdirnames(512)
		for _, name := range names {
			if pid, ok := parseDecimal(name, 31); ok && pid > 0 {
				pids = append(pids, int(pid))
			}
		}
		if errors.Is(err, io.EOF) || (err == nil && len(names) == 0) {
			return pids, nil
		}
		if err != nil {
			return pids, err
		}
	}
}

// readKernelThread reads one candidate. ok is false when it is no napi or
// ksoftirqd thread, or vanished (err nil), or its stat is bad (err set).
func readKernelThread(procRoot string, pid int, napiByPID map[int]nic.NAPI) (KernelThread, bool, error) {
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	comm, err := readProcComm(filepath.Join(dir, "comm"))
	if err != nil {
		if threadVanished(dir, err) {
			return KernelThread{}, false, nil
		}
		return KernelThread{}, false, err
	}
	napi, byNetlink := napiByPID[pid]
	if !isThreadOfInterest(comm, byNetlink) {
		return KernelThread{}, false, nil
	}

	stat, err := parseProcFile(filepath.Join(dir, "stat"), ParseThreadStat)
	if err != nil {
		if threadVanished(dir, err) {
			return KernelThread{}, false, nil
		}
		return KernelThread{}, false, err
	}
	// The PID may have been reused since comm was read: trust stat's name.
	t, ok := ParseKernelThreadName(stat.Comm)
	if byNetlink && strings.HasPrefix(stat.Comm, napiThreadPrefix) {
		t = KernelThread{Name: stat.Comm, Device: napi.Device, NAPIID: napi.ID, CPU: -1}
		ok = true
	}
	if !ok {
		return KernelThread{}, false, nil
	}
	t.PID = pid
	t.UserSeconds = float64(stat.UTime) / userHZ
	t.SystemSeconds = float64(stat.STime) / userHZ
	t.LastCPU = stat.Processor

	t.Allowed, err = parseProcFile(filepath.Join(dir, "status"), ParseThreadAllowedCPUs)
	if err != nil {
		if threadVanished(dir, err) {
			return KernelThread{}, false, nil
		}
		return t, true, err
	}
	return t, true, nil
}

// isThreadOfInterest says from the name alone whether to read a thread.
func isThreadOfInterest(comm string, knownNAPI bool) bool {
	if knownNAPI && strings.HasPrefix(comm, napiThreadPrefix) {
		return true
	}
	_, ok := ParseKernelThreadName(comm)
	return ok
}

// threadVanished reports whether err comes from a task that is gone: the
// read failed with ENOENT or ESRCH and its /proc directory is gone too (a
// missing file in a directory that still exists is a broken tree, not an
// exit).
func threadVanished(dir string, err error) bool {
	if errors.Is(err, syscall.ESRCH) {
		return true
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	_, statErr := os.Stat(dir)
	return errors.Is(statErr, fs.ErrNotExist)
}

// readProcSmall reads a small /proc file with bare open/read/close system
// calls: for the many comm files of a scan this halves the cost of
// os.ReadFile (3.6 µs against 8 µs per file on the build machine), which
// also registers the descriptor with the runtime poller and stats the file.
// Errors are *fs.PathError wrapping the errno, as os's are.
func readProcSmall(path string) (string, error) {
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return "", &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			if len(buf) > procThreadReadLimit {
				if err := kernel.CheckRegularFD(fd, path); err != nil {
					return "", err
				}
				return "", fmt.Errorf("%s: longer than %d bytes", path, procThreadReadLimit)
			}
			buf = append(buf, make([]byte, len(buf))...)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", readError(fd, path, err)
		}
		if n == 0 {
			if len(buf) == 0 {
				if err := kernel.CheckRegularFD(fd, path); err != nil {
					return "", err // a FIFO reads as empty when non-blocking
				}
			}
			if len(buf) > procThreadReadLimit {
				return "", fmt.Errorf("%s: longer than %d bytes", path, procThreadReadLimit)
			}
			return string(buf), nil
		}
		buf = buf[:len(buf)+n]
	}
}

// readProcComm reads /proc/<pid>/comm with one read: the file is a single
// seq_file record of at most 64 bytes (a kernel thread's full name), so a
// read that does not fill the buffer has it all; this saves the read that
// would only see EOF (a third of the cost of a scan).
func readProcComm(path string) (string, error) {
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return "", &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var buf [128]byte
	var n int
	for {
		n, err = unix.Read(fd, buf[:])
		if err != unix.EINTR {
			break
		}
	}
	if err == nil && n == 0 {
		err = kernel.CheckRegularFD(fd, path) // a comm file is never empty; a FIFO is
	} else if err != nil {
		err = readError(fd, path, err)
	}
	unix.Close(fd)
	switch {
	case err != nil:
		return "", err
	case n == len(buf):
		return readProcSmall(path) // not a comm file as the kernel writes it
	}
	return strings.TrimRight(string(buf[:n]), "\n"), nil
}

// readError is the error of a failed read of fd: EAGAIN means fd is a FIFO
// or a socket opened non-blocking, which is said as such.
func readError(fd int, path string, err error) error {
	if err == unix.EAGAIN {
		if nr := kernel.CheckRegularFD(fd, path); nr != nil {
			return nr
		}
	}
	return &fs.PathError{Op: "read", Path: path, Err: err}
}

// parseProcFile reads path with readProcSmall and parses it, naming the
// file in parse errors.
func parseProcFile[T any](path string, parse func(io.Reader) (T, error)) (T, error) {
	text, err := readProcSmall(path)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := parse(strings.NewReader(text))
	if err != nil {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return v, err
}

// ThreadKind says which of the receive kthreads a KernelThread is, in the
// order ReadKernelThreads sorts them.
type ThreadKind int

const (
	ThreadNAPI      ThreadKind = iota // napi/<dev>-<id>: may run anywhere its mask allows
	ThreadBacklog                     // backlog_napi/N: bound to CPU N, its work is not softirq time
	ThreadKsoftirqd                   // ksoftirqd/N: bound to CPU N, its work is softirq time
)

// Kind is the thread's kind: a napi thread has no CPU of its own.
func (t KernelThread) Kind() ThreadKind {
	switch {
	case t.CPU < 0:
		return ThreadNAPI
	case t.Backlog:
		return ThreadBacklog
	}
	return ThreadKsoftirqd
}

// PerCPU reports whether the kernel makes one such thread per CPU, bound
// to it (smpboot: kthread_bind with PF_NO_SETAFFINITY, so neither taskset
// nor cpuset can move it).
func (k ThreadKind) PerCPU() bool { return k != ThreadNAPI }

// KernelThread is a napi/<dev>-<id>, backlog_napi/N or ksoftirqd/N kernel
// thread.
type KernelThread struct {
	PID  int
	Name string // comm: "napi/eth0-8193", "backlog_napi/3", "ksoftirqd/3"
	// Device and NAPIID are parsed from a napi thread's name; CPU is the
	// N of ksoftirqd/N and backlog_napi/N (-1 for napi threads), Backlog
	// tells those two apart.
	Device        string
	NAPIID        uint32
	CPU           int
	Backlog       bool
	UserSeconds   float64
	SystemSeconds float64
	LastCPU       int           // the CPU it last ran on (stat field 39)
	Allowed       cpuset.CPUSet // Cpus_allowed_list
}
