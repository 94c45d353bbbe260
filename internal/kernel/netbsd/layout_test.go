package netbsd

import (
	"encoding/binary"
)

// The builders below lay out what the kernel answers, written from the
// C definitions (testdata/README.md names them) with literal offsets, not
// from the decoders' constants, so that a decoder that misreads a field
// fails against them.

// intrListLine is one interrupt as the builder takes it.
type intrListLine struct {
	id, xname string
	counts    []uint64
	assigned  []bool
}

// encodeIntrList builds a kern.intr.list answer as interrupt_intrio_list()
// does on LP64: struct intrio_list (40 bytes), then each struct
// intrio_list_line: ill_intrid[64], ill_xname[256], then per CPU
// { bool illc_assigned; 7 bytes padding; uint64_t illc_count }.
func encodeIntrList(ncpu int, lines []intrListLine) []byte {
	ne := binary.NativeEndian
	linesize := 64 + 256 + 16*ncpu // sizeof(line) + sizeof(cpu)*(ncpu-1), sizeof(line) = 320+16
	b := make([]byte, 40+linesize*len(lines))
	ne.PutUint32(b[0:], 1) // il_version = INTRIO_LIST_VERSION
	ne.PutUint32(b[4:], uint32(ncpu))
	ne.PutUint32(b[8:], uint32(len(lines)))
	ne.PutUint64(b[16:], uint64(len(b))) // il_bufsize
	ne.PutUint64(b[24:], uint64(linesize))
	ne.PutUint64(b[32:], 40) // il_lineoffset = sizeof(struct intrio_list)
	for i, l := range lines {
		line := b[40+i*linesize:]
		copy(line[0:64], l.id) // strncpy: no NUL when the name fills the field
		copy(line[64:320], l.xname)
		for cpu := range ncpu {
			c := line[320+16*cpu:]
			if cpu < len(l.assigned) && l.assigned[cpu] {
				c[0] = 1
			}
			if cpu < len(l.counts) {
				ne.PutUint64(c[8:], l.counts[cpu])
			}
		}
	}
	return b
}

// evcntRecord is one event counter as the builder takes it.
type evcntRecord struct {
	group, name string
	typ         uint8
	count       uint64
}

// encodeEvcnts builds a kern.evcnt answer as sysctl_fillevcnt() does:
// per counter ev_count, ev_addr, ev_parent (uint64 each), ev_type,
// ev_grouplen = strlen(group), ev_namelen = strlen(name), ev_len (8-byte
// words), then "group\0name\0" and padding up to ev_len*8. The padding is
// filled with pad, which the kernel never writes (it copies only up to the
// name's NUL), so it is whatever the reader's buffer held.
func encodeEvcnts(recs []evcntRecord, pad byte) []byte {
	ne := binary.NativeEndian
	var out []byte
	for i, r := range recs {
		copylen := 28 + len(r.group) + 1 + len(r.name) + 1
		size := (copylen + 7) &^ 7
		rec := make([]byte, size)
		for j := copylen; j < size; j++ {
			rec[j] = pad
		}
		ne.PutUint64(rec[0:], r.count)
		ne.PutUint64(rec[8:], 0xffff800000001000+uint64(i)*64) // ev_addr
		rec[24], rec[25], rec[26], rec[27] = r.typ, uint8(len(r.group)), uint8(len(r.name)), uint8(size/8)
		copy(rec[28:], r.group)
		copy(rec[28+len(r.group)+1:], r.name)
		out = append(out, rec...)
	}
	return out
}
