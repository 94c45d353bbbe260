package snapshot

import (
	"errors"
	"regexp"

	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel/netbsd"
)

// NetBSD's parts: kern.intr.list with its classification, and kern.evcnt.
// On other systems their reads fail at once with netbsd.ErrNotNetBSD; the
// collectors that use them are NetBSD's only (collector/platform.go).

// bsdReads are the NetBSD reads, a variable so that tests can stand in
// for the kernel.
var bsdReads = struct {
	intrList   func() (*netbsd.IntrList, error)
	evcnts     func() ([]netbsd.Evcnt, error)
	interfaces func() ([]string, error)
	children   func(dev string) ([]string, error)
}{netbsd.ReadIntrList, netbsd.ReadEvcnts, netbsd.Interfaces, netbsd.Children}

var bsdIntrListPart = partSpec{part: PartIntrList, name: "intr_list",
	keep: func(d, s *Snapshot) {
		d.IntrList, d.IntrListErr, d.IntrClasses = s.IntrList, s.IntrListErr, s.IntrClasses
	},
	err: func(s *Snapshot) *error { return &s.IntrListErr },
	read: func(_ *Source, snap *Snapshot, _ func(Part)) {
		snap.IntrList, snap.IntrListErr = bsdReads.intrList()
		if snap.IntrList != nil {
			snap.IntrClasses = irqclass.ClassifyNetBSD(snap.IntrList.Lines, readNetBSDNICs(snap.IntrList))
		}
	}}

var bsdEvcntPart = partSpec{part: PartEvcnt, name: "evcnt",
	keep: func(d, s *Snapshot) { d.Evcnts, d.EvcntsErr = s.Evcnts, s.EvcntsErr },
	err:  func(s *Snapshot) *error { return &s.EvcntsErr },
	read: func(_ *Source, snap *Snapshot, _ func(Part)) {
		snap.Evcnts, snap.EvcntsErr = bsdReads.evcnts()
	}}

// virtioBusRe finds the virtio buses that name interrupts.
var virtioBusRe = regexp.MustCompile(`\bvirtio\d+\b`)

// readNetBSDNICs asks which devices are network interfaces and which
// device each virtio bus of l carries. What cannot be read is left
// unknown: the classifier then goes by the driver's name, and a virtio
// bus's vectors stay unclassified, rather than failing the part.
func readNetBSDNICs(l *netbsd.IntrList) irqclass.NetBSDNICs {
	var nics irqclass.NetBSDNICs
	if names, err := bsdReads.interfaces(); err == nil {
		nics.Interfaces = map[string]bool{}
		for _, n := range names {
			nics.Interfaces[n] = true
		}
	}
	for _, line := range l.Lines {
		for _, bus := range virtioBusRe.FindAllString(line.Devices, -1) {
			if _, done := nics.VirtioChild[bus]; done {
				continue
			}
			if nics.VirtioChild == nil {
				nics.VirtioChild = map[string]string{}
			}
			if kids, err := bsdReads.children(bus); err == nil && len(kids) > 0 {
				nics.VirtioChild[bus] = kids[0] // a virtio bus carries one device
			} else {
				nics.VirtioChild[bus] = ""
			}
		}
	}
	return nics
}

// DetailedNetBSD reports whether a NetBSD interrupt is exported one by one:
// as Detailed, with its id, device names and device in place of the IRQ
// number and name.
func (s *IRQSelector) DetailedNetBSD(line netbsd.IntrLine, class irqclass.IRQClass) bool {
	if s == nil {
		return class.IsNIC()
	}
	matches := func(re *regexp.Regexp) bool {
		return re.MatchString(line.ID) || re.MatchString(line.Devices) || (class.Device != "" && re.MatchString(class.Device))
	}
	if s.Exclude != nil && matches(s.Exclude) {
		return false
	}
	return s.All || class.IsNIC() || (s.Include != nil && matches(s.Include))
}

// IsNetBSD reports whether snap holds NetBSD's parts rather than Linux's:
// the report and the collectors pick their view by it.
func (snap *Snapshot) IsNetBSD() bool {
	return snap.IntrList != nil || snap.Evcnts != nil ||
		(snap.IntrListErr != nil && !errors.Is(snap.IntrListErr, netbsd.ErrNotNetBSD))
}
