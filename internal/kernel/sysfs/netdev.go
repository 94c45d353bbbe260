package sysfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
)

// This file reads /sys/class/net/*: one NetDevice per entry with its bus
// device and its RX/TX queues. It also holds the small file helpers that
// procfs/irq.go and topology.go share. Nothing here writes.
//
// The sysfs layout it expects (see testdata/hosts/*/sys for real copies):
//
//	class/net/eth0 -> ../../devices/pci0000:00/0000:00:03.0/virtio2/net/eth0
//	<eth0>/device  -> ../../../virtio2            (absent for lo, veth, bridge ...)
//	<virtio2>/driver -> .../bus/virtio/drivers/virtio_net
//	<0000:00:03.0>/{msi_irqs/37,numa_node,irq}   (the PCI parent of a virtio device)
//	<eth0>/threaded, <eth0>/queues/{rx-N/{rps_cpus,rps_flow_cnt},tx-N/{xps_cpus,xps_rxqs}}

// errNetDeviceVanished marks a device that disappeared from
// /sys/class/net while it was being read (a veth of a container that just
// stopped). It wraps fs.ErrNotExist.
var errNetDeviceVanished = fmt.Errorf("device vanished while being read: %w", fs.ErrNotExist)

// virtioDeviceName matches the name of a virtio bus device ("virtio2").
var virtioDeviceName = regexp.MustCompile(`^virtio[0-9]+$`)

// ReadNetDevices reads every device of <sysRoot>/class/net whose name
// exclude (nil: none) does not match, sorted by name, with its queues
// sorted by index. An excluded device is not read at all, not even
// stat'ed: a container host can have thousands of veths nobody asked
// about (--collector.device-exclude). A piece that cannot be read (a file that
// is unreadable or holds garbage) is left out and named in the returned
// error, everything else is still returned; a device that vanished meanwhile
// is left out silently.
// Only a missing or unreadable <sysRoot>/class/net returns no devices.
//
// Files the kernel legitimately omits are not errors: rps_cpus and
// rps_flow_cnt without CONFIG_RPS, xps_cpus and xps_rxqs on a single-queue
// device (the file exists but reading it fails with ENOENT or EINVAL),
// threaded on kernels before 5.12, numa_node and msi_irqs on non-PCI devices.
func ReadNetDevices(sysRoot string, exclude *regexp.Regexp) ([]NetDevice, error) {
	classDir := filepath.Join(sysRoot, "class", "net")
	entries, err := kernel.ReadDir(classDir)
	if err != nil {
		return nil, fmt.Errorf("net devices: %w", err)
	}
	var devices []NetDevice
	problems := kernel.NewProblems("net devices")
	for _, e := range entries { // kernel.ReadDir sorts by name
		name := e.Name()
		if exclude != nil && exclude.MatchString(name) {
			continue
		}
		// The errors name the file that failed, so the device too.
		dev, ok, errs := readNetDevice(classDir, name)
		for _, err := range errs {
			// A device that went away (a stopped container's veth) is
			// not a failure: it is simply no longer there to export.
			if !errors.Is(err, errNetDeviceVanished) {
				problems.Add(err)
			}
		}
		if ok {
			devices = append(devices, dev)
		}
	}
	slices.SortFunc(devices, func(a, b NetDevice) int { return strings.Compare(a.Name, b.Name) })
	return devices, problems.Err()
}

// readNetDevice reads one class/net entry. ok is false when the entry is no
// device (bonding_masters, a regular file the bonding driver puts there) or
// vanished; errs lists the pieces that failed.
func readNetDevice(classDir, name string) (dev NetDevice, ok bool, errs []error) {
	path := filepath.Join(classDir, name)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return dev, false, []error{fmt.Errorf("%s: %w", name, errNetDeviceVanished)}
	case err != nil:
		return dev, false, []error{err}
	case !fi.IsDir():
		return dev, false, nil
	}
	dev = NetDevice{Name: name, NUMANode: -1, Threaded: -1}
	if v, present, err := ReadInt(filepath.Join(path, "threaded")); err != nil {
		errs = append(errs, err)
	} else if present {
		dev.Threaded = int(v)
	}
	errs = append(errs, readBusDevice(path, &dev)...)
	errs = append(errs, readDeviceStats(path, &dev)...)
	dev.RxQueues, dev.TxQueues, errs = readQueues(filepath.Join(path, "queues"), errs)

	// A device that is gone now may have given ENOENT or ENODEV for any of
	// the reads above: report the disappearance alone, not its symptoms.
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return NetDevice{}, false, []error{fmt.Errorf("%s: %w", name, errNetDeviceVanished)}
	}
	return dev, true, errs
}

