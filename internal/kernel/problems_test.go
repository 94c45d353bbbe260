package kernel

import (
	"errors"
	"strings"
	"testing"
)

// TestProblems: nil when nothing failed; one line naming what; at most
// problemsShown spelled out and problemsKept kept, the rest counted.
func TestProblems(t *testing.T) {
	p := NewProblems("softirqs")
	p.Add(nil)
	if p.Err() != nil {
		t.Fatalf("no problems, error %v", p.Err())
	}
	p.AddLine(3, "bad count %q", "x")
	if got := p.Err().Error(); got != `softirqs: line 3: bad count "x"` {
		t.Errorf("one problem: %q", got)
	}
	sentinel := errors.New("sentinel")
	p.Add(sentinel)
	for range 200 {
		p.AddLine(9, "garbage\nline")
	}
	err := p.Err()
	msg := err.Error()
	if !strings.HasPrefix(msg, "softirqs: 202 problems: line 3: ") || !strings.HasSuffix(msg, "; and 197 more") || strings.Contains(msg, "\n") {
		t.Errorf("message %q", msg)
	}
	if !errors.Is(err, sentinel) {
		t.Error("a kept problem is not reachable with errors.Is")
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != problemsKept {
		t.Errorf("kept %d problems, want %d", len(joined.Unwrap()), problemsKept)
	}
}
