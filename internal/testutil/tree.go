package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// CopyTree copies a fixture host into a temp dir so a test can break it,
// keeping symlinks as symlinks.
// CopyTree copies src below a new t.TempDir() and returns the copy.
func CopyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := CopyDir(src, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// CopyDir copies a directory (symlinks as symlinks) to dst.
func CopyDir(src, dst string) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case info.IsDir():
			return os.MkdirAll(target, 0o755)
		default:
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o644)
		}
	})
}
