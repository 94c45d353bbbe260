package deploy

// Tests of the Kubernetes manifests in kubernetes/. Every manifest is
// decoded strictly into the real API types (k8s.io/api, the Prometheus
// Operator's monitoring/v1, kustomize's Kustomization): an unknown or
// misspelt field, or a duplicate one, fails. Both kustomizations are built
// with kustomize's own library and their output decoded the same way. Then
// the objects are checked against each other and against the exporter: the
// selectors select, the named ports exist, the DaemonSet's arguments are
// flags the exporter has and work on this host with the paths the DaemonSet
// mounts, and the PrometheusRule holds exactly the groups of alerts/*.yml.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	kusttypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

const (
	k8sDir       = "kubernetes"
	namespace    = "monitoring"
	exporterPort = 10467
	appName      = "netirq-exporter"
	jobName      = "netirq"
)

// unmarshalStrict decodes YAML into obj as the API server does with
// fieldValidation=Strict: field names are case-sensitive, and unknown or
// duplicate fields are errors. (sigs.k8s.io/yaml's own UnmarshalStrict goes
// through encoding/json, which matches field names case-insensitively, so
// "readonlyRootFilesystem" would pass.)
func unmarshalStrict(doc []byte, obj any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strictErrs, err := sigsjson.UnmarshalStrict(j, obj, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

// decodeStrict decodes one YAML document into the Go type of its
// apiVersion and kind.
func decodeStrict(doc []byte) (any, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	var obj any
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 ServiceAccount":
		obj = &corev1.ServiceAccount{}
	case "v1 Service":
		obj = &corev1.Service{}
	case "apps/v1 DaemonSet":
		obj = &appsv1.DaemonSet{}
	case "monitoring.coreos.com/v1 ServiceMonitor":
		obj = &monitoringv1.ServiceMonitor{}
	case "monitoring.coreos.com/v1 PodMonitor":
		obj = &monitoringv1.PodMonitor{}
	case "monitoring.coreos.com/v1 PrometheusRule":
		obj = &monitoringv1.PrometheusRule{}
	case "kustomize.config.k8s.io/v1beta1 Kustomization", "kustomize.config.k8s.io/v1alpha1 Component":
		obj = &kusttypes.Kustomization{}
	default:
		return nil, fmt.Errorf("apiVersion %q kind %q: no Go type known to this test", tm.APIVersion, tm.Kind)
	}
	if err := unmarshalStrict(doc, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// documents splits a YAML stream on "---" lines.
func documents(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(d, "")) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

// manifests decodes every YAML file under kubernetes/, by path.
func manifests(t *testing.T) map[string]any {
	t.Helper()
	objs := map[string]any{}
	err := filepath.WalkDir(k8sDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" {
			t.Errorf("%s: not a .yaml file; kubernetes/ holds manifests only", path)
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		docs := documents(b)
		if len(docs) != 1 {
			t.Errorf("%s: %d YAML documents, want one object per file", path, len(docs))
			return nil
		}
		obj, err := decodeStrict(docs[0])
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return nil
		}
		objs[path] = obj
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	return objs
}

// only returns the single object of type T among objs.
func only[T any](t *testing.T, objs map[string]any) T {
	t.Helper()
	var found []T
	for _, o := range objs {
		if v, ok := o.(T); ok {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("want exactly one %T, found %d", zero, len(found))
	}
	return found[0]
}

func TestManifestsDecodeStrictly(t *testing.T) {
	objs := manifests(t)
	var kinds []string
	for path, obj := range objs {
		kinds = append(kinds, fmt.Sprintf("%s=%T", path, obj))
		if m, ok := obj.(metav1.Object); ok {
			if m.GetNamespace() != namespace {
				t.Errorf("%s: namespace %q, want %q (as kustomization.yaml)", path, m.GetNamespace(), namespace)
			}
			if m.GetLabels()["app.kubernetes.io/name"] != appName {
				t.Errorf("%s: label app.kubernetes.io/name is %q, want %q", path, m.GetLabels()["app.kubernetes.io/name"], appName)
			}
		}
	}
	slices.Sort(kinds)
	t.Logf("decoded: %s", strings.Join(kinds, " "))

	// The decoding is strict: a misspelt field fails.
	b, err := os.ReadFile(filepath.Join(k8sDir, "daemonset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, typo := range []struct{ from, to string }{
		{"      hostNetwork: true", "      hostNetwrok: true"},
		{"readOnlyRootFilesystem:", "readonlyRootFilesystem:"},
		{"    - name: metrics", "    - nmae: metrics"},
	} {
		bad := strings.Replace(string(b), typo.from, typo.to, 1)
		if bad == string(b) {
			t.Fatalf("daemonset.yaml has no %q to misspell", typo.from)
		}
		if _, err := decodeStrict([]byte(bad)); err == nil {
			t.Errorf("a DaemonSet with %q decoded without error: decoding is not strict", typo.to)
		}
	}
}

// build runs kustomize (its Go library, as `kubectl apply -k` does) on dir
// of fs and decodes its output strictly, by "Kind/name".
func build(t *testing.T, fs filesys.FileSystem, dir string) map[string]any {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(fs, dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	objs := map[string]any{}
	for _, r := range resMap.Resources() {
		doc, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		obj, err := decodeStrict(doc)
		if err != nil {
			t.Errorf("kustomize build %s: %s/%s: %v", dir, r.GetKind(), r.GetName(), err)
			continue
		}
		if r.GetNamespace() != namespace {
			t.Errorf("kustomize build %s: %s/%s in namespace %q", dir, r.GetKind(), r.GetName(), r.GetNamespace())
		}
		objs[r.GetKind()+"/"+r.GetName()] = obj
	}
	return objs
}

func keys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// memFS copies kubernetes/ into an in-memory file system at /k.
func memFS(t *testing.T) filesys.FileSystem {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	err := filepath.WalkDir(k8sDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(k8sDir, path)
		return fs.WriteFile(filepath.Join("/k", rel), b)
	})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestKustomizeBuild(t *testing.T) {
	base := build(t, filesys.MakeFsOnDisk(), k8sDir)
	want := []string{"DaemonSet/netirq-exporter", "PrometheusRule/netirq-exporter", "Service/netirq-exporter",
		"ServiceAccount/netirq-exporter", "ServiceMonitor/netirq-exporter"}
	if got := keys(base); !slices.Equal(got, want) {
		t.Errorf("kustomize build %s: got %q, want %q", k8sDir, got, want)
	}
	// Every manifest at the top of the directory is a resource of the base.
	var files []string
	for path := range manifests(t) {
		if filepath.Dir(path) == k8sDir && filepath.Base(path) != "kustomization.yaml" {
			files = append(files, filepath.Base(path))
		}
	}
	kust := mustDecodeFile(t, filepath.Join(k8sDir, "kustomization.yaml")).(*kusttypes.Kustomization)
	slices.Sort(files)
	listed := slices.Clone(kust.Resources)
	slices.Sort(listed)
	if !slices.Equal(files, listed) {
		t.Errorf("kustomization.yaml lists %q, the directory holds %q", listed, files)
	}

	// The PodMonitor component, both ways deploy/README.md tells: by
	// uncommenting its lines in kustomization.yaml, and from an overlay.
	want = []string{"DaemonSet/netirq-exporter", "PodMonitor/netirq-exporter", "PrometheusRule/netirq-exporter",
		"ServiceAccount/netirq-exporter"}
	b, _ := os.ReadFile(filepath.Join(k8sDir, "kustomization.yaml"))
	uncommented := regexp.MustCompile(`(?m)^# (components:|  - components/podmonitor)$`).ReplaceAll(b, []byte("$1"))
	if bytes.Count(uncommented, []byte("components")) != bytes.Count(b, []byte("components")) || bytes.Equal(uncommented, b) {
		t.Fatalf("kustomization.yaml has no commented-out `components:` with components/podmonitor to enable")
	}
	fs := memFS(t)
	if err := fs.WriteFile("/k/kustomization.yaml", uncommented); err != nil {
		t.Fatal(err)
	}
	fs2 := memFS(t)
	overlay := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../k]\ncomponents: [../k/components/podmonitor]\n"
	if err := fs2.WriteFile("/overlay/kustomization.yaml", []byte(overlay)); err != nil {
		t.Fatal(err)
	}
	for name, objs := range map[string]map[string]any{
		"kustomization.yaml with components/podmonitor": build(t, fs, "/k"),
		"an overlay with components/podmonitor":         build(t, fs2, "/overlay"),
	} {
		if got := keys(objs); !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q (never a ServiceMonitor and a PodMonitor together: double scrapes)", name, got, want)
		}
		// The component changes nothing else.
		for _, k := range []string{"DaemonSet/netirq-exporter", "PrometheusRule/netirq-exporter", "ServiceAccount/netirq-exporter"} {
			if !reflect.DeepEqual(base[k], objs[k]) {
				t.Errorf("%s: %s differs from the base's", name, k)
			}
		}
	}
}

func mustDecodeFile(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := decodeStrict(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return obj
}

func daemonSet(t *testing.T) *appsv1.DaemonSet {
	return mustDecodeFile(t, filepath.Join(k8sDir, "daemonset.yaml")).(*appsv1.DaemonSet)
}

// TestDaemonSetContract checks what deploy/README.md promises about the pod.
func TestDaemonSetContract(t *testing.T) {
	ds := daemonSet(t)
	spec := ds.Spec.Template.Spec
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(ds.Spec.Template.Labels)) {
		t.Errorf("selector %v does not match the pod template's labels %v (%v)", ds.Spec.Selector, ds.Spec.Template.Labels, err)
	}
	check := func(what string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("DaemonSet: want %s", what)
		}
	}
	check("hostNetwork", spec.HostNetwork)
	check("hostPID", spec.HostPID)
	check("no hostIPC", !spec.HostIPC)
	check("dnsPolicy ClusterFirstWithHostNet", spec.DNSPolicy == corev1.DNSClusterFirstWithHostNet)
	check("automountServiceAccountToken false", spec.AutomountServiceAccountToken != nil && !*spec.AutomountServiceAccountToken)
	check("one toleration, operator Exists with no key (every node)",
		len(spec.Tolerations) == 1 && spec.Tolerations[0].Operator == corev1.TolerationOpExists && spec.Tolerations[0].Key == "" && spec.Tolerations[0].Effect == "")
	psc := spec.SecurityContext
	check("pod runAsNonRoot, runAsUser 65534, seccomp RuntimeDefault", psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot &&
		psc.RunAsUser != nil && *psc.RunAsUser == 65534 && psc.SeccompProfile != nil && psc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault)

	if len(spec.Containers) != 1 || len(spec.InitContainers) != 0 {
		t.Fatalf("want one container, got %d (+%d init)", len(spec.Containers), len(spec.InitContainers))
	}
	c := spec.Containers[0]
	sc := c.SecurityContext
	check("allowPrivilegeEscalation false", sc != nil && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation)
	check("readOnlyRootFilesystem", sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem)
	check("not privileged", sc == nil || sc.Privileged == nil || !*sc.Privileged)
	check("capabilities drop ALL, add none", sc != nil && sc.Capabilities != nil &&
		slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) && len(sc.Capabilities.Add) == 0)

	check("one port, metrics/TCP 10467", len(c.Ports) == 1 && c.Ports[0].Name == "metrics" &&
		c.Ports[0].ContainerPort == exporterPort && c.Ports[0].Protocol == corev1.ProtocolTCP)
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s probe: want an httpGet probe", name)
			continue
		}
		check(name+" probe on port metrics", p.HTTPGet.Port == intstr.FromString("metrics"))
		check(name+" probe with a timeout of 5-10s", p.TimeoutSeconds >= 5 && p.TimeoutSeconds <= 10)
	}
	check("liveness on / (reads no host file)", c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && c.LivenessProbe.HTTPGet.Path == "/")

	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
		check(fmt.Sprintf("%s request and limit, request <= limit", r), !req.IsZero() && !lim.IsZero() && req.Cmp(lim) <= 0)
	}
	// The measured peak of the default mode on 256 CPUs is 27 MiB.
	check("memory limit >= 64Mi", c.Resources.Limits.Memory().Value() >= 64<<20)

	// /proc and /sys of the node, read-only, where the arguments say.
	hostPaths := map[string]string{}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = v.HostPath.Path
		}
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		if !m.ReadOnly {
			t.Errorf("volumeMount %s is not readOnly", m.Name)
		}
		if m.MountPropagation != nil && *m.MountPropagation != corev1.MountPropagationNone {
			t.Errorf("volumeMount %s: mountPropagation %s", m.Name, *m.MountPropagation)
		}
		mounts[hostPaths[m.Name]] = m.MountPath
	}
	if !reflect.DeepEqual(mounts, map[string]string{"/proc": "/host/proc", "/sys": "/host/sys"}) {
		t.Errorf("host mounts: got %v, want /proc → /host/proc and /sys → /host/sys", mounts)
	}
	for _, want := range []string{"--path.procfs=/host/proc", "--path.sysfs=/host/sys"} {
		check("argument "+want, slices.Contains(c.Args, want))
	}
	check("no command (the image's ENTRYPOINT runs)", len(c.Command) == 0)
}

