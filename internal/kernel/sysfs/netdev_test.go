package sysfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// Fixture trees: see testdata/hosts/*/SOURCE.md.
const (
	fcHostRoot      = "../../../testdata/hosts/fc-2cpu"
	bigironHostRoot = "../../../testdata/hosts/bigiron-8cpu"
)

// netDevSummary is a NetDevice with its sets written as CPU lists, so that
// a table can state a whole device in one line of Go.
type netDevSummary struct {
	Name, Driver, Bus, Virtio string
	NUMA, Legacy, Threaded    int
	MSI                       []int
	Virtual                   bool
	RPS                       []string // per rx queue: CPU list, "-" when rps_cpus is absent
	FlowCnt                   []int64
	XPS                       []string // per tx queue: CPU list, "-" when xps_cpus is absent
	XPSRxQs                   []string // per tx queue: queue list, "-" when absent
}

func summarizeNetDev(d NetDevice) netDevSummary {
	s := netDevSummary{
		Name: d.Name, Driver: d.Driver, Bus: d.BusAddress, Virtio: d.VirtioName,
		NUMA: d.NUMANode, Legacy: d.LegacyIRQ, Threaded: d.Threaded,
		MSI: d.MSIIRQs, Virtual: d.IsVirtual(),
	}
	set := func(c cpuset.CPUSet, has bool) string {
		if !has {
			return "-"
		}
		return c.String()
	}
	for i, q := range d.RxQueues {
		if q.Index != i {
			s.RPS = append(s.RPS, fmt.Sprintf("index %d at %d", q.Index, i))
		}
		s.RPS = append(s.RPS, set(q.RPSCPUs, q.HasRPS))
		s.FlowCnt = append(s.FlowCnt, q.RPSFlowCount)
	}
	for i, q := range d.TxQueues {
		if q.Index != i {
			s.XPS = append(s.XPS, fmt.Sprintf("index %d at %d", q.Index, i))
		}
		s.XPS = append(s.XPS, set(q.XPSCPUs, q.HasXPSCPUs))
		s.XPSRxQs = append(s.XPSRxQs, set(q.XPSRxQs, q.HasXPSRxQs))
	}
	return s
}

func (s netDevSummary) String() string {
	type plain netDevSummary // without this String method
	return fmt.Sprintf("%+v", plain(s))
}

func equalSummary(a, b netDevSummary) bool {
	return a.Name == b.Name && a.Driver == b.Driver && a.Bus == b.Bus && a.Virtio == b.Virtio &&
		a.NUMA == b.NUMA && a.Legacy == b.Legacy && a.Threaded == b.Threaded &&
		slices.Equal(a.MSI, b.MSI) && a.Virtual == b.Virtual &&
		slices.Equal(a.RPS, b.RPS) && slices.Equal(a.FlowCnt, b.FlowCnt) &&
		slices.Equal(a.XPS, b.XPS) && slices.Equal(a.XPSRxQs, b.XPSRxQs)
}

