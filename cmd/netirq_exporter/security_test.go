//go:build linux

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// xpNeedRoot skips a test that needs root, except under CI=true, where
// .ci/run runs as root and a skip would hide a failure.
func xpNeedRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	msg := "needs root: " + why
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// TestSecurityUnprivileged runs the exporter binary as nobody (65534) with
// no capabilities against this host's /proc and /sys: every collector must
// report success 1, whatever needs privilege degrades quietly. (As a
// non-root user the exporter simply runs as that user.)
func TestSecurityUnprivileged(t *testing.T) {
	bin := xpBuild(t)
	var attr *syscall.SysProcAttr
	if os.Geteuid() == 0 {
		// A uid change on exec clears the permitted and effective sets; no
		// ambient capabilities are passed.
		attr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}, AmbientCaps: nil}
	}
	p := xpStart(t, bin, attr, xpPlainReady)
	uid, capEff, capPrm := p.status(t, "Uid"), p.status(t, "CapEff"), p.status(t, "CapPrm")
	if os.Geteuid() == 0 {
		if f := strings.Fields(uid); len(f) < 2 || f[0] != "65534" || f[1] != "65534" {
			t.Fatalf("exporter runs as uid %q, want nobody (65534)", uid)
		}
		if strings.Trim(capEff, "0") != "" || strings.Trim(capPrm, "0") != "" {
			t.Fatalf("exporter has capabilities: CapEff %s CapPrm %s", capEff, capPrm)
		}
	}
	c := &http.Client{Timeout: 20 * time.Second}
	// Two scrapes: the second sees the collectors' state after a first pass.
	var success map[string]float64
	for range 2 {
		success = xpSamples(t, c, xpGet("http://"+p.addr+"/metrics"), "netirq_scrape_collector_success")
	}
	if len(success) == 0 {
		t.Fatal("no netirq_scrape_collector_success series")
	}
	var names []string
	for k := range success {
		names = append(names, k)
	}
	sort.Strings(names)
	var failed []string
	for _, k := range names {
		if success[k] != 1 {
			failed = append(failed, k)
		}
	}
	t.Logf("as uid %s (CapEff %s): %d collectors, failing: %v", strings.Fields(uid)[0], capEff, len(names), failed)
	if len(failed) > 0 {
		t.Errorf("collectors failing without privilege: %v\nexporter log (names the files):\n%s", failed, p.logs)
	}
}

// xpSelfSigned writes a self-signed ECDSA certificate for 127.0.0.1 and its
// key into dir and returns the paths and a pool trusting it.
func xpSelfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "netirq_exporter test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestSecurityTLSBasicAuth serves over TLS with basic auth from an
// exporter-toolkit --web.config.file: no or wrong credentials get 401,
// plain HTTP to the TLS port gets no metrics, an untrusted client fails the
// handshake, and the right credentials over TLS get 200 with netirq_ metrics.
// The live view (/live, /live.json) is behind the same TLS and basic auth.
func TestSecurityTLSBasicAuth(t *testing.T) {
	bin := xpBuild(t)
	dir := t.TempDir()
	certFile, keyFile, pool := xpSelfSigned(t, dir)
	const user, password = "prometheus", "correct horse battery staple"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	cfg := fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  %s: %s\n", certFile, keyFile, user, hash)
	if err := os.WriteFile(webConfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	tlsClient := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	authed := func(addr, u, pw string) *http.Request {
		req := xpGet("https://" + addr + "/metrics")
		if u != "" {
			req.SetBasicAuth(u, pw)
		}
		return req
	}
	p := xpStart(t, bin, nil, func(addr string) error {
		resp, err := tlsClient.Do(authed(addr, user, password))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}, "--web.config.file="+webConfig)

	status := func(req *http.Request) (int, string) {
		t.Helper()
		resp, err := tlsClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", req.URL, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	t.Run("no credentials: 401", func(t *testing.T) {
		if code, body := status(authed(p.addr, "", "")); code != http.StatusUnauthorized || strings.Contains(body, "netirq_") {
			t.Errorf("status %d, want 401 without metrics", code)
		}
	})
	t.Run("wrong password: 401", func(t *testing.T) {
		if code, body := status(authed(p.addr, user, password+"!")); code != http.StatusUnauthorized || strings.Contains(body, "netirq_") {
			t.Errorf("status %d, want 401 without metrics", code)
		}
	})
	t.Run("unknown user: 401", func(t *testing.T) {
		if code, _ := status(authed(p.addr, "admin", password)); code != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", code)
		}
	})
	t.Run("plain HTTP to the TLS port: no metrics", func(t *testing.T) {
		c := &http.Client{Timeout: 10 * time.Second}
		req := xpGet("http://" + p.addr + "/metrics")
		req.SetBasicAuth(user, password)
		resp, err := c.Do(req)
		if err != nil {
			t.Logf("plain HTTP refused: %v", err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		// Go's TLS server answers a plain request with 400.
		if resp.StatusCode == http.StatusOK || strings.Contains(string(body), "netirq_") {
			t.Errorf("plain HTTP got status %d with metrics", resp.StatusCode)
		}
		t.Logf("plain HTTP: status %d %q", resp.StatusCode, strings.TrimSpace(string(body)))
	})
	t.Run("untrusted client: handshake fails", func(t *testing.T) {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}
		resp, err := c.Do(authed(p.addr, user, password))
		if err == nil {
			resp.Body.Close()
			t.Fatal("a client that does not trust the certificate got through")
		}
		if !strings.Contains(err.Error(), "certificate") {
			t.Errorf("unexpected error: %v", err)
		}
	})
	t.Run("live view: 401 without credentials, 200 with", func(t *testing.T) {
		for _, path := range []string{livePath, liveJSONPath} {
			req := xpGet("https://" + p.addr + path)
			if code, body := status(req); code != http.StatusUnauthorized || strings.Contains(body, "CPU") {
				t.Errorf("%s without credentials: status %d, want 401 without the report", path, code)
			}
			req = xpGet("https://" + p.addr + path)
			req.SetBasicAuth(user, password)
			if code, body := status(req); code != http.StatusOK || !strings.Contains(body, "interval") {
				t.Errorf("%s with credentials: status %d: %.300s", path, code, body)
			}
		}
	})
	t.Run("right credentials over TLS: 200 with metrics", func(t *testing.T) {
		code, body := status(authed(p.addr, user, password))
		if code != http.StatusOK || !strings.Contains(body, "netirq_scrape_collector_success") || !strings.Contains(body, "netirq_softirqs_total") {
			t.Errorf("status %d, body without netirq_ metrics: %.300s", code, body)
		}
	})
}

