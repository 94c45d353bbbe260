package sysfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel"
)

// TestReadSmallFileHostile: a FIFO (with and without a writer) in place of
// rps_cpus and a symlink to /dev/zero in place of ifindex are refused at
// once as not regular files; a regular attribute still reads.
func TestReadSmallFileHostile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "rps_cpus")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	zero := filepath.Join(dir, "ifindex")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	check := func(path, kind string) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _, err := ReadText(path, false)
			if !errors.Is(err, kernel.ErrNotRegular) || !strings.Contains(err.Error(), kind) {
				t.Errorf("%s: %v, want ErrNotRegular (%s)", path, err, kind)
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: still blocked after 10 s", path)
		}
	}
	check(fifo, "named pipe")
	check(zero, "character device")
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	check(fifo, "named pipe")

	good := filepath.Join(dir, "threaded")
	if err := os.WriteFile(good, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := ReadInt(good); err != nil || !ok || v != 1 {
		t.Errorf("regular file: %d %v %v", v, ok, err)
	}
}
