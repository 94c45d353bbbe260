package bpfprobes

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// Reason says in one word why the probes are not running: a label value of
// netirq_bpf_probes_info, with the full error in the log.
type Reason string

// The reasons.
const (
	ReasonNone           Reason = ""
	ReasonAttaching      Reason = "attaching"       // not yet: still loading
	ReasonPermission     Reason = "permission"      // no CAP_BPF/CAP_PERFMON
	ReasonNoTracepoint   Reason = "no_tracepoint"   // the kernel lacks one
	ReasonNoTracefs      Reason = "no_tracefs"      // tracepoint mode without tracefs
	ReasonFormatMismatch Reason = "format_mismatch" // a tracepoint's layout differs
	ReasonUnsupported    Reason = "unsupported"     // no BPF, or not this program type
	ReasonClosed         Reason = "closed"
	ReasonOther          Reason = "other"
)

// Error is why the probes could not be attached.
type Error struct {
	Reason Reason
	Mode   Mode
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("bpf probes (%s): %s: %v", e.Mode, hint(e.Reason), e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrAttaching is returned by Read while the probes are being loaded.
var ErrAttaching = &Error{Reason: ReasonAttaching, Err: errors.New("not attached yet")}

func hint(r Reason) string {
	switch r {
	case ReasonAttaching:
		return "still being loaded and attached"
	case ReasonPermission:
		return "needs CAP_BPF and CAP_PERFMON (or root); see deploy/README.md, \"eBPF\""
	case ReasonNoTracepoint:
		return "this kernel lacks a tracepoint the probes need (irq:softirq_raise/entry/exit, napi:napi_poll)"
	case ReasonNoTracefs:
		return "no kernel BTF and no tracefs at /sys/kernel/tracing or /sys/kernel/debug/tracing (mount it, or read access to it needs root)"
	case ReasonFormatMismatch:
		return "a tracepoint's field layout is not the one the probes were built for"
	case ReasonUnsupported:
		return "this kernel cannot run the probes (no BPF syscall, tracing programs or JIT)"
	case ReasonClosed:
		return "closed"
	}
	return "could not load or attach the probes"
}

// classify names the reason of a load or attach error.
func classify(err error) Reason {
	var e *Error
	var verr *ebpf.VerifierError
	switch {
	case errors.As(err, &e):
		return e.Reason
	case errors.As(err, &verr):
		return ReasonOther // the verifier refused a program: a bug, or a kernel too old
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES), errors.Is(err, os.ErrPermission):
		return ReasonPermission
	case errors.Is(err, btf.ErrNotFound), errors.Is(err, os.ErrNotExist), errors.Is(err, unix.ENOENT):
		return ReasonNoTracepoint
	case errors.Is(err, ebpf.ErrNotSupported) && strings.Contains(err.Error(), "raw_tp "):
		// cilium/ebpf's answer when the kernel's BTF has no
		// btf_trace_<name>: no such tracepoint (its error type is internal).
		return ReasonNoTracepoint
	case errors.Is(err, ebpf.ErrNotSupported), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP),
		errors.Is(err, unix.EINVAL):
		return ReasonUnsupported
	}
	return ReasonOther
}