// TestSecurityReadOnlyStrace runs the exporter under strace -f while it is
// scraped: no open of a path under /proc or /sys may ask for write access
// or creation, and no file-changing call may touch them. strace is not
// something make deps installs, so this skips without it (even in CI).
func TestSecurityReadOnlyStrace(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace not installed (apt-get install strace); the static check is collector's TestReadonlySource")
	}
	xpNeedRoot(t, "strace -f of a child process may be refused by ptrace_scope for non-root")
	bin := xpBuild(t)
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace")
	wrapper := filepath.Join(dir, "run")
	script := fmt.Sprintf("#!/bin/sh\nexec %s -f -qq -e trace=open,openat,openat2,creat,mkdir,mkdirat,unlink,unlinkat,rmdir,rename,renameat,renameat2,truncate,chmod,fchmodat,chown,fchownat,link,linkat,symlink,symlinkat -o %s %s \"$@\"\n", strace, trace, bin)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p := xpStart(t, wrapper, nil, xpPlainReady, "--collector.interrupts.all")
	c := &http.Client{Timeout: 20 * time.Second}
	for range 3 {
		xpSamples(t, c, xpGet("http://"+p.addr+"/metrics"), "netirq_scrape_collector_success")
	}
	// Stop the traced exporter (strace's child, started by this test) by
	// its pid; strace then exits and flushes the trace.
	kids := p.children()
	if len(kids) != 1 {
		t.Fatalf("strace has %d children %v, want the exporter alone", len(kids), kids)
	}
	if err := syscall.Kill(kids[0], syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("strace did not exit after the exporter stopped")
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	opens := regexp.MustCompile(`(open|openat|openat2|creat)\((?:[^,]*, )?"([^"]*)"(?:, ([A-Z_|]+))?`)
	changes := regexp.MustCompile(`^\s*(?:\d+\s+)?(mkdir|mkdirat|unlink|unlinkat|rmdir|rename|renameat|renameat2|truncate|chmod|fchmodat|chown|fchownat|link|linkat|symlink|symlinkat)\(.*"(/(?:proc|sys)/[^"]*)"`)
	under := func(path string) bool { return strings.HasPrefix(path, "/proc/") || strings.HasPrefix(path, "/sys/") }
	nOpen := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		if m := changes.FindStringSubmatch(line); m != nil {
			t.Errorf("%s under /proc or /sys: %s", m[1], line)
		}
		m := opens.FindStringSubmatch(line)
		if m == nil || !under(m[2]) {
			continue
		}
		nOpen++
		if m[1] == "creat" || regexp.MustCompile(`O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND`).MatchString(m[3]) {
			t.Errorf("write open under /proc or /sys: %s", line)
		}
	}
	if nOpen < 10 {
		t.Fatalf("only %d opens under /proc and /sys traced: strace output not understood?\n%.2000s", nOpen, b)
	}
	t.Logf("%d opens under /proc and /sys over 3 scrapes, all read-only", nOpen)
}
