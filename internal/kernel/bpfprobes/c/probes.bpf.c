// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// The probes of netirq_exporter's opt-in bpf collector. Built with
// `make generate` (bpf2go and Debian's clang) into probes_bpfel.o and
// probes_bpfeb.o, which are committed so that `go build` needs no clang.
//
// Every program runs in the tracepoint's own context, on the CPU the event
// happens on, and touches only that CPU's slots of per-CPU maps: no locks,
// no atomics, nothing sent to user space. The exporter sums and reads the
// maps when it is scraped.
//
// Two sets of the same four probes: tp_btf programs (BTF-typed raw
// tracepoints, when the kernel has BTF: the NAPI instance's napi_id is read
// with CO-RE), and classic tracepoint programs (the tracefs format's
// offsets, which the loader checks; no napi_id: NAPI instances are known by
// device name only). The loader loads one set.

#include "probes.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

// Softirq vectors of the kernel (include/linux/interrupt.h, stable since
// 2.6: the /proc/softirqs rows).
#define NR_SOFTIRQS 10

// Wait buckets: bucket i counts waits of at most 2^i µs (and more than
// 2^(i-1) µs), i = 0..WAIT_BUCKETS-1: 1 µs to 131 ms; bucket WAIT_BUCKETS
// counts the longer ones (+Inf).
#define WAIT_BUCKETS 18

struct softirq_stats {
	__u64 time_ns;      // time between softirq_entry and softirq_exit
	__u64 runs;         // entry/exit pairs timed
	__u64 wait_ns;      // sum of the measured waits
	__u64 waits;        // waits measured (a raise seen before the entry)
	__u64 wait_buckets[WAIT_BUCKETS + 1];
};

enum probe { PROBE_RAISE, PROBE_ENTRY, PROBE_EXIT, PROBE_NAPI, NR_PROBES };

struct probe_stats {
	__u64 events; // times the probe ran
	__u64 lost;   // events it could not record
};

// Everything of one CPU but the NAPI instances, in one per-CPU slot: an
// event costs one lookup (which the JIT inlines for a per-CPU array).
struct cpu_state {
	__u64 raised_at[NR_SOFTIRQS];  // first raise since the last entry; 0: none
	__u64 entered_at[NR_SOFTIRQS]; // the running entry; 0: none
	struct softirq_stats softirqs[NR_SOFTIRQS];
	struct probe_stats probes[NR_PROBES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_state);
} cpus SEC(".maps");

static __always_inline struct cpu_state *this_cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cpus, &zero);
}

#define DEV_NAME_LEN 16

// A NAPI instance: its napi_id (0 for the per-CPU backlog of RPS and
// netif_rx, for instances without an ID and in tracepoint mode) and its
// device's name ("" for the backlog).
struct napi_key {
	__u32 napi_id;
	char dev[DEV_NAME_LEN];
};

struct napi_stats {
	__u64 polls;
	__u64 packets;   // the work the polls reported
	__u64 exhausted; // polls whose work reached the budget
};

// Per CPU: a hash map, so that the backlog (napi_id 0, no device) keeps
// its per-CPU rows apart while the exporter sums the CPUs of real
// instances. 4096 instances; past that, polls of new ones count as lost.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct napi_key);
	__type(value, struct napi_stats);
} napis SEC(".maps");

