package sysfs

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// topologySummary writes a CPUTopology as CPU lists, NodeOf as one list
// per node.
type topologySummary struct {
	Possible, Online, Isolated, NohzFull string
	Nodes                                string // "0:0-3 1:4-7"
}

func summarizeTopology(topo *CPUTopology) topologySummary {
	byNode := map[int]cpuset.CPUSet{}
	for cpu, node := range topo.NodeOf {
		s := byNode[node]
		s.Add(cpu)
		byNode[node] = s
	}
	var nodes []string
	for _, node := range slices.Sorted(maps.Keys(byNode)) {
		nodes = append(nodes, strconv.Itoa(node)+":"+byNode[node].String())
	}
	return topologySummary{topo.Possible.String(), topo.Online.String(),
		topo.Isolated.String(), topo.NohzFull.String(), strings.Join(nodes, " ")}
}

func TestTopologyFixtures(t *testing.T) {
	for _, tc := range []struct {
		host string
		want topologySummary
	}{
		// isolated is present and empty; nohz_full is absent.
		{fcHostRoot, topologySummary{"0-1", "0-1", "", "", "0:0-1"}},
		{bigironHostRoot, topologySummary{"0-7", "0-7", "7", "7", "0:0-3 1:4-7"}},
	} {
		topo, err := ReadCPUTopology(filepath.Join(tc.host, "sys"))
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(tc.host), err)
		}
		if topo == nil {
			t.Fatalf("%s: no topology", filepath.Base(tc.host))
		}
		if got := summarizeTopology(topo); got != tc.want {
			t.Errorf("%s = %+v, want %+v", filepath.Base(tc.host), got, tc.want)
		}
	}
	topo, _ := ReadCPUTopology(filepath.Join(bigironHostRoot, "sys"))
	if node, ok := topo.NodeOf[5]; !ok || node != 1 {
		t.Errorf("NodeOf[5] = %d, %v", node, ok)
	}
	if _, ok := topo.NodeOf[8]; ok {
		t.Error("NodeOf has CPU 8")
	}
}

func TestTopologyMissingCPUDir(t *testing.T) {
	h := testutil.NewHostTree(t)
	h.File("sys/devices/system/node/node0/cpulist", "0-1\n")
	topo, err := ReadCPUTopology(h.Path("sys"))
	if topo != nil || err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %+v, %v; want nil and fs.ErrNotExist", topo, err)
	}
	// devices/system/cpu is a file: still an error, still no panic.
	h.File("sys/devices/system/cpu", "")
	if topo, err := ReadCPUTopology(h.Path("sys")); topo != nil || err == nil {
		t.Fatalf("got %+v, %v; want nil and an error", topo, err)
	}
	// No /sys at all.
	if topo, err := ReadCPUTopology(h.Path("nowhere")); topo != nil || err == nil {
		t.Fatalf("got %+v, %v; want nil and an error", topo, err)
	}
}

func TestTopologyPartial(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   map[string]string // below sys/devices/system; "" content = empty file
		want    topologySummary
		wantErr []string // substrings; nil = no error
	}{
		{
			name: "no NUMA (CONFIG_NUMA=n), no isolated, no nohz_full",
			files: map[string]string{
				"cpu/possible": "0-3\n", "cpu/online": "0-3\n",
			},
			want: topologySummary{"0-3", "0-3", "", "", ""},
		},
		{
			name: "(null) from 4.19 kernels and offline CPU",
			files: map[string]string{
				"cpu/possible": "0-7\n", "cpu/online": "0-2,4-7\n",
				"cpu/isolated": "(null)\n", "cpu/nohz_full": "(null)\n",
				// The kernel lists only online CPUs in cpulist.
				"node/node0/cpulist": "0-2\n", "node/node1/cpulist": "4-7\n",
				"node/online": "0-1\n", "node/has_cpu": "0-1\n", "node/possible": "0-1\n",
			},
			want: topologySummary{"0-7", "0-2,4-7", "", "", "0:0-2 1:4-7"},
		},
		{
			name: "online missing",
			files: map[string]string{
				"cpu/possible": "0-1\n", "cpu/isolated": "1\n", "node/node0/cpulist": "0-1\n",
			},
			want:    topologySummary{"0-1", "", "1", "", "0:0-1"},
			wantErr: []string{"online", "missing"},
		},
		{
			name: "garbage",
			files: map[string]string{
				"cpu/possible": "0-3\n", "cpu/online": "3-0\n", "cpu/nohz_full": "x\n",
				"node/node0/cpulist": "0-1\n", "node/node1/cpulist": "two\n",
				"node/node2/cpulist": "",
			},
			want:    topologySummary{"0-3", "", "", "", "0:0-1"},
			wantErr: []string{"3 problems", "online", "nohz_full", "node1/cpulist"},
		},
		{
			name: "memory-only node and a node without cpulist",
			files: map[string]string{
				"cpu/possible": "0-1\n", "cpu/online": "0-1\n",
				"node/node0/cpulist": "0-1\n", "node/node1/cpulist": "\n", "node/node3/meminfo": "",
			},
			want: topologySummary{"0-1", "0-1", "", "", "0:0-1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := testutil.NewHostTree(t)
			h.Dir("sys/devices/system/cpu")
			for rel, content := range tc.files {
				h.File("sys/devices/system/"+rel, content)
			}
			topo, err := ReadCPUTopology(h.Path("sys"))
			if topo == nil {
				t.Fatalf("no topology (%v)", err)
			}
			if got := summarizeTopology(topo); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			switch {
			case tc.wantErr == nil && err != nil:
				t.Errorf("error %v", err)
			case tc.wantErr != nil && err == nil:
				t.Errorf("no error, want one naming %v", tc.wantErr)
			case err != nil:
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not name %q", err, want)
					}
				}
			}
		})
	}
}

// TestTopologyUnreadable: root reads whatever the permissions, so as root the
// test runs as nobody in a child process (testutil.RerunAsNobody).
func TestTopologyUnreadable(t *testing.T) {
	if testutil.RerunAsNobody(t) {
		return
	}
	h := testutil.NewHostTree(t)
	h.File("sys/devices/system/cpu/possible", "0-1\n")
	h.File("sys/devices/system/cpu/online", "0-1\n")
	h.File("sys/devices/system/cpu/isolated", "1\n")
	if !h.Unreadable("sys/devices/system/cpu/isolated") {
		t.Fatalf("chmod 0 does not stop this process's reads (euid %d): no EACCES to test", os.Geteuid())
	}
	topo, err := ReadCPUTopology(h.Path("sys"))
	if err == nil || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("error %v, want fs.ErrPermission", err)
	}
	if got, want := summarizeTopology(topo), (topologySummary{"0-1", "0-1", "", "", ""}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestTopologyNodes(t *testing.T) {
	topo := &CPUTopology{NodeOf: map[int]int{0: 0, 1: 0, 2: 1, 3: 1}}
	for _, c := range []struct {
		topo *CPUTopology
		cpus []int
		want string
	}{
		{topo, []int{0, 1}, "0"},
		{topo, []int{1, 2}, "0-1"},
		{topo, []int{9}, ""},
		{nil, []int{0}, ""},
		{&CPUTopology{}, []int{0}, ""},
	} {
		if got := c.topo.Nodes(cpuset.NewCPUSet(c.cpus...)).String(); got != c.want {
			t.Errorf("Nodes(%v) = %q, want %q", c.cpus, got, c.want)
		}
	}
}
