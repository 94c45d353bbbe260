//go:build linux

// Command netirq_loadgen is a small, bounded UDP load generator used by the
// real-traffic tests of netirq_exporter (see internal/netlab).
//
// Sender mode:
//
//	netirq_loadgen --target 10.250.0.2:9000 --duration 5s --packets 1000000 \
//	    --flows 64 --size 64 [--rate 0] [--cpus 0,1]
//
// opens --flows connected UDP sockets (each with its own, kernel-chosen
// source port, so each is a distinct 5-tuple flow), and sends --size byte
// datagrams round-robin over them until --duration has passed or --packets
// datagrams have been handed to the kernel, whichever comes first. With
// --cpus, one worker per listed CPU is started, locked to its OS thread and
// pinned there with sched_setaffinity; the flows are dealt out over the
// workers. --rate limits the total packets per second (0 = as fast as
// possible). On exit it prints one JSON line: {"sent":N,"errors":M,...}.
//
// Sink mode:
//
//	netirq_loadgen --sink --listen :9000 --duration 10s [--cpus 1]
//
// counts the datagrams received on one UDP socket until --duration has passed,
// --packets datagrams were received, or SIGINT/SIGTERM arrives, then drains
// what is still queued (until 100 ms pass without a datagram, at most 2 s)
// and prints {"received":N,...}. A line {"ready":true,...} is written to stderr once the
// socket is bound.
//
// Safety: both modes are always bounded in time (--duration must be > 0 and
// at most 10m) and the sender also in count (--packets must be > 0 and at
// most 1e10). The sender refuses any --target that is not
//
//   - a loopback address (127.0.0.0/8, ::1), or
//   - inside one of the lab ranges 10.250.0.0/16 or 192.0.2.0/24 (TEST-NET-1)
//     AND on-link, i.e. inside the prefix of an address configured on an
//     interface of the network namespace the sender runs in (so it never goes
//     through a gateway: in the lab it only reaches the peer veth in the
//     lab's receiver namespace),
//
// unless --allow-target is given, in which case the operator is responsible
// for the target.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	maxDuration = 10 * time.Minute
	maxPackets  = 10_000_000_000
	maxFlows    = 4096
	maxSize     = 65507
)

// labRanges are the address ranges the sender accepts without
// --allow-target, provided the target is on-link (see onLink).
var labRanges = []netip.Prefix{
	netip.MustParsePrefix("10.250.0.0/16"),
	netip.MustParsePrefix("192.0.2.0/24"),
}

type config struct {
	sink        bool
	target      string
	listen      string
	duration    time.Duration
	packets     uint64
	flows       int
	size        int
	rate        uint64
	cpus        []int
	allowTarget bool
	rcvbuf      int
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "netirq_loadgen:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()

	var res any
	if cfg.sink {
		res, err = runSink(ctx, cfg, stderr)
	} else {
		var target netip.AddrPort
		target, err = checkTarget(cfg.target, cfg.allowTarget, localPrefixes)
		if err == nil {
			res, err = runSender(ctx, cfg, target)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "netirq_loadgen:", err)
		return 1
	}
	b, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(b))
	return 0
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	var cpus string
	var packets int64
	var rate int64
	fs := flag.NewFlagSet("netirq_loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&cfg.sink, "sink", false, "receive and count datagrams instead of sending")
	fs.StringVar(&cfg.target, "target", "", "sender: destination host:port (loopback or an on-link lab address, see --allow-target)")
	fs.StringVar(&cfg.listen, "listen", ":9000", "sink: address to listen on")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "stop after this long (0 < d <= 10m)")
	fs.Int64Var(&packets, "packets", 10_000_000, "sender: stop after this many datagrams; sink: stop after receiving this many (0 = sink only: no count limit)")
	fs.IntVar(&cfg.flows, "flows", 64, "sender: number of UDP sockets, each with its own source port")
	fs.IntVar(&cfg.size, "size", 64, "sender: UDP payload size in bytes")
	fs.Int64Var(&rate, "rate", 0, "sender: total packets per second, 0 = as fast as possible")
	fs.StringVar(&cpus, "cpus", "", "comma separated CPU list (ranges a-b allowed); one worker pinned per CPU")
	fs.BoolVar(&cfg.allowTarget, "allow-target", false, "sender: accept a --target outside loopback and the on-link lab ranges 10.250.0.0/16, 192.0.2.0/24")
	fs.IntVar(&cfg.rcvbuf, "rcvbuf", 4<<20, "sink: socket receive buffer in bytes (SO_RCVBUFFORCE when permitted)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if cfg.duration <= 0 || cfg.duration > maxDuration {
		return cfg, fmt.Errorf("--duration must be in (0, %s], got %s", maxDuration, cfg.duration)
	}
	if packets < 0 || packets > maxPackets || (!cfg.sink && packets == 0) {
		return cfg, fmt.Errorf("--packets must be in [1, %d], got %d", int64(maxPackets), packets)
	}
	cfg.packets = uint64(packets)
	if rate < 0 {
		return cfg, fmt.Errorf("--rate must be >= 0")
	}
	cfg.rate = uint64(rate)
	if cfg.flows < 1 || cfg.flows > maxFlows {
		return cfg, fmt.Errorf("--flows must be in [1, %d]", maxFlows)
	}
	if cfg.size < 1 || cfg.size > maxSize {
		return cfg, fmt.Errorf("--size must be in [1, %d]", maxSize)
	}
	var err error
	if cfg.cpus, err = parseCPUList(cpus); err != nil {
		return cfg, err
	}
	if !cfg.sink && cfg.target == "" {
		return cfg, errors.New("--target is required unless --sink is given")
	}
	return cfg, nil
}

