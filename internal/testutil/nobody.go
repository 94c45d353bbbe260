package testutil

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// nobodyEnv marks the child process RerunAsNobody starts: it names the
// test the child runs.
const nobodyEnv = "NETIRQ_TEST_AS_NOBODY"

// RerunAsNobody lets a test that needs permissions to stop a read (EACCES)
// run as root too, where they do not. As root it runs the test again in a
// child process, this test binary running only this test, as nobody (uid
// and gid 65534, no supplementary groups; the uid change clears every
// capability), fails the test with the child's output when the child's run
// did not pass, and returns true: the caller returns. Otherwise (as any
// other user, and in the child) it returns false and the test goes on.
//
//	if testutil.RerunAsNobody(t) {
//		return
//	}
func RerunAsNobody(t *testing.T) bool {
	t.Helper()
	if os.Getenv(nobodyEnv) != "" {
		if os.Geteuid() == 0 {
			t.Fatalf("%s is set but this process runs as root: the credentials were not dropped", nobodyEnv)
		}
		return false
	}
	if os.Geteuid() != 0 {
		return false
	}
	// nobody must be able to run the binary and to write its temp dirs:
	// the test binary's own directory and $TMPDIR may be root's only.
	dir, err := os.MkdirTemp("", "netirq-as-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(tmp, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, filepath.Base(self))
	if err := copyExecutable(self, bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run", "^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), nobodyEnv+"="+t.Name(), "TMPDIR="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("as nobody (uid 65534), in a child process: %v\n%s", err, out)
	}
	t.Logf("ran as nobody (uid 65534) in a child process: passed")
	return true
}

func copyExecutable(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
