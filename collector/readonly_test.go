package collector

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestReadonlySource: no code path of the exporter writes under /proc or
// /sys (or anywhere). It scans the non-test Go source of collector/ and
// cmd/netirq_exporter/ (the tools under cmd/ and internal/ write files on
// purpose and are not the exporter) and fails on:
//
//   - file-changing calls of os, io/ioutil, syscall and x/sys/unix
//     (WriteFile, Create, Mkdir*, Remove*, Rename, Chmod, Truncate, Symlink,
//     Write, Unlink, Mount ...), referenced at all, not only called;
//   - any write open flag (O_WRONLY, O_RDWR, O_CREAT(E), O_TRUNC, O_APPEND),
//     which is how os.OpenFile, syscall.Open or unix.Openat would write;
//   - ioctls other than the SIOCG* "get" requests and SIOCETHTOOL, raw
//     syscalls other than ioctl, the IoctlSet* helpers;
//   - kernel commands named as setters: netlink *Msg/*Cmd constants ending
//     in Set/New/Del/Act, ETHTOOL_MSG_*_SET/_ACT, ETHTOOL_S*, RTM_NEW*/SET*/
//     DEL*, SIOCS*;
//   - os/exec: a command run by the exporter could write anything.
//
// readonlyAllow names exact file:call pairs where a write is legitimate
// and not under /proc or /sys; there is none today.
var readonlyAllow = map[string]string{
	// "cmd/netirq_exporter/x.go:os.WriteFile": "why it is fine",
}

// readonlyDirs are the exporter's packages: every one its binary links,
// not the test tools (hostgen, netlab, testutil, promtest).
var readonlyDirs = []string{".", "../cmd/netirq_exporter", "../internal/cpuset", "../internal/kernel",
	"../internal/kernel/procfs", "../internal/kernel/sysfs", "../internal/kernel/nic", "../internal/kernel/genl", "../internal/irqclass", "../internal/snapshot", "../internal/diagnosis", "../internal/report"}

// readonlyForbidden lists the file-changing functions per import path.
var readonlyForbidden = map[string][]string{
	"os": {"WriteFile", "Create", "CreateTemp", "Mkdir", "MkdirAll", "MkdirTemp", "Remove", "RemoveAll", "Rename",
		"Chmod", "Chown", "Lchown", "Chtimes", "Truncate", "Symlink", "Link", "CopyFS"},
	"io/ioutil": {"WriteFile", "TempFile", "TempDir"},
	"syscall": {"Write", "Pwrite", "Writev", "Creat", "Mkdir", "Mkdirat", "Unlink", "Unlinkat", "Rmdir", "Rename",
		"Renameat", "Chmod", "Fchmod", "Fchmodat", "Chown", "Fchown", "Lchown", "Fchownat", "Truncate", "Ftruncate",
		"Link", "Linkat", "Symlink", "Symlinkat", "Mknod", "Mknodat", "Mount", "Unmount", "Sethostname",
		"Setdomainname", "Setxattr", "Removexattr", "Fallocate", "Sendfile", "Splice", "Tee"},
	"golang.org/x/sys/unix": {"Write", "Pwrite", "Pwritev", "Pwritev2", "Writev", "Creat", "Mkdir", "Mkdirat",
		"Unlink", "Unlinkat", "Rmdir", "Rename", "Renameat", "Renameat2", "Chmod", "Fchmod", "Fchmodat", "Chown",
		"Fchown", "Lchown", "Fchownat", "Truncate", "Ftruncate", "Link", "Linkat", "Symlink", "Symlinkat", "Mknod",
		"Mknodat", "Mount", "Unmount", "Sethostname", "Setdomainname", "Setxattr", "Lsetxattr", "Fsetxattr",
		"Removexattr", "Lremovexattr", "Fremovexattr", "Fallocate", "Sendfile", "Splice", "Tee", "MemfdCreate",
		"CopyFileRange", "Utimes", "UtimesNano", "UtimesNanoAt", "Futimes"},
	"os/exec": {"Command", "CommandContext"},
}

var (
	readonlyWriteFlags  = map[string]bool{"O_WRONLY": true, "O_RDWR": true, "O_CREATE": true, "O_CREAT": true, "O_TRUNC": true, "O_APPEND": true}
	readonlySetterNames = regexp.MustCompile(`(?i)^\w*(msg|cmd)\w*(set|new|del|act)$|^ETHTOOL_MSG_\w+_(SET|ACT)$|^ETHTOOL_S[A-Z]|^ethtoolS[A-Z]|^RTM_(NEW|SET|DEL)|^SIOCS`)
	readonlyRawSyscalls = map[string]bool{"Syscall": true, "Syscall6": true, "RawSyscall": true, "RawSyscall6": true}
)

func TestReadonlySource(t *testing.T) {
	fset := token.NewFileSet()
	var files []string
	for _, dir := range readonlyDirs {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, m := range matches {
			if !strings.HasSuffix(m, "_test.go") {
				files = append(files, m)
			}
		}
	}
	if len(files) < 10 {
		t.Fatalf("only %d source files found: %v", len(files), files)
	}
	var problems []string
	calls := 0
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", file, err)
		}
		p, n := readonlyScan(fset, f, readonlyRel(file))
		problems = append(problems, p...)
		calls += n
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("scanned %d files (%d syscall/unix calls checked); allowlist: %d entries", len(files), calls, len(readonlyAllow))
}