// parseCPUList parses "0,1,4-6". The empty string gives nil.
func parseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("bad CPU %q in --cpus", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad CPU range %q in --cpus", part)
			}
		}
		if b >= 1024 || len(out)+b-a+1 > 1024 {
			return nil, fmt.Errorf("--cpus too large: %q", s)
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

// checkTarget resolves and vets the sender's target; see the package doc.
func checkTarget(target string, allow bool, prefixes func() ([]netip.Prefix, error)) (netip.AddrPort, error) {
	host, portStr, err := net.SplitHostPort(target)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("--target %q: %w", target, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, fmt.Errorf("--target %q: bad port", target)
	}
	// Only literal addresses: no DNS look-ups, so what is vetted is what is used.
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("--target %q: host must be a literal IP address", target)
	}
	addr = addr.Unmap()
	ap := netip.AddrPortFrom(addr, uint16(port))
	if allow || addr.IsLoopback() {
		return ap, nil
	}
	inLab := false
	for _, p := range labRanges {
		if p.Contains(addr) {
			inLab = true
		}
	}
	if !inLab {
		return ap, fmt.Errorf("refusing --target %s: not loopback and not in the lab ranges %v (use --allow-target to override)", addr, labRanges)
	}
	local, err := prefixes()
	if err != nil {
		return ap, fmt.Errorf("listing local addresses: %w", err)
	}
	for _, p := range local {
		if p.Addr().IsLoopback() || p.Bits() < 16 {
			continue
		}
		if p.Contains(addr) && p.Addr() != addr {
			return ap, nil
		}
	}
	return ap, fmt.Errorf("refusing --target %s: no interface of this network namespace has an address in a prefix containing it (is the sender running in the lab's sender namespace?); use --allow-target to override", addr)
}

// localPrefixes lists the interface prefixes of the current network namespace.
func localPrefixes() ([]netip.Prefix, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		ones, _ := ipn.Mask.Size()
		out = append(out, netip.PrefixFrom(ip.Unmap(), ones))
	}
	return out, nil
}

// pin locks the calling goroutine to its OS thread and binds that thread to
// cpu. The thread is never unlocked, so it exits with the goroutine and the
// affinity does not leak to other goroutines.
func pin(cpu int) error {
	runtime.LockOSThread()
	var set unix.CPUSet
	set.Zero()
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("sched_setaffinity(cpu %d): %w", cpu, err)
	}
	return nil
}

// SenderResult is the sender's final JSON line.
type SenderResult struct {
	Sent      uint64  `json:"sent"`
	Errors    uint64  `json:"errors"`
	Bytes     uint64  `json:"bytes"`
	Flows     int     `json:"flows"`
	Workers   int     `json:"workers"`
	Seconds   float64 `json:"seconds"`
	PPS       float64 `json:"pps"`
	LastError string  `json:"last_error,omitempty"`
}