// readDeviceStats fills RxPackets, TxPackets and HasStats from
// <dev>/statistics; a device without the directory keeps HasStats false.
func readDeviceStats(devPath string, dev *NetDevice) (errs []error) {
	rx, rxOK, err := ReadInt(filepath.Join(devPath, "statistics", "rx_packets"))
	if err != nil {
		errs = append(errs, err)
	}
	tx, txOK, err := ReadInt(filepath.Join(devPath, "statistics", "tx_packets"))
	if err != nil {
		errs = append(errs, err)
	}
	if rxOK && txOK && rx >= 0 && tx >= 0 {
		dev.RxPackets, dev.TxPackets, dev.HasStats = uint64(rx), uint64(tx), true
	}
	return errs
}

// readBusDevice fills Driver, VirtioName, BusAddress, NUMANode, MSIIRQs and
// LegacyIRQ from <dev>/device. A virtual device has no device link and
// keeps them empty.
func readBusDevice(devPath string, dev *NetDevice) (errs []error) {
	link := filepath.Join(devPath, "device")
	fi, err := os.Lstat(link)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // virtual: lo, veth, bridge, bond, vlan, ifb ...
	} else if err != nil {
		return []error{err}
	}
	resolved, err := filepath.EvalSymlinks(link)
	if err != nil {
		return []error{fmt.Errorf("device link: %w", err)}
	}
	if dev.Driver, err = readLinkBase(filepath.Join(resolved, "driver")); err != nil {
		errs = append(errs, err)
	}
	busDir := resolved
	if base := filepath.Base(resolved); virtioDeviceName.MatchString(base) {
		dev.VirtioName = base
		busDir = filepath.Dir(resolved) // the PCI (or virtio-mmio) parent
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		// Only a link names the bus device; a handmade tree with a plain
		// "device" directory has no address to give. Off PCI the name is
		// the bus's own (a VMBus GUID, "1-1:1.0" for USB, a platform name).
		dev.BusAddress = filepath.Base(busDir)
	}
	if v, present, err := ReadInt(filepath.Join(busDir, "numa_node")); err != nil {
		errs = append(errs, err)
	} else if present {
		dev.NUMANode = int(v)
	}
	var msiErrs []error
	dev.MSIIRQs, msiErrs = readMSIIRQs(filepath.Join(busDir, "msi_irqs"))
	errs = append(errs, msiErrs...)
	if len(dev.MSIIRQs) == 0 {
		if v, present, err := ReadInt(filepath.Join(busDir, "irq")); err != nil {
			errs = append(errs, err)
		} else if present && v > 0 {
			dev.LegacyIRQ = int(v)
		}
	}
	return errs
}

// readLinkBase returns the last element of a symlink's target, "" when
// there is no link (a device without a bound driver).
func readLinkBase(path string) (string, error) {
	target, err := os.Readlink(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case errors.Is(err, syscall.EINVAL):
		return "", fmt.Errorf("%s: not a symlink", path)
	case err != nil:
		return "", err
	}
	return filepath.Base(filepath.Clean(target)), nil
}

// readMSIIRQs lists the entry names of a PCI device's msi_irqs directory,
// sorted; nil when the directory is absent (no MSI in use, not PCI).
func readMSIIRQs(dir string) (irqs []int, errs []error) {
	entries, err := kernel.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, []error{err}
	}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("%s: an entry (%s) is not an IRQ number", dir, kernel.Describe(e.Name())))
			continue
		}
		irqs = append(irqs, n)
	}
	slices.Sort(irqs)
	return irqs, errs
}

// readQueues reads queues/rx-N and queues/tx-N, the queues shared out over
// a few goroutines (a 64-queue NIC has 256 of these files). A device
// without a queues directory has no queues; that is not an error (the
// kernel always creates it, but a copied tree may lack it).
func readQueues(dir string, errs []error) ([]RxQueue, []TxQueue, []error) {
	entries, err := kernel.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, errs
	} else if err != nil {
		return nil, nil, append(errs, err)
	}
	type queueRead struct {
		kind  string
		index int
		rx    RxQueue
		tx    TxQueue
		errs  []error
	}
	var reads []queueRead
	for _, e := range entries {
		if kind, index, ok := parseQueueName(e.Name()); ok {
			reads = append(reads, queueRead{kind: kind, index: index})
		}
	}
	kernel.InChunks(len(reads), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r := &reads[i]
			qdir := filepath.Join(dir, r.kind+"-"+strconv.Itoa(r.index))
			if r.kind == "rx" {
				r.rx, r.errs = readRxQueue(qdir, r.index)
			} else {
				r.tx, r.errs = readTxQueue(qdir, r.index)
			}
		}
	})
	var rx []RxQueue
	var tx []TxQueue
	for _, r := range reads { // in directory order, so the errors are too
		errs = append(errs, r.errs...)
		if r.kind == "rx" {
			rx = append(rx, r.rx)
		} else {
			tx = append(tx, r.tx)
		}
	}
	slices.SortFunc(rx, func(a, b RxQueue) int { return a.Index - b.Index })
	slices.SortFunc(tx, func(a, b TxQueue) int { return a.Index - b.Index })
	return rx, tx, errs
}

