package deploy

// Tests of the systemd unit (systemd/netirq_exporter.service) and of
// `make install`: systemd's own verifier and security scorer, the hardening
// this unit promises, and the exporter's real behaviour under it as far as
// it can be reproduced without systemd as PID 1 (its system calls against
// the unit's filter, and running as an unprivileged user).

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	unitPath       = "systemd/netirq_exporter.service"
	envFilePath    = "systemd/netirq_exporter.default"
	unitExecPath   = "/usr/local/bin/netirq_exporter"
	systemdHint    = "install the Debian package systemd (make deps does, as root)"
	straceHint     = "install the Debian package strace (make deps does, as root)"
	maxExposure    = 2.0 // systemd-analyze security: 0 is best, 10 worst; this unit scores 1.3
	unitSectionSvc = "Service"
)

type unitEntry struct {
	section, key, value string
	line                int
}

// parseUnit reads a unit file: [Section] headers and Key=Value lines.
func parseUnit(t *testing.T, path string) []unitEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var entries []unitEntry
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || strings.HasSuffix(line, `\`) {
				t.Fatalf("%s:%d: not a Key=Value line (or a continuation, which this test does not read): %q", path, n, line)
			}
			entries = append(entries, unitEntry{section, strings.TrimSpace(key), strings.TrimSpace(value), n})
		}
	}
	return entries
}

// values returns every value of section.key, in order.
func values(entries []unitEntry, section, key string) []string {
	var vs []string
	for _, e := range entries {
		if e.section == section && e.key == key {
			vs = append(vs, e.value)
		}
	}
	return vs
}

// unitEnv returns os.Environ() plus the unit's Environment= settings.
func unitEnv(t *testing.T) []string {
	t.Helper()
	env := os.Environ()
	for _, v := range values(parseUnit(t, unitPath), unitSectionSvc, "Environment") {
		env = append(env, strings.Fields(v)...)
	}
	return env
}

// unitWithExec writes a copy of the unit into a temporary directory with
// ExecStart pointing at bin, and returns its path.
func unitWithExec(t *testing.T, src, from, bin string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	old := "ExecStart=" + from + " "
	if !strings.Contains(string(b), "\n"+old) {
		t.Fatalf("%s: no line starting with %q", src, old)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "netirq_exporter.service")
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), "\n"+old, "\nExecStart="+bin+" ", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSystemdUnitHardening pins the settings the unit documents, so that a
// later edit cannot loosen them without this test changing too.
func TestSystemdUnitHardening(t *testing.T) {
	entries := parseUnit(t, unitPath)
	want := map[string]string{
		"Type":                    "exec",
		"DynamicUser":             "yes",
		"NoNewPrivileges":         "yes",
		"CapabilityBoundingSet":   "",
		"AmbientCapabilities":     "",
		"PrivateUsers":            "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectKernelLogs":       "yes",
		"ProtectControlGroups":    "yes",
		"ProtectClock":            "yes",
		"ProtectHostname":         "yes",
		"RestrictNamespaces":      "yes",
		"LockPersonality":         "yes",
		"MemoryDenyWriteExecute":  "yes",
		"RestrictRealtime":        "yes",
		"RestrictSUIDSGID":        "yes",
		"SystemCallArchitectures": "native",
		"UMask":                   "0077",
		"ProcSubset":              "all",
		"ProtectProc":             "default",
		"Restart":                 "on-failure",
		"SystemCallErrorNumber":   "EPERM",
		"EnvironmentFile":         "-/etc/default/netirq_exporter",
	}
	for key, value := range want {
		got := values(entries, unitSectionSvc, key)
		if len(got) != 1 || got[0] != value {
			t.Errorf("[Service] %s: got %q, want exactly one %q", key, got, value)
		}
	}
	if got := values(entries, unitSectionSvc, "SystemCallFilter"); !slices.Equal(got, []string{"@system-service", "~@privileged @resources"}) {
		t.Errorf("SystemCallFilter: got %q", got)
	}
	families := strings.Fields(strings.Join(values(entries, unitSectionSvc, "RestrictAddressFamilies"), " "))
	slices.Sort(families)
	if !slices.Equal(families, []string{"AF_INET", "AF_INET6", "AF_NETLINK", "AF_UNIX"}) {
		t.Errorf("RestrictAddressFamilies: got %q", families)
	}
	// Settings that would break the exporter or undo the sandbox.
	for _, key := range []string{"PrivateNetwork", "NetworkNamespacePath", "User", "Group", "SupplementaryGroups", "ProtectProc", "ProcSubset"} {
		for _, v := range values(entries, unitSectionSvc, key) {
			switch key + "=" + v {
			case "ProtectProc=default", "ProcSubset=all":
			default:
				t.Errorf("%s=%s: breaks the exporter or its sandbox (see the unit's comments)", key, v)
			}
		}
	}
	exec := values(entries, unitSectionSvc, "ExecStart")
	if len(exec) != 1 || strings.Fields(exec[0])[0] != unitExecPath {
		t.Fatalf("ExecStart: got %q, want one starting with %s (make install rewrites that path)", exec, unitExecPath)
	}
	if wanted := values(entries, "Install", "WantedBy"); !slices.Equal(wanted, []string{"multi-user.target"}) {
		t.Errorf("[Install] WantedBy: got %q", wanted)
	}
}

// TestSystemdEnvFile checks that the default flags file sets ARGS (which
// ExecStart expands) and only flags the exporter has.
func TestSystemdEnvFile(t *testing.T) {
	entries := parseUnit(t, unitPath)
	if exec := values(entries, unitSectionSvc, "ExecStart"); len(exec) != 1 || !strings.HasSuffix(exec[0], " $ARGS") {
		t.Fatalf("ExecStart %q does not end in $ARGS", exec)
	}
	b, err := os.ReadFile(envFilePath)
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	example := regexp.MustCompile(`^#\s+ARGS="(.*)"`)
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "ARGS="); ok {
			v, err := strconv.Unquote(v)
			if err != nil {
				t.Fatalf("%s: ARGS=%s: %v", envFilePath, v, err)
			}
			args = append(args, strings.Fields(v)...)
		}
		if m := example.FindStringSubmatch(line); m != nil {
			// The commented examples must work when uncommented.
			args = append(args, strings.Fields(m[1])...)
		}
	}
	if len(args) < 2 {
		t.Fatalf("%s: want ARGS= and commented ARGS= examples, found flags %q", envFilePath, args)
	}
	checkFlags(t, envFilePath, args)
}

