package kernel

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
)

// The readers run in a hostile tree too: a bind mount, a copied tree or a
// container runtime may put a FIFO, a device node or a huge file where a
// kernel file belongs. Nothing may block on those or read them without end.
// Every open is non-blocking (opening a FIFO for reading without O_NONBLOCK
// waits for a writer), every read has a cap, and anything but a regular
// file or a directory is refused: procfs and sysfs files are regular files.

// ErrNotRegular is the error for a FIFO, socket or device node where a
// kernel file was expected.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is the read error past a file's cap.
var ErrTooLarge = errors.New("larger than its cap")

// DirEntriesCap bounds one directory listing: 5,000 net devices or 4,096
// PCI MSI vectors are real; a million entries are not.
const DirEntriesCap = 1 << 16

// OpenRegular opens path for reading without blocking and refuses anything
// but a regular file, naming the file type in the error.
func OpenRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = notRegular(path, fi.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// CheckRegularFD returns the ErrNotRegular error for an open descriptor
// that is no regular file. The small-file readers call it only when a read
// looks odd (nothing, EAGAIN, past the cap), so the common path costs no
// extra system call.
func CheckRegularFD(fd int, path string) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return notRegular(path, fileMode(st.Mode))
	}
	return nil
}

func notRegular(path string, mode fs.FileMode) error {
	return &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, describeType(mode))}
}

func describeType(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a block device"
	case mode.IsDir():
		return "a directory"
	}
	return "type " + mode.Type().String()
}

// fileMode maps a stat mode's type bits to fs.FileMode's.
func fileMode(m uint32) fs.FileMode {
	switch m & syscall.S_IFMT {
	case syscall.S_IFIFO:
		return fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		return fs.ModeSocket
	case syscall.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		return fs.ModeDevice
	case syscall.S_IFDIR:
		return fs.ModeDir
	}
	return fs.ModeIrregular
}

// ReadDir lists a directory without blocking on a non-directory (O_DIRECTORY
// makes open fail with ENOTDIR on a FIFO instead of waiting for a writer),
// sorted by name as os.ReadDir does, at most DirEntriesCap entries (more is
// an error, with the first DirEntriesCap returned).
func ReadDir(path string) ([]fs.DirEntry, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var entries []fs.DirEntry
	for len(entries) <= DirEntriesCap {
		batch, err := f.ReadDir(1024)
		entries = append(entries, batch...)
		if errors.Is(err, io.EOF) || (err == nil && len(batch) == 0) {
			sortEntries(entries)
			return entries, nil
		}
		if err != nil {
			sortEntries(entries)
			return entries, err
		}
	}
	entries = entries[:DirEntriesCap]
	sortEntries(entries)
	return entries, &fs.PathError{Op: "readdir", Path: path, Err: fmt.Errorf("more than %d entries", DirEntriesCap)}
}

// cappedReader fails with ErrTooLarge once more than left bytes are read.
type cappedReader struct {
	r    io.Reader
	left int64
	cap  int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a file of exactly cap bytes from a longer one.
		var one [1]byte
		if n, err := c.r.Read(one[:]); n == 0 {
			return 0, err
		}
		return 0, fmt.Errorf("%w of %d bytes", ErrTooLarge, c.cap)
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func sortEntries(entries []fs.DirEntry) {
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
}
