package sysfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
)

// ReadLimit bounds one attribute read. Real sysfs attributes are at
// most a page; an 8192-CPU mask is about 2.3 KB.
const ReadLimit = 64 << 10

// ReadText returns a file's content without the trailing newline.
// present is false (and err nil) when the file does not exist; with
// absentOnEINVAL also when reading it fails with EINVAL, which is how
// older kernels refuse xps_cpus on single-queue devices.
func ReadText(path string, absentOnEINVAL bool) (text string, present bool, err error) {
	text, tooLong, err := ReadSmallFile(path)
	if err == nil && tooLong {
		return "", false, fmt.Errorf("%s: longer than %d bytes", path, ReadLimit)
	}
	switch {
	case err == nil:
		return text, true, nil
	case errors.Is(err, fs.ErrNotExist):
		// Either the file is absent or the kernel's show() said ENOENT
		// (xps_cpus on a single-queue device since 5.x).
		return "", false, nil
	case absentOnEINVAL && errors.Is(err, syscall.EINVAL):
		return "", false, nil
	}
	return "", false, err // an *fs.PathError: it names the file
}

// ReadSmallFile returns the content of an attribute file without its
// trailing newlines, reading at most ReadLimit+1 bytes (tooLong says
// there were more than ReadLimit). It uses the system calls directly:
// os.Open would also try to register each file with the poller (a failing
// epoll_ctl) and allocate an *os.File with a cleanup, and io.ReadAll a
// growing buffer; a scrape reads ~1,000 of these files (queues and
// /proc/irq/N), so that was a fifth of the default scrape. Errors are the
// *fs.PathError os.Open and (*os.File).Read return.
//
// The open is non-blocking, so a FIFO in the tree cannot hang it; a file
// that reads as nothing, EAGAIN or more than ReadLimit is checked to be
// a regular file (kernel.ErrNotRegular otherwise), only then, to keep the
// common path at three system calls.
func ReadSmallFile(path string) (text string, tooLong bool, err error) {
	var fd int
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return "", false, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var small [1024]byte
	buf := small[:0]
	for len(buf) <= ReadLimit {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), ReadLimit+1-len(buf)))
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			if err == syscall.EAGAIN {
				if nr := kernel.CheckRegularFD(fd, path); nr != nil {
					return "", false, nr
				}
			}
			return "", false, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n <= 0 {
			if len(buf) == 0 {
				if nr := kernel.CheckRegularFD(fd, path); nr != nil {
					return "", false, nr
				}
			}
			break
		}
		buf = buf[:len(buf)+n]
		// sysfs and /proc/irq attributes are made whole by one show()
		// call, so a read that leaves room in the buffer has reached the
		// end; asking again for the EOF would be a fourth system call per
		// file (procfs' SysReadFile reads once too).
		if len(buf) < cap(buf) {
			break
		}
	}
	if len(buf) > ReadLimit {
		if nr := kernel.CheckRegularFD(fd, path); nr != nil {
			return "", false, nr // /dev/zero, not a long attribute
		}
		return "", true, nil
	}
	return string(bytes.TrimRight(buf, "\n")), false, nil
}

// ReadMask reads a hex CPU mask file (rps_cpus, xps_cpus, affinity_hint).
func ReadMask(path string, absentOnEINVAL bool) (cpuset.CPUSet, bool, error) {
	text, present, err := ReadText(path, absentOnEINVAL)
	if err != nil || !present {
		return cpuset.CPUSet{}, false, err
	}
	set, err := cpuset.ParseCPUMask(text)
	if err != nil {
		return cpuset.CPUSet{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return set, true, nil
}

// ReadList reads a CPU list file (smp_affinity_list, online ...).
func ReadList(path string) (cpuset.CPUSet, bool, error) {
	text, present, err := ReadText(path, false)
	if err != nil || !present {
		return cpuset.CPUSet{}, false, err
	}
	set, err := cpuset.ParseCPUList(text)
	if err != nil {
		return cpuset.CPUSet{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return set, true, nil
}

// ReadInt reads a file holding one decimal integer (threaded,
// numa_node, rps_flow_cnt, node).
func ReadInt(path string) (int64, bool, error) {
	text, present, err := ReadText(path, false)
	if err != nil || !present {
		return 0, false, err
	}
	v, err := ParseInt(text)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", path, err)
	}
	return v, true, nil
}

// ParseInt parses one decimal integer with surrounding blanks. Its error
// describes the text (kernel.Describe), never quotes it.
func ParseInt(text string) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not an integer: %s", kernel.Describe(strings.TrimSpace(text)))
	}
	return v, nil
}
