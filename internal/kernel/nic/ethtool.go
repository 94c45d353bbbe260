package nic

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"golang.org/x/sys/unix"
)

// This file reads PartEthtool from the "ethtool" generic netlink family
// (Linux 5.6+; Documentation/netlink/specs/ethtool.yaml, numbers from
// include/uapi/linux/ethtool_netlink_generated.h): one CHANNELS_GET dump
// (`ethtool -l`) and one RSS_GET dump (`ethtool -x`, Linux 6.2+) per scrape,
// for every device of the exporter's network namespace at once. Both are
// GET requests that need no capability. It also holds what the netdev
// family reader (read_netdevnl.go) shares: the per-scrape nicSession (which
// network namespace, which devices of the configured sysfs netlink answers
// for), the family cache and the error classification.
//
// The ethtool binary is never run: everything is netlink, plus the
// unprivileged SIOCETHTOOL ioctls of the per-queue stats fallback.

// ethtool generic netlink family: commands and attributes used here.
const (
	ethtoolGenlName = "ethtool" // ETHTOOL_GENL_NAME

	ethtoolMsgChannelsGet = 17 // ETHTOOL_MSG_CHANNELS_GET (reply: ETHTOOL_MSG_CHANNELS_GET_REPLY = 18)
	ethtoolMsgRSSGet      = 38 // ETHTOOL_MSG_RSS_GET, Linux 6.2+, dump since 6.12 (reply: ETHTOOL_MSG_RSS_GET_REPLY = 38)

	// enum ETHTOOL_A_HEADER_*: the request/reply header nest.
	ethtoolAHeaderDevIndex = 1 // ETHTOOL_A_HEADER_DEV_INDEX, u32
	ethtoolAHeaderDevName  = 2 // ETHTOOL_A_HEADER_DEV_NAME, string
	ethtoolAHeaderFlags    = 3 // ETHTOOL_A_HEADER_FLAGS, u32

	// enum ETHTOOL_A_CHANNELS_*: all u32 but the header. The kernel puts a
	// type's max and count only when its max is non-zero.
	ethtoolAChannelsHeader        = 1 // ETHTOOL_A_CHANNELS_HEADER, nest
	ethtoolAChannelsRxMax         = 2 // ETHTOOL_A_CHANNELS_RX_MAX
	ethtoolAChannelsTxMax         = 3 // ETHTOOL_A_CHANNELS_TX_MAX
	ethtoolAChannelsOtherMax      = 4 // ETHTOOL_A_CHANNELS_OTHER_MAX
	ethtoolAChannelsCombinedMax   = 5 // ETHTOOL_A_CHANNELS_COMBINED_MAX
	ethtoolAChannelsRxCount       = 6 // ETHTOOL_A_CHANNELS_RX_COUNT
	ethtoolAChannelsTxCount       = 7 // ETHTOOL_A_CHANNELS_TX_COUNT
	ethtoolAChannelsOtherCount    = 8 // ETHTOOL_A_CHANNELS_OTHER_COUNT
	ethtoolAChannelsCombinedCount = 9 // ETHTOOL_A_CHANNELS_COMBINED_COUNT

	// enum ETHTOOL_A_RSS_*.
	ethtoolARSSHeader  = 1 // ETHTOOL_A_RSS_HEADER, nest
	ethtoolARSSContext = 2 // ETHTOOL_A_RSS_CONTEXT, u32; absent or 0 for the main table
	ethtoolARSSHFunc   = 3 // ETHTOOL_A_RSS_HFUNC, u32: one ETH_RSS_HASH_* bit
	ethtoolARSSIndir   = 4 // ETHTOOL_A_RSS_INDIR, binary: u32 queue per bucket, host order
	ethtoolARSSHKey    = 5 // ETHTOOL_A_RSS_HKEY, binary (not kept)
)

// rssHashFuncs names the ETH_RSS_HASH_*_BIT bits of include/uapi/linux/ethtool.h
// (the ETH_SS_RSS_HASH_FUNCS string set says the same).
var rssHashFuncs = []string{
	0: "toeplitz", // ETH_RSS_HASH_TOP_BIT
	1: "xor",      // ETH_RSS_HASH_XOR_BIT
	2: "crc32",    // ETH_RSS_HASH_CRC32_BIT
}

