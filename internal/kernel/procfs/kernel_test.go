package procfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/testutil"
)

const (
	fcHost      = "../../../testdata/hosts/fc-2cpu"
	bigironHost = "../../../testdata/hosts/bigiron-8cpu"
)

func TestParseKernelRelease(t *testing.T) {
	for _, c := range []struct {
		in   string
		want KernelVersion
		ok   bool
	}{
		{"6.18.44-fc-v1300\n", KernelVersion{6, 18}, true},
		{"5.14.0-427.el9.x86_64", KernelVersion{5, 14}, true},
		{"6.11", KernelVersion{6, 11}, true},
		{"4.19.0-26-amd64", KernelVersion{4, 19}, true},
		{"6.13-rc1", KernelVersion{6, 13}, true},
		{"6", KernelVersion{}, false},
		{"v6.1", KernelVersion{}, false},
		{"0.1", KernelVersion{}, false},
		{"", KernelVersion{}, false},
		{"6.99999999999999999999", KernelVersion{}, false},
	} {
		got, err := ParseKernelRelease(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseKernelRelease(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
	v := KernelVersion{6, 13}
	if !v.AtLeast(6, 13) || !v.AtLeast(5, 17) || v.AtLeast(6, 14) || (KernelVersion{}).AtLeast(0, 0) {
		t.Errorf("AtLeast is wrong for %v", v)
	}
}

// TestParseIRQPressure: real files (testdata/proc_pressure/SOURCES.md) and
// the shapes a kernel never prints.
func TestParseIRQPressure(t *testing.T) {
	for file, want := range map[string]uint64{"cks-fedora-irq.txt": 3753500244, "htop-commit-irq.txt": 100648410} {
		f, err := os.Open(filepath.Join("../../../testdata/proc_pressure", file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseIRQPressure(f)
		f.Close()
		if err != nil || got.State != IRQPressurePresent || got.FullMicros != want {
			t.Errorf("%s: %+v, %v; want total %d", file, got, err, want)
		}
	}
	for in, ok := range map[string]bool{
		"some avg10=1.00 avg60=0.00 avg300=0.00 total=5\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n": true,
		"full avg10=0.00 total=-1\n": false,
		"full avg10=0.00\n":          false,
		"":                           false,
		"some total=3\n":             false,
	} {
		_, err := ParseIRQPressure(strings.NewReader(in))
		if (err == nil) != ok {
			t.Errorf("ParseIRQPressure(%q): error %v, want ok %v", in, err, ok)
		}
	}
}

// TestParseKernelConfig reads this host's own config (fc-2cpu's config.gz
// is the build VM's /proc/config.gz) and bigiron's hand-made one.
func TestParseKernelConfig(t *testing.T) {
	for _, c := range []struct {
		root, irqTime string
		hz            int
	}{{fcHost, "n", 250}, {bigironHost, "y", 1000}} {
		got, err := NewKernelConfigProbe(filepath.Join(c.root, "proc")).Config()
		if err != nil || !got.Present || got.HZ != c.hz || got.IRQTimeAccounting != c.irqTime {
			t.Errorf("%s: %+v, %v; want HZ %d, IRQ time accounting %q", c.root, got, err, c.hz, c.irqTime)
		}
	}
	got, err := NewKernelConfigProbe(t.TempDir()).Config()
	if err != nil || got.Present {
		t.Errorf("no config.gz: %+v, %v; want absent, no error", got, err)
	}
	if _, err := ParseKernelConfig(strings.NewReader("CONFIG_HZ=fast\n")); err == nil {
		t.Errorf("a CONFIG_HZ that is no number must be an error")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.gz"), []byte("CONFIG_HZ=250\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewKernelConfigProbe(dir).Config(); err == nil || !strings.Contains(err.Error(), "config.gz") {
		t.Errorf("a config.gz that is not gzip: error %v", err)
	}
}

func TestReadKernelInfoFixtures(t *testing.T) {
	fc, err := ReadKernelInfo(filepath.Join(fcHost, "proc"), NewKernelConfigProbe(filepath.Join(fcHost, "proc")))
	if err != nil {
		t.Fatal(err)
	}
	if fc.Release != "6.18.44-fc-v669" || fc.Version != (KernelVersion{6, 18}) || !fc.HasDefaultIRQAffinity ||
		fc.DefaultIRQAffinity.String() != "0-1" || !fc.PSI || fc.IRQPressure.State != IRQPressureAbsent || fc.Config.HZ != 250 {
		t.Errorf("fc-2cpu: %+v", fc)
	}
	big, err := ReadKernelInfo(filepath.Join(bigironHost, "proc"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if big.IRQPressure != (IRQPressure{State: IRQPressurePresent, FullMicros: 3753500244}) || big.DefaultIRQAffinity.String() != "0-7" ||
		big.Config.Present {
		t.Errorf("bigiron-8cpu (config not asked for): %+v", big)
	}
	empty, err := ReadKernelInfo(t.TempDir(), nil)
	if err != nil || empty.Release != "" || empty.PSI || empty.HasDefaultIRQAffinity || empty.IRQPressure.State != IRQPressureAbsent {
		t.Errorf("empty procfs: %+v, %v; want everything absent, no error", empty, err)
	}
}

// TestReadKernelInfoBad: garbage is named; the other fields are kept.
func TestReadKernelInfoBad(t *testing.T) {
	p := testutil.NewFakeProc(t)
	p.Write("sys/kernel/osrelease", "Linux\n")
	p.Write("irq/default_smp_affinity", "ff\n")
	p.Write("pressure/irq", "full total=x\n")
	k, err := ReadKernelInfo(p.Root, nil)
	if err == nil || !testutil.ErrMentions(err, "osrelease") || !testutil.ErrMentions(err, "pressure/irq") {
		t.Fatalf("want errors naming osrelease and pressure/irq, got %v", err)
	}
	if k.Release != "Linux" || k.Version.Known() || k.DefaultIRQAffinity.String() != "0-7" || !k.PSI ||
		k.IRQPressure.State != IRQPressureUnreadable {
		t.Errorf("kept: %+v", k)
	}
}

// TestReadKernelInfoLive: this machine (6.18, PSI on with psi=1, no
// CONFIG_IRQ_TIME_ACCOUNTING) has /proc/pressure without irq; whatever the
// host, the reader agrees with the files.
func TestReadKernelInfoLive(t *testing.T) {
	k, err := ReadKernelInfo("/proc", NewKernelConfigProbe("/proc"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil || strings.TrimSpace(string(b)) != k.Release {
		t.Errorf("release %q, osrelease holds %q (%v)", k.Release, b, err)
	}
	_, statErr := os.Stat("/proc/pressure/irq")
	switch k.IRQPressure.State {
	case IRQPressureAbsent:
		if !errors.Is(statErr, fs.ErrNotExist) {
			t.Errorf("pressure/irq read as absent, stat says %v", statErr)
		}
	case IRQPressurePresent, IRQPressureUnsupported:
		if statErr != nil {
			t.Errorf("pressure/irq read as %v, stat says %v", k.IRQPressure.State, statErr)
		}
	}
	t.Logf("this host: %+v", k)
}