// TestSystemdVerify runs systemd-analyze verify on the unit, with ExecStart
// pointing at a freshly built exporter. verify exits 0 on unknown keys and
// bad values (it only warns), so any output about the unit fails the test;
// a copy with a misspelt key checks that it still warns.
func TestSystemdVerify(t *testing.T) {
	analyze := requireTool(t, "systemd-analyze", systemdHint)
	bin := exporterBinary(t)
	verify := func(path string) (string, error) {
		out, err := exec.Command(analyze, "verify", path).CombinedOutput()
		return string(out), err
	}
	unit := unitWithExec(t, unitPath, unitExecPath, bin)
	out, err := verify(unit)
	var ours []string
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		if strings.Contains(line, "netirq_exporter") {
			ours = append(ours, line)
		} else if line != "" {
			t.Logf("systemd-analyze verify (not about this unit): %s", line)
		}
	}
	if err != nil || len(ours) > 0 {
		t.Fatalf("systemd-analyze verify %s: %v\n%s", unit, err, strings.Join(ours, "\n"))
	}

	b, _ := os.ReadFile(unit)
	bad := filepath.Join(t.TempDir(), "netirq_exporter.service")
	os.WriteFile(bad, []byte(strings.Replace(string(b), "ProtectSystem=", "ProtectSytem=", 1)), 0o644)
	if out, _ := verify(bad); !strings.Contains(out, "ProtectSytem") {
		t.Fatalf("systemd-analyze verify did not warn about a misspelt key; output:\n%s", out)
	}
}

var exposureLine = regexp.MustCompile(`Overall exposure level for netirq_exporter\.service: (\d+(?:\.\d+)?)`)

