package netbsd

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/netirq/netirq_exporter/internal/cpuset"
)

// kern.intr.list answers one struct intrio_list followed by il_nintrs
// struct intrio_list_line, as interrupt_intrio_list() in
// sys/kern/subr_interrupt.c fills them. The layout on LP64, from
// sys/sys/intrio.h rev 1.2 (2016/08/03; INTRIO_LIST_VERSION 1) and
// sys/sys/intr.h rev 1.21 (INTRIDBUF 64, INTRDEVNAMEBUF 256):
//
//	struct intrio_list {                 offset
//		int    il_version;              0   INTRIO_LIST_VERSION
//		int    il_ncpus;                4
//		int    il_nintrs;               8
//		                               12   (padding)
//		size_t il_bufsize;             16   header and lines, bytes
//		size_t il_linesize;            24   one line, bytes
//		off_t  il_lineoffset;          32   first line, from the header
//	};                                 40
//	struct intrio_list_line {
//		char ill_intrid[INTRIDBUF];     0   "msix0 vec 3", NUL-terminated
//		char ill_xname[INTRDEVNAMEBUF]; 64  "wm0TXRX0", NUL-terminated
//		struct intrio_list_line_cpu ill_cpu[il_ncpus]; 320
//	};
//	struct intrio_list_line_cpu {
//		bool     illc_assigned;         0   (then 7 bytes of padding)
//		uint64_t illc_count;            8
//	};                                 16
//
// So il_linesize is 320 + 16 * il_ncpus; a buffer that says otherwise has
// another layout and is refused rather than misread. The integers are in
// the kernel's byte order, the machine's own.
const (
	intrListVersion    = 1
	intrListHeaderSize = 40
	intrIDBuf          = 64
	intrDevNameBuf     = 256
	intrLineCPUsAt     = intrIDBuf + intrDevNameBuf
	intrLineCPUSize    = 16
	intrMaxLines       = 1 << 16 // far above any real host; bounds a garbage header's work
	intrAssignedByte   = 0
	intrCountAt        = 8
)

// IntrList is what `intrctl list` prints: every interrupt with its count on
// each CPU and where it is assigned.
type IntrList struct {
	NCPU  int // il_ncpus: CPU indexes 0 to NCPU-1
	Lines []IntrLine
}

// IntrLine is one interrupt.
type IntrLine struct {
	// ID is the interrupt id intrctl shows and `intrctl affinity -i`
	// takes: "ioapic0 pin 9", "msix0 vec 3", "gicv3-its irq 9".
	ID string
	// Devices is the device name(s) column: what the driver passed to
	// pci_intr_establish_xname ("wm0TXRX0", "ixg0 TXRX1", "virtio0 vq#2"),
	// ", "-separated when the line is shared.
	Devices string
	// Counts are the interrupts taken on each CPU index.
	Counts []uint64
	// Assigned are the CPUs the interrupt is routed to (the '*' of
	// intrctl list); every CPU for a per-CPU interrupt (IPIs, timers).
	Assigned cpuset.CPUSet
}

// DecodeIntrList decodes a kern.intr.list buffer. A buffer cut short keeps
// the lines it holds whole and returns an error with them. It reads
// il_nintrs lines, not up to il_bufsize as intrctl does: the kernel sizes
// the buffer before it lists the interrupts, so when one goes away in
// between the buffer ends in zeroed lines, which are not interrupts.
func DecodeIntrList(b []byte) (*IntrList, error) {
	hdr, err := decodeIntrListHeader(b)
	if err != nil {
		return nil, err
	}
	list := &IntrList{NCPU: hdr.ncpus, Lines: make([]IntrLine, 0, min(hdr.nintrs, len(b)/hdr.linesize))}
	for i := range hdr.nintrs {
		at := hdr.lineoffset + i*hdr.linesize
		if at+hdr.linesize > len(b) {
			return list, fmt.Errorf("kern.intr.list: %d of %d interrupts fit in %d bytes", i, hdr.nintrs, len(b))
		}
		list.Lines = append(list.Lines, decodeIntrLine(b[at:at+hdr.linesize], hdr.ncpus))
	}
	return list, nil
}

type intrListHeader struct {
	ncpus, nintrs, linesize, lineoffset int
}

// decodeIntrListHeader checks the header against the layout above.
func decodeIntrListHeader(b []byte) (intrListHeader, error) {
	if len(b) < intrListHeaderSize {
		return intrListHeader{}, fmt.Errorf("kern.intr.list: %d bytes, shorter than its %d-byte header", len(b), intrListHeaderSize)
	}
	ne := binary.NativeEndian
	version := int32(ne.Uint32(b[0:]))
	h := intrListHeader{ncpus: int(int32(ne.Uint32(b[4:]))), nintrs: int(int32(ne.Uint32(b[8:])))}
	linesize, lineoffset := ne.Uint64(b[24:]), int64(ne.Uint64(b[32:]))
	switch {
	case version != intrListVersion:
		return h, fmt.Errorf("kern.intr.list: version %d, not intrio.h's %d", version, intrListVersion)
	case h.ncpus < 1 || h.ncpus > cpuset.MaxCPUs:
		return h, fmt.Errorf("kern.intr.list: %d CPUs", h.ncpus)
	case h.nintrs < 0 || h.nintrs > intrMaxLines:
		return h, fmt.Errorf("kern.intr.list: %d interrupts", h.nintrs)
	case linesize != uint64(intrLineCPUsAt+intrLineCPUSize*h.ncpus):
		return h, fmt.Errorf("kern.intr.list: lines of %d bytes for %d CPUs, not intrio.h 1.2's %d: another layout",
			linesize, h.ncpus, intrLineCPUsAt+intrLineCPUSize*h.ncpus)
	case lineoffset < intrListHeaderSize || lineoffset > int64(len(b)):
		return h, fmt.Errorf("kern.intr.list: first line at %d in %d bytes", lineoffset, len(b))
	}
	h.linesize, h.lineoffset = int(linesize), int(lineoffset)
	return h, nil
}

// decodeIntrLine decodes one struct intrio_list_line of ncpus CPUs.
func decodeIntrLine(b []byte, ncpus int) IntrLine {
	l := IntrLine{ID: cString(b[:intrIDBuf]), Devices: cString(b[intrIDBuf:intrLineCPUsAt]), Counts: make([]uint64, ncpus)}
	for cpu := range ncpus {
		c := b[intrLineCPUsAt+cpu*intrLineCPUSize:]
		l.Counts[cpu] = binary.NativeEndian.Uint64(c[intrCountAt:])
		if c[intrAssignedByte] != 0 {
			l.Assigned.Add(cpu)
		}
	}
	return l
}

// cString is a NUL-terminated field: the kernel fills it with strncpy,
// which leaves no NUL when the name fills the field.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