func readRxQueue(qdir string, index int) (q RxQueue, errs []error) {
	q = RxQueue{Index: index, RPSFlowCount: -1}
	var present bool
	var err error
	if q.RPSCPUs, present, err = ReadMask(filepath.Join(qdir, "rps_cpus"), false); err != nil {
		errs = append(errs, err)
	} else {
		q.HasRPS = present
	}
	if v, present, err := ReadInt(filepath.Join(qdir, "rps_flow_cnt")); err != nil {
		errs = append(errs, err)
	} else if present {
		q.RPSFlowCount = v
	}
	return q, errs
}

func readTxQueue(qdir string, index int) (q TxQueue, errs []error) {
	q = TxQueue{Index: index}
	var err error
	if q.XPSCPUs, q.HasXPSCPUs, err = ReadMask(filepath.Join(qdir, "xps_cpus"), true); err != nil {
		errs = append(errs, err)
	}
	if q.XPSRxQs, q.HasXPSRxQs, err = ReadMask(filepath.Join(qdir, "xps_rxqs"), true); err != nil {
		errs = append(errs, err)
	}
	return q, errs
}

// parseQueueName splits "rx-3" into ("rx", 3); ok is false for anything
// else, including "rx-03", which is not a kernel name and would give a
// second queue 3 (duplicate series).
func parseQueueName(name string) (kind string, index int, ok bool) {
	kind, num, found := strings.Cut(name, "-")
	if !found || (kind != "rx" && kind != "tx") || num == "" || strings.TrimLeft(num, "0123456789") != "" ||
		len(num) > 1 && num[0] == '0' {
		return "", 0, false
	}
	index, err := strconv.Atoi(num)
	if err != nil {
		return "", 0, false
	}
	return kind, index, true
}

// NetDevice is one /sys/class/net/<name> entry with its queues.
type NetDevice struct {
	Name string
	// Driver is the basename of device/driver ("virtio_net", "mlx5_core");
	// empty for virtual devices (veth, bridge, lo).
	Driver string
	// BusAddress is the PCI address of the device, or of the PCI parent of
	// a virtio device ("0000:00:03.0"); empty for virtual devices.
	BusAddress string
	// VirtioName is "virtio2" when the netdev sits on a virtio device, whose
	// IRQs are named after it rather than after the netdev.
	VirtioName string
	NUMANode   int   // device/numa_node; -1 when absent or unknown
	MSIIRQs    []int // device/msi_irqs (the PCI parent's for virtio), sorted
	LegacyIRQ  int   // device/irq when no MSI is in use; 0 when none
	// Threaded is /sys/class/net/<dev>/threaded (0 off, 1 on, newer kernels
	// may print other modes); -1 when the file is absent.
	Threaded int
	// RxPackets and TxPackets are statistics/rx_packets and tx_packets:
	// every packet the device received or sent, virtual devices included.
	// HasStats is false when the statistics directory is absent.
	RxPackets, TxPackets uint64
	HasStats             bool
	RxQueues             []RxQueue
	TxQueues             []TxQueue
}

// IsVirtual reports whether the device has no bus device behind it.
func (d NetDevice) IsVirtual() bool {
	return d.BusAddress == "" && d.VirtioName == "" && d.Driver == ""
}

// RxQueue is queues/rx-N.
type RxQueue struct {
	Index        int
	RPSCPUs      cpuset.CPUSet // rps_cpus; empty = RPS off
	HasRPS       bool          // rps_cpus exists (CONFIG_RPS)
	RPSFlowCount int64         // rps_flow_cnt; -1 when absent
}

// TxQueue is queues/tx-N.
type TxQueue struct {
	Index      int
	XPSCPUs    cpuset.CPUSet // xps_cpus; the kernel omits it on single-queue devices
	HasXPSCPUs bool
	XPSRxQs    cpuset.CPUSet // xps_rxqs: a mask of RX queue indices, not CPUs
	HasXPSRxQs bool
}
