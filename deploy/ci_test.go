package deploy

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCIRunEveryStep runs .ci/run with a fake make that fails the steps a
// case names: every step still runs, with -k, the summary names each
// step's result, and the exit status is 1 when any step failed.
func TestCIRunEveryStep(t *testing.T) {
	bash := requireTool(t, "bash", "install the Debian package bash")
	for _, failing := range [][]string{nil, {"lint"}, {"test", "fuzz-short"}} {
		dir := t.TempDir()
		log := filepath.Join(dir, "make.log")
		fake := "#!/bin/sh\necho \"$*\" >>" + log + "\ncase \" $* \" in\n"
		for _, step := range failing {
			fake += "*\" " + step + " \"*) exit 2;;\n"
		}
		fake += "esac\n"
		if err := os.WriteFile(filepath.Join(dir, "make"), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bash, filepath.Join(repoRoot, ".ci/run"))
		cmd.Env = append(os.Environ(), "PATH="+dir+string(filepath.ListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 0, true: 1}[len(failing) > 0]; code != want {
			t.Errorf("failing %v: exit %d, want %d\n%s", failing, code, want, out)
		}
		calls, _ := os.ReadFile(log)
		if got := strings.Fields(strings.ReplaceAll(string(calls), "\n", " ")); strings.Join(got, " ") != "lint -k test -k fuzz-short -k" {
			t.Errorf("failing %v: make ran as %q, want lint -k, test -k, fuzz-short -k", failing, calls)
		}
		for _, step := range []string{"lint", "test", "fuzz-short"} {
			result := "ok"
			for _, f := range failing {
				if f == step {
					result = "FAILED"
				}
			}
			if !regexp.MustCompile(`(?m)^` + step + ` +` + result + ` +\d+s$`).Match(out) {
				t.Errorf("failing %v: summary has no line \"%s %s\":\n%s", failing, step, result, out)
			}
		}
		if len(failing) > 0 && !strings.Contains(string(out), "FAILED: "+strings.Join(failing, " ")) {
			t.Errorf("failing %v: no \"FAILED: %s\" line:\n%s", failing, strings.Join(failing, " "), out)
		}
	}
}
