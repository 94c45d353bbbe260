//go:build netbsd && (amd64 || arm64)

package netbsd

import (
	"errors"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// ErrNotNetBSD is never returned here; the other systems' reads return it.
var ErrNotNetBSD = errors.New("not NetBSD")

// sysctlTries is how often a read is tried when the answer outgrows the
// buffer sized for it (a device attached in between), as intrctl does
// (usr.sbin/intrctl/intrctl.c: intrctl_io_alloc_retry_count 4).
const sysctlTries = 4

// KERN_EVCNT's two name components: every type (EVCNT_TYPE_ANY, -1;
// sys/sys/evcnt.h rev 1.10) and only the counters that counted
// (KERN_EVCNT_COUNT_NONZERO, 1; sys/sys/sysctl.h rev 1.236). A counter
// appears once it counts, as the per-CPU cells of Linux IRQs do.
const (
	evcntTypeAny      = -1
	evcntCountNonzero = 1
)

// ReadIntrList reads kern.intr.list, what `intrctl list` prints.
func ReadIntrList() (*IntrList, error) {
	b, err := sysctlRaw("kern.intr.list")
	if err != nil {
		return nil, err
	}
	return DecodeIntrList(b)
}

// ReadEvcnts reads kern.evcnt, what `vmstat -e` prints, the counters that
// are not zero.
func ReadEvcnts() ([]Evcnt, error) {
	b, err := sysctlRaw("kern.evcnt", evcntTypeAny, evcntCountNonzero)
	if err != nil {
		return nil, err
	}
	return DecodeEvcnts(b)
}

// sysctlRaw is unix.SysctlRaw, tried again when the answer grew between
// its size query and its read: kern.intr.list fails with ENOMEM then,
// and kern.evcnt reports a length past the buffer, which SysctlRaw slices
// to and so panics on (x/sys v0.49.0, syscall_bsd.go).
func sysctlRaw(name string, args ...int) (b []byte, err error) {
	for range sysctlTries {
		b, err = sysctlOnce(name, args...)
		if err == nil || !errors.Is(err, unix.ENOMEM) && !errors.Is(err, errGrew) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sysctl %s: %w", name, err)
	}
	return b, nil
}

var errGrew = errors.New("the answer grew between the size query and the read")

func sysctlOnce(name string, args ...int) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("%w (%v)", errGrew, r)
		}
	}()
	return unix.SysctlRaw(name, args...)
}

// Interfaces lists the network interfaces, as ifconfig -l does.
func Interfaces() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ifs))
	for i, ifc := range ifs {
		out[i] = ifc.Name
	}
	return out, nil
}
