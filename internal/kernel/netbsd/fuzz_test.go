package netbsd

import (
	"testing"

	"github.com/netirq/netirq_exporter/internal/testutil"
)

// Fuzz targets for the decoders, with properties beyond "does not panic":
// every decoded line has one count per CPU and assigned CPUs among them,
// every counter came from bytes the buffer holds, and error text stays
// short whatever the input.
//
//	make fuzz-short
//	go test ./internal/kernel/netbsd -run '^$' -fuzz '^FuzzDecodeIntrList$' -fuzztime 60s

func FuzzDecodeIntrList(f *testing.F) {
	f.Add(encodeIntrList(4, wm4()))
	f.Add(encodeIntrList(1, []intrListLine{{id: "ioapic0 pin 2", xname: "hpet0", counts: []uint64{9}, assigned: []bool{true}}}))
	f.Add(encodeIntrList(2, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := DecodeIntrList(b)
		testutil.CheckErrLen(t, err)
		if l == nil {
			if err == nil {
				t.Fatal("no list and no error")
			}
			return
		}
		if l.NCPU < 1 || len(l.Lines)*(320+16*l.NCPU) > len(b) {
			t.Fatalf("%d CPUs, %d lines from %d bytes", l.NCPU, len(l.Lines), len(b))
		}
		for _, line := range l.Lines {
			if len(line.Counts) != l.NCPU || len(line.ID) > 64 || len(line.Devices) > 256 {
				t.Fatalf("line %+v of %d CPUs", line, l.NCPU)
			}
			if list := line.Assigned.List(); len(list) > 0 && list[len(list)-1] >= l.NCPU {
				t.Fatalf("assigned %s of %d CPUs", line.Assigned, l.NCPU)
			}
		}
	})
}

func FuzzDecodeEvcnts(f *testing.F) {
	f.Add(encodeEvcnts(evcntHost, 0))
	f.Add(encodeEvcnts(evcntHost[:1], 0xff))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := DecodeEvcnts(b)
		testutil.CheckErrLen(t, err)
		size := 0
		for _, e := range evs {
			size += 28 + len(e.Group) + 1 + len(e.Name) + 1
		}
		if size > len(b) {
			t.Fatalf("%d counters need %d bytes, the buffer has %d", len(evs), size, len(b))
		}
	})
}

func FuzzDecodeDevNames(f *testing.F) {
	f.Add([]byte("vioif0\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), 1)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		names := decodeDevNames(b, n)
		if len(names) > len(b)/16 || len(names) > max(n, 0) {
			t.Fatalf("%d names from %d bytes, n %d", len(names), len(b), n)
		}
		for _, s := range names {
			if s == "" || len(s) > 16 {
				t.Fatalf("name %q", s)
			}
		}
	})
}