// rssHashName turns the hfunc bitmask into names: "" when the driver says
// nothing (0), "toeplitz", "xor", "crc32", "bitN" for bits this exporter
// does not know, joined with "+" should a driver ever set more than one.
func rssHashName(hfunc uint32) string {
	var names []string
	for bit := 0; bit < 32; bit++ {
		if hfunc&(1<<bit) == 0 {
			continue
		}
		if bit < len(rssHashFuncs) {
			names = append(names, rssHashFuncs[bit])
		} else {
			names = append(names, "bit"+strconv.Itoa(bit))
		}
	}
	return strings.Join(names, "+")
}

// ethtoolDev is the device an ethtool reply is about, from its header nest.
type ethtoolDev struct {
	Index int
	Name  string
}

func decodeEthtoolHeader(ad *netlink.AttributeDecoder) (ethtoolDev, error) {
	var h ethtoolDev
	for ad.Next() {
		switch ad.Type() {
		case ethtoolAHeaderDevIndex:
			h.Index = int(ad.Uint32())
		case ethtoolAHeaderDevName:
			h.Name = ad.String()
		}
	}
	return h, ad.Err()
}

// decodeChannels decodes one CHANNELS_GET reply's attributes.
func decodeChannels(b []byte) (Channels, ethtoolDev, error) {
	var (
		c   Channels
		dev ethtoolDev
	)
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return c, dev, err
	}
	for ad.Next() {
		switch ad.Type() {
		case ethtoolAChannelsHeader:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				var err error
				dev, err = decodeEthtoolHeader(nad)
				return err
			})
		case ethtoolAChannelsRxMax:
			c.MaxRx = ad.Uint32()
		case ethtoolAChannelsTxMax:
			c.MaxTx = ad.Uint32()
		case ethtoolAChannelsOtherMax:
			c.MaxOther = ad.Uint32()
		case ethtoolAChannelsCombinedMax:
			c.MaxCombined = ad.Uint32()
		case ethtoolAChannelsRxCount:
			c.Rx = ad.Uint32()
		case ethtoolAChannelsTxCount:
			c.Tx = ad.Uint32()
		case ethtoolAChannelsOtherCount:
			c.Other = ad.Uint32()
		case ethtoolAChannelsCombinedCount:
			c.Combined = ad.Uint32()
		}
	}
	if err := ad.Err(); err != nil {
		return c, dev, fmt.Errorf("channels reply: %w", err)
	}
	c.Device = dev.Name
	return c, dev, nil
}

// decodeRSS decodes one RSS_GET reply's attributes; ctx is the RSS context
// (0: the device's main table).
func decodeRSS(b []byte) (t RSSTable, dev ethtoolDev, ctx uint32, err error) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return t, dev, 0, err
	}
	for ad.Next() {
		switch ad.Type() {
		case ethtoolARSSHeader:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				var err error
				dev, err = decodeEthtoolHeader(nad)
				return err
			})
		case ethtoolARSSContext:
			ctx = ad.Uint32()
		case ethtoolARSSHFunc:
			t.HashFunc = rssHashName(ad.Uint32())
		case ethtoolARSSIndir:
			raw := ad.Bytes()
			if len(raw)%4 != 0 {
				return t, dev, ctx, fmt.Errorf("rss reply: indirection table of %d bytes is not a u32 array", len(raw))
			}
			t.Indirection = make([]uint32, len(raw)/4)
			for i := range t.Indirection {
				t.Indirection[i] = binary.NativeEndian.Uint32(raw[4*i:])
			}
		}
	}
	if err := ad.Err(); err != nil {
		return t, dev, ctx, fmt.Errorf("rss reply: %w", err)
	}
	t.Device = dev.Name
	return t, dev, ctx, nil
}

// ethtoolRequestHeader is a request's attributes: an empty header nest for
// a dump of every device (the kernel wants the nest present), or one naming
// the device for a single GET.
func ethtoolRequestHeader(headerAttr uint16, dev string) ([]byte, error) {
	ae := netlink.NewAttributeEncoder()
	ae.Nested(headerAttr, func(nae *netlink.AttributeEncoder) error {
		if dev != "" {
			nae.String(ethtoolAHeaderDevName, dev)
		}
		return nil
	})
	return ae.Encode()
}

// ReadEthtool reads channels and RSS of the devices the configured
// sysfs lists (and netlink answers for, see nicSession). Devices and kernels
// that do not support a request are left out without an error; so is
// everything when the request needs a capability the exporter lacks.
func ReadEthtool(sysPath string, devs []sysfs.NetDevice) (map[string]Channels, map[string]RSSTable, error) {
	if len(devs) == 0 || ethtoolFamily.unavailable() {
		return nil, nil, nil
	}
	sess, err := openNICSession(sysPath, devs)
	if err != nil {
		return nil, nil, quiet("ethtool", err)
	}
	defer sess.Close()
	if len(sess.byName) == 0 {
		return nil, nil, nil
	}
	conn, fam, err := sess.genl(ethtoolFamily)
	if err != nil {
		return nil, nil, quiet("ethtool", err)
	}
	var errs []error
	channels, err := readChannels(conn, fam, sess)
	errs = append(errs, quiet("ethtool channels", err))
	rss, err := readRSS(conn, fam, sess)
	errs = append(errs, quiet("ethtool rss", err))
	return channels, rss, errors.Join(errs...)
}

