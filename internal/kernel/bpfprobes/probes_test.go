package bpfprobes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// The napi_poll format of Linux 6.18 (tracefs events/napi/napi_poll/format).
const napiPollFormat = `name: napi_poll
ID: 2291
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:struct napi_struct * napi;	offset:8;	size:8;	signed:0;
	field:__data_loc char[] dev_name;	offset:16;	size:4;	signed:0;
	field:int work;	offset:20;	size:4;	signed:1;
	field:int budget;	offset:24;	size:4;	signed:1;
`

func TestCheckFormat(t *testing.T) {
	if err := checkFormat(napiPollFormat, wantFields["napi_poll"]); err != nil {
		t.Errorf("6.18's format: %v", err)
	}
	moved := napiPollFormat[:len(napiPollFormat)-60] + "\tfield:int budget;\toffset:28;\tsize:4;\tsigned:1;\n"
	if err := checkFormat(moved, wantFields["napi_poll"]); err == nil {
		t.Error("budget at offset 28 accepted")
	}
	if err := checkFormat("field:unsigned int vector;\toffset:8;\tsize:4;", wantFields["softirq_raise"]); err == nil {
		t.Error("a format without vec accepted")
	}
}

// TestNoTracefs: tracepoint mode without tracefs is refused before anything
// is loaded, with its own reason.
func TestNoTracefs(t *testing.T) {
	saved := tracefsRoots
	t.Cleanup(func() { tracefsRoots = saved })
	tracefsRoots = []string{filepath.Join(t.TempDir(), "none")}
	p := Start(Options{Mode: ModeTracepoint})
	defer p.Close()
	err := p.Wait(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.Reason != ReasonNoTracefs {
		t.Fatalf("%v, want reason %s", err, ReasonNoTracefs)
	}
}

// TestAttaching: while the probes load, Read says so at once; Close during
// the load leaves nothing attached.
func TestAttaching(t *testing.T) {
	release := make(chan struct{})
	saved := tracefsRoots
	t.Cleanup(func() { tracefsRoots = saved })
	tracefsRoots = []string{filepath.Join(t.TempDir(), "none")} // the load fails fast after release
	p := Start(Options{Mode: ModeTracepoint, beforeLoad: func() { <-release }})
	began := time.Now()
	s, err := p.Read()
	if !errors.Is(err, ErrAttaching) || s == nil || time.Since(began) > time.Second {
		t.Fatalf("Read while attaching: %v, %v after %s", s, err, time.Since(began))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait while attaching: %v", err)
	}
	p.Close()
	close(release)
	<-p.done
	if _, err := p.Read(); err == nil || classify(err) != ReasonClosed {
		t.Errorf("Read after Close: %v", err)
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err  error
		want Reason
	}{
		{fmt.Errorf("map create: %w", unix.EPERM), ReasonPermission},
		{&os.PathError{Op: "open", Path: "/sys/kernel/tracing/events/napi/napi_poll/format", Err: unix.ENOENT}, ReasonNoTracepoint},
		{fmt.Errorf("loading: %w", ebpf.ErrNotSupported), ReasonUnsupported},
		{&Error{Reason: ReasonFormatMismatch}, ReasonFormatMismatch},
		{errors.New("something else"), ReasonOther},
	} {
		if got := classify(c.err); got != c.want {
			t.Errorf("classify(%v) = %s, want %s", c.err, got, c.want)
		}
	}
}

func TestWaitBucketBounds(t *testing.T) {
	b := WaitBucketBounds()
	if len(b) != NumWaitBuckets || b[0] != 1e-6 || b[len(b)-1] != 0.131072 {
		t.Errorf("bounds %v: want 1 µs ... 131.072 ms", b)
	}
}

func TestDeviceName(t *testing.T) {
	var raw [16]int8
	for i, c := range "(no_device)" {
		raw[i] = int8(c)
	}
	if got := deviceName(raw); got != "" {
		t.Errorf("(no_device) is %q, want the backlog's \"\"", got)
	}
	raw = [16]int8{'e', 't', 'h', '0'}
	if got := deviceName(raw); got != "eth0" {
		t.Errorf("got %q", got)
	}
}

func TestWaitQuantile(t *testing.T) {
	var s Softirq
	if _, ok := s.WaitQuantile(0.5); ok {
		t.Error("a quantile of no waits")
	}
	// 100 waits: 50 in (1, 2] µs, 49 in (8, 16] µs, 1 past 131 ms.
	s.Waits, s.WaitBuckets[1], s.WaitBuckets[4], s.WaitBuckets[NumWaitBuckets] = 100, 50, 49, 1
	for q, want := range map[float64]time.Duration{0.5: 2 * time.Microsecond, 0.25: 1500 * time.Nanosecond, 0.99: 16 * time.Microsecond, 1: 131072 * time.Microsecond} {
		if got, _ := s.WaitQuantile(q); got != want {
			t.Errorf("q %v: %s, want %s", q, got, want)
		}
	}
	prev := s
	s.Waits, s.WaitBuckets[1] = 110, 60
	if d := s.Sub(prev); d.Waits != 10 || d.WaitBuckets[1] != 10 || d.WaitBuckets[4] != 0 {
		t.Errorf("Sub: %+v", d)
	}
}
