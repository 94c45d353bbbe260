//go:build linux

// Package netlab builds a small, self-contained network lab for real-traffic
// tests of netirq_exporter: two network namespaces made by the test (a sender
// and a receiver), a multi-queue veth pair between them, a sysfs instance of
// the receiver namespace mounted at a temporary directory (so the exporter
// can be pointed at the receiver's devices through a real sysfs), and a UDP
// flood driven by cmd/netirq_loadgen.
//
// Safety rules the lab keeps:
//
//   - It never touches the root namespace's interfaces, /proc/sys or
//     /proc/irq. Devices are created directly inside the lab's namespaces
//     (`ip -n <sender> link add ... peer ... netns <receiver>`), the only
//     sysfs files written are the queue files of the lab's own receiver veth
//     under the lab's own sysfs mount, and the only qdisc ever attached is on
//     the lab's own sender veth.
//   - Traffic only goes between the lab's namespaces: the veth pair carries
//     10.250.0.1/30 (sender) and 10.250.0.2/30 (receiver), configured inside
//     the namespaces only, and netirq_loadgen refuses targets that are not on
//     a local interface's prefix.
//   - Everything is bounded: floods in time (default 5 s, at most 60 s) and
//     packet count, every wait and retry loop in count and time.
//   - Cleanup always: Close (and, for New, t.Cleanup) kills the lab's
//     processes, unmounts the sysfs, deletes the namespaces (which deletes the
//     veth pair) and the temporary directory. A lab records its owner in
//     /run/netirq-netlab/<name>.json before it creates anything, and Create
//     first sweeps labs whose owner process is gone (crashed runs).
//
// Queue selection on veth (Linux 6.x, measured on 6.18): the sender's tx
// queue is picked per socket by the flow hash (skb_tx_hash), so many UDP
// sockets with distinct source ports spread over the tx queues; CPU pinning
// of the sender does not matter unless XPS is configured on the sender veth.
// Without XDP/GRO (the default) the receiving veth hands the skb to
// netif_rx with skb->queue_mapping still holding the sender's tx queue
// number, and RPS reads that as "recorded rx queue = queue_mapping - 1".
// Hence tx-0 and tx-1 both use rx-0's rps_cpus, tx-k uses rx-(k-1)'s, and
// with N tx queues on the sender the receiver's rx-(N-1) rps_cpus is never
// consulted. Options.SenderTxQueues = Queues+1 makes every receiver rx
// queue's RPS map reachable (rx-0 then gets about 2/(N+1) of the flows).
package netlab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/testutil"
	"golang.org/x/sys/unix"
)

// Addresses of the lab's /30, configured only inside the lab's namespaces.
var (
	senderAddr   = netip.MustParseAddr("10.250.0.1")
	receiverAddr = netip.MustParseAddr("10.250.0.2")
)

const (
	prefixLen = 30

	// DefaultQueues is the default rx/tx queue count of each veth end.
	DefaultQueues = 4
	maxQueues     = 64

	// DefaultFloodDuration and MaxFloodDuration bound a Flood.
	DefaultFloodDuration = 5 * time.Second
	MaxFloodDuration     = 60 * time.Second
	// DefaultFloodPackets and MaxFloodPackets bound a Flood's packet count.
	DefaultFloodPackets = 100_000_000
	MaxFloodPackets     = 1_000_000_000

	defaultPort = 9000

	// stateDir records each live lab's owner so a later run can tell a
	// crashed run's leftovers from a concurrent run's lab.
	stateDir = "/run/netirq-netlab"
	netnsDir = "/run/netns"

	defaultNamePrefix = "nlx"
	cmdTimeout        = 15 * time.Second
	maxSweep          = 256
)

var (
	nameRE        = regexp.MustCompile(`^[a-z][a-z0-9]{0,12}$`)
	defaultNameRE = regexp.MustCompile(`^nlx[0-9a-f]{6}$`)
	maskRE        = regexp.MustCompile(`^[0-9a-fA-F]{1,8}(,[0-9a-fA-F]{1,8})*$`)
)

// Options configure a Lab. The zero value is usable.
type Options struct {
	// Queues is the rx and tx queue count of each veth end (numrxqueues and
	// numtxqueues), default 4.
	Queues int
	// SenderTxQueues overrides the sender end's numtxqueues (default:
	// Queues). Set it to Queues+1 to reach every receiver rx queue's RPS map
	// (see the package doc).
	SenderTxQueues int
	// Name is the lab's name, used for the namespaces (<name>-snd,
	// <name>-rcv) and the veth ends (<name>-s, <name>-r): a lower-case
	// letter then at most 12 lower-case letters or digits. Default: "nlx"
	// and 6 random hex digits, so parallel or aborted runs never collide.
	Name string
	// LoadgenPath is a prebuilt netirq_loadgen binary. Default: the
	// environment variable NETLAB_LOADGEN, else one built with `go build`
	// once per process on the first Flood.
	LoadgenPath string
	// CountTxQueues attaches an mq qdisc to the sender veth so that packets
	// per sender tx queue can be read (TxQueuePackets, FloodResult). It adds
	// a qdisc on the transmit path; leave it off for throughput runs.
	CountTxQueues bool
}

