package deploy

// Tests of the container image recipe (../Dockerfile, ../.dockerignore).
// No Docker engine runs where these tests run, so the image itself is never
// built here. What can be checked without one is: the Dockerfile's shape
// (stages, base images, user, port, entrypoint), and the binary its
// `go build` line makes, built here with exactly that line's environment
// and flags and checked to be static (no ELF interpreter, no shared
// libraries), stripped and free of build paths; and that .dockerignore
// keeps every file that build needs in the build context.

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const (
	dockerfilePath   = repoRoot + "/Dockerfile"
	dockerignorePath = repoRoot + "/.dockerignore"
)

type instruction struct {
	cmd  string // upper case: FROM, RUN, ...
	args string
	line int
}

type stage struct {
	from, name string
	instrs     []instruction
}

// parseDockerfile reads the Dockerfile into stages, joining continuation
// lines and dropping comments.
func parseDockerfile(t *testing.T) (args map[string]string, stages []*stage) {
	t.Helper()
	b, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	args = map[string]string{}
	var cur strings.Builder
	start := 0
	lines := strings.Split(string(b), "\n")
	for i, raw := range lines {
		line := strings.TrimSpace(raw)
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		text := cur.String()
		cur.Reset()
		cmd, rest, _ := strings.Cut(text, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(rest), start}
		switch in.cmd {
		case "FROM":
			f := strings.Fields(in.args)
			st := &stage{}
			for len(f) > 0 && strings.HasPrefix(f[0], "--") {
				f = f[1:]
			}
			if len(f) == 0 {
				t.Fatalf("Dockerfile:%d: FROM without an image", start)
			}
			st.from = f[0]
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
		case "ARG":
			name, def, _ := strings.Cut(in.args, "=")
			args[name] = def
		}
		if len(stages) > 0 && in.cmd != "FROM" {
			stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, in)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile: %d stages, want a builder and a final stage", len(stages))
	}
	return args, stages
}

// words splits a shell command line into words, honouring single and
// double quotes (enough for a RUN line; no escapes inside quotes).
func words(t *testing.T, s string) []string {
	t.Helper()
	var ws []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				ws = append(ws, cur.String())
				cur.Reset()
				in = false
			}
		case strings.ContainsRune(";&|<>`", r):
			t.Fatalf("RUN line %q: shell operator %q; keep the go build line a single command", s, r)
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("RUN line %q: unbalanced quote", s)
	}
	if in {
		ws = append(ws, cur.String())
	}
	return ws
}

// goBuildLine returns the builder stage's `go build` RUN line as its
// environment, its go build arguments (${VAR} expanded with vars) and the
// value of its -o flag.
func goBuildLine(t *testing.T, st *stage, vars map[string]string) (env, args []string, out string) {
	t.Helper()
	var runs []instruction
	for _, in := range st.instrs {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			runs = append(runs, in)
		}
	}
	if len(runs) != 1 {
		t.Fatalf("builder stage: %d RUN lines with go build, want 1", len(runs))
	}
	expanded := regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`).ReplaceAllStringFunc(runs[0].args, func(m string) string {
		name := strings.Trim(m, "${}")
		v, ok := vars[name]
		if !ok {
			t.Fatalf("RUN line uses $%s, which is no ARG of the Dockerfile", name)
		}
		return v
	})
	ws := words(t, expanded)
	i := 0
	for ; i < len(ws) && regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`).MatchString(ws[i]); i++ {
		env = append(env, ws[i])
	}
	if len(ws) < i+2 || ws[i] != "go" || ws[i+1] != "build" {
		t.Fatalf("RUN line %q: want [ENV=value ...] go build ...", runs[0].args)
	}
	args = ws[i+1:]
	for j, a := range args {
		if a == "-o" && j+1 < len(args) {
			out = args[j+1]
		}
	}
	if out == "" {
		t.Fatalf("RUN line %q: no -o", runs[0].args)
	}
	return env, args, out
}

