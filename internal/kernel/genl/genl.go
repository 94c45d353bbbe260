// Package genl is the generic netlink plumbing the NIC readers share:
// resolving a family with its operations (nlctrl), a cache of resolved
// families, dumps, and the error kinds "not supported here" and "needs a
// capability".
package genl

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

var (
	// ErrUnsupported marks what the kernel, the driver or the device does
	// not offer (EOPNOTSUPP, ENODEV, EINVAL, a missing family or command):
	// skipped quietly.
	ErrUnsupported = errors.New("not supported here")
	// ErrNeedsPrivilege marks a request the kernel refused for lack of a
	// capability (EPERM, EACCES): skipped with a debug log, as the exporter
	// runs unprivileged on purpose.
	ErrNeedsPrivilege = errors.New("needs a capability the exporter does not have")
)

// IsUnsupported reports whether err says "not here" rather than "broken".
func IsUnsupported(err error) bool {
	return errors.Is(err, ErrUnsupported) || errors.Is(err, unix.EOPNOTSUPP) ||
		errors.Is(err, unix.ENODEV) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT)
}

func IsPermission(err error) bool {
	return errors.Is(err, ErrNeedsPrivilege) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)
}

// FamilyRetry is how long a family found missing is not asked for again.
const FamilyRetry = 10 * time.Minute

// FamilyCache resolves a generic netlink family once (IDs are global
// and never change while the family is registered; "ethtool" and "netdev"
// are built in) and remembers a missing one for FamilyRetry, so that a
// kernel without it costs no socket per scrape.
type FamilyCache struct {
	name string // the family's name

	mu      sync.Mutex
	fam     *Family
	retryAt time.Time
}

// NewFamilyCache returns a cache of the family called name.
func NewFamilyCache(name string) *FamilyCache { return &FamilyCache{name: name} }

// Name is the family's name.
func (c *FamilyCache) Name() string { return c.name }

// Unavailable reports whether the family was found missing recently.
func (c *FamilyCache) Unavailable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fam == nil && time.Now().Before(c.retryAt)
}

func (c *FamilyCache) Get(conn *genetlink.Conn) (Family, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fam != nil {
		return *c.fam, nil
	}
	if time.Now().Before(c.retryAt) {
		return Family{}, fmt.Errorf("%w: generic netlink family %q", ErrUnsupported, c.name)
	}
	fam, err := Resolve(conn, c.name)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, os.ErrNotExist) {
			c.retryAt = time.Now().Add(FamilyRetry)
			return fam, fmt.Errorf("%w: generic netlink family %q: %v", ErrUnsupported, c.name, err)
		}
		return fam, fmt.Errorf("resolving generic netlink family %q: %w", c.name, err)
	}
	c.fam = &fam
	return fam, nil
}

// Reset forgets the cached state (tests).
func (c *FamilyCache) Reset() {
	c.mu.Lock()
	c.fam, c.retryAt = nil, time.Time{}
	c.mu.Unlock()
}

// CmdCapDump is GENL_CMD_CAP_DUMP (include/uapi/linux/genetlink.h): the
// command has a dump handler. GENL_CMD_CAP_DO (0x02) marks a do handler.
const (
	CmdCapDo   = 0x02
	CmdCapDump = 0x04
)

// HasOp reports whether the family offers cmd, as a dump when dump.
func HasOp(fam Family, cmd uint32, dump bool) bool {
	flags, ok := fam.Ops[cmd]
	if !ok {
		return false
	}
	if dump {
		return flags&CmdCapDump != 0
	}
	return flags&(CmdCapDo|CmdCapDump) != 0
}

// Family is a resolved generic netlink family with its commands.
// genetlink's Conn.GetFamily (v1.4.0) would resolve the ID but its Family
// leaves the command list out, which HasOp needs: hence our own
// CTRL_CMD_GETFAMILY below.
type Family struct {
	ID      uint16
	Version uint8
	Name    string
	Ops     map[uint32]uint32 // command → GENL_CMD_CAP_* / GENL_ADMIN_PERM flags
}

// The nlctrl family (include/uapi/linux/genetlink.h).
const (
	IDCtrl             = 0x10 // GENL_ID_CTRL
	CtrlCmdGetFamily   = 3    // CTRL_CMD_GETFAMILY
	CtrlAttrFamilyID   = 1    // CTRL_ATTR_FAMILY_ID, u16
	CtrlAttrFamilyName = 2    // CTRL_ATTR_FAMILY_NAME, string
	CtrlAttrVersion    = 3    // CTRL_ATTR_VERSION, u32
	CtrlAttrOps        = 6    // CTRL_ATTR_OPS, nest of nests
	CtrlAttrOpID       = 1    // CTRL_ATTR_OP_ID, u32
	CtrlAttrOpFlags    = 2    // CTRL_ATTR_OP_FLAGS, u32
	CtrlVersion        = 2
)

// Resolve asks nlctrl for a family by name (ENOENT when the
// kernel has none of that name).
func Resolve(conn *genetlink.Conn, name string) (Family, error) {
	ae := netlink.NewAttributeEncoder()
	ae.String(CtrlAttrFamilyName, name)
	req, err := ae.Encode()
	if err != nil {
		return Family{}, err
	}
	msgs, err := conn.Execute(genetlink.Message{
		Header: genetlink.Header{Command: CtrlCmdGetFamily, Version: CtrlVersion},
		Data:   req,
	}, IDCtrl, netlink.Request)
	if err != nil {
		return Family{}, err
	}
	if len(msgs) != 1 {
		return Family{}, fmt.Errorf("nlctrl: %d replies for family %q", len(msgs), name)
	}
	return DecodeFamily(msgs[0].Data)
}

// DecodeFamily decodes a CTRL_CMD_NEWFAMILY reply.
func DecodeFamily(b []byte) (Family, error) {
	fam := Family{Ops: map[uint32]uint32{}}
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return fam, err
	}
	for ad.Next() {
		switch ad.Type() {
		case CtrlAttrFamilyID:
			fam.ID = ad.Uint16()
		case CtrlAttrFamilyName:
			fam.Name = ad.String()
		case CtrlAttrVersion:
			fam.Version = uint8(ad.Uint32())
		case CtrlAttrOps:
			ad.Nested(func(ops *netlink.AttributeDecoder) error {
				for ops.Next() {
					ops.Nested(func(op *netlink.AttributeDecoder) error {
						var id, flags uint32
						for op.Next() {
							switch op.Type() {
							case CtrlAttrOpID:
								id = op.Uint32()
							case CtrlAttrOpFlags:
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

// Dump sends one dump request and returns every reply message. A
// refusal for lack of a capability comes back as ErrNeedsPrivilege.
func Dump(conn *genetlink.Conn, fam Family, cmd uint8, attrs []byte) ([]genetlink.Message, error) {
	msgs, err := conn.Execute(genetlink.Message{
		Header: genetlink.Header{Command: cmd, Version: fam.Version},
		Data:   attrs,
	}, fam.ID, netlink.Request|netlink.Dump)
	if err != nil && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)) {
		err = fmt.Errorf("%w: %w", ErrNeedsPrivilege, err)
	}
	return msgs, err
}
