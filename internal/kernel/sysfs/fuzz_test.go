package sysfs

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

func FuzzParseSysfsInt(f *testing.F) {
	for _, s := range []string{"0\n", "-1\n", "1", " 42 ", "9223372036854775807", "9223372036854775808", "0x10", "", "1 2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		v, err := ParseInt(text)
		want, wantErr := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if (err != nil) != (wantErr != nil) || err == nil && v != want {
			t.Fatalf("ParseInt(%q) = %d, %v; strconv says %d, %v", text, v, err, want, wantErr)
		}
		if err != nil && len(err.Error()) > 512 {
			t.Fatalf("error text is %d bytes: garbage must be clipped", len(err.Error()))
		}
	})
}

func FuzzParseQueueName(f *testing.F) {
	for _, s := range []string{"rx-0", "tx-15", "rx-", "rx", "xx-1", "rx-1a", "rx--1", "tx-99999999999999999999", "rx-007"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		kind, index, ok := parseQueueName(name)
		if !ok {
			if kind != "" || index != 0 {
				t.Fatalf("parseQueueName(%q) = %q, %d, false", name, kind, index)
			}
			return
		}
		if kind != "rx" && kind != "tx" || index < 0 {
			t.Fatalf("parseQueueName(%q) = %q, %d", name, kind, index)
		}
		// The name is exactly what the kernel prints ("rx-%u"): no two
		// directory names can give the same queue (and series) twice.
		if want := kind + "-" + strconv.Itoa(index); want != name {
			t.Fatalf("parseQueueName(%q) = %q, %d: the kernel's name for that is %q", name, kind, index, want)
		}
	})
}

func FuzzParseNodeName(f *testing.F) {
	for _, s := range []string{"node0", "node3", "node", "online", "possible", "has_cpu", "node8191", "node8192", "node-1", "node01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n, ok := parseNodeName(name)
		if !ok {
			return
		}
		if n < 0 || n >= cpuset.MaxCPUs {
			t.Fatalf("parseNodeName(%q) = %d out of range", name, n)
		}
		// readNodeCPUs reads "node"+n: it must be the directory listed.
		if want := "node" + strconv.Itoa(n); want != name {
			t.Fatalf("parseNodeName(%q) = %d, but the reader then opens %q", name, n, want)
		}
	})
}

// FuzzReadCPUTopology fuzzes devices/system/cpu/{possible,online,isolated,
// nohz_full} and node{0,1}/cpulist (presence one bit per file).
func FuzzReadCPUTopology(f *testing.F) {
	f.Add("0-7\n", "0-7\n", "\n", "(null)\n", "0-3\n", "4-7\n", uint8(0xff))
	f.Add("0-1\n", "0\n", "1\n", "", "0-1\n", "", uint8(0b010011))
	f.Add("0-\n", "x\n", "1-0\n", "\x00\n", ",\n", "8192\n", uint8(0xff))
	root := f.TempDir()
	cpuDir := filepath.Join(root, "devices", "system", "cpu")
	nodeDir := filepath.Join(root, "devices", "system", "node")
	for _, d := range []string{cpuDir, filepath.Join(nodeDir, "node0"), filepath.Join(nodeDir, "node1")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, possible, online, isolated, nohzFull, node0, node1 string, present uint8) {
		files := []struct{ dir, name, content string }{
			{cpuDir, "possible", possible}, {cpuDir, "online", online},
			{cpuDir, "isolated", isolated}, {cpuDir, "nohz_full", nohzFull},
			{filepath.Join(nodeDir, "node0"), "cpulist", node0}, {filepath.Join(nodeDir, "node1"), "cpulist", node1},
		}
		has := func(i int) bool { return present&(1<<uint(i)) != 0 }
		for i, fl := range files {
			testutil.FuzzFile(t, fl.dir, fl.name, has(i), fl.content)
		}
		topo, err := ReadCPUTopology(root)
		testutil.CheckErrLen(t, err)
		if topo == nil {
			t.Fatalf("nil topology with the cpu directory present: %v", err)
		}
		parsed := make([]cpuset.CPUSet, len(files))
		for i, fl := range files {
			if !has(i) {
				if i < 2 && !testutil.ErrMentions(err, fl.name) {
					t.Fatalf("%s missing but the error is %v", fl.name, err)
				}
				continue
			}
			s, perr := cpuset.ParseCPUList(strings.TrimRight(fl.content, "\n"))
			if perr != nil && !testutil.ErrMentions(err, filepath.Join(fl.dir, fl.name)) {
				t.Fatalf("%s holds %q, which does not parse, but the error is %v", fl.name, testutil.Clip(fl.content), err)
			}
			parsed[i] = s
		}
		for i, got := range []cpuset.CPUSet{topo.Possible, topo.Online, topo.Isolated, topo.NohzFull} {
			if !got.Equal(parsed[i]) {
				t.Fatalf("%s = %q, want %q", files[i].name, got, parsed[i])
			}
			testutil.CheckCPUSet(t, got)
		}
		for cpu, node := range topo.NodeOf {
			want := -1
			if parsed[5].Contains(cpu) {
				want = 1
			}
			if parsed[4].Contains(cpu) {
				want = 0 // the lower node wins
			}
			if node != want {
				t.Fatalf("CPU %d on node %d, want %d", cpu, node, want)
			}
		}
		if n := parsed[4].Union(parsed[5]).Count(); len(topo.NodeOf) != n {
			t.Fatalf("NodeOf has %d CPUs, node cpulists %d", len(topo.NodeOf), n)
		}
	})
}
