package procfs

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
)

// intrMaxLine bounds one line of /proc/interrupts: 8192 CPUs x 11
// characters is ~90 KiB, so a longer line is garbage and is skipped.
const intrMaxLine = 1 << 20

// intrMaxLabel bounds the "NN:" / "NAME:" label of a line.
const intrMaxLabel = 32

// ErrEmptyInterrupts is the Err of an InterruptsParseError for an input
// with nothing but blanks. No kernel prints that (the header is always
// there): it is a file masked by a container runtime (see
// snapshot.Snapshot.InterruptsMasked).
var ErrEmptyInterrupts = errors.New("empty input")

// ParseInterrupts parses /proc/interrupts in one pass:
//
//	            CPU0       CPU1
//	 38:          0        203  PCI-MSIX-0000:00:03.0   1-edge      virtio2-input.0
//	145:     863048          0       GIC  54 Level     eth0
//	 64:        230        244   PCI-MSI-edge      eth0
//	NMI:          0          0   Non-maskable interrupts
//	ERR:          0
//
// The header names the CPU of each count column ("CPU0 CPU2" when CPU1 is
// offline). A file without a header (a grep fragment) gets CPUs 0..n-1 from
// the widest numbered row, and the error says so (NoHeaderLine).
//
// After the counts of a numbered row come the chip ("IO-APIC", "GIC",
// "IR-PCI-MSIX-0000:01:00.0", "IO-APIC-fasteoi" on old kernels where the
// flow type is glued to the chip, "-" on some Android kernels, "Hyper-V
// PCIe MSI" with blanks in it), the hwirq column when the kernel prints one
// ("5-edge", "524289-edge", "54 Level") and the action names
// ("ehci_hcd:usb1, eth0"; may be empty or hold spaces).
// Very old ARM kernels print no chip at all: when no numbered row of the
// file has a run of two or more spaces after its counts (the kernel always
// puts at least two before the names), the whole text after the counts is
// taken as the name.
//
// Named rows (NMI, LOC, IPI0, "IPI0:2768" without a space on arm64, EXT and
// I/O on s390x ...) become ArchLines; ERR, MIS and Err (and any other row
// holding one number and no description on a multi-CPU host) are Global with
// a single count.
//
// Rows with more counts than the header has CPUs (Android prints IPI rows for
// offline CPUs) keep the first len(CPUs). A row with fewer counts (a
// truncated paste) keeps the counts it has, so len(Counts) may be less than
// len(CPUs), and is reported. Lines that cannot be read are skipped. The
// table is always returned, with an *InterruptsParseError when anything was
// wrong; an empty input, or one with neither a header nor a numbered row, is
// an error.
func ParseInterrupts(r io.Reader) (*InterruptTable, error) {
	p := intrParser{t: &InterruptTable{}, collectTails: true}
	br := bufio.NewReaderSize(r, 16<<10)
	var long []byte
	lineNo := 0
	for {
		line, err := br.ReadSlice('\n')
		tooLong := false
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: gather it, up to intrMaxLine.
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				if !tooLong && len(long)+len(line) <= intrMaxLine {
					long = append(long, line...)
				} else {
					tooLong = true
				}
			}
			line = long
		}
		if len(line) > 0 {
			lineNo++
			if tooLong {
				p.problem(lineNo, fmt.Sprintf("line longer than %d bytes, skipped", intrMaxLine))
			} else {
				p.line(lineNo, line)
			}
		}
		if err != nil {
			if err != io.EOF {
				p.fatal = fmt.Errorf("read error after line %d: %w", lineNo, err)
			}
			break
		}
	}
	return p.finish()
}

// intrParser holds the state of one ParseInterrupts call.
type intrParser struct {
	t      *InterruptTable
	header bool // a CPUn header was read; len(t.CPUs) is the column count
	sawAny bool // a non-blank line was read

	// The first non-blank line when it does not look like the header, for
	// the headerless warning.
	firstNo   int
	firstText string

	scratch []uint64 // counts of the current line
	pool    []uint64 // backing store the rows' Counts are cut from

	lastIRQ int
	seen    map[int]bool // built only when IRQ numbers stop increasing

	// Chipless detection (see ParseInterrupts): tails holds each numbered
	// row's text after the counts until a row shows a wide gap.
	collectTails bool
	tails        []string

	// Headerless files: the line of each numbered row, to report rows that
	// turn out narrower than the widest one.
	rowLines []int

	bad       int
	firstLine int
	first     string
	fatal     error
}