// floor(log2(v)) for v > 0, without a loop.
static __always_inline __u32 log2_u32(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

// wait_bucket is the smallest i with ns <= 2^i µs, WAIT_BUCKETS past the
// last bound.
static __always_inline __u32 wait_bucket(__u64 ns)
{
	__u64 us = (ns + 999) / 1000;

	if (us <= 1)
		return 0;
	if (us > (1ULL << (WAIT_BUCKETS - 1)))
		return WAIT_BUCKETS;
	return log2_u32((__u32)(us - 1)) + 1;
}

static __always_inline int on_raise(__u32 vec)
{
	struct cpu_state *c = this_cpu();

	if (!c)
		return 0;
	c->probes[PROBE_RAISE].events++;
	if (vec >= NR_SOFTIRQS)
		return 0;
	// The first raise since the last run is the one that waits longest.
	if (!c->raised_at[vec])
		c->raised_at[vec] = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int on_entry(__u32 vec)
{
	struct cpu_state *c = this_cpu();
	struct softirq_stats *st;
	__u64 now, wait;
	__u32 b;

	if (!c)
		return 0;
	c->probes[PROBE_ENTRY].events++;
	if (vec >= NR_SOFTIRQS)
		return 0;
	now = bpf_ktime_get_ns();
	c->entered_at[vec] = now;
	if (!c->raised_at[vec])
		return 0; // raised before the probes were attached
	wait = now - c->raised_at[vec];
	c->raised_at[vec] = 0;
	b = wait_bucket(wait);
	if (b > WAIT_BUCKETS)
		b = WAIT_BUCKETS;
	st = &c->softirqs[vec];
	st->wait_buckets[b]++;
	st->wait_ns += wait;
	st->waits++;
	return 0;
}

static __always_inline int on_exit(__u32 vec)
{
	struct cpu_state *c = this_cpu();

	if (!c)
		return 0;
	c->probes[PROBE_EXIT].events++;
	if (vec >= NR_SOFTIRQS || !c->entered_at[vec])
		return 0; // entered before the probes were attached
	c->softirqs[vec].time_ns += bpf_ktime_get_ns() - c->entered_at[vec];
	c->softirqs[vec].runs++;
	c->entered_at[vec] = 0;
	return 0;
}

static __always_inline int on_napi_poll(struct napi_key *key, int work, int budget)
{
	struct cpu_state *c = this_cpu();
	struct probe_stats *p = c ? &c->probes[PROBE_NAPI] : 0;
	struct napi_stats *v = bpf_map_lookup_elem(&napis, key);

	if (p)
		p->events++;
	if (!v) {
		struct napi_stats zero = {};

		// EEXIST: another CPU added it meanwhile; this CPU's slot is
		// there all the same.
		bpf_map_update_elem(&napis, key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&napis, key);
		if (!v) {
			if (p)
				p->lost++; // the map is full
			return 0;
		}
	}
	v->polls++;
	if (work > 0)
		v->packets += work;
	if (work >= budget && budget > 0)
		v->exhausted++;
	return 0;
}

// ---- tp_btf: BTF-typed raw tracepoints -------------------------------------

SEC("tp_btf/softirq_raise")
int BPF_PROG(btf_softirq_raise, unsigned int vec)
{
	return on_raise(vec);
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(btf_softirq_entry, unsigned int vec)
{
	return on_entry(vec);
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(btf_softirq_exit, unsigned int vec)
{
	return on_exit(vec);
}

SEC("tp_btf/napi_poll")
int BPF_PROG(btf_napi_poll, struct napi_struct *napi, int work, int budget)
{
	struct napi_key key = {};
	struct net_device *dev;

	key.napi_id = BPF_CORE_READ(napi, napi_id);
	dev = BPF_CORE_READ(napi, dev);
	if (dev)
		BPF_CORE_READ_STR_INTO(&key.dev, dev, name);
	return on_napi_poll(&key, work, budget);
}

// ---- classic tracepoints: the tracefs format's layout ------------------------

// irq:softirq_{raise,entry,exit}: field:unsigned int vec; offset:8; size:4.
struct tp_softirq {
	__u64 common;
	__u32 vec;
};

// napi:napi_poll: napi at 8, __data_loc char[] dev_name at 16, work at 20,
// budget at 24.
struct tp_napi_poll {
	__u64 common;
	void *napi;
	__u32 dev_name_loc;
	__s32 work;
	__s32 budget;
};

SEC("tracepoint/irq/softirq_raise")
int tp_softirq_raise(struct tp_softirq *ctx)
{
	return on_raise(ctx->vec);
}

SEC("tracepoint/irq/softirq_entry")
int tp_softirq_entry(struct tp_softirq *ctx)
{
	return on_entry(ctx->vec);
}

SEC("tracepoint/irq/softirq_exit")
int tp_softirq_exit(struct tp_softirq *ctx)
{
	return on_exit(ctx->vec);
}

SEC("tracepoint/napi/napi_poll")
int tp_napi_poll(struct tp_napi_poll *ctx)
{
	struct napi_key key = {};
	__u16 off = ctx->dev_name_loc & 0xFFFF;

	bpf_probe_read_kernel_str(key.dev, sizeof(key.dev), (void *)ctx + off);
	return on_napi_poll(&key, ctx->work, ctx->budget);
}
