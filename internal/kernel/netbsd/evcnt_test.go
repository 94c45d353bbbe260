package netbsd

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

// evcntHost is what kern.evcnt holds on an amd64 host with wm(4) built
// with WM_EVENT_COUNTERS and an ixg(4): the drivers' group and name
// formats (testdata/README.md), the x86 interrupt counters vmstat -i
// shows and a trap.
var evcntHost = []evcntRecord{
	{group: "msix0", name: "vec 0", typ: 1, count: 91823},
	{group: "wm0", name: "rxq00intr", typ: 1, count: 91800},
	{group: "wm0", name: "txq00txdw", typ: 1, count: 40210},
	{group: "ixg0 q1", name: "IRQs on queue", typ: 1, count: 123456789},
	{group: "ixg0 q1", name: "Handled queue in softint", typ: 0, count: 123450000},
	{group: "cpu0", name: "TLB shootdown", typ: 0, count: 17},
	{group: "cpu1", name: "trap", typ: 2, count: 3},
}

func TestDecodeEvcnts(t *testing.T) {
	for _, pad := range []byte{0, 0xff} {
		got, err := DecodeEvcnts(encodeEvcnts(evcntHost, pad))
		if err != nil {
			t.Fatal(err)
		}
		want := []Evcnt{
			{"msix0", "vec 0", EvcntIntr, 91823}, {"wm0", "rxq00intr", EvcntIntr, 91800},
			{"wm0", "txq00txdw", EvcntIntr, 40210}, {"ixg0 q1", "IRQs on queue", EvcntIntr, 123456789},
			{"ixg0 q1", "Handled queue in softint", EvcntMisc, 123450000},
			{"cpu0", "TLB shootdown", EvcntMisc, 17}, {"cpu1", "trap", EvcntTrap, 3},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("pad %#x: got %+v", pad, got)
		}
	}
	if s := EvcntType(7).String(); s != "type7" {
		t.Errorf("unknown type prints %q", s)
	}
}

// TestDecodeEvcntsGroupLen: the name starts at ev_grouplen+1, ev_grouplen
// being strlen(group) without its NUL; a decoder that took the header
// comment's "with NUL" would cut the group's last letter or shift the name.
func TestDecodeEvcntsGroupLen(t *testing.T) {
	got, err := DecodeEvcnts(encodeEvcnts([]evcntRecord{{group: "a", name: "bc", count: 1}}, 0))
	if err != nil || len(got) != 1 || got[0].Group != "a" || got[0].Name != "bc" {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestDecodeEvcntsRefuses(t *testing.T) {
	good := encodeEvcnts(evcntHost, 0)
	first := 8 * int(good[27])
	for name, c := range map[string]struct {
		edit func(b []byte) []byte
		want string
		kept int
	}{
		"cut header": {func(b []byte) []byte { return b[:first+20] }, "shorter than a record's 28-byte header", 1},
		"cut record": {func(b []byte) []byte { return b[:first+30] }, "left", 1},
		"zero len":   {func(b []byte) []byte { b[27] = 0; return b }, "too short for its", 0},
		"long names": {func(b []byte) []byte { b[25] = 200; return b }, "too short for its 200+5-byte names", 0},
		"too long":   {func(b []byte) []byte { b[first+27] = 255; return b }, "is 2040 bytes", 1},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := DecodeEvcnts(c.edit(append([]byte(nil), good...)))
			if err == nil || !strings.Contains(err.Error(), c.want) || len(got) != c.kept {
				t.Errorf("got %d counters, %v; want %d and an error with %q", len(got), err, c.kept, c.want)
			}
		})
	}
	if got, err := DecodeEvcnts(nil); err != nil || got != nil {
		t.Errorf("empty: %v, %v", got, err)
	}
	binary.NativeEndian.PutUint64(good, 1<<63)
	if got, _ := DecodeEvcnts(good); got[0].Count != 1<<63 {
		t.Errorf("count %d", got[0].Count)
	}
}

func TestDecodeDevNames(t *testing.T) {
	b := make([]byte, 3*16)
	copy(b, "vioif0")
	copy(b[16:], strings.Repeat("x", 16)) // copyoutstr always ends in NUL; a full field is still one name
	if got := decodeDevNames(b, 5); !reflect.DeepEqual(got, []string{"vioif0", strings.Repeat("x", 16)}) {
		t.Errorf("got %q", got)
	}
	if got := decodeDevNames(b, -1); len(got) != 0 {
		t.Errorf("n -1: %q", got)
	}
}