func (p *intrParser) problem(lineNo int, msg string) {
	if p.bad == 0 || lineNo < p.firstLine {
		p.firstLine, p.first = lineNo, msg
	}
	p.bad++
}

func intrIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

func intrIsDigit(c byte) bool { return c >= '0' && c <= '9' }

// line parses one line; b includes its newline, if any, and is only valid
// during the call.
func (p *intrParser) line(lineNo int, b []byte) {
	end := len(b)
	for end > 0 && intrIsSpace(b[end-1]) {
		end--
	}
	i := 0
	for i < end && intrIsSpace(b[i]) {
		i++
	}
	if i == end {
		return // blank line
	}
	b = b[:end]

	// Label: everything up to the first colon, without blanks.
	j := i
	for j < len(b) && b[j] != ':' && !intrIsSpace(b[j]) {
		j++
	}
	if (!p.sawAny || j == len(b) || b[j] != ':') && p.notARow(lineNo, b[i:], j-i) {
		return
	}
	label := b[i:j]
	if len(label) == 0 || len(label) > intrMaxLabel {
		p.problem(lineNo, fmt.Sprintf("bad label (%s)", kernel.Describe(string(label))))
		return
	}
	numbered := true
	for _, c := range label {
		if !intrIsDigit(c) {
			numbered = false
		}
		if c <= ' ' || c > '~' {
			p.problem(lineNo, fmt.Sprintf("bad label (%s)", kernel.Describe(string(label))))
			return
		}
	}
	if numbered && len(label) > 9 {
		p.problem(lineNo, fmt.Sprintf("IRQ number %s out of range", label))
		return
	}

	// Counts: the numbers after the colon ("IPI0:2768" has none between).
	pos := j + 1
	counts := p.scratch[:0]
	for {
		// Counts are right-aligned in 10-character columns: skip the
		// padding eight blanks at a time.
		for pos+8 <= len(b) && binary.LittleEndian.Uint64(b[pos:]) == 0x2020202020202020 {
			pos += 8
		}
		for pos < len(b) && intrIsSpace(b[pos]) {
			pos++
		}
		if pos == len(b) || !intrIsDigit(b[pos]) {
			break
		}
		start := pos
		var v uint64
		for pos < len(b) && intrIsDigit(b[pos]) {
			v = v*10 + uint64(b[pos]-'0')
			pos++
		}
		if pos < len(b) && !intrIsSpace(b[pos]) {
			pos = start // "5-edge", "4020KEY": not a count
			break
		}
		// 19 digits always fit in a uint64; 20 fit up to 18446744073709551615.
		if digits := b[start:pos]; len(digits) > 20 || len(digits) == 20 && string(digits) > "18446744073709551615" {
			p.problem(lineNo, fmt.Sprintf("%s: a count of %d digits overflows", label, pos-start))
			p.scratch = counts
			return
		}
		if len(counts) == cpuset.MaxCPUs {
			p.problem(lineNo, fmt.Sprintf("%s: more than %d count columns, skipped", label, cpuset.MaxCPUs))
			p.scratch = counts
			return
		}
		counts = append(counts, v)
	}
	p.scratch = counts
	tail := b[pos:]

	if numbered {
		p.numbered(lineNo, label, counts, tail)
	} else {
		p.arch(lineNo, label, counts, tail)
	}
}

