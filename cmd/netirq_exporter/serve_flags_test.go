package main

import (
	"testing"
	"time"
)

// TestServeFlagsValidate: metrics paths that name one route pass; an
// empty, relative, unclean or pattern-like path, a negative request limit,
// timeout offset or shutdown timeout do not.
func TestServeFlagsValidate(t *testing.T) {
	for _, p := range []string{"/", "/metrics", "/custom/metrics", "/metrics.txt", "/a-b_c~d"} {
		if err := (&serveOptions{metricsPath: p}).validate(); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
	for _, o := range []serveOptions{
		{metricsPath: ""}, {metricsPath: "metrics"}, {metricsPath: "/metrics/"}, {metricsPath: "//metrics"},
		{metricsPath: "/a/../metrics"}, {metricsPath: "/a b"}, {metricsPath: "/{x}"}, {metricsPath: "/m?x=1"},
		{metricsPath: "/m%20"}, {metricsPath: "/m\x00"},
		{metricsPath: "/metrics", maxRequests: -1}, {metricsPath: "/metrics", shutdownTimeout: -time.Second},
		{metricsPath: "/metrics", timeoutOffset: -time.Second},
	} {
		if err := o.validate(); err == nil {
			t.Errorf("%+v: accepted", o)
		}
	}
}

// TestServeFlagsExitUsage: the binary's entry point exits 2 (usage) for
// them, before it listens; "--web.telemetry-path=" used to panic.
func TestServeFlagsExitUsage(t *testing.T) {
	roots := []string{"--path.procfs=../../testdata/hosts/bigiron-8cpu/proc", "--path.sysfs=../../testdata/hosts/bigiron-8cpu/sys",
		"--web.listen-address=127.0.0.1:0", "--log.level=error"}
	for _, arg := range []string{"--web.telemetry-path=", "--web.telemetry-path=metrics", "--web.max-requests=-1",
		"--web.shutdown-timeout=-1s"} {
		if code := run(append(roots, arg)); code != exitUsage {
			t.Errorf("%s: exit %d, want %d", arg, code, exitUsage)
		}
	}
}
