package sysfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
)

// ReadCPUTopology reads <sysRoot>/devices/system/cpu/{possible,online,
// isolated,nohz_full} and <sysRoot>/devices/system/node/node*/cpulist.
//
// A missing devices/system/cpu directory returns a nil topology and an
// error (a container with a partial /sys, a wrong --path.sysfs). Otherwise
// the topology is returned with every piece that could be read, and the
// error names the pieces that failed. possible and online must exist;
// isolated and nohz_full are empty when absent (nohz_full only exists with
// CONFIG_NO_HZ_FULL) or when they say "(null)" (some 4.19 kernels). Without
// a devices/system/node directory (CONFIG_NUMA=n) NodeOf is empty. The
// kernel lists only online CPUs in nodeN/cpulist, so an offline CPU has no
// node in NodeOf.
//
// procfs' sysfs.FS.IsolatedCPUs parses the isolated file too, but it fails
// on "(null)" (node_exporter issues #3152, #3310) and expands a range
// without bound; cpuset.ParseCPUList handles both, so it is used for every list.
func ReadCPUTopology(sysRoot string) (*CPUTopology, error) {
	cpuDir := filepath.Join(sysRoot, "devices", "system", "cpu")
	fi, err := os.Stat(cpuDir)
	if err != nil {
		return nil, fmt.Errorf("cpu topology: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("cpu topology: %s is not a directory", cpuDir)
	}
	topo := &CPUTopology{NodeOf: map[int]int{}}
	problems := kernel.NewProblems("cpu topology")

	for _, f := range []struct {
		name     string
		set      *cpuset.CPUSet
		required bool
	}{
		{"possible", &topo.Possible, true},
		{"online", &topo.Online, true},
		{"isolated", &topo.Isolated, false},
		{"nohz_full", &topo.NohzFull, false},
	} {
		path := filepath.Join(cpuDir, f.name)
		set, present, err := ReadList(path)
		switch {
		case err != nil:
			problems.Add(err)
		case !present && f.required:
			problems.Add(fmt.Errorf("%s: missing", path))
		default:
			*f.set = set
		}
	}

	for _, err := range readNodeCPUs(filepath.Join(sysRoot, "devices", "system", "node"), topo.NodeOf) {
		problems.Add(err)
	}
	return topo, problems.Err()
}

// readNodeCPUs fills nodeOf from nodeN/cpulist, in node order (a CPU in
// two lists, which the kernel never prints, keeps the lower node).
func readNodeCPUs(nodeDir string, nodeOf map[int]int) (errs []error) {
	entries, err := kernel.ReadDir(nodeDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return []error{err}
	}
	var nodes []int
	for _, e := range entries {
		if n, ok := parseNodeName(e.Name()); ok {
			nodes = append(nodes, n)
		}
	}
	slices.Sort(nodes)
	for _, node := range nodes {
		path := filepath.Join(nodeDir, "node"+strconv.Itoa(node), "cpulist")
		set, present, err := ReadList(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !present {
			continue // a node directory without cpulist: nothing to map
		}
		for _, cpu := range set.List() {
			if _, taken := nodeOf[cpu]; !taken {
				nodeOf[cpu] = node
			}
		}
	}
	return errs
}

// parseNodeName turns "node3" into 3; ok is false for "online", "possible",
// "has_cpu" and the other files of devices/system/node, and for "node03",
// which the kernel never prints and whose cpulist is not in node3.
func parseNodeName(name string) (int, bool) {
	num, ok := strings.CutPrefix(name, "node")
	if !ok || num == "" || strings.TrimLeft(num, "0123456789") != "" || len(num) > 1 && num[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n >= cpuset.MaxCPUs {
		return 0, false
	}
	return n, true
}

// CPUTopology is /sys/devices/system/cpu and /sys/devices/system/node.
type CPUTopology struct {
	Possible cpuset.CPUSet
	Online   cpuset.CPUSet
	Isolated cpuset.CPUSet // empty when none (or the file is absent)
	NohzFull cpuset.CPUSet // empty when none (or the file is absent)
	// NodeOf maps CPU → NUMA node from nodeN/cpulist; a CPU missing here
	// has no known node (-1).
	NodeOf map[int]int
}

// Nodes returns the NUMA nodes that cpus belong to, as a set of node
// numbers (String gives the kernel's list format, "0-1"); empty when the
// topology is unknown (nil, or no node directories).
func (t *CPUTopology) Nodes(cpus cpuset.CPUSet) cpuset.CPUSet {
	var nodes cpuset.CPUSet
	if t == nil {
		return nodes
	}
	for _, c := range cpus.List() {
		if n, ok := t.NodeOf[c]; ok {
			nodes.Add(n)
		}
	}
	return nodes
}
