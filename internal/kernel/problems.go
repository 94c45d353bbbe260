package kernel

import (
	"fmt"
	"slices"
	"strings"
)

// problemsShown is how many problems a Problems error spells out;
// the rest are counted (and still reachable with errors.Is/As).
const problemsShown = 5

// Problems collects the failures of a read that goes on past them.
type Problems struct {
	what string
	errs []error
}

// NewProblems starts collecting the failures of reading what.
func NewProblems(what string) *Problems { return &Problems{what: what} }

func (p *Problems) Add(err error) {
	if err != nil {
		p.errs = append(p.errs, err)
	}
}

// Err returns nil when nothing failed, otherwise one error whose message
// is a single line and which unwraps to every failure.
func (p *Problems) Err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return &problemsError{what: p.what, errs: slices.Clone(p.errs)}
}

// problemsError is the combined error of a partial read.
type problemsError struct {
	what string
	errs []error
}

func (e *problemsError) Error() string {
	var b strings.Builder
	b.WriteString(e.what)
	if len(e.errs) == 1 {
		b.WriteString(": ")
	} else {
		fmt.Fprintf(&b, ": %d problems: ", len(e.errs))
	}
	for i, err := range e.errs {
		if i == problemsShown {
			fmt.Fprintf(&b, "; and %d more", len(e.errs)-i)
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
