package netbsd

import (
	"encoding/binary"
	"fmt"
)

// kern.evcnt answers back-to-back struct evcnt_sysctl records, as
// sysctl_fillevcnt() in sys/kern/subr_evcnt.c rev 1.18 fills them, from
// sys/sys/sysctl.h rev 1.236 (2021/09/16); the types are sys/sys/evcnt.h
// rev 1.10's:
//
//	struct evcnt_sysctl {        offset
//		uint64_t ev_count;     0
//		uint64_t ev_addr;      8   0 unless the reader may see kernel addresses
//		uint64_t ev_parent;   16
//		uint8_t  ev_type;     24   EVCNT_TYPE_MISC 0, _INTR 1, _TRAP 2
//		uint8_t  ev_grouplen; 25   strlen(group)
//		uint8_t  ev_namelen;  26   strlen(name)
//		uint8_t  ev_len;      27   the record's length in 8-byte words
//		char     ev_strings[];28   group, NUL, name, NUL; padded to ev_len*8
//	};
//
// sysctl.h's comment says the lengths include the NUL; the kernel stores
// strlen() (without it) and puts the name at ev_strings[ev_grouplen+1],
// which is also how vmstat(1) (usr.bin/vmstat/vmstat.c rev 1.220) reads
// it. The kernel writes only the strings, not the padding after them.
const (
	evcntHeader   = 28
	evcntTypeAt   = 24
	evcntGroupLen = 25
	evcntNameLen  = 26
	evcntLenAt    = 27
)

// EvcntType is an event counter's ev_type.
type EvcntType uint8

// The ev_type values of sys/sys/evcnt.h.
const (
	EvcntMisc EvcntType = 0 // miscellaneous
	EvcntIntr EvcntType = 1 // an interrupt (vmstat -i counts these)
	EvcntTrap EvcntType = 2 // a processor trap
)

// String is the type as vmstat -e prints it.
func (t EvcntType) String() string {
	switch t {
	case EvcntMisc:
		return "misc"
	case EvcntIntr:
		return "intr"
	case EvcntTrap:
		return "trap"
	}
	return fmt.Sprintf("type%d", uint8(t))
}

// Evcnt is one event counter: a line of `vmstat -e`, whose first column
// is "Group Name".
type Evcnt struct {
	Group string // "wm0", "ixg0 q1", "msix0", "cpu0"
	Name  string // "rxq00intr", "IRQs on queue", "vec 3"
	Type  EvcntType
	Count uint64
}

// DecodeEvcnts decodes a kern.evcnt buffer. A record that does not fit
// its own length ends the decoding with an error; the records before it
// are kept.
func DecodeEvcnts(b []byte) ([]Evcnt, error) {
	var out []Evcnt
	for off := 0; off < len(b); {
		rec := b[off:]
		if len(rec) < evcntHeader {
			return out, fmt.Errorf("kern.evcnt: %d bytes left at offset %d, shorter than a record's %d-byte header", len(rec), off, evcntHeader)
		}
		size := 8 * int(rec[evcntLenAt])
		glen, nlen := int(rec[evcntGroupLen]), int(rec[evcntNameLen])
		switch {
		case size < evcntHeader+glen+1+nlen+1:
			return out, fmt.Errorf("kern.evcnt: record at offset %d is %d bytes, too short for its %d+%d-byte names", off, size, glen, nlen)
		case size > len(rec):
			return out, fmt.Errorf("kern.evcnt: record at offset %d is %d bytes, %d left", off, size, len(rec))
		}
		strs := rec[evcntHeader:size]
		out = append(out, Evcnt{
			Group: cString(strs[:glen]), Name: cString(strs[glen+1 : glen+1+nlen]),
			Type: EvcntType(rec[evcntTypeAt]), Count: binary.NativeEndian.Uint64(rec),
		})
		off += size
	}
	return out, nil
}
