package procfs

import (
	"fmt"
	"strings"
)

// InterruptsParseError is the error ParseInterrupts returns next to the part
// of the table it could read. Bad counts the lines that were skipped or kept
// incomplete (a truncated row keeps the counts it has); Err, when set, is a
// problem of the whole input (a read error, an empty input, no header and no
// numbered rows).
type InterruptsParseError struct {
	// NoHeaderLine is the first line of a file without a "CPU0 CPU1 ..."
	// header (a pasted fragment), whose columns were taken as CPU0..n-1;
	// 0 when the header was there. NoHeaderText describes that line (kernel.Describe).
	// Such a file is read whole, but which CPU each column is, is a guess:
	// the error says so, as ParseSoftirqs' does.
	NoHeaderLine int
	NoHeaderText string

	Bad       int    // malformed lines
	FirstLine int    // 1-based line number of the first malformed line
	First     string // what was wrong with it
	Err       error
}

func (e *InterruptsParseError) Error() string {
	var b strings.Builder
	sep := func() {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
	}
	if e.NoHeaderLine > 0 {
		fmt.Fprintf(&b, "line %d: no CPUn header (first line (%s)); assuming columns are CPU0..CPUn-1", e.NoHeaderLine, e.NoHeaderText)
	}
	switch {
	case e.Bad == 1:
		sep()
		fmt.Fprintf(&b, "line %d: %s", e.FirstLine, e.First)
	case e.Bad > 1:
		sep()
		fmt.Fprintf(&b, "%d malformed lines, first: line %d: %s", e.Bad, e.FirstLine, e.First)
	}
	if e.Err != nil {
		sep()
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// OnlyNoHeader reports whether the headerless warning is all e says: every
// line was read, only the CPU of each column is assumed.
func (e *InterruptsParseError) OnlyNoHeader() bool {
	return e.NoHeaderLine > 0 && e.Bad == 0 && e.Err == nil
}

func (e *InterruptsParseError) Unwrap() error { return e.Err }
