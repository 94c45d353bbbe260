package kernel

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// within fails the test when fn has not returned after a few seconds: the
// readers must refuse a FIFO at once, not wait for a writer. (A bound on a
// hang, not a timing assertion.)
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still blocked after 10 s", what)
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// TestParseFileRefusesNonRegular: a FIFO (no writer, and one with a writer
// that never writes) and a symlink to /dev/zero are refused at once with
// ErrNotRegular naming the type; nothing is parsed.
func TestParseFileRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "interrupts")
	mkfifo(t, fifo)
	zero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	parse := func(r io.Reader) (int, error) { t.Error("parse called"); return 0, nil }
	for _, c := range []struct{ path, kind string }{{fifo, "named pipe"}, {zero, "character device"}} {
		within(t, c.path, func() {
			_, err := ParseFile(c.path, 1<<20, parse)
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), c.kind) || !strings.Contains(err.Error(), c.path) {
				t.Errorf("%s: err %v, want ErrNotRegular naming %q and the path", c.path, err, c.kind)
			}
		})
	}
	// A writer holding the FIFO open without writing: still refused.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	within(t, "fifo with a writer", func() {
		if _, err := ParseFile(fifo, 1<<20, parse); !errors.Is(err, ErrNotRegular) {
			t.Errorf("fifo with a writer: %v", err)
		}
	})
}

// TestParseFileCap: a file past its cap is read up to the cap, the parser
// keeps what it read, and the error says ErrTooLarge; a file of exactly
// the cap is fine.
func TestParseFileCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, []byte(strings.Repeat("line\n", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	countLines := func(r io.Reader) (int, error) {
		sc := bufio.NewScanner(r)
		n := 0
		for sc.Scan() {
			n++
		}
		return n, sc.Err()
	}
	n, err := ParseFile(path, 500, countLines)
	if !errors.Is(err, ErrTooLarge) || n != 100 || !strings.Contains(err.Error(), path) {
		t.Errorf("capped at 500 bytes: %d lines, err %v; want 100 lines and ErrTooLarge naming the file", n, err)
	}
	if n, err := ParseFile(path, 5000, countLines); err != nil || n != 1000 {
		t.Errorf("exactly the cap: %d lines, err %v", n, err)
	}
}

// TestReadDirRefusesFIFO: a FIFO where a directory belongs fails with
// ENOTDIR at once; a directory lists sorted.
func TestReadDirRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "net")
	mkfifo(t, fifo)
	within(t, "ReadDir on a fifo", func() {
		if _, err := ReadDir(fifo); !errors.Is(err, syscall.ENOTDIR) {
			t.Errorf("ReadDir(fifo): %v, want ENOTDIR", err)
		}
	})
	for _, name := range []string{"b", "a", "c"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if err != nil || strings.Join(names, ",") != "a,b,c,net" {
		t.Errorf("ReadDir: %v, %v", names, err)
	}
}

// TestCheckRegularFD names what an open descriptor is.
func TestCheckRegularFD(t *testing.T) {
	f, err := os.Open("/dev/null")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	if err := CheckRegularFD(int(f.Fd()), "/dev/null"); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "character device") {
		t.Errorf("/dev/null: %v", err)
	}
	g, err := os.Open("bounded.go")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := CheckRegularFD(int(g.Fd()), "bounded.go"); err != nil {
		t.Errorf("a regular file: %v", err)
	}
}
