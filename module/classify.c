// SPDX-License-Identifier: GPL-2.0
/*
 * migprio classifier core: rules compiled into an immutable table.
 *
 * Every live rule is indexed under exactly one dimension, the one where it
 * overlaps the fewest other rules (ties: the narrowest):
 *
 *  - local port, remote port, or service port (the port of the end that
 *    listens, local or remote: indexed in both port maps): a port map is a
 *    two-level table (256 blocks of 256 ports, a block stored only when not
 *    all in one class, else one entry) from port to interval class, read
 *    without a branch; classes come from the
 *    endpoints of the ranges in that map, and each class holds the list of
 *    range nodes (rules grouped by identical range and protocol) covering
 *    it, ordered by their lowest rule.
 *  - peer prefix (v4 and v6 apart): distinct prefixes are cut into sorted
 *    disjoint address intervals, each pointing at its innermost prefix node;
 *    nodes chain to their enclosing prefix (at most 129 deep). A direct
 *    table on up to 16 address bits after the prefix that all intervals
 *    share narrows the binary search to a few intervals, whose first
 *    addresses are kept apart (4 bytes each for IPv4) from the rest.
 *  - a wildcard list for rules with none of these (port-less, prefix-less)
 *    and for the rules moved out of a port map that grew past its budget.
 *
 * Rules are ranked by id, and every list holds copies of its rules (32
 * bytes, two to a cache line: a candidate costs at most one) in ascending
 * rank: a lookup finds its lists first, then scans each only up to the
 * best match found so far, verifying each candidate against the full rule
 * with as few branches on the packet as it can (random packets mispredict
 * them: that, more than memory, is what a large table costs). Rules that
 * can never match (empty range, bad family) are left out. Given in id
 * order, as the module gives them, a table needs no map back to the
 * caller's indices.
 *
 * A packet that does not say which end listens (mp_pkt.svc unknown) is
 * matched all the same: a candidate whose service port range holds one of
 * its ports and not the other counts as a match that cannot be decided,
 * and if it is the best one the lookup answers MP_NEED_SVC. Any candidate
 * ranked before it did not match whichever end listens, so the caller only
 * needs to find out which (a listener lookup) in that case, and ask again.
 *
 * Memory is bounded: each port map holds at most MP_PM_MAX_ENTS class
 * entries (nested or staggered ranges would otherwise grow quadratically);
 * past it the nodes spanning most classes go to the wildcard list, which
 * costs lookup time, never correctness. Everything else is linear in the
 * number of rules: 4096 rules take about 0.5 MiB when ranges come from a
 * few dozen values and at most about 4 MiB whatever they are. A table above
 * MP_CTABLE_MAX_BYTES is refused.
 */

#include "classify.h"

#ifndef __KERNEL__
void *(*mp_test_zalloc)(size_t size);	/* see classify_types.h */
#endif

#define MP_PORTS	65536U
#define MP_NONE		0xffffffffU
#define MP_PFX_DEPTH	129U		/* nested distinct prefixes /0../128 */
#define MP_PM_MAX_ENTS	98304U		/* class entries per port map */
#define MP_DIR_MAX_BITS	16U

enum {
	MP_DIM_DEAD,	/* can never match: not indexed */
	MP_DIM_WILD,
	MP_DIM_L,	/* local port range */
	MP_DIM_R,	/* remote port range */
	MP_DIM_P,	/* service port: both port maps */
	MP_DIM_X,	/* peer prefix */
};

enum { MP_SET_L, MP_SET_R, MP_SET_X4, MP_SET_X6, MP_NSETS };

struct mp_k128 {
	u64 hi, lo;
};

/*
 * A port range as the lookup checks it: one comparison, no branch. Only for
 * ranges that are not empty (a table holds no rule with an empty range).
 */
struct mp_cports {
	u16 min, span;			/* max - min */
};

static inline struct mp_cports mp_cports(struct mp_ports p)
{
	return (struct mp_cports){ .min = p.min, .span = (u16)(p.max - p.min) };
}

static inline bool mp_cports_has(struct mp_cports p, u16 port)
{
	return (u16)(port - p.min) <= p.span;
}

/* A run of t->lr (rule copies) or of a port map's entries. */
struct mp_span {
	u32 first, count;
};

/*
 * A rule as the lookup verifies it, 32 bytes: two to a cache line. The
 * family and the prefix length share one byte (MP_FPLEN_*); a cgroup
 * match, rare, is in the table's side array cg[pos].
 */
struct mp_crule {
	u64 pfx_hi, pfx_lo;		/* peer prefix, masked */
	struct mp_cports lport, rport;
	struct mp_cports port;		/* service port */
	u16 pos;			/* rank in id order */
	u8 proto;
	u8 fplen;
};

#define MP_FPLEN_ANY	0		/* any family, no prefix */
#define MP_FPLEN_V4	1		/* 1 + plen: IPv4 /0../32 */
#define MP_FPLEN_V6	34		/* 34 + plen: IPv6 /0../128 */
#define MP_FPLEN_NONE	0xff		/* a family that never matches */

/* A rule's cgroup match: id 0 is none. */
struct mp_cg {
	u64 id;
	u16 level;
};

/* A rule as the build sees it: its compiled form and what decides its place. */
struct mp_brule {
	struct mp_crule c;
	struct mp_cg cg;
	struct mp_ports lport, rport, port;
	u64 mask_hi, mask_lo;		/* of the prefix */
	u8 proto, family, plen;
};

/*
 * A range node in a class list: its rules (one range, one protocol) are
 * lr[first .. first + count).
 */
struct mp_ent {
	u32 first, count;
	u32 minpos;			/* lr[first].pos */
	u8 proto;
};

/*
 * Port to class in two steps, without a branch: top[port >> 8] is
 * (start << 8) | mask and the class is sub[start + (port & mask)]: a
 * block of 256 ports with more than one class has its 256 entries in sub
 * (mask 0xff), a block in one class one entry (mask 0), after the blocks.
 * An empty class has an empty run of ents.
 */
struct mp_portmap {
	u32 *top;			/* 256 entries, NULL if map empty */
	u16 *sub;
	struct mp_span *classes;	/* class -> run of ents */
	struct mp_ent *ents;
};

