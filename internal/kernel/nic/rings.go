//go:build linux

package nic

import (
	"fmt"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/netirq/netirq_exporter/internal/kernel/genl"
)

// RINGS_GET of the ethtool family (`ethtool -g`; Linux 5.6+; attribute set
// "rings" of Documentation/netlink/specs/ethtool.yaml, numbers from
// include/uapi/linux/ethtool_netlink_generated.h, checked against
// golang.org/x/sys/unix by TestEthtoolNumbersMatchUAPI). One dump per
// scrape, no capability needed. The kernel (net/ethtool/rings.c) puts a
// ring type's current size and maximum only when the maximum is non-zero;
// drivers without get_ringparam (veth, lo) are left out of the dump.

const (
	ethtoolMsgRingsGet = 15 // ETHTOOL_MSG_RINGS_GET (reply: ETHTOOL_MSG_RINGS_GET_REPLY = 16)

	// enum ETHTOOL_A_RINGS_*: all u32 but the header; the rest of the set
	// (buffer length, TCP data split, CQE size, push, HDS) is not kept.
	ethtoolARingsHeader     = 1 // ETHTOOL_A_RINGS_HEADER, nest
	ethtoolARingsRxMax      = 2 // ETHTOOL_A_RINGS_RX_MAX
	ethtoolARingsRxMiniMax  = 3 // ETHTOOL_A_RINGS_RX_MINI_MAX
	ethtoolARingsRxJumboMax = 4 // ETHTOOL_A_RINGS_RX_JUMBO_MAX
	ethtoolARingsTxMax      = 5 // ETHTOOL_A_RINGS_TX_MAX
	ethtoolARingsRx         = 6 // ETHTOOL_A_RINGS_RX
	ethtoolARingsRxMini     = 7 // ETHTOOL_A_RINGS_RX_MINI
	ethtoolARingsRxJumbo    = 8 // ETHTOOL_A_RINGS_RX_JUMBO
	ethtoolARingsTx         = 9 // ETHTOOL_A_RINGS_TX
)

// Rings is `ethtool -g <dev>`: the descriptor rings' current sizes and
// pre-set maximums. A ring type whose maximum is 0 is one the device does
// not have (the kernel leaves it out).
type Rings struct {
	Device                              string
	RxMax, RxMiniMax, RxJumboMax, TxMax uint32
	Rx, RxMini, RxJumbo, Tx             uint32
}

// decodeRings decodes one RINGS_GET reply's attributes.
func decodeRings(b []byte) (Rings, ethtoolDev, error) {
	var (
		r   Rings
		dev ethtoolDev
	)
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return r, dev, err
	}
	fields := map[uint16]*uint32{
		ethtoolARingsRxMax: &r.RxMax, ethtoolARingsRxMiniMax: &r.RxMiniMax, ethtoolARingsRxJumboMax: &r.RxJumboMax,
		ethtoolARingsTxMax: &r.TxMax, ethtoolARingsRx: &r.Rx, ethtoolARingsRxMini: &r.RxMini,
		ethtoolARingsRxJumbo: &r.RxJumbo, ethtoolARingsTx: &r.Tx,
	}
	for ad.Next() {
		if ad.Type() == ethtoolARingsHeader {
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				var err error
				dev, err = decodeEthtoolHeader(nad)
				return err
			})
			continue
		}
		if f, ok := fields[ad.Type()]; ok {
			*f = ad.Uint32()
		}
	}
	if err := ad.Err(); err != nil {
		return r, dev, fmt.Errorf("rings reply: %w", err)
	}
	r.Device = dev.Name
	return r, dev, nil
}

// readRings dumps RINGS_GET for every device of the session's namespace.
func readRings(conn *genetlink.Conn, fam genl.Family, sess *nicSession) (map[string]Rings, error) {
	if !genl.HasOp(fam, ethtoolMsgRingsGet, true) {
		return nil, fmt.Errorf("%w: no RINGS_GET dump", genl.ErrUnsupported)
	}
	req, err := ethtoolRequestHeader(ethtoolARingsHeader, "")
	if err != nil {
		return nil, err
	}
	msgs, err := genl.Dump(conn, fam, ethtoolMsgRingsGet, req)
	if err != nil {
		return nil, err
	}
	out := map[string]Rings{}
	for _, m := range msgs {
		r, dev, err := decodeRings(m.Data)
		if err != nil {
			return out, err
		}
		if sess.known(dev.Name, dev.Index) {
			out[dev.Name] = r
		}
	}
	return out, nil
}