// readonlyScan returns the problems of one file and how many syscall/unix
// calls it checked; rel is the file's path from the repository root.
func readonlyScan(fset *token.FileSet, f *ast.File, rel string) (problems []string, calls int) {
	imports := map[string]string{} // local name → import path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		imports[name] = path
	}
	report := func(pos token.Pos, what, why string) {
		if _, ok := readonlyAllow[rel+":"+what]; ok {
			return
		}
		problems = append(problems, fmt.Sprintf("%s: %s: %s", fset.Position(pos), what, why))
	}
	// pkgSel resolves "unix.Open" to ("golang.org/x/sys/unix", "Open").
	pkgSel := func(e ast.Expr) (path, name string, ok bool) {
		sel, isSel := e.(*ast.SelectorExpr)
		if !isSel {
			return "", "", false
		}
		x, isIdent := sel.X.(*ast.Ident)
		if !isIdent {
			return "", "", false
		}
		path, ok = imports[x.Name]
		return path, sel.Sel.Name, ok
	}
	identName := func(e ast.Expr) string {
		switch v := e.(type) {
		case *ast.Ident:
			return v.Name
		case *ast.SelectorExpr:
			return v.Sel.Name
		}
		return ""
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			path, name, ok := pkgSel(n)
			if !ok {
				return true
			}
			short := path[strings.LastIndex(path, "/")+1:] + "." + name
			if containsString(readonlyForbidden[path], name) {
				report(n.Pos(), short, "changes files (or runs a command that could)")
			}
			if (path == "os" || path == "syscall" || path == "golang.org/x/sys/unix") && readonlyWriteFlags[name] {
				report(n.Pos(), short, "write open flag")
			}
			if path == "golang.org/x/sys/unix" && strings.HasPrefix(name, "IoctlSet") {
				report(n.Pos(), short, "setting ioctl")
			}
		case *ast.CallExpr:
			path, name, ok := pkgSel(n.Fun)
			if !ok || path != "syscall" && path != "golang.org/x/sys/unix" {
				return true
			}
			calls++
			switch {
			case readonlyRawSyscalls[name]:
				if len(n.Args) < 3 || identName(n.Args[0]) != "SYS_IOCTL" {
					report(n.Pos(), name, "raw syscall other than ioctl")
				} else if req := identName(n.Args[2]); !strings.HasPrefix(req, "SIOCG") && req != "SIOCETHTOOL" {
					report(n.Pos(), name, "ioctl request "+req+" is not a SIOCG* get")
				}
			case strings.HasPrefix(name, "Ioctl") && !strings.HasPrefix(name, "IoctlGet") && len(n.Args) >= 2:
				if req := identName(n.Args[1]); !strings.HasPrefix(req, "SIOCG") {
					report(n.Pos(), name, "ioctl request "+req+" is not a SIOCG* get")
				}
			}
		case *ast.Ident:
			if readonlySetterNames.MatchString(n.Name) {
				report(n.Pos(), n.Name, "names a kernel command that changes settings")
			}
		}
		return true
	})
	return problems, calls
}

// TestReadonlyScannerCatches proves the scan is not vacuous: a source with
// each kind of write is flagged, the getters the exporter uses are not.
func TestReadonlyScannerCatches(t *testing.T) {
	src := `package x
import (
	"os"
	sys "syscall"
	"golang.org/x/sys/unix"
)
const ethtoolMsgChannelsSet, ethtoolMsgChannelsGet, ethtoolGSSetInfo = 18, 17, 0x37
func f() {
	os.WriteFile("/proc/sys/net/core/rps_sock_flow_entries", nil, 0)
	os.OpenFile("/sys/class/net/eth0/queues/rx-0/rps_cpus", os.O_WRONLY, 0)
	os.OpenFile("/proc/interrupts", os.O_RDONLY, 0)
	sys.Open("/proc/irq/1/smp_affinity_list", sys.O_RDWR, 0)
	unix.Syscall(unix.SYS_IOCTL, 0, unix.SIOCSIFMTU, 0)
	unix.Syscall(unix.SYS_IOCTL, 0, unix.SIOCGIFHWADDR, 0)
	unix.Syscall(unix.SYS_WRITE, 1, 0, 0)
	unix.IoctlIfreq(0, unix.SIOCSIFFLAGS, nil)
	unix.IoctlIfreq(0, unix.SIOCGIFINDEX, nil)
	w := os.Remove
	_ = w
}`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	problems, _ := readonlyScan(fset, f, "x.go")
	all := strings.Join(problems, "\n")
	for _, want := range []string{"x.go:9:2: os.WriteFile", "x.go:10:58: os.O_WRONLY", "syscall.O_RDWR", "os.Remove",
		"ethtoolMsgChannelsSet", "SIOCSIFMTU is not", "x.go:15:2: Syscall: raw syscall other than ioctl", "SIOCSIFFLAGS is not"} {
		if !strings.Contains(all, want) {
			t.Errorf("scanner misses %s:\n%s", want, all)
		}
	}
	for _, fine := range []string{"ethtoolMsgChannelsGet", "ethtoolGSSetInfo", "SIOCGIFHWADDR", "SIOCGIFINDEX", "O_RDONLY"} {
		if strings.Contains(all, fine) {
			t.Errorf("scanner flags %s, a read:\n%s", fine, all)
		}
	}
	if n := len(problems); n != 10 {
		t.Errorf("%d problems, want 10:\n%s", n, all)
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// readonlyRel names a scanned file relative to the repository root.
func readonlyRel(file string) string {
	abs, err := filepath.Abs(file)
	if err != nil {
		return file
	}
	root, err := filepath.Abs("..")
	if err != nil {
		return file
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return file
	}
	return filepath.ToSlash(rel)
}