func TestDockerfile(t *testing.T) {
	argDefaults, stages := parseDockerfile(t)
	builder, final := stages[0], stages[len(stages)-1]

	// golang:MAJOR.MINOR, the go directive's of go.mod.
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	if want := "golang:" + string(m[1]); builder.from != want {
		t.Errorf("builder stage FROM %s, want %s (go.mod says go %s)", builder.from, want, m[1])
	}
	if builder.name == "" {
		t.Errorf("builder stage has no name (FROM ... AS build)")
	}
	if !strings.HasPrefix(final.from, "gcr.io/distroless/static") && final.from != "scratch" {
		t.Errorf("final stage FROM %s, want gcr.io/distroless/static* or scratch: the binary is static", final.from)
	}

	vars := maps(argDefaults, map[string]string{"TARGETOS": runtime.GOOS, "TARGETARCH": runtime.GOARCH})
	env, args, out := goBuildLine(t, builder, vars)
	for _, want := range []string{"CGO_ENABLED=0"} {
		if !slices.Contains(env, want) {
			t.Errorf("go build line: want %s in its environment, got %q", want, env)
		}
	}
	if !slices.Contains(args, "-trimpath") {
		t.Errorf("go build line: want -trimpath")
	}
	ldflags := ""
	for i, a := range args {
		if a == "-ldflags" && i+1 < len(args) {
			ldflags = args[i+1]
		}
	}
	if f := strings.Fields(ldflags); !slices.Contains(f, "-s") || !slices.Contains(f, "-w") {
		t.Errorf("go build line: want -ldflags with -s -w, got %q", ldflags)
	}
	if args[len(args)-1] != "./cmd/netirq_exporter" {
		t.Errorf("go build line builds %q, want ./cmd/netirq_exporter", args[len(args)-1])
	}

	// Final stage: the binary copied from the builder's -o, run as nobody.
	var copied, user, entry string
	var exposed []string
	for _, in := range final.instrs {
		f := strings.Fields(in.args)
		switch in.cmd {
		case "COPY":
			if len(f) == 3 && f[0] == "--from="+builder.name && f[1] == out {
				copied = f[2]
			}
		case "USER":
			user = in.args
		case "EXPOSE":
			exposed = append(exposed, f...)
		case "ENTRYPOINT":
			var argv []string
			if err := json.Unmarshal([]byte(in.args), &argv); err != nil || len(argv) == 0 {
				t.Errorf("ENTRYPOINT %s: want the exec (JSON) form, so that signals reach the exporter", in.args)
			} else {
				entry = argv[0]
			}
		case "RUN":
			t.Errorf("Dockerfile:%d: RUN in the final stage (distroless has no shell)", in.line)
		}
	}
	if copied == "" {
		t.Errorf("final stage: no COPY --from=%s %s DEST", builder.name, out)
	}
	if entry != copied {
		t.Errorf("ENTRYPOINT runs %q, the binary is copied to %q", entry, copied)
	}
	if user != "65534" && user != "65534:65534" {
		t.Errorf("USER %q, want 65534 (nobody), as the DaemonSet's runAsUser", user)
	}
	if !slices.Equal(exposed, []string{"10467"}) {
		t.Errorf("EXPOSE %q, want 10467", exposed)
	}
}

func maps(ms ...map[string]string) map[string]string {
	res := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			res[k] = v
		}
	}
	return res
}