// TestSystemdSecurity scores the unit with systemd-analyze security
// --offline=yes (systemd 250 and later) and logs what it counts against it.
func TestSystemdSecurity(t *testing.T) {
	analyze := requireTool(t, "systemd-analyze", systemdHint)
	help, _ := exec.Command(analyze, "security", "--help").CombinedOutput()
	if !strings.Contains(string(help), "--offline") {
		v, _ := exec.Command(analyze, "--version").Output()
		t.Skipf("this systemd-analyze has no security --offline (needs systemd 250+): %s", strings.SplitN(string(v), "\n", 2)[0])
	}
	unit := unitWithExec(t, unitPath, unitExecPath, exporterBinary(t))
	out, err := exec.Command(analyze, "security", "--offline=yes", "--no-pager", unit).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := exposureLine.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no overall exposure level in:\n%s", out)
	}
	score, _ := strconv.ParseFloat(m[1], 64)
	for line := range strings.SplitSeq(string(out), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "✗") {
			t.Logf("exposed: %s", strings.Join(strings.Fields(line), " "))
		}
	}
	t.Logf("systemd-analyze security --offline=yes: overall exposure %.1f (0 best, 10 worst)", score)
	if score > maxExposure {
		t.Errorf("exposure %.1f is over %.1f: a hardening setting was lost", score, maxExposure)
	}
}

// syscallGroups returns systemd's system call groups ("@system-service" →
// its members, which may be groups themselves).
func syscallGroups(t *testing.T, analyze string) map[string][]string {
	t.Helper()
	out, err := exec.Command(analyze, "syscall-filter", "--no-pager").Output()
	if err != nil {
		t.Fatalf("systemd-analyze syscall-filter: %v", err)
	}
	groups := map[string][]string{}
	group := ""
	for line := range strings.SplitSeq(string(out), "\n") {
		field := strings.TrimSpace(line)
		switch {
		case field == "" || strings.HasPrefix(field, "#"):
		case strings.HasPrefix(line, "@"):
			group = field
		case group != "":
			groups[group] = append(groups[group], field)
		}
	}
	if len(groups["@system-service"]) == 0 {
		t.Fatalf("systemd-analyze syscall-filter listed no @system-service:\n%s", out)
	}
	return groups
}

func expand(groups map[string][]string, items []string, into map[string]bool, sign bool) {
	for _, item := range items {
		if strings.HasPrefix(item, "@") {
			members, ok := groups[item]
			if !ok {
				panic("unknown system call group " + item)
			}
			expand(groups, members, into, sign)
			continue
		}
		if sign {
			into[item] = true
		} else {
			delete(into, item)
		}
	}
}

// allowedSyscalls applies the unit's SystemCallFilter= lines as systemd
// does: the first non-~ line starts an allow list (which always includes
// @default), later ~ lines take groups out of it.
func allowedSyscalls(t *testing.T, analyze string, filters []string) map[string]bool {
	t.Helper()
	groups := syscallGroups(t, analyze)
	var allowed map[string]bool
	for _, f := range filters {
		items, deny := strings.CutPrefix(f, "~")
		if !deny {
			if allowed == nil {
				allowed = map[string]bool{}
				expand(groups, []string{"@default"}, allowed, true)
			}
			expand(groups, strings.Fields(items), allowed, true)
			continue
		}
		if allowed == nil {
			t.Fatalf("SystemCallFilter=%s before an allow list: this test handles allow lists only", f)
		}
		expand(groups, strings.Fields(items), allowed, false)
	}
	return allowed
}

var (
	straceCall   = regexp.MustCompile(`^\d+\s+([a-z_][a-z0-9_]*)\(`)
	straceSocket = regexp.MustCompile(`\bsocket\((AF_[A-Z0-9]+)`)
)

