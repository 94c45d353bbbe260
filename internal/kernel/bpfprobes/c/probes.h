// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// The few kernel types and constants probes.bpf.c needs, so that it builds
// with clang and libbpf's headers alone (no kernel headers, no vmlinux.h).

#ifndef NETIRQ_PROBES_H
#define NETIRQ_PROBES_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

// include/uapi/linux/bpf.h
enum bpf_map_type {
	BPF_MAP_TYPE_PERCPU_HASH = 5,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
};

#define BPF_NOEXIST 1

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

// The fields the tp_btf napi_poll probe reads, relocated by CO-RE against
// the running kernel's BTF: only the names must match.
struct net_device {
	char name[16];
} __attribute__((preserve_access_index));

struct napi_struct {
	struct net_device *dev;
	unsigned int napi_id;
} __attribute__((preserve_access_index));

#endif
