// Command netirq_hostgen writes a synthetic host tree (DIR/proc, DIR/sys)
// for netirq_exporter and node_exporter to read, e.g.
//
//	netirq_hostgen --cpus 256 --nics 2 --queues 64 --seed 1 /tmp/host256
//	netirq_exporter --path.procfs /tmp/host256/proc --path.sysfs /tmp/host256/sys
//
// NICs cycle through the mlx5, i40e, ena and virtio naming schemes
// (--drivers picks others); see internal/hostgen.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/hostgen"
)

func main() {
	cpus := flag.Int("cpus", 8, "possible CPUs")
	nodes := flag.Int("nodes", 0, "NUMA nodes (0: by size, as hostgen.Standard)")
	nics := flag.Int("nics", 2, "NICs")
	queues := flag.Int("queues", 8, "queue pairs per NIC")
	drivers := flag.String("drivers", "", "comma-separated NIC drivers, cycled over the NICs ("+strings.Join(hostgen.Drivers, ", ")+"); default mlx5,i40e,ena,virtio")
	nonNIC := flag.Int("non-nic-irqs", hostgen.DefaultNonNICIRQs, "numbered IRQs that are not a NIC's")
	offline := flag.String("offline", "", "CPU list of possible but offline CPUs (e.g. 5,7)")
	isolated := flag.String("isolated", "", "CPU list of isolated (isolcpus, nohz_full) CPUs")
	seed := flag.Uint64("seed", 1, "random seed: the same flags and seed give the same tree")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [flags] DIR\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	spec := hostgen.Standard(*cpus, *nics, *queues, *seed)
	spec.NonNICIRQs = *nonNIC
	if *nodes > 0 {
		spec.NUMANodes = *nodes
	}
	if *drivers != "" {
		list := strings.Split(*drivers, ",")
		for i := range spec.NICs {
			spec.NICs[i].Driver = strings.TrimSpace(list[i%len(list)])
		}
	}
	var err error
	if spec.Offline, err = parseList(*offline); err != nil {
		fail("--offline: %v", err)
	}
	if spec.Isolated, err = parseList(*isolated); err != nil {
		fail("--isolated: %v", err)
	}
	if err := hostgen.Generate(flag.Arg(0), spec); err != nil {
		fail("%v", err)
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %d CPUs (%d online), %d NUMA nodes, %d IRQs (%d NIC)\n",
		flag.Arg(0), spec.CPUs, spec.OnlineCPUs(), spec.NUMANodes, spec.IRQs(), spec.NICIRQs())
}

// parseList reads "1,4-6".
func parseList(s string) ([]int, error) {
	var out []int
	if s == "" {
		return nil, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, err
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "netirq_hostgen: "+format+"\n", args...)
	os.Exit(1)
}