// Lab is a sender and a receiver namespace joined by a multi-queue veth pair.
type Lab struct {
	locked         bool // holds a reference to the machine lock
	name           string
	queues         int
	senderTxQueues int
	sndNS, rcvNS   string
	sndDev, rcvDev string
	dir            string // temp dir holding the sysfs mount point
	sysfs          string // dir + "/sys"
	countTxQueues  bool
	loadgen        string
	statePath      string

	mu      sync.Mutex
	closed  bool
	procs   map[*proc]struct{}
	started []int // pids of every process the lab started (for tests)
}

// ErrUnsupported is wrapped by the errors Create returns when the host
// cannot run a lab (not root, ip missing).
var ErrUnsupported = errors.New("netlab: unsupported environment")

// Prerequisites reports why a lab cannot be created here, or nil.
func Prerequisites() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("%w: needs Linux, this is %s", ErrUnsupported, runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: needs root (euid 0) to create network namespaces and mount sysfs; euid is %d", ErrUnsupported, os.Geteuid())
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("%w: the `ip` command (iproute2) is missing: apt-get install -y iproute2", ErrUnsupported)
	}
	return nil
}

// New creates a lab for a test and registers its cleanup. When the host
// cannot run a lab (not root, `ip` missing) it skips the test, except when
// the environment variable CI is "true": then it fails it, so CI never
// silently skips real-traffic tests.
func New(t testing.TB, opts Options) *Lab {
	t.Helper()
	if err := Prerequisites(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true: real-traffic tests must not skip)", err)
		}
		t.Skipf("skipping: %v", err)
	}
	// Generous: the wait for the machine lock counts too, and another test
	// binary's lab (the end-to-end test holds one for minutes) may have it.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	lab, err := Create(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lab.Close(); err != nil {
			t.Errorf("netlab: cleanup: %v", err)
		}
	})
	return lab
}

// Create builds a lab outside of tests; call Close when done.
func Create(ctx context.Context, opts Options) (_ *Lab, err error) {
	if err := Prerequisites(); err != nil {
		return nil, err
	}
	if opts.Queues == 0 {
		opts.Queues = DefaultQueues
	}
	if opts.Queues < 1 || opts.Queues > maxQueues {
		return nil, fmt.Errorf("netlab: Queues must be in [1, %d], got %d", maxQueues, opts.Queues)
	}
	if opts.SenderTxQueues == 0 {
		opts.SenderTxQueues = opts.Queues
	}
	if opts.SenderTxQueues < 1 || opts.SenderTxQueues > maxQueues+1 {
		return nil, fmt.Errorf("netlab: SenderTxQueues must be in [1, %d], got %d", maxQueues+1, opts.SenderTxQueues)
	}
	if opts.Name == "" {
		var b [3]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		opts.Name = defaultNamePrefix + hex.EncodeToString(b[:])
	}
	if !nameRE.MatchString(opts.Name) {
		return nil, fmt.Errorf("netlab: Name %q must match %s", opts.Name, nameRE)
	}
	if opts.LoadgenPath == "" {
		opts.LoadgenPath = os.Getenv("NETLAB_LOADGEN")
	}

	// Leftovers of crashed runs first (never a live lab of another process).
	if err := Sweep(ctx); err != nil {
		return nil, fmt.Errorf("netlab: sweeping stale labs: %w", err)
	}

	l := &Lab{
		name:           opts.Name,
		queues:         opts.Queues,
		senderTxQueues: opts.SenderTxQueues,
		sndNS:          opts.Name + "-snd",
		rcvNS:          opts.Name + "-rcv",
		sndDev:         opts.Name + "-s",
		rcvDev:         opts.Name + "-r",
		countTxQueues:  opts.CountTxQueues,
		loadgen:        opts.LoadgenPath,
		statePath:      filepath.Join(stateDir, opts.Name+".json"),
		procs:          map[*proc]struct{}{},
	}
	for _, ns := range []string{l.sndNS, l.rcvNS} {
		if _, err := os.Lstat(filepath.Join(netnsDir, ns)); err == nil {
			return nil, fmt.Errorf("netlab: namespace %s already exists and belongs to a live lab", ns)
		}
	}
	l.dir = filepath.Join(os.TempDir(), "netlab-"+l.name)
	l.sysfs = filepath.Join(l.dir, "sys")
	// One lab at a time per machine: the tests assert on per-CPU counters
	// that a second flood (another test package running in parallel) would
	// disturb. The lock is released by Close or by the process dying.
	if err := acquireMachineLock(ctx); err != nil {
		return nil, err
	}
	l.locked = true
	// Record ownership before creating anything, so that a crash at any
	// later point leaves something Sweep recognises.
	if err := l.writeState(); err != nil {
		releaseMachineLock()
		return nil, err
	}
	defer func() {
		if err != nil {
			if cerr := l.Close(); cerr != nil {
				err = fmt.Errorf("%w (and cleanup: %v)", err, cerr)
			}
		}
	}()
	if err := l.setup(ctx); err != nil {
		return nil, fmt.Errorf("netlab %s: %w", l.name, err)
	}
	return l, nil
}

