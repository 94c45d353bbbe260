package kernel

import (
	"fmt"
	"slices"
	"strings"
)

// problemsShown is how many problems a Problems error spells out; the
// rest are counted. problemsKept bounds how many are kept for errors.Is/As,
// so that a garbage file cannot make a parse hold a million errors.
const (
	problemsShown = 5
	problemsKept  = 100
)

// Problems collects the failures of a read that goes on past them: the
// one partial-read error of every reader (a directory walk, a file parsed
// line by line, the netlink dumps). Its error is one line, "what: err" or
// "what: N problems: e1; ...; e5; and N-5 more".
type Problems struct {
	what    string
	errs    []error
	dropped int // problems beyond problemsKept, only counted
}

// NewProblems starts collecting the failures of reading what.
func NewProblems(what string) *Problems { return &Problems{what: what} }

func (p *Problems) Add(err error) {
	switch {
	case err == nil:
	case len(p.errs) >= problemsKept:
		p.dropped++
	default:
		p.errs = append(p.errs, err)
	}
}

// AddLine records a problem of line lineNo of a parsed file.
func (p *Problems) AddLine(lineNo int, format string, args ...any) {
	p.Add(fmt.Errorf("line %d: %s", lineNo, fmt.Sprintf(format, args...)))
}

// Err returns nil when nothing failed, otherwise one error whose message
// is a single line and which unwraps to every failure.
func (p *Problems) Err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return &problemsError{what: p.what, errs: slices.Clone(p.errs), dropped: p.dropped}
}

// problemsError is the combined error of a partial read.
type problemsError struct {
	what    string
	errs    []error
	dropped int
}

func (e *problemsError) Error() string {
	var b strings.Builder
	b.WriteString(e.what)
	total := len(e.errs) + e.dropped
	if total == 1 {
		b.WriteString(": ")
	} else {
		fmt.Fprintf(&b, ": %d problems: ", total)
	}
	for i, err := range e.errs {
		if i == problemsShown {
			fmt.Fprintf(&b, "; and %d more", total-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return b.String()
}

func (e *problemsError) Unwrap() []error { return e.errs }
