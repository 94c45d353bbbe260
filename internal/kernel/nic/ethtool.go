//go:build linux

package nic

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/genl"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// This file reads PartEthtool from the "ethtool" generic netlink family
// (Linux 5.6+; Documentation/netlink/specs/ethtool.yaml, numbers from
// include/uapi/linux/ethtool_netlink_generated.h): one CHANNELS_GET dump
// (`ethtool -l`), one RSS_GET dump (`ethtool -x`, Linux 6.2+) and one
// RINGS_GET dump (`ethtool -g`, rings.go) per scrape,
// for every device of the exporter's network namespace at once. Both are
// GET requests that need no capability. It also holds what the netdev
// family reader (netdev.go) shares: the per-scrape nicSession (which
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

// EthtoolResult is what Reader.Ethtool found, by device.
type EthtoolResult struct {
	Channels map[string]Channels // ethtool -l
	RSS      map[string]RSSTable // ethtool -x
	Rings    map[string]Rings    // ethtool -g (rings.go)
	Err      error
}

// Ethtool reads channels, RSS and rings of the devices the configured
// sysfs lists (and netlink answers for, see nicSession). Devices and kernels
// that do not support a request are left out without an error; so is
// everything when the request needs a capability the exporter lacks.
func (r *Reader) Ethtool(sysPath string, devs []sysfs.NetDevice) EthtoolResult {
	var res EthtoolResult
	if len(devs) == 0 || r.ethtool.Unavailable() {
		return res
	}
	sess, err := openNICSession(r, sysPath, devs)
	if err != nil {
		res.Err = r.quiet("ethtool", err)
		return res
	}
	defer sess.Close()
	if len(sess.byName) == 0 {
		return res
	}
	conn, fam, err := sess.genl(r.ethtool)
	if err != nil {
		res.Err = r.quiet("ethtool", err)
		return res
	}
	var errs [3]error
	res.Channels, errs[0] = readChannels(conn, fam, sess)
	res.RSS, errs[1] = readRSS(conn, fam, sess)
	res.Rings, errs[2] = readRings(conn, fam, sess)
	res.Err = errors.Join(r.quiet("ethtool channels", errs[0]), r.quiet("ethtool rss", errs[1]),
		r.quiet("ethtool rings", errs[2]))
	return res
}

func readChannels(conn *genetlink.Conn, fam genl.Family, sess *nicSession) (map[string]Channels, error) {
	if !genl.HasOp(fam, ethtoolMsgChannelsGet, true) {
		return nil, fmt.Errorf("%w: no CHANNELS_GET dump", genl.ErrUnsupported)
	}
	req, err := ethtoolRequestHeader(ethtoolAChannelsHeader, "")
	if err != nil {
		return nil, err
	}
	msgs, err := genl.Dump(conn, fam, ethtoolMsgChannelsGet, req)
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
func readRSS(conn *genetlink.Conn, fam genl.Family, sess *nicSession) (map[string]RSSTable, error) {
	if !genl.HasOp(fam, ethtoolMsgRSSGet, false) {
		return nil, fmt.Errorf("%w: no RSS_GET (Linux < 6.2)", genl.ErrUnsupported)
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
	if genl.HasOp(fam, ethtoolMsgRSSGet, true) {
		msgs, err = genl.Dump(conn, fam, ethtoolMsgRSSGet, req)
		if err == nil {
			for _, m := range msgs {
				if err := keep(m.Data); err != nil {
					return out, err
				}
			}
			return out, nil
		}
		if !genl.IsUnsupported(err) {
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
			if sess.r.quiet("ethtool rss "+name, err) != nil {
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
	problems := kernel.NewProblems("devices")
	for _, err := range errs {
		problems.Add(err)
	}
	return out, problems.Err()
}