// TestSystemdSyscallFilter runs the exporter as the unit would (this host's
// /proc and /sys, default flags) under strace: start, scrapes, the landing
// page, the live page (/live, /live.json), SIGTERM. Every system call it
// makes must be allowed by the unit's SystemCallFilter (denied ones would
// fail with EPERM: a missing metric at best), and every socket family it
// opens by RestrictAddressFamilies.
func TestSystemdSyscallFilter(t *testing.T) {
	analyze := requireTool(t, "systemd-analyze", systemdHint)
	strace := requireTool(t, "strace", straceHint)
	entries := parseUnit(t, unitPath)
	allowed := allowedSyscalls(t, analyze, values(entries, unitSectionSvc, "SystemCallFilter"))
	families := strings.Fields(strings.Join(values(entries, unitSectionSvc, "RestrictAddressFamilies"), " "))

	trace := filepath.Join(t.TempDir(), "trace")
	addr := freePort(t)
	cmd := exec.Command(strace, "-f", "-qq", "-e", "signal=none", "-o", trace, "--",
		exporterBinary(t), "--web.listen-address="+addr)
	cmd.Env = unitEnv(t)
	exp := startExporter(t, cmd, addr)
	for range 3 {
		metrics := get(t, "http://"+addr+"/metrics")
		if len(collectorSuccess(metrics)) == 0 {
			t.Fatalf("no netirq_scrape_collector_success in /metrics")
		}
	}
	get(t, "http://"+addr+"/")
	get(t, "http://"+addr+"/live")
	get(t, "http://"+addr+"/live.json")

	// SIGTERM to the exporter itself (strace's first traced process), as
	// systemctl stop does; strace ends with it.
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), " ")
	pid, err := strconv.Atoi(first)
	if err != nil {
		t.Fatalf("strace output does not start with a PID: %.80q", b)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exp.done:
	case <-time.After(10 * time.Second):
		t.Log("exporter did not stop within 10s of SIGTERM; reading the trace so far")
	}

	b, err = os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]int{}
	usedFamilies := map[string]bool{}
	for line := range strings.SplitSeq(string(b), "\n") {
		if m := straceCall.FindStringSubmatch(line); m != nil {
			used[m[1]]++
		}
		if m := straceSocket.FindStringSubmatch(line); m != nil {
			usedFamilies[m[1]] = true
		}
	}
	if used["openat"] == 0 || used["read"] == 0 {
		t.Fatalf("the trace shows no openat/read: strace output not understood\n%.2000s", b)
	}
	var names, denied []string
	for name := range used {
		names = append(names, name)
		if !allowed[name] {
			denied = append(denied, name)
		}
	}
	slices.Sort(names)
	slices.Sort(denied)
	t.Logf("system calls made (%d): %s", len(names), strings.Join(names, " "))
	if len(denied) > 0 {
		t.Errorf("system calls the unit's SystemCallFilter denies (they would fail with EPERM): %s", strings.Join(denied, " "))
	}
	for fam := range usedFamilies {
		if !slices.Contains(families, fam) {
			t.Errorf("socket(%s, ...) is not in RestrictAddressFamilies=%s", fam, strings.Join(families, " "))
		}
	}
}

// TestExporterRunsUnprivileged runs the exporter as nobody (65534, no
// groups, no capabilities), as the unit's DynamicUser and the DaemonSet's
// runAsUser do, on this host's /proc and /sys: every collector must
// succeed.
func TestExporterRunsUnprivileged(t *testing.T) {
	requireRoot(t, "to start the exporter as another user")
	bin := exporterBinary(t)
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cmd := exec.Command(bin, "--web.listen-address="+addr)
	cmd.Dir = "/"
	cmd.Env = unitEnv(t)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	logs := startExporter(t, cmd, addr).output
	metrics := get(t, "http://"+addr+"/metrics")
	success := collectorSuccess(metrics)
	if len(success) == 0 {
		t.Fatalf("no netirq_scrape_collector_success in /metrics")
	}
	for collector, v := range success {
		if v != "1" {
			t.Errorf("collector %s failed as nobody (netirq_scrape_collector_success %s); exporter log:\n%s", collector, v, logs())
		}
	}
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Uid:\t65534\t65534\t65534\t65534", "CapEff:\t0000000000000000"} {
		if !strings.Contains(string(status), want) {
			t.Errorf("exporter's /proc/PID/status lacks %q", want)
		}
	}
}

