package bpfprobes

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// kernelBTF is where the kernel publishes its BTF (CONFIG_DEBUG_INFO_BTF).
var kernelBTF = "/sys/kernel/btf/vmlinux"

// resolveMode turns ModeAuto into the mode this kernel supports.
func resolveMode(m Mode) Mode {
	if m != ModeAuto {
		return m
	}
	if _, err := os.Stat(kernelBTF); err == nil {
		return ModeBTF
	}
	return ModeTracepoint
}

// probe is one tracepoint and the program of each mode for it.
type probe struct {
	group, name   string // irq, softirq_raise
	btfProg, prog string // the programs of probes.bpf.c
}

// theProbes are in the order of ProbeNames and of the probes map.
var theProbes = []probe{
	{"irq", "softirq_raise", probesProgBtfSoftirqRaise, probesProgTpSoftirqRaise},
	{"irq", "softirq_entry", probesProgBtfSoftirqEntry, probesProgTpSoftirqEntry},
	{"irq", "softirq_exit", probesProgBtfSoftirqExit, probesProgTpSoftirqExit},
	{"napi", "napi_poll", probesProgBtfNapiPoll, probesProgTpNapiPoll},
}

// loaded is what load made; close frees it, links first.
type loaded struct {
	maps  probesMaps
	progs []*ebpf.Program
	links []link.Link
}

func (l *loaded) close() error {
	var errs []error
	for _, k := range l.links {
		errs = append(errs, k.Close())
	}
	for _, p := range l.progs {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	errs = append(errs, l.maps.Close())
	return errors.Join(errs...)
}

// load loads the maps and the programs of mode and attaches them; on an
// error it frees what it made.
func load(mode Mode, rename map[string]string) (_ *loaded, err error) {
	spec, err := loadProbes()
	if err != nil {
		return nil, err
	}
	if mode == ModeTracepoint {
		if err := checkFormats(rename); err != nil {
			return nil, err
		}
	}
	l := &loaded{}
	defer func() {
		if err != nil {
			l.close()
		}
	}()
	// Only the maps and the mode's programs: LoadAndAssign loads what the
	// struct names, so the other mode's programs never reach the kernel.
	progs := map[string]*ebpf.Program{}
	var want []string
	for _, pr := range theProbes {
		name := pr.prog
		if mode == ModeBTF {
			name = pr.btfProg
			spec.Programs[name].AttachTo = renamed(rename, pr.name)
		}
		want = append(want, name)
	}
	coll, err := ebpf.NewCollectionWithOptions(onlyPrograms(spec, want), ebpf.CollectionOptions{})
	if err != nil {
		return nil, fmt.Errorf("loading: %w", err)
	}
	if err := coll.Assign(&l.maps); err != nil {
		coll.Close()
		return nil, err
	}
	for _, name := range want {
		progs[name] = coll.DetachProgram(name)
	}
	coll.Close()
	return l, l.attach(mode, want, progs, rename)
}

// onlyPrograms is spec with only the named programs (and every map).
func onlyPrograms(spec *ebpf.CollectionSpec, names []string) *ebpf.CollectionSpec {
	out := spec.Copy()
	for name := range out.Programs {
		keep := false
		for _, n := range names {
			keep = keep || n == name
		}
		if !keep {
			delete(out.Programs, name)
		}
	}
	return out
}

// attach links each program to its tracepoint.
func (l *loaded) attach(mode Mode, names []string, progs map[string]*ebpf.Program, rename map[string]string) error {
	for i, pr := range theProbes {
		prog := progs[names[i]]
		l.progs = append(l.progs, prog)
		var k link.Link
		var err error
		if mode == ModeBTF {
			k, err = link.AttachTracing(link.TracingOptions{Program: prog, AttachType: ebpf.AttachTraceRawTp})
		} else {
			k, err = link.Tracepoint(pr.group, renamed(rename, pr.name), prog, nil)
		}
		if err != nil {
			return fmt.Errorf("attaching %s:%s: %w", pr.group, pr.name, err)
		}
		l.links = append(l.links, k)
	}
	return nil
}

func renamed(rename map[string]string, name string) string {
	if r, ok := rename[name]; ok {
		return r
	}
	return name
}
