//go:build linux

package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestSpliceLoad: -only load replaces the load section and nothing else,
// or puts it before "## Reading" the first time.
func TestSpliceLoad(t *testing.T) {
	section := loadBegin + "\n## Under load\nnew\n" + loadEnd + "\n"
	for _, tc := range []struct{ doc, want string }{
		{"# B\n\n" + loadBegin + "\nold\n" + loadEnd + "\n## Slope\n", "# B\n\n" + section + "## Slope\n"},
		{"# B\n\n## Side\n\n## Reading\n\nnotes\n", "# B\n\n## Side\n\n" + section + "\n## Reading\n\nnotes\n"},
		{"", "\n" + section},
	} {
		if got := spliceLoad(tc.doc, section); got != tc.want {
			t.Errorf("spliceLoad(%q) =\n%q\nwant\n%q", tc.doc, got, tc.want)
		}
	}
}

// TestParseOpenat: strace -ff lines give the path (the exporter's
// /proc/<pid>/ as /proc/self/), whether it is a directory, and whether
// the open succeeded; other lines are skipped.
func TestParseOpenat(t *testing.T) {
	file := filepath.Join(t.TempDir(), "t.42")
	os.WriteFile(file, []byte(`openat(AT_FDCWD, "/t/proc/softirqs", O_RDONLY|O_CLOEXEC) = 9
openat(AT_FDCWD, "/t/sys/class/net", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 10
openat(AT_FDCWD, "/t/proc/sys/net/core/netdev_budget", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)
openat(AT_FDCWD, "/proc/42/stat", O_RDONLY|O_CLOEXEC) = 11
read(9, "..."..., 4096) = 100
+++ exited with 0 +++
`), 0o644)
	got, err := parseOpenat(file, "/proc/42/")
	if err != nil {
		t.Fatal(err)
	}
	want := []openedPath{{"/t/proc/softirqs", false, true}, {"/t/sys/class/net", true, true},
		{"/t/proc/sys/net/core/netdev_budget", false, false}, {"/proc/self/stat", false, true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseOpenat = %+v, want %+v", got, want)
	}
}
