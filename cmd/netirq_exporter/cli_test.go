//go:build linux

package main

import (
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A newcomer's first five minutes (issue 17): the commands, their help
// and exit codes.

// TestCLIParse: no command is serve, the web flags work at the top level
// and after serve, and report does not take them.
func TestCLIParse(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		command string // "" for a parse error
		listen  string
	}{
		{nil, "serve", ":10467"},
		{[]string{"--web.listen-address=127.0.0.1:1", "--path.procfs=/p"}, "serve", "127.0.0.1:1"},
		{[]string{"--path.procfs=/p", "--web.telemetry-path=/m", "--web.listen-address=127.0.0.1:1"}, "serve", "127.0.0.1:1"},
		{[]string{"serve", "--web.listen-address=127.0.0.1:2"}, "serve", "127.0.0.1:2"},
		{[]string{"report", "--interval=1s", "--path.procfs=/p"}, "report", ""},
		{[]string{"report", "--web.listen-address=127.0.0.1:1"}, "", ""},
		{[]string{"--web.listen-address=127.0.0.1:1", "report"}, "", ""},
	} {
		c := newCLI()
		c.app.Terminate(func(int) { t.Fatalf("%q: kingpin terminated", tc.args) })
		c.app.ErrorWriter(io.Discard)
		command, err := c.app.Parse(tc.args)
		if tc.command == "" {
			if err == nil {
				t.Errorf("%q: parsed as %s, want an error", tc.args, command)
			}
			continue
		}
		if err != nil || command != tc.command {
			t.Errorf("%q: command %q, %v; want %s", tc.args, command, err, tc.command)
			continue
		}
		if got := *c.serve.toolkit.WebListenAddresses; tc.listen != "" && (len(got) != 1 || got[0] != tc.listen) {
			t.Errorf("%q: listen addresses %q, want %s", tc.args, got, tc.listen)
		}
	}
}

// TestPlainBuildCLI runs a plain `go build` of the exporter: each
// command's help lists its own flags, and the exit codes are those
// README.md documents.
func TestPlainBuildCLI(t *testing.T) {
	_, runBin := plainBuild(t)
	t.Run("help", func(t *testing.T) {
		readme, err := os.ReadFile("../../README.md")
		if err != nil {
			t.Fatal(err)
		}
		// kingpin writes the help to stderr.
		help := func(args ...string) string { o, e, _ := runBin(args...); return o + e }
		report := help("report", "--help")
		if strings.Contains(report, "--web.") || !strings.Contains(report, "--interval") || !strings.Contains(report, "--path.procfs") {
			t.Errorf("report --help: want --interval and --path.procfs, no --web.* flag:\n%s", report)
		}
		serve, top := help("serve", "--help"), help("--help")
		webFlags := regexp.MustCompile(`--(?:\[no-\])?(web\.[a-z.-]+)`).FindAllStringSubmatch(serve, -1)
		if len(webFlags) < 6 {
			t.Errorf("serve --help lists %d --web.* flags:\n%s", len(webFlags), serve)
		}
		for _, m := range webFlags {
			if !strings.Contains(top, m[0]) {
				t.Errorf("--help does not list %s", m[0])
			}
			if !strings.Contains(string(readme), "`--"+m[1]+"`") {
				t.Errorf("README.md does not document --%s", m[1])
			}
		}
	})

	t.Run("exit codes", func(t *testing.T) {
		// A port in use: the exporter cannot listen, a runtime error.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		for _, tc := range []struct {
			args []string
			code int
		}{
			{[]string{"--web.listen-adress=:1"}, exitUsage}, // a typo
			{[]string{"--collector.interrupts.include=("}, exitUsage},
			{[]string{"--web.max-requests=many"}, exitUsage},
			{[]string{"--web.max-requests=-1"}, exitUsage},
			{[]string{"--web.telemetry-path="}, exitUsage}, // panicked
			{[]string{"report", "--web.listen-address=:1"}, exitUsage},
			{[]string{"report", "--interval=1h"}, exitUsage},
			{[]string{"--web.listen-address=" + l.Addr().String()}, exitRuntime},
			{[]string{"--help"}, exitOK},
			// A root that is no directory stops the start; a report that
			// could not read what it needs says so with exit 3.
			{[]string{"--path.procfs=/nonexistent"}, exitUsage},
			{[]string{"report", "--path.sysfs=/etc/hostname"}, exitUsage},
			{[]string{"report", "--interval=0.5s", "--path.procfs=" + t.TempDir()}, exitIncomplete},
			{[]string{"report", "--interval=0.5s", "--path.procfs=../../testdata/hosts/bigiron-8cpu/proc", "--path.sysfs=../../testdata/hosts/bigiron-8cpu/sys"}, exitOK},
		} {
			start := time.Now()
			out, errOut, code := runBin(tc.args...)
			if code != tc.code {
				t.Errorf("%q: exit %d, want %d (after %v)\n%s%s", tc.args, code, tc.code, time.Since(start), out, errOut)
			}
		}
	})
}
