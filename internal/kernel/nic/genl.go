package nic

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Generic netlink plumbing shared by the ethtool and netdev readers: error
// kinds, rate-limited debug logging, family resolution and dumps.

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
func (r *Reader) quiet(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case isPermission(err):
		r.debug(what+": skipped, needs a capability", err)
		return nil
	case isUnsupported(err):
		r.debug(what+": not supported here, skipped", err)
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// debug logs msg at debug level through the Reader's logger, at most once
// per familyRetry for the same message, so a host without support does not
// log on every scrape.
func (r *Reader) debug(msg string, err error) {
	now := time.Now()
	if last, ok := r.debugSeen.Load(msg); ok && now.Sub(last.(time.Time)) < familyRetry {
		return
	}
	r.debugSeen.Store(msg, now)
	r.logger.Debug(msg, "err", err)
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

// genlFamily is a resolved generic netlink family with its commands.
// genetlink's Conn.GetFamily (v1.4.0) would resolve the ID but its Family
// leaves the command list out, which familyHasOp needs: hence our own
// CTRL_CMD_GETFAMILY below.
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
