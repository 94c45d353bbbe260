package procfs

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/testutil"
)

// FuzzParseIRQPressure: a result is only ever the total of the first
// "full" line, and ParseUint agrees with it.
func FuzzParseIRQPressure(f *testing.F) {
	f.Add([]byte("full avg10=0.00 avg60=0.00 avg300=0.00 total=3753500244\n"))
	f.Add([]byte("some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=2\n"))
	f.Add([]byte("full total=18446744073709551616\n"))
	f.Add([]byte("full\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseIRQPressure(bytes.NewReader(data))
		testutil.CheckErrLen(t, err)
		if err != nil {
			if p != (IRQPressure{}) {
				t.Fatalf("error %v with a result %+v", err, p)
			}
			return
		}
		if p.State != IRQPressurePresent {
			t.Fatalf("no error but state %v", p.State)
		}
		var full string
		for line := range strings.SplitSeq(string(data), "\n") {
			if strings.HasPrefix(line, "full ") {
				full = line
				break
			}
		}
		// The first blank-separated field that starts with total= (not a
		// "total=" inside another field, as in "0total=").
		var total string
		found := false
		for _, f := range strings.Fields(full) {
			if v, ok := strings.CutPrefix(f, "total="); ok {
				total, found = v, true
				break
			}
		}
		if !found {
			t.Fatalf("total %d without a full line's total= field in %q", p.FullMicros, data)
		}
		want, perr := strconv.ParseUint(total, 10, 64)
		if perr != nil || want != p.FullMicros {
			t.Fatalf("total %d from %q, ParseUint says %d, %v", p.FullMicros, full, want, perr)
		}
	})
}

// FuzzParseKernelConfig: HZ is positive when found, and only
// CONFIG_IRQ_TIME_ACCOUNTING lines set the accounting answer.
func FuzzParseKernelConfig(f *testing.F) {
	f.Add([]byte("CONFIG_HZ_250=y\nCONFIG_HZ=250\n# CONFIG_IRQ_TIME_ACCOUNTING is not set\n"))
	f.Add([]byte("CONFIG_IRQ_TIME_ACCOUNTING=y\nCONFIG_HZ=1000\n"))
	f.Add([]byte("CONFIG_HZ=-1\n"))
	f.Add([]byte("CONFIG_HZ=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseKernelConfig(bytes.NewReader(data))
		testutil.CheckErrLen(t, err)
		if !c.Present {
			t.Fatalf("Present false from the parser")
		}
		if err == nil && c.HZ < 0 || c.HZ > 100_000 {
			t.Fatalf("HZ %d", c.HZ)
		}
		if c.HZ > 0 && !bytes.Contains(data, []byte("CONFIG_HZ="+strconv.Itoa(c.HZ))) {
			t.Fatalf("HZ %d not in the input", c.HZ)
		}
		switch c.IRQTimeAccounting {
		case "y", "n":
			if !bytes.Contains(data, []byte("CONFIG_IRQ_TIME_ACCOUNTING")) {
				t.Fatalf("accounting %q from nothing", c.IRQTimeAccounting)
			}
		case "":
		default:
			t.Fatalf("accounting %q", c.IRQTimeAccounting)
		}
	})
}

// FuzzParseKernelRelease: a version is only ever the two leading decimal
// fields, and String round-trips it.
func FuzzParseKernelRelease(f *testing.F) {
	for _, s := range []string{"6.18.44-fc-v1300", "5.14.0-427.el9.x86_64", "6.13-rc1", "6", "", "0.1", "6.1x", "65536.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseKernelRelease(s)
		testutil.CheckErrLen(t, err)
		if err != nil {
			if v.Known() {
				t.Fatalf("error %v with version %v", err, v)
			}
			return
		}
		if !v.Known() || v.Minor < 0 {
			t.Fatalf("%q: version %v", s, v)
		}
		first, _, _ := strings.Cut(strings.TrimSpace(s), ".")
		if n, err := strconv.Atoi(first); err != nil || n != v.Major {
			t.Fatalf("%q: major %d is not its first field", s, v.Major)
		}
		if back, err := ParseKernelRelease(v.String()); err != nil || back != v {
			t.Fatalf("%v round trip: %v, %v", v, back, err)
		}
	})
}
