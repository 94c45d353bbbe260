package deploy

// Helpers shared by the tests of this directory: where the repository is,
// the exporter binary built from it, and tools that may be missing.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// repoRoot is the netirq_exporter repository, the parent of this module.
const repoRoot = ".."

// requireTool returns the path of a command, or skips the test with hint
// (fails it when CI=true: CI must run every test).
func requireTool(t *testing.T, name, hint string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		skipOrFail(t, fmt.Sprintf("%s not found in PATH: %s", name, hint))
	}
	return path
}

func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func requireRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "needs root: "+why)
	}
}

var exporterBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// exporterBinary builds cmd/netirq_exporter of the repository once per test
// run, the way `make build` does, and returns its path.
func exporterBinary(t *testing.T) string {
	t.Helper()
	exporterBuild.once.Do(func() {
		exporterBuild.dir, exporterBuild.err = os.MkdirTemp("", "netirq-deploy-test-")
		if exporterBuild.err != nil {
			return
		}
		exporterBuild.path = filepath.Join(exporterBuild.dir, "netirq_exporter")
		cmd := exec.Command("go", "build", "-trimpath", "-o", exporterBuild.path, "./cmd/netirq_exporter")
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			exporterBuild.err = fmt.Errorf("go build ./cmd/netirq_exporter: %v\n%s", err, out)
		}
	})
	if exporterBuild.err != nil {
		t.Fatal(exporterBuild.err)
	}
	return exporterBuild.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if exporterBuild.dir != "" {
		os.RemoveAll(exporterBuild.dir)
	}
	os.Exit(code)
}

// flagLine matches a flag in `netirq_exporter --help`: "--name" or
// "--[no-]name".
var flagLine = regexp.MustCompile(`^\s+(?:-\w, )?--(\[no-\])?([a-z0-9][a-z0-9._-]*)`)

// exporterFlags returns the flags of serve (the default command, the one
// deployments run) from `serve --help`: name → negatable.
func exporterFlags(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command(exporterBinary(t), "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("netirq_exporter serve --help: %v\n%s", err, out)
	}
	flags := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := flagLine.FindStringSubmatch(sc.Text()); m != nil {
			flags[m[2]] = m[1] != ""
		}
	}
	for _, want := range []string{"path.procfs", "path.sysfs", "web.listen-address"} {
		if _, ok := flags[want]; !ok {
			t.Fatalf("--help lists no --%s; did its format change?\n%s", want, out)
		}
	}
	return flags
}

// checkFlags fails the test for every argument that is not one of the
// exporter's flags ("--name", "--name=value", "--no-name" for a boolean).
func checkFlags(t *testing.T, where string, args []string) {
	t.Helper()
	flags := exporterFlags(t)
	for _, arg := range args {
		if !strings.HasPrefix(arg, "--") {
			t.Errorf("%s: argument %q is not a --flag", where, arg)
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if _, ok := flags[name]; ok {
			continue
		}
		if base, neg := strings.CutPrefix(name, "no-"); neg && flags[base] {
			continue
		}
		t.Errorf("%s: %q is not a flag of netirq_exporter (see netirq_exporter --help)", where, arg)
	}
}

// freePort returns a loopback TCP address nobody listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// running is an exporter started by startExporter.
type running struct {
	output func() string // its combined output so far
	done   chan struct{} // closed when it has exited
}

// startExporter runs cmd (an exporter listening on addr) and waits until
// addr answers. It stops the exporter at the end of the test.
func startExporter(t *testing.T, cmd *exec.Cmd, addr string) running {
	t.Helper()
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			cmd.Process.Signal(os.Interrupt)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("exporter exited before serving: %v\n%s", cmd.ProcessState, out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return running{out.String, done}
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter not listening on %s after 20s\n%s", addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// get fetches url and fails the test unless it answers 200.
func get(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	return string(body)
}

// collectorSuccess returns netirq_scrape_collector_success per collector.
func collectorSuccess(metrics string) map[string]string {
	re := regexp.MustCompile(`(?m)^netirq_scrape_collector_success\{collector="([^"]+)"\} (\S+)$`)
	res := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(metrics, -1) {
		res[m[1]] = m[2]
	}
	return res
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
