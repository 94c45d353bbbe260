package bpfprobes

// probes_bpfel.o and probes_bpfeb.o (and their Go wrappers) are built from
// probes.bpf.c by `make generate` with Debian's clang and libbpf-dev
// (apt-get install clang llvm libbpf-dev) and committed: `go build` needs
// no C compiler.
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang -cflags "-O2 -g -Wall -Werror" -target bpfel,bpfeb -type cpu_state -type napi_key -type napi_stats probes c/probes.bpf.c