// notARow handles a line b (without surrounding blanks) whose label is
// b[:labelEnd] when it is not a "LABEL: counts" row: the CPU header or
// garbage. It also notes the file's first line, so it sees that line and
// those without a colon after the label (the rows skip the call).
func (p *intrParser) notARow(lineNo int, b []byte, labelEnd int) bool {
	noColon := labelEnd == len(b) || b[labelEnd] != ':'
	isHeader := noColon && labelEnd > 3 && string(b[:3]) == "CPU" && intrIsDigit(b[3])
	if !p.sawAny {
		p.sawAny = true
		if !isHeader {
			p.noteFirst(lineNo, b)
		}
	}
	switch {
	case isHeader:
		p.parseHeader(lineNo, b)
	case noColon:
		p.problem(lineNo, fmt.Sprintf("not a \"NAME: counts\" line (%s)", kernel.Describe(string(b))))
	}
	return noColon
}

// noteFirst keeps a description of the first non-blank line b when it is
// not the header, so that a headerless file can be reported (described,
// never quoted: kernel.Describe; a file with its header costs nothing).
func (p *intrParser) noteFirst(lineNo int, b []byte) {
	p.firstNo, p.firstText = lineNo, kernel.Describe(string(b))
}

// parseHeader reads "CPU0 CPU1 ..." (CPU numbers strictly increasing).
func (p *intrParser) parseHeader(lineNo int, b []byte) {
	if p.header || len(p.t.IRQs) > 0 || len(p.t.Arch) > 0 {
		p.problem(lineNo, "CPU header after the first line, ignored")
		return
	}
	cpus := make([]int, 0, 1+len(b)/11)
	prev := -1
	for pos := 0; pos < len(b); {
		for pos < len(b) && intrIsSpace(b[pos]) {
			pos++
		}
		if pos == len(b) {
			break
		}
		start := pos
		for pos < len(b) && !intrIsSpace(b[pos]) {
			pos++
		}
		f := b[start:pos]
		n, ok := 0, len(f) > 3 && len(f) <= 8 && string(f[:3]) == "CPU"
		if ok {
			for _, c := range f[3:] {
				if !intrIsDigit(c) {
					ok = false
					break
				}
				n = n*10 + int(c-'0')
			}
		}
		if !ok || n >= cpuset.MaxCPUs || n <= prev || len(cpus) == cpuset.MaxCPUs {
			p.problem(lineNo, fmt.Sprintf("bad CPU header field %d (%s); columns taken as CPU0..n-1", len(cpus)+1, kernel.Describe(string(f))))
			return
		}
		prev = n
		cpus = append(cpus, n)
	}
	p.t.CPUs = cpus
	p.header = true
}

// cut returns a slice of exactly n counts copied from src, cut from a shared
// backing array so that a table costs a few allocations, not one per row.
func (p *intrParser) cut(src []uint64, n int) []uint64 {
	if n == 0 {
		return nil
	}
	if len(p.pool) < n {
		size := 64 * n
		if len(p.t.CPUs) > 0 {
			size = max(size, 32*len(p.t.CPUs))
		}
		p.pool = make([]uint64, max(size, 1024))
	}
	out := p.pool[:n:n]
	p.pool = p.pool[n:]
	copy(out, src)
	return out
}

func (p *intrParser) numbered(lineNo int, label []byte, counts []uint64, tail []byte) {
	irq := 0
	for _, c := range label {
		irq = irq*10 + int(c-'0')
	}
	if len(counts) == 0 {
		p.problem(lineNo, fmt.Sprintf("IRQ %d has no counts, skipped", irq))
		return
	}
	if len(p.t.IRQs) > 0 && irq <= p.lastIRQ {
		if p.seen == nil {
			p.seen = make(map[int]bool, 2*len(p.t.IRQs))
			for _, l := range p.t.IRQs {
				p.seen[l.IRQ] = true
			}
		}
		if p.seen[irq] {
			p.problem(lineNo, fmt.Sprintf("IRQ %d repeated, skipped", irq))
			return
		}
	}
	if p.seen != nil {
		p.seen[irq] = true
	}
	p.lastIRQ = max(p.lastIRQ, irq)

	n := len(counts)
	if p.header {
		if n > len(p.t.CPUs) {
			n = len(p.t.CPUs) // counts of offline CPUs (Android)
		} else if n < len(p.t.CPUs) {
			p.problem(lineNo, fmt.Sprintf("IRQ %d has %d counts for %d CPUs (truncated row)", irq, n, len(p.t.CPUs)))
		}
	} else {
		p.rowLines = append(p.rowLines, lineNo)
	}
	line := IRQLine{IRQ: irq, Counts: p.cut(counts, n)}
	var s string
	if len(tail) > 0 {
		s = string(tail)
		line.Chip, line.HWIRQ, line.Name = intrSplitTail(s)
	}
	if p.collectTails {
		if strings.Contains(s, "  ") || strings.Contains(s, "\t") {
			p.collectTails, p.tails = false, nil
		} else {
			p.tails = append(p.tails, s)
		}
	}
	p.t.IRQs = append(p.t.IRQs, line)
}

