package nic

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/netirq/netirq_exporter/internal/kernel/genl"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"golang.org/x/sys/unix"
)

// The network-namespace session: which sysfs devices are the netlink
// devices, and the sockets the readers use in that namespace.

// netlinkTimeout bounds every netlink exchange of a scrape.
const netlinkTimeout = 5 * time.Second

// nicSession is one reader's view of the devices for one scrape.
//
// Netlink and SIOCETHTOOL answer for the network namespace the exporter
// runs in, while --path.sysfs may be another namespace's sysfs (a test lab,
// a capture of another host, a container that mounts the host's /sys but
// has a network namespace of its own). Names and ifindexes are only unique
// within a namespace, so a sysfs device is taken to be the netlink device
// only when, in the exporter's namespace, a device of the same name exists
// with the ifindex and MAC address the sysfs shows (SIOCGIFINDEX and
// SIOCGIFHWADDR). Devices that fail this (or whose sysfs has no ifindex
// file, as in capture fixtures) get no channels, RSS or queue data. lo
// matches in every namespace but answers nothing of interest.
type nicSession struct {
	nsFD    int             // network namespace fd, 0: the exporter's own
	nsIno   uint64          // its inode, to key caches
	ioctlFD int             // AF_INET datagram socket in that namespace, -1 before use
	byName  map[string]int  // verified device → ifindex
	byIndex map[int]string  // ifindex → verified device
	virtual map[string]bool // devices without a bus device
	drivers map[string]string
	closers []func()
	r       *Reader // whose caches and logger the session uses
}

func openNICSession(r *Reader, sysPath string, devs []sysfs.NetDevice) (*nicSession, error) {
	s := &nicSession{ioctlFD: -1, byName: map[string]int{}, byIndex: map[int]string{},
		virtual: map[string]bool{}, drivers: map[string]string{}, r: r}
	nsPath := "/proc/thread-self/ns/net"
	if r.netNS != "" {
		nsPath = r.netNS
		fd, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("opening network namespace %s: %w", nsPath, err)
		}
		s.nsFD = fd
	}
	var st unix.Stat_t
	if err := unix.Stat(nsPath, &st); err == nil {
		s.nsIno = st.Ino
	}
	fd, err := socketInNetNS(s.nsFD)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.ioctlFD = fd
	for _, d := range devs {
		sysIndex, sysAddr, ok := readSysfsIdentity(sysPath, d.Name)
		if !ok {
			continue
		}
		index, addr, err := s.identity(d.Name)
		if err != nil || !sameDevice(sysIndex, sysAddr, index, addr) {
			continue
		}
		s.byName[d.Name] = index
		s.byIndex[index] = d.Name
		s.virtual[d.Name] = d.IsVirtual()
		s.drivers[d.Name] = d.Driver
	}
	return s, nil
}

func (s *nicSession) Close() {
	for _, f := range s.closers {
		f()
	}
	s.closers = nil
	if s.ioctlFD >= 0 {
		unix.Close(s.ioctlFD)
		s.ioctlFD = -1
	}
	if s.nsFD > 0 {
		unix.Close(s.nsFD)
		s.nsFD = 0
	}
}

// known reports whether a netlink reply's device is a verified sysfs device.
func (s *nicSession) known(name string, index int) bool {
	i, ok := s.byName[name]
	return ok && (index == 0 || i == index)
}

