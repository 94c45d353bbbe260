// Package bpfprobes loads and reads the opt-in eBPF probes of the bpf
// collector: the exact time each CPU spends in each softirq vector
// (irq:softirq_entry/exit), how long a raised softirq waits to run
// (irq:softirq_raise to softirq_entry, as a histogram), and per NAPI
// instance the polls, the packets they handled and the polls that used
// their whole budget (napi:napi_poll).
//
// The probes are loaded and attached in the background (Start): the first
// scrapes find them attaching (ErrAttaching), later ones read them (Read).
// When they cannot be attached (no CAP_BPF/CAP_PERFMON, a kernel without
// the tracepoints, BTF or tracefs) Read returns that *Error every time and
// the exporter's other collectors go on as before.
package bpfprobes

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// Mode is how the probes attach.
type Mode string

// The modes. Auto picks tp_btf when the kernel has BTF
// (/sys/kernel/btf/vmlinux), else classic tracepoints.
const (
	ModeAuto       Mode = "auto"
	ModeBTF        Mode = "tp_btf"
	ModeTracepoint Mode = "tracepoint"
)

// Options configure Start.
type Options struct {
	Mode Mode // "" is ModeAuto
	// ProcPath is the procfs mount point, for kernel.bpf_stats_enabled.
	ProcPath string
	Logger   *slog.Logger // the one line saying attached or why not; nil: none

	// rename maps a tracepoint name to the one attached instead (tests:
	// a kernel without the tracepoint).
	rename map[string]string
	// beforeLoad runs in the loading goroutine before anything is loaded
	// (tests: a scrape while attaching).
	beforeLoad func()
}

// Probes are the loaded programs, their links and maps.
type Probes struct {
	opts Options
	done chan struct{} // closed when attaching ended, either way

	mu     sync.Mutex
	err    error // nil once attached; ErrAttaching before; the failure
	mode   Mode
	maps   probesMaps
	progs  []*ebpf.Program // in the order of ProbeNames
	links  []link.Link
	closed bool
}

// Start begins loading and attaching the probes in the background and
// returns at once.
func Start(opts Options) *Probes {
	if opts.Mode == "" {
		opts.Mode = ModeAuto
	}
	if opts.ProcPath == "" {
		opts.ProcPath = "/proc"
	}
	p := &Probes{opts: opts, done: make(chan struct{}), err: ErrAttaching, mode: opts.Mode}
	go p.attach()
	return p
}

// attach loads and attaches, then records the outcome and logs it once.
func (p *Probes) attach() {
	defer close(p.done)
	if p.opts.beforeLoad != nil {
		p.opts.beforeLoad()
	}
	began := time.Now()
	mode := resolveMode(p.opts.Mode)
	l, err := load(mode, p.opts.rename)
	if err != nil {
		err = &Error{Reason: classify(err), Mode: mode, Err: err}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	switch {
	case p.closed && err == nil:
		l.close()
		return
	case p.closed:
		return
	case err != nil:
		p.err = err
		p.log(slog.LevelError, "bpf collector: probes not attached; the other collectors run as before",
			"mode", mode, "reason", classify(err), "err", err)
		return
	}
	p.maps, p.progs, p.links, p.err = l.maps, l.progs, l.links, nil
	p.log(slog.LevelInfo, "bpf collector: probes attached", "mode", mode, "took", time.Since(began).Round(time.Millisecond))
}

func (p *Probes) log(level slog.Level, msg string, args ...any) {
	if p.opts.Logger != nil {
		p.opts.Logger.Log(context.Background(), level, msg, args...)
	}
}

// Status is the probes' state: nil once attached, ErrAttaching before, or
// the *Error that stopped them.
func (p *Probes) Status() (Mode, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode, p.err
}

// Wait waits until attaching has ended and returns Status's error.
func (p *Probes) Wait(ctx context.Context) error {
	select {
	case <-p.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	_, err := p.Status()
	return err
}

// Close detaches the probes and frees their maps; a Start still loading
// frees what it loads when it ends.
func (p *Probes) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	err := (&loaded{maps: p.maps, progs: p.progs, links: p.links}).close()
	p.maps, p.progs, p.links = probesMaps{}, nil, nil
	if p.err == nil || errors.Is(p.err, ErrAttaching) {
		p.err = &Error{Reason: ReasonClosed, Mode: p.mode, Err: errors.New("closed")}
	}
	return err
}