// intrSplitTail splits the text after a numbered row's counts into chip,
// hwirq and name (see ParseInterrupts). s has no surrounding blanks.
func intrSplitTail(s string) (chip, hwirq, name string) {
	tok := func(from int) (start, end int) {
		for from < len(s) && intrIsSpace(s[from]) {
			from++
		}
		end = from
		for end < len(s) && !intrIsSpace(s[end]) {
			end++
		}
		return from, end
	}
	_, e := tok(0)
	// The kernel prints at least two blanks before the action names, so a
	// word one blank after the chip is the hwirq column or more of the
	// chip's name: "Hyper-V PCIe MSI 134742016-edge      mana_q0@pci:…".
	for e+1 < len(s) && s[e] == ' ' && !intrIsSpace(s[e+1]) {
		ws, we := tok(e)
		if intrIsHWIRQWord(s[ws:we]) {
			break
		}
		e = we
	}
	chip = s[:e]
	hs, he := tok(e)
	if hs == len(s) {
		return chip, "", ""
	}
	hwEnd := -1
	if t := s[hs:he]; intrAllDigits(t) {
		// "54 Level" (ARM GENERIC_IRQ_SHOW_LEVEL) or a bare hwirq number.
		hwEnd = he
		if ls, le := tok(he); le > ls && (s[ls:le] == "Level" || s[ls:le] == "Edge") {
			hwEnd = le
		}
	} else if intrIsHWIRQWord(t) {
		hwEnd = he
	}
	if hwEnd < 0 {
		return chip, "", s[hs:]
	}
	hwirq = s[hs:hwEnd]
	ns, _ := tok(hwEnd)
	return chip, hwirq, s[ns:]
}

// intrIsHWIRQWord reports whether s is the (first word of the) hwirq
// column: a number ("54 Level"), "5-edge", "524289-edge", "9-fasteoi",
// "Level"/"Edge" (level shown, no hwirq) or a flow handler without hwirq
// ("xen-percpu    -virq").
func intrIsHWIRQWord(s string) bool {
	return intrAllDigits(s) || intrDigitsDashWord(s) || s == "Level" || s == "Edge" ||
		len(s) > 1 && s[0] == '-' && s[1] >= 'a' && s[1] <= 'z'
}

func intrAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !intrIsDigit(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

// intrDigitsDashWord reports whether s is like "12-edge".
func intrDigitsDashWord(s string) bool {
	i := 0
	for i < len(s) && intrIsDigit(s[i]) {
		i++
	}
	if i == 0 || i+1 >= len(s) || s[i] != '-' {
		return false
	}
	for _, c := range []byte(s[i+1:]) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

func (p *intrParser) arch(lineNo int, label []byte, counts []uint64, tail []byte) {
	name := string(label)
	if len(counts) == 0 {
		// "FIQ:              fiq_glue" (Android) has no counts; other
		// count-less rows are garbage.
		if len(tail) == 0 || !intrUpperAlnum(name) {
			p.problem(lineNo, fmt.Sprintf("a label (%s) with no counts", kernel.Describe(name)))
			return
		}
	}
	line := ArchLine{Name: name, Description: string(tail)}
	nCPU := len(p.t.CPUs)
	switch {
	case name == "ERR" || name == "MIS" || name == "Err":
		line.Global = true
	case len(counts) == 1 && len(tail) == 0 && (nCPU > 1 || !p.header):
		line.Global = true
	}
	n := len(counts)
	if p.header && !line.Global {
		if n > nCPU {
			n = nCPU // Android prints IPI rows for offline CPUs too
		} else if n > 0 && n < nCPU {
			p.problem(lineNo, fmt.Sprintf("%s has %d counts for %d CPUs (truncated row)", name, n, nCPU))
		}
	}
	if line.Global && n > 1 {
		p.problem(lineNo, fmt.Sprintf("%s has %d counts, expected one", name, n))
		n = 1
	}
	line.Counts = p.cut(counts, n)
	p.t.Arch = append(p.t.Arch, line)
}

func intrUpperAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || intrIsDigit(c)) {
			return false
		}
	}
	return len(s) > 0
}