// names lists the verified devices, sorted.
func (s *nicSession) names() []string {
	out := make([]string, 0, len(s.byName))
	for n := range s.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// genl dials generic netlink in the session's namespace and resolves fam.
func (s *nicSession) genl(fc *genl.FamilyCache) (*genetlink.Conn, genl.Family, error) {
	conn, err := genetlink.Dial(&netlink.Config{NetNS: s.nsFD})
	if err != nil {
		return nil, genl.Family{}, fmt.Errorf("generic netlink: %w", err)
	}
	_ = conn.SetDeadline(time.Now().Add(netlinkTimeout))
	fam, err := fc.Get(conn)
	if err != nil {
		conn.Close()
		return nil, fam, err
	}
	s.closers = append(s.closers, func() { conn.Close() })
	return conn, fam, nil
}

// readSysfsIdentity reads a device's ifindex and address from the
// configured sysfs; ok is false without an ifindex file.
func readSysfsIdentity(sysPath, dev string) (index int, addr string, ok bool) {
	dir := filepath.Join(sysPath, "class", "net", dev)
	// Capped, non-blocking reads: a FIFO or /dev/zero here must not hang
	// or grow the read (os.ReadFile did both).
	raw, present, err := sysfs.ReadText(filepath.Join(dir, "ifindex"), false)
	if err != nil || !present {
		return 0, "", false
	}
	index, err = strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || index <= 0 {
		return 0, "", false
	}
	if raw, present, err := sysfs.ReadText(filepath.Join(dir, "address"), false); err == nil && present {
		addr = strings.TrimSpace(raw)
	}
	return index, addr, true
}

// sameDevice decides whether a sysfs device (ifindex, "aa:bb:..." address)
// is the device the exporter's namespace has under the same name. The
// address is compared when both sides have one; SIOCGIFHWADDR returns at
// most 14 bytes, so longer (InfiniBand) addresses compare on that prefix.
func sameDevice(sysIndex int, sysAddr string, index int, addr []byte) bool {
	if sysIndex != index || index <= 0 {
		return false
	}
	if sysAddr == "" || len(addr) == 0 {
		return true
	}
	want := parseHexAddr(sysAddr)
	if want == nil {
		return true
	}
	n := min(len(want), len(addr))
	for i := 0; i < n; i++ {
		if want[i] != addr[i] {
			return false
		}
	}
	return true
}

// parseHexAddr parses "02:fc:00:00:00:01"; nil when it is not that form.
func parseHexAddr(s string) []byte {
	parts := strings.Split(s, ":")
	out := make([]byte, 0, len(parts))
	for _, p := range parts {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil || len(p) != 2 {
			return nil
		}
		out = append(out, byte(v))
	}
	return out
}

// identity asks the session's namespace for dev's ifindex and hardware
// address (SIOCGIFINDEX, SIOCGIFHWADDR; both unprivileged).
func (s *nicSession) identity(dev string) (int, []byte, error) {
	ifr, err := unix.NewIfreq(dev)
	if err != nil {
		return 0, nil, err
	}
	if err := unix.IoctlIfreq(s.ioctlFD, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, nil, err
	}
	index := int(ifr.Uint32())
	var hw ifreqHWAddr
	copy(hw.name[:unix.IFNAMSIZ-1], dev)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(s.ioctlFD), unix.SIOCGIFHWADDR, uintptr(unsafe.Pointer(&hw))); errno != 0 {
		return index, nil, nil // no hardware address: compare the index only
	}
	return index, hw.data[:], nil
}

// ifreqHWAddr is struct ifreq with ifr_hwaddr (a struct sockaddr).
type ifreqHWAddr struct {
	name   [unix.IFNAMSIZ]byte
	family uint16
	data   [14]byte
	_      [8]byte
}

// socketInNetNS returns an AF_INET datagram socket (AF_UNIX when IPv4 is
// off; SIOCETHTOOL and SIOCGIF* work on any socket) in the network
// namespace nsFD, 0 meaning the caller's. Entering another namespace needs
// CAP_SYS_ADMIN and is only done for tests (Reader.netNS).
func socketInNetNS(nsFD int) (int, error) {
	open := func() (int, error) {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			fd, err = unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		}
		if err != nil {
			return -1, fmt.Errorf("socket for SIOCETHTOOL: %w", err)
		}
		return fd, nil
	}
	if nsFD <= 0 {
		return open()
	}
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{-1, err}
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(nsFD, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{-1, fmt.Errorf("setns: %w", err)}
			return
		}
		fd, err := open()
		// A thread that cannot go back stays locked and dies with the goroutine.
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{fd, err}
	}()
	r := <-ch
	return r.fd, r.err
}