// TestDaemonSetArgsAreExporterFlags checks the DaemonSet's arguments
// against the exporter's --help, then runs the exporter with exactly those
// arguments and environment as the pod would on this host: the host paths
// mapped back through the volume mounts, as nobody when root. The probes'
// paths must answer 200 and every collector must succeed.
func TestDaemonSetArgsAreExporterFlags(t *testing.T) {
	ds := daemonSet(t)
	c := ds.Spec.Template.Spec.Containers[0]
	checkFlags(t, "daemonset.yaml", c.Args)
	if t.Failed() {
		return
	}

	mountToHost := map[string]string{}
	for _, v := range ds.Spec.Template.Spec.Volumes {
		for _, m := range c.VolumeMounts {
			if m.Name == v.Name && v.HostPath != nil {
				mountToHost[m.MountPath] = v.HostPath.Path
			}
		}
	}
	addr := freePort(t)
	var args []string
	for _, a := range c.Args {
		name, value, _ := strings.Cut(a, "=")
		if name == "--web.listen-address" {
			a = name + "=" + addr
		}
		for mount, host := range mountToHost {
			if value == mount || strings.HasPrefix(value, mount+"/") {
				a = name + "=" + host + strings.TrimPrefix(value, mount)
			}
		}
		args = append(args, a)
	}
	bin := exporterBinary(t)
	cmd := exec.Command(bin, args...)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			t.Fatalf("env %s: valueFrom is not reproduced by this test", e.Name)
		}
		cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
	}
	if os.Geteuid() == 0 {
		if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	}
	t.Logf("running %s %s", bin, strings.Join(args, " "))
	exp := startExporter(t, cmd, addr)
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		body := get(t, "http://"+addr+p.HTTPGet.Path)
		if p.HTTPGet.Path == "/metrics" {
			for collector, v := range collectorSuccess(body) {
				if v != "1" {
					t.Errorf("collector %s failed with the DaemonSet's arguments; log:\n%s", collector, exp.output())
				}
			}
		}
	}
	time.Sleep(100 * time.Millisecond)
	if strings.Contains(exp.output(), "level=ERROR") {
		t.Errorf("exporter logged errors:\n%s", exp.output())
	}
}