func TestNetDevFixtures(t *testing.T) {
	// The virtual single-queue devices of the Firecracker VM all look alike.
	fcVirtual := func(name string) netDevSummary {
		return netDevSummary{Name: name, NUMA: -1, Threaded: 0, Virtual: true,
			RPS: []string{""}, FlowCnt: []int64{0}, XPS: []string{"-"}, XPSRxQs: []string{""}}
	}
	for _, tc := range []struct {
		host string
		want []netDevSummary
	}{
		{fcHostRoot, []netDevSummary{
			{Name: "eth0", Driver: "virtio_net", Bus: "0000:00:03.0", Virtio: "virtio2",
				NUMA: -1, Legacy: 0, Threaded: 0, MSI: []int{37, 38, 39},
				// xps_cpus exists but reading it says ENOENT (single queue).
				RPS: []string{""}, FlowCnt: []int64{0}, XPS: []string{"-"}, XPSRxQs: []string{""}},
			fcVirtual("ifb0"),
			fcVirtual("ifb1"),
			fcVirtual("lo"),
		}},
		{bigironHostRoot, []netDevSummary{
			{Name: "ens1f0", Driver: "mlx5_core", Bus: "0000:3b:00.0", NUMA: 0,
				Legacy:   0, // irq says 24, but MSI-X is in use
				Threaded: 0, MSI: []int{98, 99, 100, 101, 102, 103, 104, 105, 106},
				RPS:     []string{"", "1-3", "4-7", "4-6", "0", "1", "2-3", "0-6"},
				FlowCnt: []int64{0, 4096, 4096, 4096, 4096, 4096, 4096, 4096},
				XPS:     []string{"0", "1", "2", "3", "4", "5", "6", "7"},
				XPSRxQs: []string{"0", "", "", "", "", "", "", ""}},
			{Name: "veth0", NUMA: -1, Threaded: 1, Virtual: true,
				RPS: []string{"4-7", "0-3"}, FlowCnt: []int64{0, 0},
				XPS: []string{"0-1", ""}, XPSRxQs: []string{"", ""}},
		}},
	} {
		t.Run(filepath.Base(tc.host), func(t *testing.T) {
			devs, err := ReadNetDevices(filepath.Join(tc.host, "sys"), nil)
			if err != nil {
				t.Fatalf("ReadNetDevices: %v", err)
			}
			if len(devs) != len(tc.want) {
				var names []string
				for _, d := range devs {
					names = append(names, d.Name)
				}
				t.Fatalf("devices %v, want %d", names, len(tc.want))
			}
			for i, want := range tc.want {
				if got := summarizeNetDev(devs[i]); !equalSummary(got, want) {
					t.Errorf("device %d:\n got %v\nwant %v", i, got, want)
				}
			}
		})
	}
}

func findDev(devs []NetDevice, name string) (NetDevice, bool) {
	for _, d := range devs {
		if d.Name == name {
			return d, true
		}
	}
	return NetDevice{}, false
}

func devNames(devs []NetDevice) []string {
	var names []string
	for _, d := range devs {
		names = append(names, d.Name)
	}
	return names
}