func readChannels(conn *genetlink.Conn, fam genlFamily, sess *nicSession) (map[string]Channels, error) {
	if !familyHasOp(fam, ethtoolMsgChannelsGet, true) {
		return nil, fmt.Errorf("%w: no CHANNELS_GET dump", errUnsupported)
	}
	req, err := ethtoolRequestHeader(ethtoolAChannelsHeader, "")
	if err != nil {
		return nil, err
	}
	msgs, err := genlDump(conn, fam, ethtoolMsgChannelsGet, req)
	if err != nil {
		return nil, err
	}
	out := map[string]Channels{}
	for _, m := range msgs {
		c, dev, err := decodeChannels(m.Data)
		if err != nil {
			return out, err
		}
		if sess.known(dev.Name, dev.Index) {
			out[dev.Name] = c
		}
	}
	return out, nil
}

// readRSS dumps RSS_GET (Linux 6.12+). Kernels with RSS_GET but no dump
// of it (6.2 to 6.11), or whose dump fails as unsupported, get one GET per
// device that has a bus device instead (virtual devices have no RSS).
func readRSS(conn *genetlink.Conn, fam genlFamily, sess *nicSession) (map[string]RSSTable, error) {
	if !familyHasOp(fam, ethtoolMsgRSSGet, false) {
		return nil, fmt.Errorf("%w: no RSS_GET (Linux < 6.2)", errUnsupported)
	}
	out := map[string]RSSTable{}
	keep := func(data []byte) error {
		t, dev, ctx, err := decodeRSS(data)
		if err != nil {
			return err
		}
		// virtio_net without VIRTIO_NET_F_RSS answers with the default
		// hash function and an empty table: it has no RSS to show.
		if ctx != 0 || len(t.Indirection) == 0 || !sess.known(dev.Name, dev.Index) {
			return nil
		}
		if _, dup := out[dev.Name]; !dup {
			out[dev.Name] = t
		}
		return nil
	}
	req, err := ethtoolRequestHeader(ethtoolARSSHeader, "")
	if err != nil {
		return nil, err
	}
	var msgs []genetlink.Message
	if familyHasOp(fam, ethtoolMsgRSSGet, true) {
		msgs, err = genlDump(conn, fam, ethtoolMsgRSSGet, req)
		if err == nil {
			for _, m := range msgs {
				if err := keep(m.Data); err != nil {
					return out, err
				}
			}
			return out, nil
		}
		if !isUnsupported(err) {
			return nil, err
		}
	}
	var errs []error
	for _, name := range sess.names() {
		if sess.virtual[name] {
			continue // veth, bridge, bond...: no RSS of their own
		}
		req, err := ethtoolRequestHeader(ethtoolARSSHeader, name)
		if err != nil {
			return out, err
		}
		msgs, err := conn.Execute(genetlink.Message{
			Header: genetlink.Header{Command: ethtoolMsgRSSGet, Version: fam.Version}, Data: req,
		}, fam.ID, netlink.Request)
		if err != nil {
			if quiet("ethtool rss "+name, err) != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			continue
		}
		for _, m := range msgs {
			if err := keep(m.Data); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	}
	return out, kernel.Summarize(errs)
}

// ---- Generic netlink plumbing shared with read_netdevnl.go ----

var (
	// errUnsupported marks what the kernel, the driver or the device does
	// not offer (EOPNOTSUPP, ENODEV, EINVAL, a missing family or command):
	// skipped quietly.
	errUnsupported = errors.New("not supported here")
	// errNeedsPrivilege marks a request the kernel refused for lack of a
	// capability (EPERM, EACCES): skipped with a debug log, as the exporter
	// runs unprivileged on purpose.
	errNeedsPrivilege = errors.New("needs a capability the exporter does not have")
)

// isUnsupported reports whether err says "not here" rather than "broken".
func isUnsupported(err error) bool {
	return errors.Is(err, errUnsupported) || errors.Is(err, unix.EOPNOTSUPP) ||
		errors.Is(err, unix.ENODEV) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT)
}