func TestServiceAndMonitorsSelect(t *testing.T) {
	objs := manifests(t)
	ds := only[*appsv1.DaemonSet](t, objs)
	svc := only[*corev1.Service](t, objs)
	sm := only[*monitoringv1.ServiceMonitor](t, objs)
	pm := only[*monitoringv1.PodMonitor](t, objs)
	sa := only[*corev1.ServiceAccount](t, objs)
	podLabels := labels.Set(ds.Spec.Template.Labels)
	c := ds.Spec.Template.Spec.Containers[0]

	if ds.Spec.Template.Spec.ServiceAccountName != sa.Name {
		t.Errorf("DaemonSet uses ServiceAccount %q, the manifest is %q", ds.Spec.Template.Spec.ServiceAccountName, sa.Name)
	}
	if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Errorf("ServiceAccount: want automountServiceAccountToken: false")
	}

	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("Service: clusterIP %q, want None (headless)", svc.Spec.ClusterIP)
	}
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
		t.Errorf("Service selector %v does not select the pods %v", svc.Spec.Selector, podLabels)
	}
	svcPorts := map[string]bool{}
	for _, p := range svc.Spec.Ports {
		svcPorts[p.Name] = true
		if p.TargetPort != intstr.FromString(c.Ports[0].Name) || p.Port != c.Ports[0].ContainerPort {
			t.Errorf("Service port %s: %d → %v, want %d → %s", p.Name, p.Port, p.TargetPort.String(), c.Ports[0].ContainerPort, c.Ports[0].Name)
		}
	}

	smSel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil || !smSel.Matches(labels.Set(svc.Labels)) {
		t.Errorf("ServiceMonitor selector %v does not select the Service %v (%v)", sm.Spec.Selector, svc.Labels, err)
	}
	pmSel, err := metav1.LabelSelectorAsSelector(&pm.Spec.Selector)
	if err != nil || !pmSel.Matches(podLabels) {
		t.Errorf("PodMonitor selector %v does not select the pods %v (%v)", pm.Spec.Selector, podLabels, err)
	}

	// Both scrape the same port every 30s or faster (the [1m] rates need two
	// samples), and give the same job and instance labels.
	checkInterval := func(what string, iv, timeout monitoringv1.Duration) {
		d, err := time.ParseDuration(string(iv))
		if err != nil || d > 30*time.Second {
			t.Errorf("%s: interval %q, want 30s or less", what, iv)
		}
		if to, err := time.ParseDuration(string(timeout)); err != nil || to > d {
			t.Errorf("%s: scrapeTimeout %q must be set and not above the interval", what, timeout)
		}
	}
	relabelTargets := func(rs []monitoringv1.RelabelConfig) map[string]string {
		m := map[string]string{}
		for _, r := range rs {
			src := ""
			for _, l := range r.SourceLabels {
				src += string(l)
			}
			if r.Replacement != nil && len(r.SourceLabels) == 0 {
				src = "=" + *r.Replacement
			}
			m[r.TargetLabel] = src
		}
		return m
	}
	if len(sm.Spec.Endpoints) != 1 || len(pm.Spec.PodMetricsEndpoints) != 1 {
		t.Fatalf("want one endpoint in each monitor")
	}
	ep, pep := sm.Spec.Endpoints[0], pm.Spec.PodMetricsEndpoints[0]
	if !svcPorts[ep.Port] {
		t.Errorf("ServiceMonitor endpoint port %q is not a port of the Service", ep.Port)
	}
	if pep.Port == nil || *pep.Port != c.Ports[0].Name {
		t.Errorf("PodMonitor port %v is not the container's port %q", pep.Port, c.Ports[0].Name)
	}
	checkInterval("ServiceMonitor", ep.Interval, ep.ScrapeTimeout)
	checkInterval("PodMonitor", pep.Interval, pep.ScrapeTimeout)
	smRelabel, pmRelabel := relabelTargets(ep.RelabelConfigs), relabelTargets(pep.RelabelConfigs)
	if smRelabel["instance"] != "__meta_kubernetes_pod_node_name" || pmRelabel["instance"] != smRelabel["instance"] {
		t.Errorf("instance must be the node name in both monitors: ServiceMonitor %v, PodMonitor %v", smRelabel, pmRelabel)
	}
	// job is the one deploy/prometheus/prometheus.yml and alerts/RUNBOOK.md
	// use, whichever monitor scrapes.
	if smRelabel["job"] != "="+jobName || pmRelabel["job"] != "="+jobName {
		t.Errorf("job: ServiceMonitor sets %q, PodMonitor %q, want both %q", strings.TrimPrefix(smRelabel["job"], "="), strings.TrimPrefix(pmRelabel["job"], "="), jobName)
	}
	if sm.Spec.JobLabel != "" {
		t.Errorf("ServiceMonitor jobLabel %q: the job is set by relabeling", sm.Spec.JobLabel)
	}
}

