package hostgen_test

import (
	"bytes"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/netirq/netirq_exporter/collector"
	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/hostgen"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// mixed has every driver, an offline and an isolated CPU, and enough CPUs
// that masks take several 32-bit groups.
func mixed(seed uint64) hostgen.Spec {
	return hostgen.Spec{
		CPUs: 40, Offline: []int{5, 33}, Isolated: []int{39}, NUMANodes: 2, Seed: seed,
		NICs: []hostgen.NIC{
			{Driver: hostgen.MLX5, Queues: 8}, {Driver: hostgen.I40E, Queues: 6},
			{Driver: hostgen.Virtio, Queues: 4}, {Driver: hostgen.ENA, Queues: 3},
		},
		NonNICIRQs: 60,
	}
}

func generate(t *testing.T, spec hostgen.Spec) string {
	t.Helper()
	dir := t.TempDir()
	if err := hostgen.Generate(dir, spec); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tree maps every file and link below dir to its content or link target.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			out[rel] = "-> " + target
			return err
		case d.Type().IsRegular():
			b, err := os.ReadFile(path)
			out[rel] = string(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHostgenDeterministic(t *testing.T) {
	a, b := tree(t, generate(t, mixed(7))), tree(t, generate(t, mixed(7)))
	if len(a) != len(b) {
		t.Fatalf("%d vs %d files", len(a), len(b))
	}
	for k, v := range a {
		if b[k] != v {
			t.Fatalf("%s differs between two runs of the same seed", k)
		}
	}
	c := tree(t, generate(t, mixed(8)))
	if c["proc/interrupts"] == a["proc/interrupts"] {
		t.Error("another seed gave the same /proc/interrupts")
	}
}

func TestHostgenRejects(t *testing.T) {
	for name, spec := range map[string]hostgen.Spec{
		"no CPUs":        {NUMANodes: 1},
		"bad driver":     {CPUs: 4, NUMANodes: 1, NICs: []hostgen.NIC{{Driver: "e1000", Queues: 1}}},
		"no queues":      {CPUs: 4, NUMANodes: 1, NICs: []hostgen.NIC{{Driver: hostgen.MLX5}}},
		"CPU0 offline":   {CPUs: 4, NUMANodes: 1, Offline: []int{0}},
		"nodes > CPUs":   {CPUs: 2, NUMANodes: 3},
		"offline >= CPU": {CPUs: 4, NUMANodes: 1, Offline: []int{4}},
	} {
		if err := hostgen.Generate(t.TempDir(), spec); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	small := hostgen.Spec{CPUs: 4, NUMANodes: 1, NICs: []hostgen.NIC{{Driver: hostgen.MLX5, Queues: 2}}, NonNICIRQs: 3}
	dir := generate(t, small)
	if err := hostgen.Generate(dir, small); err == nil {
		t.Error("generating into a non-empty directory: no error")
	}
}

func TestHostgenFormatMask(t *testing.T) {
	for _, c := range []struct {
		bits  []int
		nbits int
		want  string
	}{
		{nil, 2, "0"},
		{[]int{0, 1}, 2, "3"},
		{[]int{0, 1, 2, 3, 4, 5, 6, 7}, 8, "ff"},
		{[]int{4}, 8, "10"},
		{[]int{35}, 36, "8,00000000"},
		{[]int{0}, 64, "00000000,00000001"},
		{[]int{63}, 64, "80000000,00000000"},
		{nil, 256, strings.TrimSuffix(strings.Repeat("00000000,", 8), ",")},
	} {
		got := hostgen.FormatMask(c.bits, c.nbits)
		if got != c.want {
			t.Errorf("FormatMask(%v, %d) = %q, want %q", c.bits, c.nbits, got, c.want)
		}
		set, err := cpuset.ParseCPUMask(got)
		if err != nil || !set.Equal(cpuset.NewCPUSet(c.bits...)) {
			t.Errorf("ParseCPUMask(%q) = %v, %v", got, set, err)
		}
	}
}

// TestHostgenLayout checks the files against what the kernel prints: the
// per-CPU files list the CPUs the kernel would (online or possible), and
// every IRQ and net device has its sysfs/procfs entries.
func TestHostgenLayout(t *testing.T) {
	spec := mixed(1)
	dir := generate(t, spec)
	files := tree(t, dir)
	online := spec.OnlineCPUs()

	lines := strings.Split(strings.TrimSuffix(files["proc/interrupts"], "\n"), "\n")
	header := strings.Fields(lines[0])
	if len(header) != online || header[0] != "CPU0" || header[5] != "CPU6" {
		t.Errorf("interrupts header: %d fields %v..., want %d online CPUs without CPU5", len(header), header[:6], online)
	}
	numbered := 0
	for _, l := range lines[1:] {
		label, rest, _ := strings.Cut(l, ":")
		if _, err := strconv.Atoi(strings.TrimSpace(label)); err != nil {
			continue
		}
		numbered++
		f := strings.Fields(rest)
		for i := range online {
			if _, err := strconv.ParseUint(f[i], 10, 64); err != nil {
				t.Fatalf("line %q: column %d not a count", l, i)
			}
		}
		if _, err := strconv.ParseUint(f[online], 10, 64); err == nil {
			t.Fatalf("line %q: more counts than online CPUs", l)
		}
		irq := strings.TrimSpace(label)
		for _, name := range []string{"smp_affinity", "smp_affinity_list", "effective_affinity", "effective_affinity_list", "affinity_hint", "node"} {
			if _, ok := files["proc/irq/"+irq+"/"+name]; !ok {
				t.Fatalf("proc/irq/%s/%s missing", irq, name)
			}
		}
	}
	if numbered != spec.IRQs() {
		t.Errorf("%d numbered lines, spec says %d", numbered, spec.IRQs())
	}

	if h := strings.Fields(strings.SplitN(files["proc/softirqs"], "\n", 2)[0]); len(h) != spec.CPUs {
		t.Errorf("softirqs header has %d CPUs, want all %d possible", len(h), spec.CPUs)
	}
	softnet := strings.Split(strings.TrimSuffix(files["proc/net/softnet_stat"], "\n"), "\n")
	if len(softnet) != online {
		t.Errorf("softnet_stat has %d rows, want %d", len(softnet), online)
	}
	for _, row := range softnet {
		if f := strings.Fields(row); len(f) != 15 {
			t.Fatalf("softnet row %q: %d columns", row, len(f))
		}
	}
	if got := strings.Count(files["proc/stat"], "\ncpu"); got != online {
		t.Errorf("/proc/stat has %d cpuN lines, want %d", got, online)
	}
	if got := files["sys/devices/system/cpu/online"]; got != "0-4,6-32,34-39\n" {
		t.Errorf("online = %q", got)
	}
	// 40 CPUs, 2 nodes, SMT siblings N and N+20.
	if got := files["sys/devices/system/node/node0/cpulist"]; got != "0-4,6-9,20-29\n" {
		t.Errorf("node0 cpulist = %q", got)
	}
	// Net devices: links resolve, the bus device has its driver and IRQs.
	if got := files["sys/class/net/eth2"]; got != "-> ../../devices/pci0000:00/0000:00:05.0/virtio0/net/eth2" {
		t.Errorf("class/net/eth2 %s", got)
	}
	if got := files["sys/devices/pci0000:00/0000:00:05.0/virtio0/net/eth2/device"]; got != "-> ../../../virtio0" {
		t.Errorf("eth2/device %s", got)
	}
	devs, err := sysfs.ReadNetDevices(filepath.Join(dir, "sys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != len(spec.NICs)+1 {
		t.Fatalf("%d devices, want %d NICs + lo", len(devs), len(spec.NICs))
	}
	wantDriver := map[string]string{hostgen.MLX5: "mlx5_core", hostgen.I40E: "i40e", hostgen.Virtio: "virtio_net", hostgen.ENA: "ena"}
	byDriver := map[string]sysfs.NetDevice{}
	for _, d := range devs {
		byDriver[d.Driver] = d
	}
	for _, n := range spec.NICs {
		d, ok := byDriver[wantDriver[n.Driver]]
		if !ok {
			t.Fatalf("no device with driver %s", wantDriver[n.Driver])
		}
		vectors := 1 + n.Queues
		if n.Driver == hostgen.Virtio {
			vectors = 1 + 2*n.Queues
			if d.VirtioName == "" {
				t.Errorf("%s: no virtio device", d.Name)
			}
		}
		if len(d.MSIIRQs) != vectors || len(d.RxQueues) != n.Queues || len(d.TxQueues) != n.Queues || d.BusAddress == "" {
			t.Errorf("%s: %d MSI IRQs, %d/%d queues, bus %q; want %d, %d", d.Name, len(d.MSIIRQs), len(d.RxQueues), len(d.TxQueues), d.BusAddress, vectors, n.Queues)
		}
		if d.NUMANode < 0 || d.NUMANode >= spec.NUMANodes {
			t.Errorf("%s: numa_node %d", d.Name, d.NUMANode)
		}
	}
}

// TestHostgenExporterReads runs the exporter over generated trees: every
// collector must succeed, and every NIC IRQ must be classified to its
// device and queue (the names follow the real drivers' schemes).
func TestHostgenExporterReads(t *testing.T) {
	for name, spec := range map[string]hostgen.Spec{
		"mixed":    mixed(3),
		"standard": hostgen.Standard(64, 4, 16, 2),
	} {
		t.Run(name, func(t *testing.T) {
			dir := generate(t, spec)
			cfg := collector.DefaultConfig()
			cfg.ProcPath, cfg.SysPath = filepath.Join(dir, "proc"), filepath.Join(dir, "sys")
			e, err := collector.NewExporter(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(e)
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, mf := range mfs {
				if mf.GetName() != "netirq_scrape_collector_success" {
					continue
				}
				for _, m := range mf.Metric {
					if m.GetGauge().GetValue() != 1 {
						t.Errorf("collector %s failed", label(m, "collector"))
					}
				}
			}

			snap := e.Source().Snapshot()
			if len(snap.Interrupts.IRQs) != spec.IRQs() || len(snap.Interrupts.CPUs) != spec.OnlineCPUs() {
				t.Fatalf("%d IRQs x %d CPUs, want %d x %d", len(snap.Interrupts.IRQs), len(snap.Interrupts.CPUs), spec.IRQs(), spec.OnlineCPUs())
			}
			nicIRQs, queues := 0, map[string]int{}
			for _, l := range snap.Interrupts.IRQs {
				c := snap.IRQClasses[l.IRQ]
				if !c.IsNIC() {
					continue
				}
				nicIRQs++
				if c.Kind != kernel.KindOther {
					queues[c.Device+"/"+string(c.Kind)]++
				}
				if c.Device == "" || strings.Contains(c.Device, ":") || strings.HasPrefix(c.Device, "virtio") {
					t.Errorf("IRQ %d %q: device %q, want the interface name", l.IRQ, l.Name, c.Device)
				}
			}
			if nicIRQs != spec.NICIRQs() {
				t.Errorf("%d NIC IRQs classified, want %d", nicIRQs, spec.NICIRQs())
			}
			want := 0
			for _, n := range spec.NICs {
				want += n.Queues
				if n.Driver == hostgen.Virtio {
					want += n.Queues
				}
			}
			got := 0
			for _, v := range queues {
				got += v
			}
			if got != want {
				t.Errorf("%d queue IRQs %v, want %d", got, queues, want)
			}
			// Affinity: every NIC IRQ fires on exactly one online CPU.
			for irq, aff := range snap.Affinity {
				if aff.Effective.Count() != 1 || !aff.HasEffective {
					t.Errorf("IRQ %d: effective %v", irq, aff.Effective)
				}
			}
			var text bytes.Buffer
			for _, mf := range mfs {
				text.WriteString(mf.GetName())
			}
			if !strings.Contains(text.String(), "netirq_net_queue_irq_info") {
				t.Error("no queue → IRQ map exported")
			}
		})
	}
}

func label(m *dto.Metric, name string) string {
	for _, lp := range m.Label {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}