// TestDockerBuildIsStatic builds the exporter with the Dockerfile's own go
// build line (environment, flags, ARG defaults; only -o changed) and checks
// the ELF file: no PT_INTERP (no dynamic loader), no DT_NEEDED (no shared
// library), no symbol table (-s), no absolute build path (-trimpath), and
// the version stamped by -ldflags -X.
func TestDockerBuildIsStatic(t *testing.T) {
	goBin := requireTool(t, "go", "the Go toolchain")
	argDefaults, stages := parseDockerfile(t)
	vars := maps(argDefaults, map[string]string{"TARGETOS": runtime.GOOS, "TARGETARCH": runtime.GOARCH})
	env, args, out := goBuildLine(t, stages[0], vars)
	bin := filepath.Join(t.TempDir(), "netirq_exporter")
	for i, a := range args {
		if a == out && i > 0 && args[i-1] == "-o" {
			args[i] = bin
		}
	}
	cmd := exec.Command(goBin, args...)
	cmd.Dir = repoRoot
	cmd.Env = append(append(os.Environ(), "GOWORK=off"), env...)
	t.Logf("%s go %s", strings.Join(env, " "), strings.Join(args, " "))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build as in the Dockerfile: %v\n%s", err, b)
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("binary has a PT_INTERP program header: it is dynamically linked")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) > 0 {
		t.Errorf("binary needs shared libraries (DT_NEEDED): %q", libs)
	}
	if f.Section(".symtab") != nil {
		t.Errorf("binary has a symbol table: -ldflags -s did not apply")
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(repoRoot)
	if bytes.Contains(b, []byte(abs+"/collector")) {
		t.Errorf("binary contains the build path %s: -trimpath did not apply", abs)
	}
	fi, _ := os.Stat(bin)
	t.Logf("static, stripped binary: %.1f MiB", float64(fi.Size())/(1<<20))

	v, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, v)
	}
	if want := "version " + argDefaults["VERSION"]; argDefaults["VERSION"] == "" || !strings.Contains(string(v), want) {
		t.Errorf("--version %q lacks %q: the -X version stamp did not apply", v, want)
	}
}

// dockerignoreRE turns a .dockerignore pattern into a regexp on slash
// paths relative to the context, as Docker (moby/patternmatcher) reads it.
func dockerignoreRE(p string) *regexp.Regexp {
	p = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(p)), "/")
	var re strings.Builder
	re.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case strings.HasPrefix(p[i:], "**/"):
			re.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(p[i:], "**"):
			re.WriteString(".*")
			i++
		case c == '*':
			re.WriteString("[^/]*")
		case c == '?':
			re.WriteString("[^/]")
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String())
}

// TestDockerignoreKeepsBuildInputs checks that no file the Dockerfile's
// build reads (go.mod, go.sum, every Go and embedded file of the exporter's
// packages in this module) is excluded from the build context.
func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	b, err := os.ReadFile(dockerignorePath)
	if err != nil {
		t.Fatal(err)
	}
	type pattern struct {
		re     *regexp.Regexp
		negate bool
		text   string
	}
	var patterns []pattern
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		text, negate := strings.CutPrefix(line, "!")
		patterns = append(patterns, pattern{dockerignoreRE(text), negate, line})
	}
	excludedBy := func(path string) string {
		by := ""
		parts := strings.Split(path, "/")
		for _, p := range patterns {
			for i := 1; i <= len(parts); i++ {
				if p.re.MatchString(strings.Join(parts[:i], "/")) {
					if p.negate {
						by = ""
					} else {
						by = p.text
					}
					break
				}
			}
		}
		return by
	}

	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if not .Standard}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}{{end}}`, "./cmd/netirq_exporter")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	abs, _ := filepath.Abs(repoRoot)
	need := []string{"go.mod", "go.sum"}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		rel, err := filepath.Rel(abs, f[0])
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // a module from the module cache
		}
		for _, file := range f[1:] {
			need = append(need, filepath.ToSlash(filepath.Join(rel, file)))
		}
	}
	if len(need) < 5 {
		t.Fatalf("go list found only %q", need)
	}
	for _, path := range need {
		if by := excludedBy(path); by != "" {
			t.Errorf(".dockerignore pattern %q leaves %s out of the build context; the image build needs it", by, path)
		}
	}
	// And it does keep the big things out.
	for _, path := range []string{".git/HEAD", "testdata/hosts/fc-2cpu/go.mod", "deploy/go.mod", "collector/exporter_test.go"} {
		if excludedBy(path) == "" {
			t.Errorf(".dockerignore does not exclude %s", path)
		}
	}
	t.Logf("%d build inputs kept in the context", len(need))
}