// ruleFilesFromMakefile returns the rule files the Makefile's promrule
// target passes to the generator, in order.
func ruleFilesFromMakefile(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	_, recipe, ok := strings.Cut(string(b), "\npromrule:")
	if !ok {
		t.Fatal("Makefile has no promrule target")
	}
	recipe, _, _ = strings.Cut(recipe, "\n\n")
	files := regexp.MustCompile(`alerts/[\w.-]+\.yml`).FindAllString(recipe, -1)
	if len(files) != 3 {
		t.Fatalf("Makefile promrule recipe names %d alerts/*.yml files, want 3:\n%s", len(files), recipe)
	}
	return files
}

// TestPrometheusRuleMatchesAlerts decodes the rule files strictly into the
// Prometheus Operator's RuleGroup type and compares them with the
// PrometheusRule's groups: every field of the rule files is one the
// operator knows, and nothing was lost or changed on the way. (The root
// module's cmd/netirq_promrule test checks the file byte for byte against
// the generator.)
func TestPrometheusRuleMatchesAlerts(t *testing.T) {
	pr := mustDecodeFile(t, filepath.Join(k8sDir, "prometheusrule.yaml")).(*monitoringv1.PrometheusRule)
	b, _ := os.ReadFile(filepath.Join(k8sDir, "prometheusrule.yaml"))
	if !bytes.Contains(b, []byte("DO NOT EDIT")) {
		t.Errorf("prometheusrule.yaml lacks the generated-file header")
	}
	var want []monitoringv1.RuleGroup
	for _, f := range ruleFilesFromMakefile(t) {
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		var rf struct {
			Groups []monitoringv1.RuleGroup `json:"groups"`
		}
		if err := unmarshalStrict(b, &rf); err != nil {
			t.Fatalf("%s as Prometheus Operator rule groups: %v", f, err)
		}
		want = append(want, rf.Groups...)
	}
	if len(pr.Spec.Groups) != len(want) {
		t.Fatalf("PrometheusRule has %d groups, alerts/*.yml %d: run make promrule", len(pr.Spec.Groups), len(want))
	}
	rules := 0
	for i := range want {
		if !reflect.DeepEqual(pr.Spec.Groups[i], want[i]) {
			t.Errorf("group %d (%s) differs from alerts/*.yml: run make promrule", i, want[i].Name)
		}
		rules += len(want[i].Rules)
	}
	t.Logf("PrometheusRule: %d groups, %d rules, equal to alerts/*.yml", len(want), rules)
}
