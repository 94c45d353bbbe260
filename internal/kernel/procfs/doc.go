// Package procfs reads the /proc files the exporter uses: interrupts,
// softirqs, net/softnet_stat, stat, irq/N, the napi and ksoftirqd kernel
// threads and the net.core tunables. One file per source file, each parse
// function over an io.Reader where the input is one file.
package procfs