func TestNetDevMissingClassNet(t *testing.T) {
	h := testutil.NewHostTree(t)
	h.Dir("sys/class")
	devs, err := ReadNetDevices(h.Path("sys"), nil)
	if err == nil || devs != nil {
		t.Fatalf("got %v, %v; want no devices and an error", devs, err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestNetDevEmptyClassNet(t *testing.T) {
	h := testutil.NewHostTree(t)
	h.Dir("sys/class/net")
	devs, err := ReadNetDevices(h.Path("sys"), nil)
	if err != nil || len(devs) != 0 {
		t.Fatalf("got %v, %v; want nothing", devs, err)
	}
}

// TestNetDevExclude: an excluded device is not read at all: its files
// would fail (a directory for rps_cpus, threaded and rx_packets), yet no
// error, and it is not returned.
func TestNetDevExclude(t *testing.T) {
	h := testutil.NewHostTree(t)
	h.VirtualDev("eth0")
	for i := range 30 {
		name := fmt.Sprintf("veth%d", i)
		h.Link("sys/class/net/"+name, "../../devices/virtual/net/"+name)
		for _, f := range []string{"threaded", "statistics/rx_packets", "queues/rx-0/rps_cpus"} {
			h.Dir("sys/devices/virtual/net/" + name + "/" + f)
		}
	}
	if _, err := ReadNetDevices(h.Path("sys"), nil); err == nil {
		t.Fatal("the broken devices read without an error: the test proves nothing")
	}
	devs, err := ReadNetDevices(h.Path("sys"), regexp.MustCompile(`^veth`))
	if err != nil || !slices.Equal(devNames(devs), []string{"eth0"}) {
		t.Errorf("got %v, %v; want eth0 alone and no error", devNames(devs), err)
	}
}

func TestNetDevNoQueuesAndPlainDirs(t *testing.T) {
	h := testutil.NewHostTree(t)
	// A plain directory (no symlink) without queues/ and without threaded.
	h.Dir("sys/class/net/dummy0")
	// bonding_masters is a regular file the bonding driver adds.
	h.File("sys/class/net/bonding_masters", "bond0\n")
	h.VirtualDev("lo")
	devs, err := ReadNetDevices(h.Path("sys"), nil)
	if err != nil {
		t.Fatalf("ReadNetDevices: %v", err)
	}
	if names := devNames(devs); !slices.Equal(names, []string{"dummy0", "lo"}) {
		t.Fatalf("devices %v, want [dummy0 lo]", names)
	}
	d := devs[0]
	if len(d.RxQueues) != 0 || len(d.TxQueues) != 0 || d.Threaded != -1 || d.NUMANode != -1 || !d.IsVirtual() {
		t.Errorf("dummy0 = %+v, want no queues, Threaded -1, virtual", d)
	}
	if len(devs[1].RxQueues) != 1 || len(devs[1].TxQueues) != 1 {
		t.Errorf("lo queues: %+v", devs[1])
	}
}

func TestNetDevQueueOrderAndNames(t *testing.T) {
	h := testutil.NewHostTree(t)
	dev := "sys/class/net/eth9"
	for _, q := range []int{10, 2, 0, 1} {
		h.File(fmt.Sprintf("%s/queues/rx-%d/rps_cpus", dev, q), "0\n")
		h.File(fmt.Sprintf("%s/queues/tx-%d/xps_cpus", dev, q), strconv.FormatInt(1<<(q%4), 16)+"\n")
	}
	h.Dir(dev + "/queues/rx-x")   // not a queue
	h.Dir(dev + "/queues/tx-")    // not a queue
	h.Dir(dev + "/queues/foo-1")  // not a queue
	h.Dir(dev + "/queues/rx--1")  // not a queue
	h.Dir(dev + "/queues/tx-1.5") // not a queue
	devs, err := ReadNetDevices(h.Path("sys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var rx, tx []int
	for _, q := range devs[0].RxQueues {
		rx = append(rx, q.Index)
		if q.RPSFlowCount != -1 || !q.HasRPS {
			t.Errorf("rx-%d: %+v, want RPSFlowCount -1 (absent), HasRPS", q.Index, q)
		}
	}
	for _, q := range devs[0].TxQueues {
		tx = append(tx, q.Index)
		if q.HasXPSRxQs {
			t.Errorf("tx-%d: HasXPSRxQs without xps_rxqs", q.Index)
		}
	}
	if want := []int{0, 1, 2, 10}; !slices.Equal(rx, want) || !slices.Equal(tx, want) {
		t.Errorf("rx %v tx %v, want %v", rx, tx, want)
	}
	if got := devs[0].TxQueues[3].XPSCPUs.String(); got != "2" {
		t.Errorf("tx-10 xps = %q, want 2", got)
	}
}

func TestNetDevGarbage(t *testing.T) {
	h := testutil.NewHostTree(t)
	h.VirtualDev("lo")
	dev := "sys/devices/virtual/net/veth1"
	h.Link("sys/class/net/veth1", "../../devices/virtual/net/veth1")
	h.File(dev+"/threaded", "on\n")
	h.File(dev+"/queues/rx-0/rps_cpus", "zz,top\n")
	h.File(dev+"/queues/rx-0/rps_flow_cnt", "12x\n")
	h.File(dev+"/queues/rx-1/rps_cpus", "f\n")
	h.File(dev+"/queues/rx-1/rps_flow_cnt", "256\n")
	h.File(dev+"/queues/tx-0/xps_cpus", "not a mask")
	h.File(dev+"/queues/tx-0/xps_rxqs", "1\n")

	devs, err := ReadNetDevices(h.Path("sys"), nil)
	if err == nil {
		t.Fatal("no error for garbage files")
	}
	t.Logf("error: %v", err)
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error message spans lines: %q", err.Error())
	}
	for _, want := range []string{"veth1", "rps_cpus", "rps_flow_cnt", "threaded", "xps_cpus", "4 problems"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		t.Errorf("garbage reported as a missing file: %v", err)
	}
	if names := devNames(devs); !slices.Equal(names, []string{"lo", "veth1"}) {
		t.Fatalf("devices %v, want both kept", names)
	}
	got := summarizeNetDev(devs[1])
	want := netDevSummary{Name: "veth1", NUMA: -1, Threaded: -1, Virtual: true,
		RPS: []string{"-", "0-3"}, FlowCnt: []int64{-1, 256}, XPS: []string{"-"}, XPSRxQs: []string{"0"}}
	if !equalSummary(got, want) {
		t.Errorf("\n got %v\nwant %v", got, want)
	}
}

// TestNetDevUnreadableRPS: root reads whatever the permissions, so as root the
// test runs as nobody in a child process (testutil.RerunAsNobody).
func TestNetDevUnreadableRPS(t *testing.T) {
	if testutil.RerunAsNobody(t) {
		return
	}
	h := testutil.NewHostTree(t)
	h.VirtualDev("lo")
	h.VirtualDev("veth2")
	h.File("sys/devices/virtual/net/veth2/queues/rx-0/rps_cpus", "3\n")
	if !h.Unreadable("sys/devices/virtual/net/veth2/queues/rx-0/rps_cpus") {
		t.Fatalf("chmod 0 does not stop this process's reads (euid %d): no EACCES to test", os.Geteuid())
	}
	devs, err := ReadNetDevices(h.Path("sys"), nil)
	if err == nil || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("error %v, want one wrapping fs.ErrPermission", err)
	}
	d, ok := findDev(devs, "veth2")
	if !ok || len(d.RxQueues) != 1 || d.RxQueues[0].HasRPS || d.RxQueues[0].RPSFlowCount != 0 {
		t.Errorf("veth2 = %+v, want its queue kept without RPS", d)
	}
	if _, ok := findDev(devs, "lo"); !ok {
		t.Error("lo lost")
	}
}

func TestNetDevVanished(t *testing.T) {
	h := testutil.NewHostTree(t)
	h.VirtualDev("lo")
	// The class link outlived its device: what a read racing with
	// "ip link del" sees.
	h.Link("sys/class/net/veth3", "../../devices/virtual/net/veth3")
	devs, err := ReadNetDevices(h.Path("sys"), nil)
	if names := devNames(devs); !slices.Equal(names, []string{"lo"}) {
		t.Errorf("devices %v, want [lo]", names)
	}
	// Gone is not broken: a container's veth that vanished mid-scrape must
	// not fail the collector.
	if err != nil {
		t.Fatalf("error %v for a device that vanished, want none", err)
	}
}

func TestNetDevBusDevices(t *testing.T) {
	h := testutil.NewHostTree(t)
	// A PCI NIC with legacy INTx only and no numa_node file.
	pci := "sys/devices/pci0000:00/0000:00:19.0"
	h.Link("sys/class/net/eno1", "../../devices/pci0000:00/0000:00:19.0/net/eno1")
	h.Link(pci+"/net/eno1/device", "../../../0000:00:19.0")
	h.Link(pci+"/driver", "../../../bus/pci/drivers/e1000e")
	h.File(pci+"/irq", "20\n")
	h.File(pci+"/net/eno1/queues/rx-0/rps_cpus", "0\n")
	// virtio-mmio: the virtio device's parent is a platform device
	// without msi_irqs; its IRQ is a wired line the exporter finds by name.
	mmio := "sys/devices/platform/4000.virtio_mmio"
	h.Link("sys/class/net/eth1", "../../devices/platform/4000.virtio_mmio/virtio0/net/eth1")
	h.Link(mmio+"/virtio0/net/eth1/device", "../../../virtio0")
	h.Link(mmio+"/virtio0/driver", "../../../../bus/virtio/drivers/virtio_net")
	h.File(mmio+"/virtio0/net/eth1/threaded", "0\n")
	// A USB NIC whose driver was unbound: no driver link.
	usb := "sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0"
	h.Link("sys/class/net/usb0", "../../devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/net/usb0")
	h.Link(usb+"/net/usb0/device", "../../../1-1:1.0")
	h.Dir(usb + "/net/usb0/queues")
	// A PCI NIC with a garbage msi_irqs entry and a garbage numa_node.
	bad := "sys/devices/pci0000:00/0000:00:1f.6"
	h.Link("sys/class/net/eno2", "../../devices/pci0000:00/0000:00:1f.6/net/eno2")
	h.Link(bad+"/net/eno2/device", "../../../0000:00:1f.6")
	h.Link(bad+"/driver", "../../../bus/pci/drivers/e1000e")
	h.File(bad+"/msi_irqs/130", "msi\n")
	h.File(bad+"/msi_irqs/oops", "msi\n")
	h.File(bad+"/msi_irqs/129", "msi\n")
	h.File(bad+"/numa_node", "node zero\n")
	h.File(bad+"/irq", "17\n")

	// A handmade tree with plain directories instead of links: the bus
	// address is unknown, the rest is read; the driver link may dangle.
	h.File("sys/class/net/eth7/device/msi_irqs/50", "msix\n")
	h.File("sys/class/net/eth7/device/numa_node", "1\n")
	h.Link("sys/class/net/eth7/device/driver", "../../../../bus/pci/drivers/ixgbe")

	devs, err := ReadNetDevices(h.Path("sys"), nil)
	if err == nil || !strings.Contains(err.Error(), "msi_irqs: an entry (4 bytes starting with a letter)") ||
		!strings.Contains(err.Error(), "numa_node: not an integer") || strings.Contains(err.Error(), "oops") {
		t.Errorf("error %v, want the bad msi_irqs entry and numa_node named", err)
	}
	want := map[string]netDevSummary{
		"eno1": {Name: "eno1", Driver: "e1000e", Bus: "0000:00:19.0", NUMA: -1, Legacy: 20, Threaded: -1,
			RPS: []string{""}, FlowCnt: []int64{-1}},
		"eth1": {Name: "eth1", Driver: "virtio_net", Bus: "4000.virtio_mmio", Virtio: "virtio0", NUMA: -1, Threaded: 0},
		"usb0": {Name: "usb0", Bus: "1-1:1.0", NUMA: -1, Threaded: -1},
		"eno2": {Name: "eno2", Driver: "e1000e", Bus: "0000:00:1f.6", NUMA: -1, Threaded: -1, MSI: []int{129, 130}},
		"eth7": {Name: "eth7", Driver: "ixgbe", NUMA: 1, Threaded: -1, MSI: []int{50}},
	}
	if len(devs) != len(want) {
		t.Fatalf("devices %v", devNames(devs))
	}
	for _, d := range devs {
		if got := summarizeNetDev(d); !equalSummary(got, want[d.Name]) {
			t.Errorf("\n got %v\nwant %v", got, want[d.Name])
		}
	}
}

func TestNetDevProblemsErrorIsShort(t *testing.T) {
	h := testutil.NewHostTree(t)
	for i := range 12 {
		h.File(fmt.Sprintf("sys/class/net/d%02d/queues/rx-0/rps_cpus", i), "garbage\n")
	}
	devs, err := ReadNetDevices(h.Path("sys"), nil)
	if len(devs) != 12 || err == nil {
		t.Fatalf("%d devices, %v", len(devs), err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "net devices: 12 problems: ") || !strings.HasSuffix(msg, "; and 7 more") {
		t.Errorf("message %q", msg)
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 12 {
		t.Errorf("error does not unwrap to the 12 problems")
	}
}

// TestNetDevLiveHost reads this machine's /sys and /proc: the exporter's
// real input. It expects the Firecracker VM the fc-2cpu fixture was taken
// from (eth0 = virtio_net on virtio2) and skips elsewhere.
func TestNetDevLiveHost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("not Linux")
	}
	if _, err := os.Stat("/sys/class/net/eth0"); err != nil {
		t.Skipf("no /sys/class/net/eth0 on this machine (%v): the live test expects the Firecracker VM of testdata/hosts/fc-2cpu", err)
	}
	devs, err := ReadNetDevices("/sys", nil)
	if err != nil {
		t.Errorf("ReadNetDevices(/sys, nil): %v", err)
	}
	eth0, ok := findDev(devs, "eth0")
	if !ok {
		t.Fatalf("eth0 missing from %v", devNames(devs))
	}
	t.Logf("eth0: %v", summarizeNetDev(eth0))
	if eth0.Driver != "virtio_net" || eth0.VirtioName != "virtio2" {
		t.Errorf("eth0 driver %q virtio %q, want virtio_net on virtio2", eth0.Driver, eth0.VirtioName)
	}
	if len(eth0.RxQueues) == 0 {
		t.Error("eth0 has no rx queue")
	}
	if lo, ok := findDev(devs, "lo"); !ok || !lo.IsVirtual() {
		t.Errorf("lo missing or not virtual: %+v", lo)
	}

	topo, err := ReadCPUTopology("/sys")
	if err != nil {
		t.Errorf("ReadCPUTopology(/sys): %v", err)
	}
	if topo == nil {
		t.Fatal("no topology")
	}
	// runtime.NumCPU counts the CPUs this process may run on, like nproc.
	if got, want := topo.Online.Count(), runtime.NumCPU(); got != want {
		t.Errorf("online %q has %d CPUs, nproc says %d", topo.Online, got, want)
	}
	if topo.Online.Intersect(topo.Possible).Count() != topo.Online.Count() {
		t.Errorf("online %q not within possible %q", topo.Online, topo.Possible)
	}

}