func isPermission(err error) bool {
	return errors.Is(err, errNeedsPrivilege) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)
}

// quiet turns "unsupported" and "needs a capability" into nil (with a rate
// limited debug log) and keeps every other error, prefixed with what.
func quiet(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case isPermission(err):
		nicDebug(what+": skipped, needs a capability", err)
		return nil
	case isUnsupported(err):
		nicDebug(what+": not supported here, skipped", err)
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

var nicDebugSeen sync.Map // message → time.Time of its last log

// nicDebug logs msg at debug level through slog's default logger, at most
// once per familyRetry for the same message, so a host without support
// does not log on every scrape.
func nicDebug(msg string, err error) {
	now := time.Now()
	if last, ok := nicDebugSeen.Load(msg); ok && now.Sub(last.(time.Time)) < familyRetry {
		return
	}
	nicDebugSeen.Store(msg, now)
	slog.Default().Debug(msg, "err", err)
}

// familyRetry is how long a family found missing is not asked for again.
const familyRetry = 10 * time.Minute

// genlFamilyCache resolves a generic netlink family once (IDs are global
// and never change while the family is registered; "ethtool" and "netdev"
// are built in) and remembers a missing one for familyRetry, so that a
// kernel without it costs no socket per scrape.
type genlFamilyCache struct {
	name string

	mu      sync.Mutex
	fam     *genlFamily
	retryAt time.Time
}

var ethtoolFamily = &genlFamilyCache{name: ethtoolGenlName}

// unavailable reports whether the family was found missing recently.
func (c *genlFamilyCache) unavailable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fam == nil && time.Now().Before(c.retryAt)
}

func (c *genlFamilyCache) get(conn *genetlink.Conn) (genlFamily, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fam != nil {
		return *c.fam, nil
	}
	if time.Now().Before(c.retryAt) {
		return genlFamily{}, fmt.Errorf("%w: generic netlink family %q", errUnsupported, c.name)
	}
	fam, err := resolveGenlFamily(conn, c.name)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, os.ErrNotExist) {
			c.retryAt = time.Now().Add(familyRetry)
			return fam, fmt.Errorf("%w: generic netlink family %q: %v", errUnsupported, c.name, err)
		}
		return fam, fmt.Errorf("resolving generic netlink family %q: %w", c.name, err)
	}
	c.fam = &fam
	return fam, nil
}

// reset forgets the cached state (tests).
func (c *genlFamilyCache) reset() {
	c.mu.Lock()
	c.fam, c.retryAt = nil, time.Time{}
	c.mu.Unlock()
}

// genlCmdCapDump is GENL_CMD_CAP_DUMP (include/uapi/linux/genetlink.h): the
// command has a dump handler. GENL_CMD_CAP_DO (0x02) marks a do handler.
const (
	genlCmdCapDo   = 0x02
	genlCmdCapDump = 0x04
)

// familyHasOp reports whether the family offers cmd, as a dump when dump.
func familyHasOp(fam genlFamily, cmd uint32, dump bool) bool {
	flags, ok := fam.Ops[cmd]
	if !ok {
		return false
	}
	if dump {
		return flags&genlCmdCapDump != 0
	}
	return flags&(genlCmdCapDo|genlCmdCapDump) != 0
}

// genlFamily is a resolved generic netlink family with its commands
// (genetlink.Family leaves the command list out).
type genlFamily struct {
	ID      uint16
	Version uint8
	Name    string
	Ops     map[uint32]uint32 // command → GENL_CMD_CAP_* / GENL_ADMIN_PERM flags
}

// The nlctrl family (include/uapi/linux/genetlink.h).
const (
	genlIDCtrl         = 0x10 // GENL_ID_CTRL
	ctrlCmdGetFamily   = 3    // CTRL_CMD_GETFAMILY
	ctrlAttrFamilyID   = 1    // CTRL_ATTR_FAMILY_ID, u16
	ctrlAttrFamilyName = 2    // CTRL_ATTR_FAMILY_NAME, string
	ctrlAttrVersion    = 3    // CTRL_ATTR_VERSION, u32
	ctrlAttrOps        = 6    // CTRL_ATTR_OPS, nest of nests
	ctrlAttrOpID       = 1    // CTRL_ATTR_OP_ID, u32
	ctrlAttrOpFlags    = 2    // CTRL_ATTR_OP_FLAGS, u32
	ctrlVersion        = 2
)