/*
 * A prefix node: its rules, and its enclosing node or MP_NONE. Each address
 * interval has a copy of its innermost node (s.count 0: no prefix covers
 * it).
 */
struct mp_pnode {
	struct mp_span s;
	u32 parent;
};

/*
 * Address intervals: their first addresses apart from what the lookup
 * reads once it found the interval, so that the search reads only keys
 * (v4 keys are the 32 bits of the address: 16 to a cache line).
 */
struct mp_pfxtab {
	u32 *k4;			/* v4: first address of each interval */
	struct mp_k128 *k6;		/* v6 */
	struct mp_pnode *b;		/* each interval's innermost prefix */
	struct mp_pnode *nodes;
	u32 *dir;			/* (1 << dbits) + 1 entries */
	u32 nb;
	u32 dshift;			/* bits shared by intervals 1..nb-1 */
	u32 dbits;
};

struct mp_ctable {
	u32 n;
	u32 *orig;			/* rank in id order -> index given, NULL: same */
	struct mp_crule *lr;		/* rules, copied in list order */
	struct mp_cg *cg;		/* by rank, NULL when no rule has one */
	struct mp_span wild;
	struct mp_portmap pm[2];	/* local, remote */
	struct mp_pfxtab pfx[2];	/* v4, v6 */
	unsigned long bytes;
};

#ifdef MP_CLASSIFY_STATS	/* userspace benchmark only */
unsigned long mp_stat_cands, mp_stat_steps;
#define MP_STAT(x)	(mp_stat_##x++)
#else
#define MP_STAT(x)	do { } while (0)
#endif

/* ---- lookup ------------------------------------------------------------ */

static inline bool mp_k_le(u64 ahi, u64 alo, u64 bhi, u64 blo)
{
	return (ahi < bhi) | ((ahi == bhi) & (alo <= blo));
}

/*
 * Which of a rule's answers counts, by which end listens (enum mp_svc) and
 * whether its service port range holds the local and the remote port.
 */
static const s8 mp_svc_answer[3][2][2] = {
	[MP_SVC_UNKNOWN] = { { 0, MP_NEED_SVC }, { MP_NEED_SVC, 1 } },
	[MP_SVC_LOCAL] = { { 0, 0 }, { 1, 1 } },
	[MP_SVC_REMOTE] = { { 0, 1 }, { 0, 1 } },
};

/*
 * The port part of the predicate: 1 or 0, or MP_NEED_SVC when the service
 * port range holds one of the packet's ports and not the other and the
 * packet does not say which end listens. Without branches on the
 * packet's ports: a lookup of random packets mispredicts them.
 */
static inline int mp_cports_match(const struct mp_crule *r,
				  const struct mp_pkt *pkt)
{
	bool in = mp_cports_has(r->lport, pkt->lport) &
		  mp_cports_has(r->rport, pkt->rport);

	return in ? mp_svc_answer[pkt->svc % 3]
				 [mp_cports_has(r->port, pkt->lport)]
				 [mp_cports_has(r->port, pkt->rport)] : 0;
}

static inline void mp_mask128(unsigned int plen, u64 *mhi, u64 *mlo)
{
	unsigned int lo = plen > 64 ? plen - 64 : 0;

	*mhi = plen >= 64 ? ~0ULL : ~(~0ULL >> plen);
	*mlo = lo >= 64 ? ~0ULL : ~(~0ULL >> lo);
}

/*
 * Is the packet's remote address (key @khi, @klo) in @r's prefix? Without
 * branches on the packet: random packets would mispredict them.
 */
static inline bool mp_pfx_match(const struct mp_crule *r, u8 family,
				u64 khi, u64 klo)
{
	u32 f = r->fplen;
	bool v6 = f >= MP_FPLEN_V6;
	u64 mhi, mlo;

	mp_mask128(f - (v6 ? MP_FPLEN_V6 : MP_FPLEN_V4), &mhi, &mlo);
	return (f == MP_FPLEN_ANY) |
	       ((family == (v6 ? 6 : 4)) & (f != MP_FPLEN_NONE) &
		((khi & mhi) == r->pfx_hi) & ((klo & mlo) == r->pfx_lo));
}

/*
 * The predicate, on the compiled form of a rule (mp_compile()) with the
 * cgroup matches by rank @cg (NULL: none), and the packet's remote address
 * as a 128-bit key (mp_pkt_key()): 1, 0 or MP_NEED_SVC, the last only
 * when everything else matches. Inline: the lookup calls it for every
 * candidate; mp_rule_match() calls it too.
 */
static inline int mp_crule_match(const struct mp_crule *r,
				 const struct mp_cg *cg,
				 const struct mp_pkt *pkt, u64 khi, u64 klo)
{
	int ports;

	if (r->proto != pkt->proto)
		return 0;
	ports = mp_cports_match(r, pkt);
	if (!ports || !mp_pfx_match(r, pkt->family, khi, klo))
		return 0;
	if (cg && cg[r->pos].id &&
	    (!pkt->in_cgroup ||
	     !pkt->in_cgroup(pkt->cg_ctx, cg[r->pos].id, cg[r->pos].level)))
		return 0;
	return ports;
}

struct mp_lk {
	const struct mp_ctable *t;
	const struct mp_pkt *pkt;
	u64 khi, klo;
	u32 best;
	bool need;			/* best matches for one end only */
};

static inline void mp_scan(struct mp_lk *lk, struct mp_span s)
{
	const struct mp_crule *r = lk->t->lr + s.first;
	u32 i;

	for (i = 0; i < s.count; i++, r++) {
		int m;

		if (r->pos >= lk->best)
			return;
		MP_STAT(cands);
		m = mp_crule_match(r, lk->t->cg, lk->pkt, lk->khi, lk->klo);
		if (m) {
			lk->best = r->pos;
			lk->need = m == MP_NEED_SVC;
			return;
		}
	}
}

/* The class list of @port in @pm: a run of pm->ents, maybe empty. */
static inline struct mp_span mp_port_class(const struct mp_portmap *pm,
					   u16 port)
{
	struct mp_span none = { 0, 0 };
	u32 v;

	if (!pm->top)
		return none;
	v = pm->top[port >> 8];
	return pm->classes[pm->sub[(v >> 8) + (port & v & 0xff)]];
}

