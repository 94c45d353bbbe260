package deploy

// Tests of the opt-in bpf collector's deployment: the systemd drop-in
// (systemd/netirq_exporter-bpf.conf) and the kustomize component
// (kubernetes/components/bpf). Each grants CAP_BPF and CAP_PERFMON and
// nothing else, and only when installed: the default unit and DaemonSet
// keep no capability (TestSystemdUnitHardening, TestDaemonSetContract).

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

const bpfDropIn = "systemd/netirq_exporter-bpf.conf"

// bpfCaps are the capabilities the probes need (bit numbers of
// linux/capability.h: CAP_PERFMON 38, CAP_BPF 39).
var bpfCaps = []uintptr{38, 39}

// TestSystemdBPFDropIn pins what the drop-in grants and checks it with
// the unit through systemd-analyze verify.
func TestSystemdBPFDropIn(t *testing.T) {
	entries := parseUnit(t, bpfDropIn)
	for key, want := range map[string][]string{
		"CapabilityBoundingSet": {"CAP_BPF CAP_PERFMON"},
		"AmbientCapabilities":   {"CAP_BPF CAP_PERFMON"},
		"PrivateUsers":          {"no"},
		"SystemCallFilter":      {"bpf perf_event_open"},
	} {
		if got := values(entries, unitSectionSvc, key); !slices.Equal(got, want) {
			t.Errorf("[Service] %s: got %q, want %q", key, got, want)
		}
	}
	if len(entries) != 4 {
		t.Errorf("the drop-in sets %d keys, want only the 4 above: %+v", len(entries), entries)
	}
	analyze := requireTool(t, "systemd-analyze", systemdHint)
	unit := unitWithExec(t, unitPath, unitExecPath, exporterBinary(t))
	if err := os.Mkdir(unit+".d", 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bpfDropIn)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(unit+".d", "bpf.conf"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", unit).CombinedOutput(); err != nil || strings.Contains(string(out), "netirq_exporter") {
		t.Errorf("systemd-analyze verify with the drop-in: %v\n%s", err, out)
	}
}

// TestSystemdBPFSyscallFilter runs the exporter with --collector.bpf under
// strace until the probes are attached and scraped: every system call it
// makes must be allowed by the unit's filter with the drop-in's lines.
func TestSystemdBPFSyscallFilter(t *testing.T) {
	requireRoot(t, "to load the probes")
	analyze := requireTool(t, "systemd-analyze", systemdHint)
	strace := requireTool(t, "strace", straceHint)
	filters := append(values(parseUnit(t, unitPath), unitSectionSvc, "SystemCallFilter"),
		values(parseUnit(t, bpfDropIn), unitSectionSvc, "SystemCallFilter")...)
	allowed := allowedSyscalls(t, analyze, filters)
	trace := filepath.Join(t.TempDir(), "trace")
	addr := freePort(t)
	cmd := exec.Command(strace, "-f", "-qq", "-e", "signal=none", "-o", trace, "--",
		exporterBinary(t), "--web.listen-address="+addr, "--collector.bpf")
	cmd.Env = unitEnv(t)
	exp := startExporter(t, cmd, addr)
	waitBPF(t, addr, "1")
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	// SIGTERM to the exporter itself (strace's first traced process):
	// strace killed alone would leave it running.
	first, _, _ := strings.Cut(string(b), " ")
	if pid, err := strconv.Atoi(first); err == nil {
		syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-exp.done:
		case <-time.After(10 * time.Second):
		}
	}
	var denied []string
	seen := map[string]bool{}
	for line := range strings.SplitSeq(string(b), "\n") {
		if m := straceCall.FindStringSubmatch(line); m != nil && !seen[m[1]] {
			seen[m[1]] = true
			if !allowed[m[1]] {
				denied = append(denied, m[1])
			}
		}
	}
	if !seen["bpf"] {
		t.Fatalf("the trace shows no bpf(): strace output not understood\n%.2000s", b)
	}
	if len(denied) > 0 {
		t.Errorf("system calls the unit with the drop-in denies: %s", strings.Join(denied, " "))
	}
}

