//go:build linux

package main

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/common/version"
)

// A newcomer's first five minutes (issue 17): --version from a plain
// `go build`.

// TestStampVersion: the build information fills what -ldflags left empty,
// and what -ldflags set wins.
func TestStampVersion(t *testing.T) {
	saved := [3]string{version.Version, version.Revision, version.BuildDate}
	defer func() { version.Version, version.Revision, version.BuildDate = saved[0], saved[1], saved[2] }()
	info := &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261206135416-785cb1fa97f8+dirty"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "785cb1fa97f8efc64730e5858166a0c5f201b36e"},
		{Key: "vcs.time", Value: "2026-12-06T13:54:16Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	version.Version, version.Revision, version.BuildDate = "", "", ""
	stampVersionFrom(info)
	if version.Version != info.Main.Version || version.Revision != "785cb1fa97f8efc64730e5858166a0c5f201b36e-modified" ||
		version.BuildDate != "2026-12-06T13:54:16Z" {
		t.Errorf("from build info: version %q revision %q date %q", version.Version, version.Revision, version.BuildDate)
	}
	version.Version, version.Revision, version.BuildDate = "v1.2.3", "abc", "20261206-13:54:16"
	stampVersionFrom(info)
	if version.Version != "v1.2.3" || version.Revision != "abc" || version.BuildDate != "20261206-13:54:16" {
		t.Errorf("-ldflags overwritten: version %q revision %q date %q", version.Version, version.Revision, version.BuildDate)
	}
	version.Version, version.Revision, version.BuildDate = "", "", ""
	stampVersionFrom(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}) // go run
	if version.Version != "devel" || version.Revision != "" {
		t.Errorf("go run: version %q revision %q, want devel and none", version.Version, version.Revision)
	}
}

// plainBuild builds the exporter the way a newcomer does, with a plain
// `go build`, into t.TempDir(), and returns it and a function that runs it
// to its exit.
func plainBuild(t *testing.T) (bin string, runBin func(args ...string) (stdout, stderr string, code int)) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin = filepath.Join(t.TempDir(), "netirq_exporter")
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	// Go's default, -buildvcs=auto, stamps the commit in a git checkout; a
	// machine's go env may turn it off (GOFLAGS=-buildvcs=false): a
	// newcomer's go does not.
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=auto")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	runBin = func(args ...string) (stdout, stderr string, code int) {
		var o, e bytes.Buffer
		c := exec.Command(bin, args...)
		c.Stdout, c.Stderr = &o, &e
		err := c.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		return o.String(), e.String(), code
	}
	return bin, runBin
}

// TestPlainBuildVersion: a plain `go build` names the module version and
// the commit, from the build information, in --version, the start log, the
// landing page and netirq_build_info.
func TestPlainBuildVersion(t *testing.T) {
	bin, runBin := plainBuild(t)
	out, errOut, code := runBin("--version")
	if code != 0 {
		t.Fatalf("--version exits %d\n%s%s", code, out, errOut)
	}
	out += errOut
	head, err := exec.Command("git", "-C", "../..", "rev-parse", "HEAD").Output()
	if err != nil {
		msg := "not a git checkout (or no git): go build stamps no revision to check"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	rev := strings.TrimSpace(string(head))
	if !strings.Contains(out, "revision: "+rev) {
		t.Errorf("--version does not name the commit %s:\n%s", rev, out)
	}
	if strings.Contains(out, "version  ") || strings.Contains(out, "version devel") {
		t.Errorf("--version names no module version:\n%s", out)
	}

	p := xpStart(t, bin, nil, xpPlainReady)
	if page := httpGet(t, "http://"+p.addr+"/"); !strings.Contains(page, "revision="+rev) {
		t.Errorf("landing page does not name the commit %s:\n%s", rev, page)
	}
	if metrics := httpGet(t, "http://"+p.addr+"/metrics"); !strings.Contains(metrics, `revision="`+rev) {
		t.Errorf("netirq_build_info does not name the commit %s", rev)
	}
	if logs := p.logs.String(); !regexp.MustCompile(`msg="starting netirq_exporter" version="\(version=v[^,]+, branch=[^,]*, revision=` + rev).MatchString(logs) {
		t.Errorf("start log does not name the module version and commit %s:\n%s", rev, logs)
	}
}

// httpGet fetches url, fails the test unless it answers 200, and returns
// the body.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(body)
}