func runSender(ctx context.Context, cfg config, target netip.AddrPort) (SenderResult, error) {
	raddr := net.UDPAddrFromAddrPort(target)
	conns := make([]*net.UDPConn, 0, cfg.flows)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < cfg.flows; i++ {
		c, err := net.DialUDP("udp", nil, raddr)
		if err != nil {
			return SenderResult{}, fmt.Errorf("opening flow %d: %w", i, err)
		}
		conns = append(conns, c)
	}
	workers := len(cfg.cpus)
	if workers == 0 {
		workers = 1
	}
	if workers > len(conns) {
		workers = len(conns)
	}

	// Shared budget: each worker claims batches of packets from it, so the
	// total never exceeds cfg.packets.
	var budget atomic.Int64
	budget.Store(int64(cfg.packets))
	var sent, errs, bytes atomic.Uint64
	var lastErr atomic.Value
	perWorkerRate := float64(cfg.rate) / float64(workers)

	start := time.Now()
	var wg sync.WaitGroup
	pinErr := make(chan error, workers)
	for w := 0; w < workers; w++ {
		var mine []*net.UDPConn
		for i := w; i < len(conns); i += workers {
			mine = append(mine, conns[i])
		}
		wg.Add(1)
		go func(w int, mine []*net.UDPConn) {
			defer wg.Done()
			if len(cfg.cpus) > 0 {
				if err := pin(cfg.cpus[w]); err != nil {
					pinErr <- err
					return
				}
			}
			buf := make([]byte, cfg.size)
			copy(buf, "netirq_loadgen")
			const batch = 64
			var n, e, b uint64
			next := 0
			wstart := time.Now()
			var done uint64
			for ctx.Err() == nil {
				claim := budget.Add(-batch)
				k := int64(batch)
				if claim < 0 {
					k += claim
					if k <= 0 {
						break
					}
				}
				if perWorkerRate > 0 {
					// Sleep until this batch is due.
					due := wstart.Add(time.Duration(float64(done) / perWorkerRate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						select {
						case <-ctx.Done():
						case <-time.After(d):
						}
					}
				}
				for j := int64(0); j < k; j++ {
					c := mine[next]
					next++
					if next == len(mine) {
						next = 0
					}
					if nn, err := c.Write(buf); err != nil {
						e++
						lastErr.Store(err.Error())
					} else {
						n++
						b += uint64(nn)
					}
				}
				done += uint64(k)
				if k < batch {
					break
				}
			}
			sent.Add(n)
			errs.Add(e)
			bytes.Add(b)
		}(w, mine)
	}
	wg.Wait()
	close(pinErr)
	if err := <-pinErr; err != nil {
		return SenderResult{}, err
	}
	secs := time.Since(start).Seconds()
	r := SenderResult{
		Sent: sent.Load(), Errors: errs.Load(), Bytes: bytes.Load(),
		Flows: len(conns), Workers: workers, Seconds: secs,
	}
	if secs > 0 {
		r.PPS = float64(r.Sent) / secs
	}
	if s, ok := lastErr.Load().(string); ok {
		r.LastError = s
	}
	return r, nil
}

// SinkResult is the sink's final JSON line.
type SinkResult struct {
	Received uint64  `json:"received"`
	Bytes    uint64  `json:"bytes"`
	Seconds  float64 `json:"seconds"`
	Drops    uint64  `json:"socket_drops"`
}

func runSink(ctx context.Context, cfg config, stderr io.Writer) (SinkResult, error) {
	if len(cfg.cpus) > 0 {
		// The receive loop runs on this goroutine: pin it. (Go may still run
		// other goroutines elsewhere; they are idle.)
		if err := pin(cfg.cpus[0]); err != nil {
			return SinkResult{}, err
		}
	}
	laddr, err := net.ResolveUDPAddr("udp", cfg.listen)
	if err != nil {
		return SinkResult{}, fmt.Errorf("--listen %q: %w", cfg.listen, err)
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return SinkResult{}, err
	}
	defer conn.Close()
	setRcvbuf(conn, cfg.rcvbuf)
	ready, _ := json.Marshal(map[string]any{"ready": true, "listen": conn.LocalAddr().String()})
	fmt.Fprintln(stderr, string(ready))

	// Wake the blocked read when the context ends (duration or signal).
	woken := make(chan struct{})
	go func() {
		<-ctx.Done()
		conn.SetReadDeadline(time.Unix(1, 0))
		close(woken)
	}()
	start := time.Now()
	var res SinkResult
	buf := make([]byte, 65536)
	full := func() bool { return cfg.packets > 0 && res.Received >= cfg.packets }
	for !full() {
		n, err := conn.Read(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			return res, err
		}
		res.Received++
		res.Bytes += uint64(n)
	}
	// Drain what is already queued (the sender may have just stopped):
	// until 100 ms pass without a datagram, at most 2 s.
	if !full() {
		<-woken
		drainEnd := time.Now().Add(2 * time.Second)
		for !full() && time.Now().Before(drainEnd) {
			conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			n, err := conn.Read(buf)
			if err != nil {
				break
			}
			res.Received++
			res.Bytes += uint64(n)
		}
	}
	res.Seconds = time.Since(start).Seconds()
	res.Drops = socketDrops(conn)
	return res, nil
}

func setRcvbuf(conn *net.UDPConn, n int) {
	if n <= 0 {
		return
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		return
	}
	raw.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n)
		}
	})
}

// socketDrops reads the socket's drop counter (SO_MEMINFO's SK_MEMINFO_DROPS).
func socketDrops(conn *net.UDPConn) uint64 {
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0
	}
	var drops uint64
	raw.Control(func(fd uintptr) {
		var mi [unix.SK_MEMINFO_VARS]uint32
		l := uint32(len(mi) * 4)
		if err := getsockoptRaw(int(fd), unix.SOL_SOCKET, unix.SO_MEMINFO, &mi[0], &l); err == nil {
			drops = uint64(mi[unix.SK_MEMINFO_DROPS])
		}
	})
	return drops
}

func getsockoptRaw(fd, level, opt int, val *uint32, vallen *uint32) error {
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(val)), uintptr(unsafe.Pointer(vallen)), 0)
	if e != 0 {
		return e
	}
	return nil
}