func (l *Lab) setup(ctx context.Context) error {
	q := strconv.Itoa(l.queues)
	steps := [][]string{
		{"netns", "add", l.sndNS},
		{"netns", "add", l.rcvNS},
		// Created inside the sender namespace, peer created directly inside
		// the receiver namespace: the root namespace never sees them.
		{"-n", l.sndNS, "link", "add", l.sndDev,
			"numtxqueues", strconv.Itoa(l.senderTxQueues), "numrxqueues", q,
			"type", "veth", "peer", "name", l.rcvDev,
			"numtxqueues", q, "numrxqueues", q, "netns", l.rcvNS},
		{"-n", l.sndNS, "addr", "add", fmt.Sprintf("%s/%d", senderAddr, prefixLen), "dev", l.sndDev},
		{"-n", l.rcvNS, "addr", "add", fmt.Sprintf("%s/%d", receiverAddr, prefixLen), "dev", l.rcvDev},
		{"-n", l.sndNS, "link", "set", "lo", "up"},
		{"-n", l.rcvNS, "link", "set", "lo", "up"},
		{"-n", l.sndNS, "link", "set", l.sndDev, "up"},
		{"-n", l.rcvNS, "link", "set", l.rcvDev, "up"},
	}
	for _, s := range steps {
		if _, err := runCmd(ctx, "ip", s...); err != nil {
			return err
		}
	}
	if l.countTxQueues {
		if _, err := runCmd(ctx, "tc", "-n", l.sndNS, "qdisc", "add", "dev", l.sndDev, "root", "handle", "1:", "mq"); err != nil {
			return fmt.Errorf("attaching mq to the sender veth for CountTxQueues: %w", err)
		}
	}
	if err := os.Mkdir(l.dir, 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(l.sysfs, 0o755); err != nil {
		return err
	}
	if err := InNetns(filepath.Join(netnsDir, l.rcvNS), func() error {
		// A sysfs instance takes the network namespace of the mounting
		// thread: this one shows the receiver namespace's devices.
		return unix.Mount("sysfs", l.sysfs, "sysfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	}); err != nil {
		return fmt.Errorf("mounting the receiver namespace's sysfs at %s: %w", l.sysfs, err)
	}
	// Do not let the mount propagate to peers of /tmp's mount.
	_ = unix.Mount("", l.sysfs, "", unix.MS_PRIVATE, "")
	return l.verifySysfs()
}

// verifySysfs checks that the lab's sysfs is the receiver namespace's: its
// class/net holds exactly lo and the receiver veth (no root-namespace
// device), and devices/system/cpu is there.
func (l *Lab) verifySysfs() error {
	ents, err := os.ReadDir(filepath.Join(l.sysfs, "class", "net"))
	if err != nil {
		return fmt.Errorf("lab sysfs: %w", err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 2 || !contains(names, "lo") || !contains(names, l.rcvDev) {
		return fmt.Errorf("lab sysfs %s/class/net lists %v, want exactly [lo %s]: not the receiver namespace's sysfs", l.sysfs, names, l.rcvDev)
	}
	if fi, err := os.Stat(filepath.Join(l.sysfs, "devices", "system", "cpu")); err != nil || !fi.IsDir() {
		return fmt.Errorf("lab sysfs has no devices/system/cpu: %v", err)
	}
	for i := 0; i < l.queues; i++ {
		for _, d := range []string{"rx-", "tx-"} {
			if _, err := os.Stat(filepath.Join(l.queueDir(d, i))); err != nil {
				return fmt.Errorf("lab sysfs: receiver veth queue: %w", err)
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Name is the lab's name.
func (l *Lab) Name() string { return l.name }

// Queues is the rx/tx queue count of the receiver veth.
func (l *Lab) Queues() int { return l.queues }

// SysfsRoot is the mount point of the receiver namespace's sysfs
// ("<tmp>/sys"): point the exporter's sysfs path here.
func (l *Lab) SysfsRoot() string { return l.sysfs }

// RxDevice is the receiver veth's name (inside ReceiverNS).
func (l *Lab) RxDevice() string { return l.rcvDev }

// TxDevice is the sender veth's name (inside SenderNS).
func (l *Lab) TxDevice() string { return l.sndDev }

// RxAddr is the receiver veth's address.
func (l *Lab) RxAddr() netip.Addr { return receiverAddr }

// TxAddr is the sender veth's address.
func (l *Lab) TxAddr() netip.Addr { return senderAddr }

// SenderNS is the sender namespace's name (as for `ip netns`).
func (l *Lab) SenderNS() string { return l.sndNS }

// ReceiverNS is the receiver namespace's name (as for `ip netns`).
func (l *Lab) ReceiverNS() string { return l.rcvNS }

func (l *Lab) queueDir(kind string, q int) string {
	return filepath.Join(l.sysfs, "class", "net", l.rcvDev, "queues", kind+strconv.Itoa(q))
}

func (l *Lab) queueFile(kind string, q int, file string) (string, error) {
	if q < 0 || q >= l.queues {
		return "", fmt.Errorf("netlab: queue %d out of range [0, %d)", q, l.queues)
	}
	return filepath.Join(l.queueDir(kind, q), file), nil
}

func (l *Lab) writeLabFile(path, val string) error {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return errors.New("netlab: lab is closed")
	}
	// O_WRONLY without O_CREATE/O_TRUNC: only existing sysfs attributes.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, werr := f.WriteString(val)
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("writing %q: %w", val, werr)
	}
	return cerr
}

func readTrim(path string) (string, error) {
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}

func checkMask(mask string) error {
	if len(mask) > 2304 || !maskRE.MatchString(mask) {
		return fmt.Errorf("netlab: bad CPU mask %q (want hex words separated by commas)", mask)
	}
	return nil
}

// SetRPS writes the receiver veth's rx-<queue>/rps_cpus (a hex CPU mask such
// as "2"; "0" disables RPS on that queue).
func (l *Lab) SetRPS(queue int, mask string) error {
	if err := checkMask(mask); err != nil {
		return err
	}
	p, err := l.queueFile("rx-", queue, "rps_cpus")
	if err != nil {
		return err
	}
	return l.writeLabFile(p, mask)
}

// RPS reads the receiver veth's rx-<queue>/rps_cpus as the kernel prints it.
func (l *Lab) RPS(queue int) (string, error) {
	p, err := l.queueFile("rx-", queue, "rps_cpus")
	if err != nil {
		return "", err
	}
	return readTrim(p)
}

// SetRPSFlowCnt writes the receiver veth's rx-<queue>/rps_flow_cnt.
func (l *Lab) SetRPSFlowCnt(queue int, n int) error {
	if n < 0 || n > 1<<20 {
		return fmt.Errorf("netlab: rps_flow_cnt %d out of range", n)
	}
	p, err := l.queueFile("rx-", queue, "rps_flow_cnt")
	if err != nil {
		return err
	}
	return l.writeLabFile(p, strconv.Itoa(n))
}

// SetXPS writes the receiver veth's tx-<queue>/xps_cpus.
func (l *Lab) SetXPS(queue int, mask string) error {
	if err := checkMask(mask); err != nil {
		return err
	}
	p, err := l.queueFile("tx-", queue, "xps_cpus")
	if err != nil {
		return err
	}
	return l.writeLabFile(p, mask)
}

// XPS reads the receiver veth's tx-<queue>/xps_cpus.
func (l *Lab) XPS(queue int) (string, error) {
	p, err := l.queueFile("tx-", queue, "xps_cpus")
	if err != nil {
		return "", err
	}
	return readTrim(p)
}

// SetThreaded writes the receiver veth's "threaded" (threaded NAPI). Note:
// a veth has NAPI instances only with XDP or GRO enabled; otherwise the
// kernel answers EOPNOTSUPP, which is returned as is.
func (l *Lab) SetThreaded(on bool) error {
	v := "0"
	if on {
		v = "1"
	}
	return l.writeLabFile(filepath.Join(l.sysfs, "class", "net", l.rcvDev, "threaded"), v)
}

// RxStats reads the receiver veth's rx_packets and rx_dropped from the lab
// sysfs.
func (l *Lab) RxStats() (packets, dropped uint64, err error) {
	base := filepath.Join(l.sysfs, "class", "net", l.rcvDev, "statistics")
	if packets, err = readUint(filepath.Join(base, "rx_packets")); err != nil {
		return
	}
	dropped, err = readUint(filepath.Join(base, "rx_dropped"))
	return
}

func readUint(path string) (uint64, error) {
	s, err := readTrim(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(s, 10, 64)
}

var tcClassRE = regexp.MustCompile(`(?m)^class mq 1:([0-9a-f]+) .*\n\s*Sent \d+ bytes (\d+) pkt`)

// TxQueuePackets returns the packets sent per sender tx queue, read from the
// mq qdisc's classes. Needs Options.CountTxQueues.
func (l *Lab) TxQueuePackets(ctx context.Context) ([]uint64, error) {
	if !l.countTxQueues {
		return nil, errors.New("netlab: TxQueuePackets needs Options.CountTxQueues")
	}
	out, err := runCmd(ctx, "tc", "-n", l.sndNS, "-s", "class", "show", "dev", l.sndDev)
	if err != nil {
		return nil, err
	}
	res := make([]uint64, l.senderTxQueues)
	for _, m := range tcClassRE.FindAllStringSubmatch(out, -1) {
		minor, _ := strconv.ParseUint(m[1], 16, 32) // tc prints minors in hex
		n, _ := strconv.ParseUint(m[2], 10, 64)
		if minor >= 1 && int(minor) <= len(res) {
			res[minor-1] = n
		}
	}
	return res, nil
}

// RPSQueueOfTxQueue is the receiver rx queue whose rps_cpus the kernel
// consults for a packet sent on sender tx queue tx (see the package doc).
func RPSQueueOfTxQueue(tx int) int {
	if tx == 0 {
		return 0
	}
	return tx - 1
}

// FloodOptions configure a Flood. The zero value floods for 5 s.
type FloodOptions struct {
	// Duration of the send, default 5 s, at most 60 s.
	Duration time.Duration
	// Packets bounds the datagrams sent, default 100e6, at most 1e9.
	Packets uint64
	// Flows is the number of UDP sockets (distinct source ports), default 64.
	Flows int
	// Size is the UDP payload in bytes, default 64.
	Size int
	// Rate in packets per second over all flows, 0 = as fast as possible.
	Rate uint64
	// SenderCPUs runs one sender worker pinned to each listed CPU. Empty:
	// one unpinned worker.
	SenderCPUs []int
	// SinkCPUs pins the sink's receive loop to the first CPU listed; empty:
	// unpinned.
	SinkCPUs []int
	// Port is the UDP destination port, default 9000.
	Port int
}

// FloodResult reports a Flood.
type FloodResult struct {
	Sent        uint64        // datagrams the sender handed to the kernel
	SendErrors  uint64        // failed sends
	Received    uint64        // datagrams the sink read
	SocketDrops uint64        // drops on the sink's socket
	SendTime    time.Duration // the sender's own send time
	PPS         float64       // Sent / SendTime
	// RxPackets and RxDropped are the receiver veth's rx_packets and
	// rx_dropped deltas over the flood.
	RxPackets, RxDropped uint64
	// TxQueuePackets (with Options.CountTxQueues) is the delta of packets
	// per sender tx queue; RPSQueuePackets maps it onto the receiver rx
	// queue whose RPS map was consulted (RPSQueueOfTxQueue).
	TxQueuePackets  []uint64
	RPSQueuePackets []uint64
}

// Flood runs netirq_loadgen as a sink in the receiver namespace and as a
// sender in the sender namespace, UDP to RxAddr(), bounded by
// opts.Duration and opts.Packets, and returns the counts.
func (l *Lab) Flood(ctx context.Context, opts FloodOptions) (FloodResult, error) {
	var res FloodResult
	if opts.Duration == 0 {
		opts.Duration = DefaultFloodDuration
	}
	if opts.Duration < 0 || opts.Duration > MaxFloodDuration {
		return res, fmt.Errorf("netlab: flood Duration must be in (0, %s]", MaxFloodDuration)
	}
	if opts.Packets == 0 {
		opts.Packets = DefaultFloodPackets
	}
	if opts.Packets > MaxFloodPackets {
		return res, fmt.Errorf("netlab: flood Packets must be at most %d", MaxFloodPackets)
	}
	if opts.Flows == 0 {
		opts.Flows = 64
	}
	if opts.Size == 0 {
		opts.Size = 64
	}
	if opts.Port == 0 {
		opts.Port = defaultPort
	}
	bin, err := l.loadgenBinary(ctx)
	if err != nil {
		return res, err
	}
	target := netip.AddrPortFrom(receiverAddr, uint16(opts.Port)).String()

	// Sink first; it lives a little longer than the sender and is stopped
	// with SIGTERM once the sender is done.
	sinkArgs := []string{"--sink", "--listen", target, "--packets", "0",
		"--duration", (opts.Duration + 15*time.Second).String()}
	if len(opts.SinkCPUs) > 0 {
		sinkArgs = append(sinkArgs, "--cpus", strconv.Itoa(opts.SinkCPUs[0]))
	}
	sink, err := l.start(l.rcvNS, bin, sinkArgs...)
	if err != nil {
		return res, fmt.Errorf("starting sink: %w", err)
	}
	defer l.reap(sink)
	if err := waitReady(sink.stderr, 10*time.Second); err != nil {
		return res, fmt.Errorf("sink not ready: %w", err)
	}

	rx0, drop0, err := l.RxStats()
	if err != nil {
		return res, err
	}
	var txq0 []uint64
	if l.countTxQueues {
		if txq0, err = l.TxQueuePackets(ctx); err != nil {
			return res, err
		}
	}

	sendArgs := []string{"--target", target,
		"--duration", opts.Duration.String(),
		"--packets", strconv.FormatUint(opts.Packets, 10),
		"--flows", strconv.Itoa(opts.Flows),
		"--size", strconv.Itoa(opts.Size),
		"--rate", strconv.FormatUint(opts.Rate, 10)}
	if len(opts.SenderCPUs) > 0 {
		var cs []string
		for _, c := range opts.SenderCPUs {
			cs = append(cs, strconv.Itoa(c))
		}
		sendArgs = append(sendArgs, "--cpus", strings.Join(cs, ","))
	}
	sender, err := l.start(l.sndNS, bin, sendArgs...)
	if err != nil {
		return res, fmt.Errorf("starting sender: %w", err)
	}
	defer l.reap(sender)
	if err := sender.wait(ctx, opts.Duration+20*time.Second); err != nil {
		return res, fmt.Errorf("sender: %w; stderr: %s", err, sender.stderr.String())
	}
	var sr struct {
		Sent, Errors uint64
		Seconds, PPS float64
	}
	if err := lastJSON(sender.stdout.String(), &sr); err != nil {
		return res, fmt.Errorf("sender output %q: %w", sender.stdout.String(), err)
	}
	res.Sent, res.SendErrors, res.PPS = sr.Sent, sr.Errors, sr.PPS
	res.SendTime = time.Duration(sr.Seconds * float64(time.Second))

	// The sink drains its socket after SIGTERM; give the backlog a moment.
	time.Sleep(100 * time.Millisecond)
	rx1, drop1, err := l.RxStats()
	if err != nil {
		return res, err
	}
	res.RxPackets, res.RxDropped = rx1-rx0, drop1-drop0
	if l.countTxQueues {
		txq1, err := l.TxQueuePackets(ctx)
		if err != nil {
			return res, err
		}
		res.TxQueuePackets = make([]uint64, len(txq1))
		res.RPSQueuePackets = make([]uint64, l.queues)
		for i := range txq1 {
			res.TxQueuePackets[i] = txq1[i] - txq0[i]
			if q := RPSQueueOfTxQueue(i); q < l.queues {
				res.RPSQueuePackets[q] += res.TxQueuePackets[i]
			}
		}
	}

	_ = sink.cmd.Process.Signal(syscall.SIGTERM)
	if err := sink.wait(ctx, 5*time.Second); err != nil {
		return res, fmt.Errorf("sink: %w; stderr: %s", err, sink.stderr.String())
	}
	var kr struct {
		Received    uint64
		SocketDrops uint64 `json:"socket_drops"`
	}
	if err := lastJSON(sink.stdout.String(), &kr); err != nil {
		return res, fmt.Errorf("sink output %q: %w", sink.stdout.String(), err)
	}
	res.Received, res.SocketDrops = kr.Received, kr.SocketDrops
	return res, nil
}

// proc is a process started by the lab.
type proc struct {
	cmd            *exec.Cmd
	done           chan struct{} // closed once Wait returned
	stdout, stderr *testutil.LogBuffer
}

// start runs bin inside namespace ns via `ip netns exec` (which execs the
// command, so the pid is the loadgen's own) and tracks it for Close.
func (l *Lab) start(ns, bin string, args ...string) (*proc, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, errors.New("netlab: lab is closed")
	}
	p := &proc{done: make(chan struct{}), stdout: &testutil.LogBuffer{}, stderr: &testutil.LogBuffer{}}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", ns, bin}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	// Killed with us if we die; Sweep covers the rest.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	l.procs[p] = struct{}{}
	l.started = append(l.started, p.cmd.Process.Pid)
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// wait waits for p to exit within timeout (or ctx); on timeout it kills it
// and reports an error. A non-zero exit is an error.
func (p *proc) wait(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("pid %d did not exit within %s; killed", p.cmd.Process.Pid, timeout)
	case <-ctx.Done():
		p.cmd.Process.Kill()
		<-p.done
		return ctx.Err()
	}
	if !p.cmd.ProcessState.Success() {
		return fmt.Errorf("pid %d: %s", p.cmd.Process.Pid, p.cmd.ProcessState)
	}
	return nil
}

// reap kills p if still running, waits for it (bounded) and forgets it.
func (l *Lab) reap(p *proc) {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Kill()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
		}
	}
	l.mu.Lock()
	delete(l.procs, p)
	l.mu.Unlock()
}

// waitReady waits for the sink's {"ready":true} line on its stderr.
func waitReady(stderr *testutil.LogBuffer, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		s := stderr.String()
		if strings.Contains(s, `"ready":true`) {
			return nil
		}
		if strings.Contains(s, "netirq_loadgen:") {
			return errors.New(strings.TrimSpace(s))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no ready line within %s; stderr: %q", timeout, stderr.String())
}

func lastJSON(out string, v any) error {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return json.Unmarshal([]byte(lines[len(lines)-1]), v)
}

// PIDs returns the pids of every process the lab has started.
func (l *Lab) PIDs() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.started...)
}

// Close kills the lab's processes, unmounts its sysfs, deletes its
// namespaces (and so the veth pair) and its temporary directory. It is safe
// to call more than once.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	var procs []*proc
	for c := range l.procs {
		procs = append(procs, c)
	}
	l.mu.Unlock()
	for _, c := range procs {
		l.reap(c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := teardown(ctx, l.name, l.sndNS, l.rcvNS, l.dir, l.statePath)
	if l.locked {
		releaseMachineLock()
	}
	return err
}

// The machine lock lets one process at a time run labs: the tests assert on
// per-CPU counters that another test binary's flood would disturb (go test
// runs packages in parallel). Labs of the same process share it.
var (
	machineLockMu   sync.Mutex
	machineLockFile *os.File
	machineLockRefs int
)

// HoldTrafficLock holds, until t ends, the machine lock that labs hold:
// for a test that sends heavy traffic without a lab (the load test's 100
// scrapers over loopback), which would disturb the per-CPU counters a
// lab's test asserts on. Without root it does nothing: no lab runs then.
func HoldTrafficLock(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if err := acquireMachineLock(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(releaseMachineLock)
}

func acquireMachineLock(ctx context.Context) error {
	machineLockMu.Lock()
	defer machineLockMu.Unlock()
	if machineLockRefs == 0 {
		f, err := lockExclusive(ctx, filepath.Join(stateDir, "traffic.lock"))
		if err != nil {
			return err
		}
		machineLockFile = f
	}
	machineLockRefs++
	return nil
}

func releaseMachineLock() {
	machineLockMu.Lock()
	defer machineLockMu.Unlock()
	machineLockRefs--
	if machineLockRefs == 0 {
		machineLockFile.Close() // releases the flock
		machineLockFile = nil
	}
}

// lockExclusive takes an exclusive flock on path, waiting (bounded by ctx
// and 10 minutes) while another process's lab holds it.
func lockExclusive(ctx context.Context, path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(15 * time.Minute)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if err != unix.EWOULDBLOCK || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("netlab: locking %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("netlab: waiting for %s: %w", path, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// teardown removes a lab's resources; used by Close and Sweep. Each step is
// attempted even when an earlier one fails.
func teardown(ctx context.Context, name, sndNS, rcvNS, dir, statePath string) error {
	var errs []error
	for _, ns := range []string{sndNS, rcvNS} {
		if err := killNetnsProcs(ctx, ns); err != nil {
			errs = append(errs, err)
		}
	}
	if dir != "" {
		if err := unmountAll(filepath.Join(dir, "sys")); err != nil {
			errs = append(errs, err)
		} else if err := removeUnmounted(dir); err != nil {
			errs = append(errs, err)
		}
	}
	for _, ns := range []string{sndNS, rcvNS} {
		if _, err := os.Lstat(filepath.Join(netnsDir, ns)); err != nil {
			continue
		}
		if _, err := runCmd(ctx, "ip", "netns", "delete", ns); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 && statePath != "" {
		if err := os.Remove(statePath); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("tearing down lab %s: %w", name, errors.Join(errs...))
	}
	return nil
}

// removeUnmounted removes dir unless anything is mounted at or below it.
func removeUnmounted(dir string) error {
	m, err := mountPoints()
	if err != nil {
		return err
	}
	for mp := range m {
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			return fmt.Errorf("not removing %s: %s is still mounted", dir, mp)
		}
	}
	return os.RemoveAll(dir)
}

// killNetnsProcs SIGKILLs the processes whose network namespace is ns — by
// construction only the lab's own (loadgens it started). Bounded rounds.
func killNetnsProcs(ctx context.Context, ns string) error {
	if _, err := os.Lstat(filepath.Join(netnsDir, ns)); err != nil {
		return nil
	}
	for round := 0; round < 10; round++ {
		out, err := runCmd(ctx, "ip", "netns", "pids", ns)
		if err != nil {
			return err
		}
		pids := strings.Fields(out)
		if len(pids) == 0 {
			return nil
		}
		for i, p := range pids {
			if i >= 1024 {
				break
			}
			if pid, err := strconv.Atoi(p); err == nil && pid > 1 && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("processes still in namespace %s after 10 rounds of SIGKILL", ns)
}

// unmountAll unmounts path (all stacked mounts on it), lazily if busy, and
// verifies that it is no longer a mount point.
func unmountAll(path string) error {
	for i := 0; i < 8; i++ {
		mounted, err := isMountPoint(path)
		if err != nil {
			return err
		}
		if !mounted {
			return nil
		}
		if err := unix.Unmount(path, 0); err != nil {
			if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
				return fmt.Errorf("unmounting %s: %w", path, err)
			}
		}
	}
	return fmt.Errorf("%s still mounted after 8 unmounts", path)
}

// mountPoints lists the mount points in /proc/self/mountinfo (unescaped)
// with their filesystem type.
func mountPoints() (map[string]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 {
			continue
		}
		fstype := ""
		for i, fl := range fields {
			if fl == "-" && i+1 < len(fields) {
				fstype = fields[i+1]
				break
			}
		}
		out[unescapeMountinfo(fields[4])] = fstype
	}
	return out, sc.Err()
}

func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isMountPoint(path string) (bool, error) {
	m, err := mountPoints()
	if err != nil {
		return false, err
	}
	_, ok := m[path]
	return ok, nil
}

// IsMounted reports whether path is a mount point (per /proc/self/mountinfo).
func IsMounted(path string) (bool, error) { return isMountPoint(path) }

// NetnsExists reports whether a named network namespace exists.
func NetnsExists(ns string) bool {
	_, err := os.Lstat(filepath.Join(netnsDir, ns))
	return err == nil
}

// state is what /run/netirq-netlab/<name>.json records about a lab.
type state struct {
	Name      string `json:"name"`
	PID       int    `json:"pid"`
	StartTime uint64 `json:"start_time"` // /proc/<pid>/stat field 22
	SenderNS  string `json:"sender_ns"`
	RecvNS    string `json:"receiver_ns"`
	Dir       string `json:"dir"`
}

func (l *Lab) writeState() error {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return err
	}
	st, err := procStartTime(os.Getpid())
	if err != nil {
		return err
	}
	b, _ := json.Marshal(state{Name: l.name, PID: os.Getpid(), StartTime: st,
		SenderNS: l.sndNS, RecvNS: l.rcvNS, Dir: l.dir})
	f, err := os.OpenFile(l.statePath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("netlab: lab name %s in use? %w", l.name, err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// procStartTime is field 22 of /proc/<pid>/stat (start time in clock ticks
// since boot), which tells a live owner from a reused pid.
func procStartTime(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("bad /proc/pid/stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); field 22 is f[19].
	if len(f) < 20 {
		return 0, errors.New("short /proc/pid/stat")
	}
	return strconv.ParseUint(f[19], 10, 64)
}

func alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := procStartTime(pid)
	return err == nil && st == start
}

var labDirRE = regexp.MustCompile(`^netlab-([a-z][a-z0-9]{0,12})$`)
var loadgenDirRE = regexp.MustCompile(`^netlab-loadgen-([0-9]+)-([0-9]+)-[0-9]+$`)

// Sweep removes what crashed earlier runs left behind: labs recorded in
// /run/netirq-netlab whose owner process is gone, namespaces with the default
// lab name pattern that no live lab owns, lab sysfs mounts and temporary
// directories of such labs, and loadgen build directories of dead processes.
// Labs of live processes (parallel runs) are never touched. Bounded to 256
// entries of each kind per call.
func Sweep(ctx context.Context) error {
	var errs []error
	live := map[string]bool{}
	stale := map[string]state{}
	if ents, err := os.ReadDir(stateDir); err == nil {
		for i, e := range ents {
			if i >= maxSweep {
				break
			}
			if !strings.HasSuffix(e.Name(), ".json") {
				continue
			}
			p := filepath.Join(stateDir, e.Name())
			var st state
			b, err := os.ReadFile(p)
			if err != nil || json.Unmarshal(b, &st) != nil || !nameRE.MatchString(st.Name) ||
				st.Name+".json" != e.Name() {
				continue // not ours to interpret; leave it
			}
			if alive(st.PID, st.StartTime) {
				live[st.Name] = true
			} else {
				stale[st.Name] = st
			}
		}
	}
	// Namespaces of the default pattern without a live owner: their state
	// file is written before and removed after them, so no state = stale.
	if ents, err := os.ReadDir(netnsDir); err == nil {
		for i, e := range ents {
			if i >= maxSweep {
				break
			}
			n := e.Name()
			base, ok := strings.CutSuffix(n, "-snd")
			if !ok {
				base, ok = strings.CutSuffix(n, "-rcv")
			}
			if !ok || live[base] {
				continue
			}
			if _, known := stale[base]; !known && defaultNameRE.MatchString(base) {
				stale[base] = state{Name: base, SenderNS: base + "-snd", RecvNS: base + "-rcv"}
			}
		}
	}
	// Lab directories (with their sysfs mount) in the temp dir, and loadgen
	// build directories of dead processes.
	tmp := os.TempDir()
	if ents, err := os.ReadDir(tmp); err == nil {
		n := 0
		for _, e := range ents {
			if n >= maxSweep {
				break
			}
			if !e.IsDir() {
				continue
			}
			if m := labDirRE.FindStringSubmatch(e.Name()); m != nil {
				n++
				name := m[1]
				if live[name] {
					continue
				}
				st, ok := stale[name]
				if !ok {
					st = state{Name: name}
				}
				st.Dir = filepath.Join(tmp, e.Name())
				stale[name] = st
			}
			if m := loadgenDirRE.FindStringSubmatch(e.Name()); m != nil {
				n++
				pid, _ := strconv.Atoi(m[1])
				start, _ := strconv.ParseUint(m[2], 10, 64)
				if !alive(pid, start) {
					os.RemoveAll(filepath.Join(tmp, e.Name()))
				}
			}
		}
	}
	for _, st := range stale {
		sp := filepath.Join(stateDir, st.Name+".json")
		// Re-check: a lab created while we were listing has written its
		// state file before creating its namespaces and directory.
		if b, err := os.ReadFile(sp); err == nil {
			var cur state
			if json.Unmarshal(b, &cur) == nil && alive(cur.PID, cur.StartTime) {
				continue
			}
		}
		st.SenderNS, st.RecvNS = st.Name+"-snd", st.Name+"-rcv"
		if st.Dir == "" || filepath.Base(st.Dir) != "netlab-"+st.Name {
			// Only ever remove a directory named after the lab.
			st.Dir = filepath.Join(os.TempDir(), "netlab-"+st.Name)
		}
		if err := teardown(ctx, st.Name, st.SenderNS, st.RecvNS, st.Dir, sp); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// InNetns runs fn on a locked OS thread that has joined the network
// namespace at nsPath. If the thread cannot be returned to its original
// namespace it stays locked and is discarded when the goroutine ends.
func InNetns(nsPath string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open(nsPath)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", nsPath, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}

// runCmd runs a command with a timeout and returns its stdout.
func runCmd(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// loadgenBinary returns the lab's loadgen: Options.LoadgenPath, or one built
// once per process into a temporary directory named after the process (so
// Sweep can remove it once the process is gone).
func (l *Lab) loadgenBinary(ctx context.Context) (string, error) {
	if l.loadgen != "" {
		return l.loadgen, nil
	}
	buildOnce.Do(func() { buildPath, buildErr = buildLoadgen(ctx) })
	return buildPath, buildErr
}

func buildLoadgen(ctx context.Context) (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, serr := os.Stat(gobin); serr != nil {
			return "", fmt.Errorf("netlab: no go toolchain to build netirq_loadgen (set Options.LoadgenPath or NETLAB_LOADGEN): %w", err)
		}
	}
	// The module root: two levels above this source file, else the cwd.
	root := ""
	if _, file, _, ok := runtime.Caller(0); ok {
		r := filepath.Join(filepath.Dir(file), "..", "..")
		if _, err := os.Stat(filepath.Join(r, "cmd", "netirq_loadgen")); err == nil {
			root = r
		}
	}
	st, err := procStartTime(os.Getpid())
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", fmt.Sprintf("netlab-loadgen-%d-%d-", os.Getpid(), st))
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "netirq_loadgen")
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", out, "github.com/netirq/netirq_exporter/cmd/netirq_loadgen")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("netlab: building netirq_loadgen: %w: %s", err, stderr.String())
	}
	return out, nil
}