// TestExporterBPFWithCapabilities runs the exporter as nobody with exactly
// the drop-in's capabilities, ambient as systemd grants them: the bpf
// collector must attach and succeed, so the two are enough.
func TestExporterBPFWithCapabilities(t *testing.T) {
	requireRoot(t, "to start the exporter as another user with capabilities")
	bin := exporterBinary(t)
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cmd := exec.Command(bin, "--web.listen-address="+addr, "--collector.bpf")
	cmd.Dir = "/"
	cmd.Env = unitEnv(t)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}},
		AmbientCaps: bpfCaps}
	logs := startExporter(t, cmd, addr).output
	waitBPF(t, addr, "1")
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "status"))
	if err != nil {
		t.Fatal(err)
	}
	// CAP_PERFMON (38) and CAP_BPF (39): 0xc0 << 32.
	if !strings.Contains(string(status), "CapEff:\t000000c000000000") {
		t.Errorf("exporter's effective capabilities are not exactly CAP_BPF and CAP_PERFMON:\n%s\nlog:\n%s", status, logs())
	}
}

// waitBPF waits up to a minute for netirq_scrape_collector_success of
// the bpf collector to be want.
func waitBPF(t *testing.T, addr, want string) {
	t.Helper()
	got := ""
	for range 120 {
		if got = collectorSuccess(get(t, "http://"+addr+"/metrics"))["bpf"]; got == want {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("bpf collector success %q, want %s", got, want)
}

// TestKustomizeBPFComponent builds the base with components/bpf from an
// overlay: the DaemonSet's container gains --collector.bpf, CAP_BPF and
// CAP_PERFMON and runs as UID 0; nothing else of it or of the other
// objects changes.
func TestKustomizeBPFComponent(t *testing.T) {
	base := build(t, filesys.MakeFsOnDisk(), k8sDir)
	fs := memFS(t)
	overlay := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../k]\ncomponents: [../k/components/bpf]\n"
	if err := fs.WriteFile("/overlay/kustomization.yaml", []byte(overlay)); err != nil {
		t.Fatal(err)
	}
	objs := build(t, fs, "/overlay")
	if !slices.Equal(keys(objs), keys(base)) {
		t.Fatalf("objects %q, want the base's %q", keys(objs), keys(base))
	}
	for _, k := range keys(base) {
		if k != "DaemonSet/netirq-exporter" && !reflect.DeepEqual(base[k], objs[k]) {
			t.Errorf("%s differs from the base's", k)
		}
	}
	got := objs["DaemonSet/netirq-exporter"].(*appsv1.DaemonSet)
	c := got.Spec.Template.Spec.Containers[0]
	sc := c.SecurityContext
	if !slices.Contains(c.Args, "--collector.bpf") {
		t.Errorf("args %q lack --collector.bpf", c.Args)
	}
	checkFlags(t, "components/bpf", c.Args)
	if !slices.Equal(sc.Capabilities.Add, []corev1.Capability{"BPF", "PERFMON"}) || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("capabilities %+v, want add BPF and PERFMON, drop ALL", sc.Capabilities)
	}
	if sc.RunAsUser == nil || *sc.RunAsUser != 0 || sc.RunAsNonRoot == nil || *sc.RunAsNonRoot {
		t.Errorf("runAsUser %v, runAsNonRoot %v: want 0 and false (capabilities of a non-root container are not effective)", sc.RunAsUser, sc.RunAsNonRoot)
	}
	if sc.Privileged == nil || *sc.Privileged || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("the component loosened the container: %+v", sc)
	}
	// Undo the component's five changes: the rest is the base DaemonSet.
	want := base["DaemonSet/netirq-exporter"].(*appsv1.DaemonSet).DeepCopy()
	undone := got.DeepCopy()
	uc := &undone.Spec.Template.Spec.Containers[0]
	uc.Args = slices.DeleteFunc(uc.Args, func(a string) bool { return a == "--collector.bpf" })
	uc.SecurityContext.Capabilities.Add, uc.SecurityContext.RunAsUser, uc.SecurityContext.RunAsGroup = nil, nil, nil
	uc.SecurityContext.RunAsNonRoot = want.Spec.Template.Spec.Containers[0].SecurityContext.RunAsNonRoot
	if !reflect.DeepEqual(want, undone) {
		t.Errorf("the component changes more of the DaemonSet than args, capabilities and the user")
	}
	if caps := base["DaemonSet/netirq-exporter"].(*appsv1.DaemonSet).Spec.Template.Spec.Containers[0].SecurityContext.Capabilities; len(caps.Add) != 0 {
		t.Errorf("the base DaemonSet adds capabilities %v: the bpf ones belong in the component only", caps.Add)
	}
}
