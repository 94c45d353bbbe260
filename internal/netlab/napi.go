//go:build linux

package netlab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
)

// GRO and per-NAPI settings of the lab's receiver veth. veth has NAPI
// instances only with GRO (or XDP) on; their settings are changed one
// instance at a time with the netdev family's napi-set (Linux 6.13+,
// threaded 6.17+), sent from inside the receiver namespace, where the
// kernel looks the NAPI ID up: only the lab's own instances can be named.

// SetGRO turns GRO of the receiver veth on or off (`ethtool -K`, run in
// the receiver namespace).
func (l *Lab) SetGRO(on bool) error {
	v := "off"
	if on {
		v = "on"
	}
	_, err := runCmd(context.Background(), "ip", "netns", "exec", l.rcvNS, "ethtool", "-K", l.rcvDev, "gro", v)
	return err
}

// NAPISettings are the napi-set attributes to send; nil ones are left as
// they are.
type NAPISettings struct {
	DeferHardIRQs   *uint32
	GROFlushTimeout *uint64 // nanoseconds
	Threaded        *uint32 // enum netdev_napi_threaded: 0 off, 1 on, 2 busy-poll (6.19)
}

// napi-set of Documentation/netlink/specs/netdev.yaml (numbers from
// include/uapi/linux/netdev.h).
const (
	netdevCmdNAPISet       = 14 // NETDEV_CMD_NAPI_SET (admin)
	netdevANAPIID          = 2  // NETDEV_A_NAPI_ID, u32
	netdevANAPIDeferHard   = 5  // NETDEV_A_NAPI_DEFER_HARD_IRQS, u32
	netdevANAPIGROFlush    = 6  // NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT, uint
	netdevANAPIThreaded    = 8  // NETDEV_A_NAPI_THREADED, u32
	netlinkRequestDeadline = 5 * time.Second
)

// SetNAPI changes the settings of the lab's NAPI instance id.
func (l *Lab) SetNAPI(id uint32, s NAPISettings) error {
	ae := netlink.NewAttributeEncoder()
	ae.Uint32(netdevANAPIID, id)
	if s.DeferHardIRQs != nil {
		ae.Uint32(netdevANAPIDeferHard, *s.DeferHardIRQs)
	}
	if s.GROFlushTimeout != nil {
		ae.Uint64(netdevANAPIGROFlush, *s.GROFlushTimeout)
	}
	if s.Threaded != nil {
		ae.Uint32(netdevANAPIThreaded, *s.Threaded)
	}
	req, err := ae.Encode()
	if err != nil {
		return err
	}
	ns, err := os.Open(filepath.Join("/run/netns", l.rcvNS))
	if err != nil {
		return err
	}
	defer ns.Close()
	conn, err := genetlink.Dial(&netlink.Config{NetNS: int(ns.Fd())})
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(netlinkRequestDeadline))
	fam, err := conn.GetFamily("netdev")
	if err != nil {
		return fmt.Errorf("netdev family: %w", err)
	}
	_, err = conn.Execute(genetlink.Message{Header: genetlink.Header{Command: netdevCmdNAPISet, Version: fam.Version}, Data: req},
		fam.ID, netlink.Request|netlink.Acknowledge)
	if err != nil {
		return fmt.Errorf("napi-set %d: %w", id, err)
	}
	return nil
}
