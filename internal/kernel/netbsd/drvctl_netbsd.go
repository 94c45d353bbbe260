//go:build netbsd && (amd64 || arm64)

package netbsd

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// devlistargs is struct devlistargs of sys/sys/drvctlio.h rev 1.7 on LP64:
// char l_devname[16]; char (*l_childname)[16]; size_t l_children.
type devlistargs struct {
	devname   [devNameLen]byte
	childname unsafe.Pointer
	children  uint64
}

// drvListDev is DRVLISTDEV, _IOWR('D', 127, struct devlistargs), by
// sys/sys/ioccom.h: IOC_INOUT 0xc0000000 | sizeof 32 << 16 | 'D' << 8 | 127.
const drvListDev = 0xc020447f

// The struct must be the kernel's 32 bytes for drvListDev to be right.
var (
	_ [32 - unsafe.Sizeof(devlistargs{})]byte
	_ [unsafe.Sizeof(devlistargs{}) - 32]byte
)

// Children lists the devices attached below dev, as `drvctl -l dev` does.
// drvctl(4) needs no privilege to list, only /dev/drvctl to be readable.
func Children(dev string) ([]string, error) {
	if len(dev) >= devNameLen {
		return nil, fmt.Errorf("drvctl: device name %q too long", dev)
	}
	fd, err := unix.Open("/dev/drvctl", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("drvctl: %w", err)
	}
	defer unix.Close(fd)
	var args devlistargs
	copy(args.devname[:], dev)
	if err := listDev(fd, &args); err != nil { // how many
		return nil, err
	}
	for range sysctlTries { // a child may attach in between
		n := args.children
		buf := make([]byte, (n+1)*devNameLen)
		args.childname, args.children = unsafe.Pointer(&buf[0]), n+1
		if err := listDev(fd, &args); err != nil {
			return nil, err
		}
		if args.children <= n+1 {
			return decodeDevNames(buf, int(args.children)), nil
		}
	}
	return nil, fmt.Errorf("drvctl: the children of %s keep changing", dev)
}

func listDev(fd int, args *devlistargs) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(drvListDev), uintptr(unsafe.Pointer(args)))
	if errno != 0 {
		return fmt.Errorf("drvctl DRVLISTDEV %s: %w", cString(args.devname[:]), errno)
	}
	return nil
}