// resolveGenlFamily asks nlctrl for a family by name (ENOENT when the
// kernel has none of that name).
func resolveGenlFamily(conn *genetlink.Conn, name string) (genlFamily, error) {
	ae := netlink.NewAttributeEncoder()
	ae.String(ctrlAttrFamilyName, name)
	req, err := ae.Encode()
	if err != nil {
		return genlFamily{}, err
	}
	msgs, err := conn.Execute(genetlink.Message{
		Header: genetlink.Header{Command: ctrlCmdGetFamily, Version: ctrlVersion},
		Data:   req,
	}, genlIDCtrl, netlink.Request)
	if err != nil {
		return genlFamily{}, err
	}
	if len(msgs) != 1 {
		return genlFamily{}, fmt.Errorf("nlctrl: %d replies for family %q", len(msgs), name)
	}
	return decodeGenlFamily(msgs[0].Data)
}

// decodeGenlFamily decodes a CTRL_CMD_NEWFAMILY reply.
func decodeGenlFamily(b []byte) (genlFamily, error) {
	fam := genlFamily{Ops: map[uint32]uint32{}}
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return fam, err
	}
	for ad.Next() {
		switch ad.Type() {
		case ctrlAttrFamilyID:
			fam.ID = ad.Uint16()
		case ctrlAttrFamilyName:
			fam.Name = ad.String()
		case ctrlAttrVersion:
			fam.Version = uint8(ad.Uint32())
		case ctrlAttrOps:
			ad.Nested(func(ops *netlink.AttributeDecoder) error {
				for ops.Next() {
					ops.Nested(func(op *netlink.AttributeDecoder) error {
						var id, flags uint32
						for op.Next() {
							switch op.Type() {
							case ctrlAttrOpID:
								id = op.Uint32()
							case ctrlAttrOpFlags:
								flags = op.Uint32()
							}
						}
						fam.Ops[id] = flags
						return nil
					})
				}
				return nil
			})
		}
	}
	if err := ad.Err(); err != nil {
		return fam, fmt.Errorf("nlctrl reply: %w", err)
	}
	if fam.ID == 0 {
		return fam, fmt.Errorf("nlctrl reply without a family ID")
	}
	return fam, nil
}

// genlDump sends one dump request and returns every reply message. A
// refusal for lack of a capability comes back as errNeedsPrivilege.
func genlDump(conn *genetlink.Conn, fam genlFamily, cmd uint8, attrs []byte) ([]genetlink.Message, error) {
	msgs, err := conn.Execute(genetlink.Message{
		Header: genetlink.Header{Command: cmd, Version: fam.Version},
		Data:   attrs,
	}, fam.ID, netlink.Request|netlink.Dump)
	if err != nil && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)) {
		err = fmt.Errorf("%w: %w", errNeedsPrivilege, err)
	}
	return msgs, err
}

// netlinkTimeout bounds every netlink exchange of a scrape.
const netlinkTimeout = 5 * time.Second

// nicNetNSPath, when set, is a network namespace file (/run/netns/NAME)
// whose devices the netlink and ioctl readers ask about, instead of the
// exporter's own namespace. Only tests set it, to read a lab namespace
// whose sysfs they also point the exporter at.
var nicNetNSPath atomic.Pointer[string]

// SetNetNS sets nicNetNSPath ("" for the exporter's own namespace); for
// the collector's lab tests, until the path is an option of the Source.
func SetNetNS(path string) { nicNetNSPath.Store(&path) }

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
}

func openNICSession(sysPath string, devs []sysfs.NetDevice) (*nicSession, error) {
	s := &nicSession{ioctlFD: -1, byName: map[string]int{}, byIndex: map[int]string{},
		virtual: map[string]bool{}, drivers: map[string]string{}}
	nsPath := "/proc/thread-self/ns/net"
	if p := nicNetNSPath.Load(); p != nil && *p != "" {
		nsPath = *p
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
func (s *nicSession) genl(fc *genlFamilyCache) (*genetlink.Conn, genlFamily, error) {
	conn, err := genetlink.Dial(&netlink.Config{NetNS: s.nsFD})
	if err != nil {
		return nil, genlFamily{}, fmt.Errorf("generic netlink: %w", err)
	}
	_ = conn.SetDeadline(time.Now().Add(netlinkTimeout))
	fam, err := fc.get(conn)
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
	raw, err := os.ReadFile(filepath.Join(dir, "ifindex"))
	if err != nil {
		return 0, "", false
	}
	index, err = strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || index <= 0 {
		return 0, "", false
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "address")); err == nil {
		addr = strings.TrimSpace(string(raw))
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
// CAP_SYS_ADMIN and is only done for tests (nicNetNSPath).
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