func (p *intrParser) finish() (*InterruptTable, error) {
	t := p.t
	if p.collectTails && len(p.tails) == len(t.IRQs) {
		// No row has a gap of two blanks after its counts: a kernel that
		// prints no chip column, so the text is the name.
		for i := range t.IRQs {
			t.IRQs[i].Chip, t.IRQs[i].HWIRQ, t.IRQs[i].Name = "", "", p.tails[i]
		}
	}
	p.tails = nil
	if !p.header {
		widest := 0
		for _, l := range t.IRQs {
			widest = max(widest, len(l.Counts))
		}
		t.CPUs = make([]int, widest)
		for i := range t.CPUs {
			t.CPUs[i] = i
		}
		for i, l := range t.IRQs {
			if len(l.Counts) < widest {
				p.problem(p.rowLines[i], fmt.Sprintf("IRQ %d has %d counts, the widest row %d (truncated row)", l.IRQ, len(l.Counts), widest))
			}
		}
		for i := range t.Arch {
			if a := &t.Arch[i]; !a.Global && len(a.Counts) > widest { // widest 0: no CPU to give them
				a.Counts = a.Counts[:widest:widest]
			}
		}
		if p.fatal == nil {
			switch {
			case !p.sawAny:
				p.fatal = ErrEmptyInterrupts
			case len(t.IRQs) == 0:
				p.fatal = errors.New("no CPU header and no numbered IRQ lines")
			}
		}
	}
	// Rows without the header that names their CPUs: a fragment.
	headerless := !p.header && len(t.IRQs) > 0
	if !headerless && p.bad == 0 && p.fatal == nil {
		return t, nil
	}
	e := &InterruptsParseError{Bad: p.bad, FirstLine: p.firstLine, First: p.first, Err: p.fatal}
	if headerless {
		e.NoHeaderLine, e.NoHeaderText = p.firstNo, p.firstText
	}
	return t, e
}

// InterruptTable is /proc/interrupts.
type InterruptTable struct {
	// CPUs holds the CPU number of each count column, from the header
	// ("CPU0 CPU2 CPU3" when CPU1 is offline). A file without a header
	// (a grep fragment) gets 0..n-1 from the widest row.
	CPUs []int
	IRQs []IRQLine  // numbered lines, in file order
	Arch []ArchLine // named lines: NMI, LOC, RES, IPI0, ERR, MIS ...
}

// IRQLine is one numbered line of /proc/interrupts.
type IRQLine struct {
	IRQ    int
	Counts []uint64 // Counts[i] belongs to CPU InterruptTable.CPUs[i]
	Chip   string   // "IR-PCI-MSIX-0000:00:03.0", "IO-APIC", "GIC"; "" on very old kernels
	HWIRQ  string   // "2-edge", "54 Level"; "" when the kernel prints none
	Name   string   // action names, e.g. "virtio2-output.0" or "ehci_hcd:usb1, eth0"
}

// ArchLine is one named line (NMI, LOC, IPI3 ...). Per-CPU lines have one
// count per CPU; ERR and MIS have a single total (len(Counts) == 1, Global).
type ArchLine struct {
	Name        string
	Counts      []uint64
	Global      bool
	Description string // "Local timer interrupts"
}