// TestMakeInstall runs `make build`, then `make install` with no go in PATH
// (as under sudo) into a DESTDIR with another PREFIX and checks what lands
// where: the unit's ExecStart names the installed binary, the flags file is
// installed once and then kept, and the installed unit passes
// systemd-analyze verify. Without a binary, make install says to build it.
func TestMakeInstall(t *testing.T) {
	makeBin := requireTool(t, "make", "install the Debian package make")
	dest := t.TempDir()
	binOut := filepath.Join(t.TempDir(), "netirq_exporter")
	noGo := append(os.Environ(), "GOWORK=off", "PATH="+pathWithoutGo(t))
	runMake := func(target string) (string, error) {
		cmd := exec.Command(makeBin, "-C", repoRoot, target, "DESTDIR="+dest, "PREFIX=/opt/netirq", "BIN="+binOut)
		cmd.Env = noGo
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := runMake("install"); err == nil || !strings.Contains(out, "run make build first") {
		t.Errorf("make install without a binary: %v, want a failure saying \"run make build first\":\n%s", err, out)
	}
	build := exec.Command(makeBin, "-C", repoRoot, "build", "BIN="+binOut)
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	install := func() string {
		out, err := runMake("install")
		if err != nil {
			t.Fatalf("make install (PATH without go): %v\n%s", err, out)
		}
		if strings.Contains(out, "warning") {
			t.Errorf("make install right after make build warns:\n%s", out)
		}
		return out
	}
	install()
	for path, mode := range map[string]os.FileMode{
		"opt/netirq/bin/netirq_exporter":                        0o755,
		"opt/netirq/lib/systemd/system/netirq_exporter.service": 0o644,
		"etc/default/netirq_exporter":                           0o644,
	} {
		fi, err := os.Stat(filepath.Join(dest, path))
		if err != nil {
			t.Errorf("make install: %v", err)
			continue
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), mode)
		}
	}
	unit := filepath.Join(dest, "opt/netirq/lib/systemd/system/netirq_exporter.service")
	entries := parseUnit(t, unit)
	if exec := values(entries, unitSectionSvc, "ExecStart"); len(exec) != 1 || !strings.HasPrefix(exec[0], "/opt/netirq/bin/netirq_exporter ") {
		t.Errorf("installed ExecStart: %q", exec)
	}
	if env := values(entries, unitSectionSvc, "EnvironmentFile"); !slices.Equal(env, []string{"-/etc/default/netirq_exporter"}) {
		t.Errorf("installed EnvironmentFile: %q", env)
	}
	// Apart from those two lines, the installed unit is the repository's.
	orig, _ := os.ReadFile(unitPath)
	inst, _ := os.ReadFile(unit)
	if strings.Count(string(orig), "\n") != strings.Count(string(inst), "\n") {
		t.Errorf("installed unit has %d lines, the repository's %d", strings.Count(string(inst), "\n"), strings.Count(string(orig), "\n"))
	}

	// A second install keeps the administrator's flags.
	envFile := filepath.Join(dest, "etc/default/netirq_exporter")
	if err := os.WriteFile(envFile, []byte("ARGS=\"--collector.softirqs.all\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := install(); !strings.Contains(out, "keeping") {
		t.Errorf("second make install did not say it kept the flags file:\n%s", out)
	}
	if b, _ := os.ReadFile(envFile); !strings.Contains(string(b), "softirqs.all") {
		t.Errorf("second make install overwrote the flags file: %q", b)
	}

	if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
		staged := unitWithExec(t, unit, "/opt/netirq/bin/netirq_exporter", filepath.Join(dest, "opt/netirq/bin/netirq_exporter"))
		if out, err := exec.Command(analyze, "verify", staged).CombinedOutput(); err != nil || strings.Contains(string(out), "netirq_exporter") {
			t.Errorf("systemd-analyze verify of the installed unit: %v\n%s", err, out)
		}
	}
}

// pathWithoutGo is $PATH without the directories holding a go command.
func pathWithoutGo(t *testing.T) string {
	t.Helper()
	var dirs []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "go")); err != nil {
			dirs = append(dirs, dir)
		}
	}
	if len(dirs) == 0 {
		t.Fatal("PATH is only directories with go")
	}
	return strings.Join(dirs, string(filepath.ListSeparator))
}

// TestReadmeDropIns puts each drop-in of README.md (the ```ini blocks)
// beside the unit, as `systemctl edit` would, and runs systemd-analyze
// verify, which reads <unit>.d/*.conf: every key must be known and valid.
func TestReadmeDropIns(t *testing.T) {
	analyze := requireTool(t, "systemd-analyze", systemdHint)
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```ini\n(.*?)\n```").FindAllStringSubmatch(string(b), -1)
	if len(blocks) < 2 {
		t.Fatalf("README.md: %d ```ini drop-in blocks, want the IPAddressAllow and LoadCredential ones", len(blocks))
	}
	for i, block := range blocks {
		unit := unitWithExec(t, unitPath, unitExecPath, exporterBinary(t))
		dir := unit + ".d"
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "readme.conf"), []byte(block[1]+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
		if err != nil || strings.Contains(string(out), "netirq_exporter") {
			t.Errorf("README.md drop-in %d:\n%s\nsystemd-analyze verify: %v\n%s", i+1, block[1], err, out)
		}
	}
}
