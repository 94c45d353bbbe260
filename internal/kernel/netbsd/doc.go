// Package netbsd decodes what NetBSD's kernel answers through sysctl(3)
// for intrctl(8) and vmstat(8): kern.intr.list (every interrupt, its count
// on each CPU and the CPUs it is assigned to) and kern.evcnt (the event
// counters), and asks drvctl(4) which devices hang below a virtio bus.
//
// The decoders are pure functions over the kernel's bytes, so they are
// tested and fuzzed on any system; only the reads (sysctl_netbsd.go,
// drvctl_netbsd.go) build on NetBSD, elsewhere they fail with
// ErrNotNetBSD. The byte layouts are those of LP64 (amd64, arm64); each
// decoder's comment names the header revision it was written from.
package netbsd
