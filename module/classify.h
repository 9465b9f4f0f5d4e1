/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The migprio classifier core: a compiled, immutable table answering "which
 * rule, if any, does this connection match?" in time that does not grow with
 * the number of rules. It includes no kernel headers so the same source is
 * built into the module and into a userspace test and benchmark
 * (selftests/classify_unit.c, userspace/bench/classify_bench.c). classify_types.h
 * supplies the few types and the allocator for each side.
 */
#ifndef _MIGPRIO_CLASSIFY_H
#define _MIGPRIO_CLASSIFY_H

#include "classify_types.h"

/*
 * A port range, both ends included: the one way a rule holds ports.
 * MP_PORTS_ANY (0..65535) is "any port", and the only spelling of it; an
 * empty range (min > max) never matches.
 */
struct mp_ports {
	u16 min, max;
};

#define MP_PORTS_ANY	((struct mp_ports){ .min = 0, .max = 0xffff })

static inline bool mp_ports_any(struct mp_ports p)
{
	return p.min == MP_PORTS_ANY.min && p.max == MP_PORTS_ANY.max;
}

static inline bool mp_ports_has(struct mp_ports p, u16 port)
{
	return port >= p.min && port <= p.max;
}

/*
 * Which end of a connection listens (accepted it, or serves a UDP port):
 * its port is the service port a rule's port range matches. How the hooks
 * know it is in Documentation/migprio.rst, "Which end listens".
 */
enum mp_svc {
	MP_SVC_UNKNOWN,		/* not known without a lookup: see MP_NEED_SVC */
	MP_SVC_LOCAL,		/* this host listens: the local port */
	MP_SVC_REMOTE,		/* the peer listens: the remote port */
};

/*
 * The answer of mp_ctable_lookup() and mp_rule_match() for a packet whose
 * svc is MP_SVC_UNKNOWN when the answer depends on it: a rule's service
 * port range holds one of the two ports and not the other. The caller
 * finds out which end listens and asks again.
 */
#define MP_NEED_SVC	(-2)

/*
 * What a rule matches. family is 0 (any), 4 or 6; any other value never
 * matches. plen above 32 (v4) or 128 (v6) counts as the full width.
 */
struct mp_rule_spec {
	u32 id;			/* kernel-assigned; lower id wins on overlap */
	u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	u8 family;		/* 0: any, 4 or 6: peer prefix family */
	u8 plen;		/* peer prefix length, 0..32 or 0..128 */
	struct mp_ports port;	/* the service port: of the end that listens */
	struct mp_ports lport, rport;	/* the local and the remote port */
	u8 peer[16];		/* prefix, network order; v4 in peer[0..3] */
	u64 cgroup_id;		/* 0: any */
	u16 cgroup_level;	/* depth of cgroup_id in the hierarchy */
};

/* One packet's connection as seen by this host. */
struct mp_pkt {
	u8 proto;
	u8 family;		/* 4 or 6 */
	u8 svc;			/* enum mp_svc */
	u16 lport, rport;
	u8 raddr[16];		/* remote address, network order */
	/*
	 * Cgroup ancestry of the owning local socket, or NULL when there is
	 * no local full socket: then cgroup rules do not match.
	 */
	bool (*in_cgroup)(const void *ctx, u64 cgroup_id, u16 level);
	const void *cg_ctx;
};

struct mp_ctable;

/*
 * Build a table over @n rules (any order). Returns NULL on allocation
 * failure. The table keeps no pointer into @rules.
 */
struct mp_ctable *mp_ctable_build(const struct mp_rule_spec *rules,
				  unsigned int n);
void mp_ctable_free(struct mp_ctable *t);

/*
 * Index (into the @rules array given to build) of the matching rule with
 * the lowest id, or -1, or MP_NEED_SVC. Lock-free and allocation-free.
 */
int mp_ctable_lookup(const struct mp_ctable *t, const struct mp_pkt *pkt);

/*
 * Does @r match @pkt: 1, 0, or MP_NEED_SVC? The one predicate: the table
 * verifies its candidates with it (on the compiled form of the rule), and
 * rules not in a table yet are matched with it one by one.
 */
int mp_rule_match(const struct mp_rule_spec *r, const struct mp_pkt *pkt);

/*
 * Does @r match every connection of protocol @proto this host accepts on
 * local port @lport, whatever the peer, its port and the socket's cgroup?
 */
bool mp_rule_covers_lport(const struct mp_rule_spec *r, u8 proto, u16 lport);

/*
 * Limits of mp_ctable_build(): more than MP_CTABLE_MAX_RULES rules, or a
 * table that would need more than MP_CTABLE_MAX_BYTES, make it return NULL.
 */
#define MP_CTABLE_MAX_RULES	65536U
#define MP_CTABLE_MAX_BYTES	(16U << 20)

/* Bytes held by a built table (for reports and benchmarks). */
unsigned long mp_ctable_bytes(const struct mp_ctable *t);

#endif /* _MIGPRIO_CLASSIFY_H */