static inline void mp_scan_class(struct mp_lk *lk, const struct mp_portmap *pm,
				 struct mp_span cl)
{
	const struct mp_ent *e = pm->ents + cl.first;
	u32 i;

	for (i = 0; i < cl.count; i++, e++) {
		struct mp_span run = { .first = e->first, .count = e->count };

		/* entries are ordered by their lowest position */
		if (e->minpos >= lk->best)
			return;
		if (e->proto == lk->pkt->proto)
			mp_scan(lk, run);
	}
}

static inline u32 mp_window(u64 hi, u64 lo, u32 shift, u32 bits)
{
	u64 top;

	if (!bits)
		return 0;
	if (!shift)
		top = hi;
	else if (shift < 64)
		top = (hi << shift) | (lo >> (64 - shift));
	else
		top = lo << (shift - 64);
	return (u32)(top >> (64 - bits));
}

/* Does interval @i of @x start at or below the key? */
static inline bool mp_pfx_le(const struct mp_pfxtab *x, u32 i, u64 khi,
			     u64 klo)
{
	if (x->k4)
		return x->k4[i] <= khi >> 32;
	return mp_k_le(x->k6[i].hi, x->k6[i].lo, khi, klo);
}

/* Index of the last interval starting at or below the key. */
static inline u32 mp_pfx_find(const struct mp_pfxtab *x, u64 khi, u64 klo)
{
	u32 lo, hi, j;

	if (x->nb < 2 || !mp_pfx_le(x, 1, khi, klo))
		return 0;
	if (mp_pfx_le(x, x->nb - 1, khi, klo))
		return x->nb - 1;
	/* 1 <= key's interval < nb - 1: it shares their first dshift bits */
	j = mp_window(khi, klo, x->dshift, x->dbits);
	lo = x->dir[j];
	hi = x->dir[j + 1];
	while (lo < hi) {
		u32 mid = lo + (hi - lo + 1) / 2;

		if (mp_pfx_le(x, mid, khi, klo))
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static inline void mp_scan_pfx(struct mp_lk *lk, const struct mp_pfxtab *x,
			       const struct mp_pnode *b)
{
	u32 node, d;

	mp_scan(lk, b->s);
	node = b->parent;
	for (d = 1; node != MP_NONE && d < MP_PFX_DEPTH; d++) {
		MP_STAT(steps);
		mp_scan(lk, x->nodes[node].s);
		node = x->nodes[node].parent;
	}
}

/* Big-endian loads, from any alignment. */
static inline u64 mp_be64(const u8 *p)
{
	u64 v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline u32 mp_be32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

/*
 * The remote address as a 128-bit key; IPv4 in the top 32 bits (the bytes
 * after an IPv4 address in raddr are not looked at).
 */
static inline void mp_pkt_key(const struct mp_pkt *pkt, u64 *khi, u64 *klo)
{
	u64 v6 = pkt->family == 6 ? ~0ULL : 0;

	*khi = mp_be64(pkt->raddr) & (v6 | 0xffffffff00000000ULL);
	*klo = mp_be64(pkt->raddr + 8) & v6;
}

/**
 * mp_ctable_lookup() - find the rule matching a packet's connection
 * @t: table from mp_ctable_build(); NULL is an empty table
 * @pkt: the connection as seen by this host
 *
 * Lock-free and allocation-free; safe in softirq under RCU as long as @t
 * stays alive. Loops are bounded by the table size and the prefix depth.
 *
 * Return: index (into the array given to mp_ctable_build()) of the
 * matching rule with the lowest id, or -1 when none matches, or
 * MP_NEED_SVC when @pkt does not say which end listens and the answer
 * depends on it.
 */
int mp_ctable_lookup(const struct mp_ctable *t, const struct mp_pkt *pkt)
{
	const struct mp_pfxtab *x = NULL;
	const struct mp_pnode *b;
	struct mp_span lcl, rcl;
	struct mp_lk lk;

	if (!t)
		return -1;
	lk.t = t;
	lk.pkt = pkt;
	lk.best = t->n;
	lk.need = false;
	mp_pkt_key(pkt, &lk.khi, &lk.klo);
	if (pkt->family == 4)
		x = &t->pfx[0];
	else if (pkt->family == 6)
		x = &t->pfx[1];
	/* find all lists first so that their cache misses overlap */
	lcl = mp_port_class(&t->pm[0], pkt->lport);
	rcl = mp_port_class(&t->pm[1], pkt->rport);
	if (lcl.count)
		__builtin_prefetch(&t->pm[0].ents[lcl.first]);
	if (rcl.count)
		__builtin_prefetch(&t->pm[1].ents[rcl.first]);
	if (x && x->nb) {
		b = &x->b[mp_pfx_find(x, lk.khi, lk.klo)];
		mp_scan_pfx(&lk, x, b);
	}
	mp_scan_class(&lk, &t->pm[0], lcl);
	mp_scan_class(&lk, &t->pm[1], rcl);
	mp_scan(&lk, t->wild);
	if (lk.best >= t->n)
		return -1;
	if (lk.need)
		return MP_NEED_SVC;
	return t->orig ? (int)t->orig[lk.best] : (int)lk.best;
}

/* ---- build ------------------------------------------------------------- */

struct mp_idpos {
	u32 id, orig;
};

/* A rule's range in one port map. */
struct mp_pitem {
	u16 a, b;
	u8 proto;
	u32 pos;
};

/* Rules with one identical range in a port map. */
struct mp_pnode_b {
	u16 a, b;
	u8 proto;
	u32 first, count;		/* run of items */
	u32 minpos;
	u32 cla, clb;			/* classes covered */
	u32 span;			/* run of t->lr once emitted */
};

struct mp_xitem {
	struct mp_k128 start, end;
	u32 plen, pos;
};

struct mp_build {
	struct mp_ctable *t;
	struct mp_brule *rules;		/* by rank in id order */
	u32 n;
	u8 *dim;			/* by position */
	struct mp_k128 *starts[MP_NSETS], *ends[MP_NSETS];
	u32 nset[MP_NSETS];
	struct mp_pitem *pitems;
	struct mp_pnode_b *pnodes;
	u16 *cls;
	u8 *mark;
	u32 *cnt;			/* MP_PORTS + 1 */
	struct mp_xitem *xitems;
	struct mp_k128 *keys;		/* 2n + 1 */
	u32 *stack;			/* MP_PFX_DEPTH */
	u32 npos;
	u32 npnodes, nclasses, ents;
};

static void *mp_talloc(struct mp_ctable *t, unsigned long count,
		       unsigned long size)
{
	void *p;

	if (!count || count > (MP_CTABLE_MAX_BYTES - t->bytes) / size)
		return NULL;
	p = mp_zalloc(count * size);
	if (p)
		t->bytes += count * size;
	return p;
}

static int mp_k_cmp(const struct mp_k128 *a, const struct mp_k128 *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

static int mp_k_sort_cmp(const void *a, const void *b)
{
	return mp_k_cmp(a, b);
}

static int mp_u32_cmp(u32 a, u32 b)
{
	return a < b ? -1 : a > b;
}

static int mp_idpos_cmp(const void *a, const void *b)
{
	const struct mp_idpos *x = a, *y = b;

	return mp_u32_cmp(x->id, y->id) ?: mp_u32_cmp(x->orig, y->orig);
}

static int mp_pitem_cmp(const void *a, const void *b)
{
	const struct mp_pitem *x = a, *y = b;

	return mp_u32_cmp(x->a, y->a) ?: mp_u32_cmp(x->b, y->b) ?:
	       mp_u32_cmp(x->proto, y->proto) ?: mp_u32_cmp(x->pos, y->pos);
}

static int mp_xitem_cmp(const void *a, const void *b)
{
	const struct mp_xitem *x = a, *y = b;

	return mp_k_cmp(&x->start, &y->start) ?: mp_u32_cmp(x->plen, y->plen) ?:
	       mp_u32_cmp(x->pos, y->pos);
}

/* Node numbers are sorted as u64 with the sort key in the upper half. */
static int mp_u64_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static void mp_compile(struct mp_brule *b, const struct mp_rule_spec *r,
		       u32 pos)
{
	struct mp_crule *c = &b->c;
	unsigned int plen = r->plen;

	memset(b, 0, sizeof(*b));
	c->pos = pos;
	c->proto = r->proto;
	c->lport = mp_cports(r->lport);
	c->rport = mp_cports(r->rport);
	c->port = mp_cports(r->port);
	b->proto = r->proto;
	b->lport = r->lport;
	b->rport = r->rport;
	b->port = r->port;
	b->cg.id = r->cgroup_id;
	b->cg.level = r->cgroup_level;
	b->family = r->family;
	if (r->family == 4) {
		b->plen = plen > 32 ? 32 : plen;
		mp_mask128(b->plen, &b->mask_hi, &b->mask_lo);
		c->pfx_hi = ((u64)mp_be32(r->peer) << 32) & b->mask_hi;
		c->fplen = MP_FPLEN_V4 + b->plen;
	} else if (r->family == 6) {
		b->plen = plen > 128 ? 128 : plen;
		mp_mask128(b->plen, &b->mask_hi, &b->mask_lo);
		c->pfx_hi = mp_be64(r->peer) & b->mask_hi;
		c->pfx_lo = mp_be64(r->peer + 8) & b->mask_lo;
		c->fplen = MP_FPLEN_V6 + b->plen;
	} else if (r->family) {
		c->fplen = MP_FPLEN_NONE;
	}
}

static bool mp_ports_empty(struct mp_ports p)
{
	return p.min > p.max;
}

static bool mp_dead(const struct mp_brule *b)
{
	return mp_ports_empty(b->lport) || mp_ports_empty(b->rport) ||
	       mp_ports_empty(b->port) || b->c.fplen == MP_FPLEN_NONE;
}

/**
 * mp_rule_match() - does a rule match a packet's connection?
 * @r: the rule
 * @pkt: the connection as seen by this host
 *
 * The predicate of the table, mp_crule_match(), on @r compiled: for the
 * few rules added since the table was built, matched one by one.
 *
 * Return: 1 when every constraint of @r holds for @pkt, 0 when one does
 * not, MP_NEED_SVC when that depends on which end listens and @pkt does
 * not say.
 */
int mp_rule_match(const struct mp_rule_spec *r, const struct mp_pkt *pkt)
{
	struct mp_brule b;
	u64 khi, klo;

	/*
	 * Most rules differ in protocol or ports: no need to compile them. A
	 * dead rule (empty range, bad family) fails the predicate too.
	 */
	if (r->proto != pkt->proto || !mp_ports_has(r->lport, pkt->lport) ||
	    !mp_ports_has(r->rport, pkt->rport) ||
	    (!mp_ports_has(r->port, pkt->lport) &&
	     !mp_ports_has(r->port, pkt->rport)))
		return 0;
	mp_compile(&b, r, 0);
	mp_pkt_key(pkt, &khi, &klo);
	return mp_crule_match(&b.c, &b.cg, pkt, khi, klo);
}

/**
 * mp_rule_covers_lport() - does a rule match every connection to a port?
 * @r: the rule
 * @proto: the protocol of the connections
 * @lport: their local port
 *
 * True when mp_rule_match() holds for every connection of @proto that this
 * host accepts on local port @lport (the local end listens), whatever its
 * remote address and port and its socket's cgroup: a listener on @lport
 * may then be tuned for all of them.
 *
 * Return: whether @r covers every such connection.
 */
bool mp_rule_covers_lport(const struct mp_rule_spec *r, u8 proto, u16 lport)
{
	return r->proto == proto && !r->family && !r->cgroup_id &&
	       mp_ports_any(r->rport) && mp_ports_has(r->lport, lport) &&
	       (mp_ports_any(r->port) || mp_ports_has(r->port, lport));
}

static struct mp_k128 mp_k(u64 hi, u64 lo)
{
	struct mp_k128 k = { .hi = hi, .lo = lo };

	return k;
}

static void mp_pfx_range(const struct mp_brule *b, struct mp_k128 *s,
			 struct mp_k128 *e)
{
	*s = mp_k(b->c.pfx_hi, b->c.pfx_lo);
	*e = mp_k(b->c.pfx_hi | ~b->mask_hi, b->c.pfx_lo | ~b->mask_lo);
}

static void mp_set_add(struct mp_build *bd, int set, struct mp_k128 s,
		       struct mp_k128 e)
{
	bd->starts[set][bd->nset[set]] = s;
	bd->ends[set][bd->nset[set]++] = e;
}

/* Number of keys in sorted @k[0..m) below @v (or at most @v if @incl). */
static u32 mp_rank(const struct mp_k128 *k, u32 m, struct mp_k128 v, bool incl)
{
	u32 lo = 0, hi = m;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		int c = mp_k_cmp(&k[mid], &v);

		if (c < 0 || (incl && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* How many intervals of set @set intersect [s, e]? */
static u32 mp_overlap(const struct mp_build *bd, int set, struct mp_k128 s,
		      struct mp_k128 e)
{
	u32 m = bd->nset[set];

	return mp_rank(bd->starts[set], m, e, true) -
	       mp_rank(bd->ends[set], m, s, false);
}

static void mp_sets_fill(struct mp_build *bd, bool all)
{
	u32 p;
	int i;

	for (i = 0; i < MP_NSETS; i++)
		bd->nset[i] = 0;
	for (p = 0; p < bd->n; p++) {
		const struct mp_brule *c = &bd->rules[p];
		u8 d = bd->dim[p];
		struct mp_k128 s, e;

		if (d == MP_DIM_DEAD)
			continue;
		if (all ? !mp_ports_any(c->lport) : d == MP_DIM_L)
			mp_set_add(bd, MP_SET_L, mp_k(0, c->lport.min),
				   mp_k(0, c->lport.max));
		if (all ? !mp_ports_any(c->rport) : d == MP_DIM_R)
			mp_set_add(bd, MP_SET_R, mp_k(0, c->rport.min),
				   mp_k(0, c->rport.max));
		if (all ? !mp_ports_any(c->port) : d == MP_DIM_P) {
			mp_set_add(bd, MP_SET_L, mp_k(0, c->port.min),
				   mp_k(0, c->port.max));
			mp_set_add(bd, MP_SET_R, mp_k(0, c->port.min),
				   mp_k(0, c->port.max));
		}
		if (all ? c->family != 0 : d == MP_DIM_X) {
			mp_pfx_range(c, &s, &e);
			mp_set_add(bd, c->family == 4 ? MP_SET_X4 : MP_SET_X6,
				   s, e);
		}
	}
	for (i = 0; i < MP_NSETS; i++) {
		mp_sort(bd->starts[i], bd->nset[i], sizeof(struct mp_k128),
			mp_k_sort_cmp);
		mp_sort(bd->ends[i], bd->nset[i], sizeof(struct mp_k128),
			mp_k_sort_cmp);
	}
}

/* ceil(log2(width of [min, max])), 0..16 */
static int mp_width_bits(u16 min, u16 max)
{
	u32 w = (u32)max - min + 1;
	int b = 0;

	while ((1U << b) < w)
		b++;
	return b;
}

/*
 * Pick each live rule's dimension: fewest overlapping intervals in that
 * dimension, then the narrowest (log2 of the fraction of its space). The
 * first pass counts against every rule's constraints, the second against
 * the first pass's choices (not counting the rule itself).
 */
static void mp_choose(struct mp_build *bd, bool refine)
{
	u32 p;

	mp_sets_fill(bd, !refine);
	for (p = 0; p < bd->n; p++) {
		const struct mp_brule *c = &bd->rules[p];
		u8 cur = bd->dim[p], pick = MP_DIM_WILD;
		u32 best = MP_NONE, score;
		int bestw = 0, w;
		struct mp_k128 s, e;

		if (cur == MP_DIM_DEAD)
			continue;
		if (!mp_ports_any(c->lport)) {
			score = mp_overlap(bd, MP_SET_L, mp_k(0, c->lport.min),
					   mp_k(0, c->lport.max));
			score -= refine && cur == MP_DIM_L;
			w = mp_width_bits(c->lport.min, c->lport.max) - 16;
			if (score < best || (score == best && w < bestw)) {
				best = score;
				bestw = w;
				pick = MP_DIM_L;
			}
		}
		if (!mp_ports_any(c->rport)) {
			score = mp_overlap(bd, MP_SET_R, mp_k(0, c->rport.min),
					   mp_k(0, c->rport.max));
			score -= refine && cur == MP_DIM_R;
			w = mp_width_bits(c->rport.min, c->rport.max) - 16;
			if (score < best || (score == best && w < bestw)) {
				best = score;
				bestw = w;
				pick = MP_DIM_R;
			}
		}
		if (!mp_ports_any(c->port)) {
			s = mp_k(0, c->port.min);
			e = mp_k(0, c->port.max);
			score = mp_overlap(bd, MP_SET_L, s, e) +
				mp_overlap(bd, MP_SET_R, s, e);
			score -= refine && cur == MP_DIM_P ? 2 : 0;
			w = mp_width_bits(c->port.min, c->port.max) - 15;
			if (score < best || (score == best && w < bestw)) {
				best = score;
				bestw = w;
				pick = MP_DIM_P;
			}
		}
		if (c->family) {
			mp_pfx_range(c, &s, &e);
			score = mp_overlap(bd, c->family == 4 ? MP_SET_X4 :
					   MP_SET_X6, s, e);
			score -= refine && cur == MP_DIM_X;
			w = -(int)c->plen - 1;
			if (score < best || (score == best && w < bestw)) {
				best = score;
				bestw = w;
				pick = MP_DIM_X;
			}
		}
		bd->dim[p] = pick;
	}
}

/* ---- port maps --------------------------------------------------------- */

/*
 * Group the rules of port map @map into range nodes and cut the port space
 * into classes; bd->ents is the number of class entries the map needs.
 */
static void mp_pm_prepare(struct mp_build *bd, int map)
{
	u32 p, m = 0, i, nn = 0;
	int cl = -1;

	for (p = 0; p < bd->n; p++) {
		const struct mp_brule *c = &bd->rules[p];
		u8 d = bd->dim[p];

		if (d == MP_DIM_P) {
			bd->pitems[m].a = c->port.min;
			bd->pitems[m].b = c->port.max;
		} else if (d == MP_DIM_L && map == 0) {
			bd->pitems[m].a = c->lport.min;
			bd->pitems[m].b = c->lport.max;
		} else if (d == MP_DIM_R && map == 1) {
			bd->pitems[m].a = c->rport.min;
			bd->pitems[m].b = c->rport.max;
		} else {
			continue;
		}
		bd->pitems[m].proto = c->proto;
		bd->pitems[m++].pos = p;
	}
	mp_sort(bd->pitems, m, sizeof(*bd->pitems), mp_pitem_cmp);
	memset(bd->mark, 0, MP_PORTS);
	bd->mark[0] = 1;
	for (i = 0; i < m; i++) {
		struct mp_pitem *it = &bd->pitems[i];

		if (nn && bd->pnodes[nn - 1].a == it->a &&
		    bd->pnodes[nn - 1].b == it->b &&
		    bd->pnodes[nn - 1].proto == it->proto) {
			bd->pnodes[nn - 1].count++;
			continue;
		}
		bd->pnodes[nn].a = it->a;
		bd->pnodes[nn].b = it->b;
		bd->pnodes[nn].proto = it->proto;
		bd->pnodes[nn].first = i;
		bd->pnodes[nn].count = 1;
		bd->pnodes[nn].minpos = it->pos;
		nn++;
		bd->mark[it->a] = 1;
		if (it->b < MP_PORTS - 1)
			bd->mark[it->b + 1] = 1;
	}
	for (p = 0; p < MP_PORTS; p++) {
		cl += bd->mark[p];
		bd->cls[p] = (u16)cl;
	}
	bd->nclasses = cl + 1;
	bd->npnodes = nn;
	bd->ents = 0;
	for (i = 0; i < nn; i++) {
		bd->pnodes[i].cla = bd->cls[bd->pnodes[i].a];
		bd->pnodes[i].clb = bd->cls[bd->pnodes[i].b];
		bd->ents += bd->pnodes[i].clb - bd->pnodes[i].cla + 1;
	}
}

/*
 * Over budget: send the nodes spanning most classes to the wildcard list.
 * Dropping ranges only merges classes, so the real count ends lower still.
 */
static void mp_pm_shed(struct mp_build *bd)
{
	u64 *key = (u64 *)bd->keys;	/* 2n + 1 >= nodes */
	u32 i, j, total = bd->ents;

	for (i = 0; i < bd->npnodes; i++) {
		struct mp_pnode_b *nd = &bd->pnodes[i];

		key[i] = ((u64)(MP_PORTS - (nd->clb - nd->cla + 1)) << 32) | i;
	}
	mp_sort(key, bd->npnodes, sizeof(*key), mp_u64_cmp);
	for (i = 0; i < bd->npnodes && total > MP_PM_MAX_ENTS; i++) {
		struct mp_pnode_b *nd = &bd->pnodes[(u32)key[i]];

		total -= nd->clb - nd->cla + 1;
		for (j = 0; j < nd->count; j++)
			bd->dim[bd->pitems[nd->first + j].pos] = MP_DIM_WILD;
	}
}

static int mp_pm_emit(struct mp_build *bd, int map)
{
	struct mp_ctable *t = bd->t;
	struct mp_portmap *pm = &t->pm[map];
	u64 *key = (u64 *)bd->keys;
	u32 i, j, sum = 0, nsub = 0, uni;

	if (!bd->npnodes)
		return 0;
	/* cls[] never decreases: a block is uniform iff its ends agree */
	for (i = 0; i < MP_PORTS; i += 256)
		nsub += bd->cls[i] != bd->cls[i + 255];
	pm->top = mp_talloc(t, MP_PORTS / 256, sizeof(*pm->top));
	/* the blocks, then one entry per uniform block */
	pm->sub = mp_talloc(t, nsub * 256UL + MP_PORTS / 256 - nsub,
			    sizeof(*pm->sub));
	pm->classes = mp_talloc(t, bd->nclasses, sizeof(*pm->classes));
	pm->ents = mp_talloc(t, bd->ents, sizeof(*pm->ents));
	if (!pm->top || !pm->sub || !pm->classes || !pm->ents)
		return -1;
	uni = nsub * 256;
	/* class sizes by difference array, then runs */
	memset(bd->cnt, 0, (MP_PORTS + 1) * sizeof(*bd->cnt));
	for (i = 0; i < bd->npnodes; i++) {
		bd->cnt[bd->pnodes[i].cla]++;
		bd->cnt[bd->pnodes[i].clb + 1]--;
	}
	for (i = 0; i < bd->nclasses; i++) {
		if (i)
			bd->cnt[i] += bd->cnt[i - 1];
		pm->classes[i].first = sum;
		sum += bd->cnt[i];
	}
	for (i = 0, nsub = 0; i < MP_PORTS; i += 256) {
		if (bd->cls[i] == bd->cls[i + 255]) {
			pm->top[i >> 8] = uni << 8;
			pm->sub[uni++] = bd->cls[i];
			continue;
		}
		pm->top[i >> 8] = (nsub * 256) << 8 | 0xff;
		memcpy(pm->sub + nsub++ * 256UL, bd->cls + i,
		       256 * sizeof(*pm->sub));
	}

	/* nodes in order of their lowest position; their rules to lr */
	for (i = 0; i < bd->npnodes; i++) {
		struct mp_pnode_b *nd = &bd->pnodes[i];

		key[i] = ((u64)nd->minpos << 32) | i;
		nd->span = bd->npos;
		for (j = 0; j < nd->count; j++)
			t->lr[bd->npos++] = bd->rules[bd->pitems[nd->first + j].pos].c;
	}
	mp_sort(key, bd->npnodes, sizeof(*key), mp_u64_cmp);
	for (i = 0; i < bd->npnodes; i++) {
		struct mp_pnode_b *nd = &bd->pnodes[(u32)key[i]];
		struct mp_ent e = {
			.first = nd->span, .count = nd->count,
			.minpos = nd->minpos, .proto = nd->proto,
		};

		for (j = nd->cla; j <= nd->clb; j++) {
			struct mp_span *cl = &pm->classes[j];

			pm->ents[cl->first + cl->count++] = e;
		}
	}
	return 0;
}

/* ---- prefix tables ----------------------------------------------------- */

static u32 mp_lcp(struct mp_k128 a, struct mp_k128 b)
{
	if (a.hi != b.hi)
		return __builtin_clzll(a.hi ^ b.hi);
	if (a.lo != b.lo)
		return 64 + __builtin_clzll(a.lo ^ b.lo);
	return 128;
}

/* @v << @s as a 128-bit number, @s < 128 */
static struct mp_k128 mp_shl(u64 v, u32 s)
{
	if (s >= 64)
		return mp_k(v << (s - 64), 0);
	return mp_k(s ? v >> (64 - s) : 0, v << s);
}

/* The direct table of @x over its interval starts @keys[0..x->nb). */
static int mp_pfx_dir(struct mp_ctable *t, struct mp_pfxtab *x,
		      const struct mp_k128 *keys)
{
	u32 bits = 0, c, j, i = 0, nb = x->nb;
	struct mp_k128 base;
	u64 mhi, mlo;

	if (nb < 3)
		return 0;
	c = mp_lcp(keys[1], keys[nb - 1]);
	while ((2U << bits) <= nb && bits < MP_DIR_MAX_BITS && c + bits < 128)
		bits++;
	x->dshift = c;
	x->dbits = bits;
	x->dir = mp_talloc(t, (1UL << bits) + 1, sizeof(*x->dir));
	if (!x->dir)
		return -1;
	mp_mask128(c, &mhi, &mlo);
	base = mp_k(keys[1].hi & mhi, keys[1].lo & mlo);
	for (j = 0; j < (1U << bits); j++) {
		struct mp_k128 k = mp_shl(j, 128 - c - bits);

		k.hi |= base.hi;
		k.lo |= base.lo;
		while (i + 1 < nb && mp_k_le(keys[i + 1].hi, keys[i + 1].lo,
					     k.hi, k.lo))
			i++;
		x->dir[j] = i;
	}
	x->dir[1U << bits] = nb - 1;
	return 0;
}

static int mp_pfx_emit(struct mp_build *bd, int fam)
{
	struct mp_ctable *t = bd->t;
	struct mp_pfxtab *x = &t->pfx[fam];
	u8 want = fam ? 6 : 4;
	u32 p, m = 0, i, j, nn = 0, nk = 0, depth = 0, np = 0;
	struct mp_k128 *keys = bd->keys;

	for (p = 0; p < bd->n; p++) {
		const struct mp_brule *b = &bd->rules[p];
		struct mp_xitem *it = &bd->xitems[m];

		if (bd->dim[p] != MP_DIM_X || b->family != want)
			continue;
		mp_pfx_range(b, &it->start, &it->end);
		it->plen = b->plen;
		it->pos = p;
		m++;
	}
	if (!m)
		return 0;
	mp_sort(bd->xitems, m, sizeof(*bd->xitems), mp_xitem_cmp);

	/* nodes: distinct prefixes, in (start, plen) order; items reused */
	x->nodes = mp_talloc(t, m, sizeof(*x->nodes));
	if (!x->nodes)
		return -1;
	keys[nk++] = mp_k(0, 0);
	for (i = 0; i < m; i++) {
		struct mp_xitem *it = &bd->xitems[i];

		if (!nn || mp_k_cmp(&bd->xitems[nn - 1].start, &it->start) ||
		    bd->xitems[nn - 1].plen != it->plen) {
			bd->xitems[nn] = *it;
			x->nodes[nn].s.first = bd->npos;
			x->nodes[nn].parent = MP_NONE;
			keys[nk++] = it->start;
			if (~it->end.hi || ~it->end.lo)
				keys[nk++] = it->end.lo + 1 ?
					     mp_k(it->end.hi, it->end.lo + 1) :
					     mp_k(it->end.hi + 1, 0);
			nn++;
		}
		x->nodes[nn - 1].s.count++;
		t->lr[bd->npos++] = bd->rules[it->pos].c;
	}
	mp_sort(keys, nk, sizeof(*keys), mp_k_sort_cmp);
	for (i = 1, j = 1; i < nk; i++)
		if (mp_k_cmp(&keys[i], &keys[j - 1]))
			keys[j++] = keys[i];
	nk = j;
	x->b = mp_talloc(t, nk, sizeof(*x->b));
	if (fam)
		x->k6 = mp_talloc(t, nk, sizeof(*x->k6));
	else
		x->k4 = mp_talloc(t, nk, sizeof(*x->k4));
	if (!x->b || (!x->k4 && !x->k6))
		return -1;
	x->nb = nk;

	/* sweep: the stack holds the chain of prefixes around keys[i] */
	for (i = 0; i < nk; i++) {
		while (depth &&
		       mp_k_cmp(&bd->xitems[bd->stack[depth - 1]].end,
				&keys[i]) < 0)
			depth--;
		while (np < nn && !mp_k_cmp(&bd->xitems[np].start, &keys[i])) {
			if (depth >= MP_PFX_DEPTH)
				return -1;	/* cannot happen: laminar */
			x->nodes[np].parent = depth ? bd->stack[depth - 1] :
					      MP_NONE;
			bd->stack[depth++] = np++;
		}
		if (fam)
			x->k6[i] = keys[i];
		else
			x->k4[i] = keys[i].hi >> 32;
		x->b[i].parent = MP_NONE;
		if (depth)
			x->b[i] = x->nodes[bd->stack[depth - 1]];
	}
	return mp_pfx_dir(t, x, keys);
}

/**
 * mp_ctable_free() - free a table from mp_ctable_build()
 * @t: the table, or NULL
 *
 * The caller makes sure no lookup still runs on it (RCU grace period).
 */
void mp_ctable_free(struct mp_ctable *t)
{
	int i;

	if (!t)
		return;
	for (i = 0; i < 2; i++) {
		mp_free(t->pm[i].top);
		mp_free(t->pm[i].sub);
		mp_free(t->pm[i].classes);
		mp_free(t->pm[i].ents);
		mp_free(t->pfx[i].b);
		mp_free(t->pfx[i].k4);
		mp_free(t->pfx[i].k6);
		mp_free(t->pfx[i].nodes);
		mp_free(t->pfx[i].dir);
	}
	mp_free(t->orig);
	mp_free(t->lr);
	mp_free(t->cg);
	mp_free(t);
}

/**
 * mp_ctable_bytes() - memory held by a table
 * @t: the table, or NULL
 *
 * Return: the bytes allocated for @t.
 */
unsigned long mp_ctable_bytes(const struct mp_ctable *t)
{
	return t ? t->bytes : 0;
}

static void mp_build_free(struct mp_build *bd)
{
	int i;

	for (i = 0; i < MP_NSETS; i++) {
		mp_free(bd->starts[i]);
		mp_free(bd->ends[i]);
	}
	mp_free(bd->rules);
	mp_free(bd->dim);
	mp_free(bd->pitems);
	mp_free(bd->pnodes);
	mp_free(bd->cls);
	mp_free(bd->mark);
	mp_free(bd->cnt);
	mp_free(bd->xitems);
	mp_free(bd->keys);
	mp_free(bd->stack);
}

static int mp_build_alloc(struct mp_build *bd)
{
	unsigned long n = bd->n;
	int i;

	for (i = 0; i < MP_NSETS; i++) {
		unsigned long m = i < MP_SET_X4 ? 2 * n : n;

		bd->starts[i] = mp_zalloc(m * sizeof(struct mp_k128));
		bd->ends[i] = mp_zalloc(m * sizeof(struct mp_k128));
		if (!bd->starts[i] || !bd->ends[i])
			return -1;
	}
	bd->rules = mp_zalloc(n * sizeof(*bd->rules));
	bd->dim = mp_zalloc(n);
	bd->pitems = mp_zalloc(n * sizeof(*bd->pitems));
	bd->pnodes = mp_zalloc(n * sizeof(*bd->pnodes));
	bd->cls = mp_zalloc(MP_PORTS * sizeof(*bd->cls));
	bd->mark = mp_zalloc(MP_PORTS);
	bd->cnt = mp_zalloc((MP_PORTS + 1) * sizeof(*bd->cnt));
	bd->xitems = mp_zalloc(n * sizeof(*bd->xitems));
	bd->keys = mp_zalloc((2 * n + 1) * sizeof(*bd->keys));
	bd->stack = mp_zalloc(MP_PFX_DEPTH * sizeof(*bd->stack));
	if (!bd->rules || !bd->dim || !bd->pitems || !bd->pnodes || !bd->cls || !bd->mark ||
	    !bd->cnt || !bd->xitems || !bd->keys || !bd->stack)
		return -1;
	return 0;
}

static int mp_build_index(struct mp_build *bd, const struct mp_rule_spec *rules)
{
	struct mp_ctable *t = bd->t;
	struct mp_idpos *ip = (struct mp_idpos *)bd->keys;	/* 2n + 1 */
	bool sorted = true, cg = false;
	u32 p;
	int map;

	for (p = 0; p < bd->n; p++) {
		ip[p].id = rules[p].id;
		ip[p].orig = p;
	}
	mp_sort(ip, bd->n, sizeof(*ip), mp_idpos_cmp);
	for (p = 0; p < bd->n; p++) {
		mp_compile(&bd->rules[p], &rules[ip[p].orig], p);
		bd->dim[p] = mp_dead(&bd->rules[p]) ? MP_DIM_DEAD : MP_DIM_WILD;
		sorted &= ip[p].orig == p;
		cg |= bd->rules[p].cg.id != 0;
	}
	/* given in id order (the module's rule sets are): no index to map */
	if (!sorted) {
		t->orig = mp_talloc(t, bd->n, sizeof(*t->orig));
		if (!t->orig)
			return -1;
		for (p = 0; p < bd->n; p++)
			t->orig[p] = ip[p].orig;
	}
	if (cg) {
		t->cg = mp_talloc(t, bd->n, sizeof(*t->cg));
		if (!t->cg)
			return -1;
		for (p = 0; p < bd->n; p++)
			t->cg[p] = bd->rules[p].cg;
	}

	mp_choose(bd, false);
	mp_choose(bd, true);
	for (map = 0; map < 2; map++) {
		mp_pm_prepare(bd, map);
		if (bd->ents > MP_PM_MAX_ENTS)
			mp_pm_shed(bd);
	}
	for (map = 0; map < 2; map++) {
		mp_pm_prepare(bd, map);
		if (mp_pm_emit(bd, map))
			return -1;
	}
	if (mp_pfx_emit(bd, 0) || mp_pfx_emit(bd, 1))
		return -1;
	t->wild.first = bd->npos;
	for (p = 0; p < bd->n; p++) {
		if (bd->dim[p] == MP_DIM_WILD) {
			t->lr[bd->npos++] = bd->rules[p].c;
			t->wild.count++;
		}
	}
	return 0;
}

/**
 * mp_ctable_build() - compile rules into a lookup table
 * @rules: the rules, in any order; ids decide between overlapping rules
 * @n: number of rules, at most MP_CTABLE_MAX_RULES
 *
 * Process context (sleeping allocations). Takes O(n log n) time plus a
 * constant for the port maps, and memory linear in @n plus at most
 * MP_PM_MAX_ENTS class entries per port map: about 0.5 MiB for 4096
 * typical rules, at most about 4 MiB for any 4096, never above
 * MP_CTABLE_MAX_BYTES. The table keeps no pointer into @rules and is never
 * modified after this returns.
 *
 * Return: the table (an empty one for @n == 0), or NULL when memory runs
 * out or a limit is exceeded.
 */
struct mp_ctable *mp_ctable_build(const struct mp_rule_spec *rules,
				  unsigned int n)
{
	struct mp_build bd = { .n = n };
	struct mp_ctable *t;
	int err = -1;

	if (n > MP_CTABLE_MAX_RULES)
		return NULL;
	t = mp_zalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->bytes = sizeof(*t);
	t->n = n;
	if (!n)
		return t;
	bd.t = t;
	t->lr = mp_talloc(t, 2UL * n, sizeof(*t->lr));
	if (t->lr && !mp_build_alloc(&bd))
		err = mp_build_index(&bd, rules);
	mp_build_free(&bd);
	if (err) {
		mp_ctable_free(t);
		return NULL;
	}
	return t;
}
