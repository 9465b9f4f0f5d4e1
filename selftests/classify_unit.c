// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of the classifier core (module/classify.c), in the style
 * of WireGuard's allowedips selftest: random rule sets and random packets,
 * every mp_ctable_lookup() answer, and every answer of a linear scan of
 * mp_rule_match() (how the module matches rules not in the table yet),
 * compared with a linear scan of a naive reference (ref_match()) keeping
 * the lowest id (rules given in any order, or in id order as the module
 * gives them); mp_rule_covers_lport() checked against mp_rule_match().
 * Packets say which end listens, or not (MP_SVC_UNKNOWN): then the answer
 * must be the one both ends give, or MP_NEED_SVC when they differ.
 * Plus hand-written edge cases, the service port cases of issue 22 among
 * them.
 *
 *   classify_unit [-s SEED] [-n PACKETS_PER_SIZE] [-v]
 *
 * Prints KTAP; exits 0 when every test passed, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify_gen.h"

#define CG_DEPTH 6

static int verbose;

static int chance(unsigned int pct)
{
	return rnd(100) < pct;
}

/* Fake cgroup ancestry: anc[level] is the id at that depth. */
struct cg {
	u64 anc[CG_DEPTH];
	unsigned int depth;
};

static bool fake_in_cgroup(const void *ctx, u64 id, u16 level)
{
	const struct cg *cg = ctx;

	return level < cg->depth && cg->anc[level] == id;
}

static u64 cg_id(unsigned int level, unsigned int k)
{
	return 1000 * (level + 1) + k;
}

static void cg_random(struct cg *cg)
{
	unsigned int i;

	cg->depth = rnd(CG_DEPTH + 1);
	for (i = 0; i < cg->depth; i++)
		cg->anc[i] = cg_id(i, rnd(3));
}

/* Pools make ranges and prefixes overlap and nest. */
static u16 port_pool[24];
static u8 addr_pool[8][16];

static void pools_init(void)
{
	static const u16 fixed[] = { 0, 1, 22, 80, 443, 5201, 49152, 49215,
				     65534, 65535 };
	unsigned int i, j;

	for (i = 0; i < 24; i++)
		port_pool[i] = i < 10 ? fixed[i] : (u16)rnd(65536);
	for (i = 0; i < 8; i++)
		for (j = 0; j < 16; j++)
			addr_pool[i][j] = (u8)rnd64();
}

static u16 rnd_port(void)
{
	return chance(60) ? port_pool[rnd(24)] : (u16)rnd(65536);
}

static void rnd_range(struct mp_ports *p)
{
	unsigned int r = rnd(100), a, b;
	u16 *min = &p->min, *max = &p->max;

	*p = MP_PORTS_ANY;
	if (r < 45)
		return;			/* any */
	a = rnd_port();
	if (r < 60) {			/* single port */
		*min = *max = a;
	} else if (r < 75) {		/* small range */
		*min = a;
		*max = a + rnd(64) > 0xffff ? 0xffff : a + rnd(64);
	} else if (r < 85) {		/* range between pool ports */
		b = rnd_port();
		*min = a < b ? a : b;
		*max = a < b ? b : a;
	} else if (r < 90) {
		*max = a;		/* [0, a] */
	} else if (r < 95) {
		*min = a;		/* [a, 65535] */
	} else if (r < 98) {
		*min = 0;
		*max = 0xfffe;
	} else {			/* empty: never matches */
		*min = a | 1;
		*max = a & ~1;
	}
}

static void rnd_addr(u8 *a, unsigned int family)
{
	unsigned int i, keep;

	if (chance(70)) {
		memcpy(a, addr_pool[rnd(8)], 16);
		keep = rnd(family == 4 ? 33 : 129);
		for (i = keep; i < 128; i++)
			if (chance(50))
				a[i / 8] ^= 0x80 >> (i % 8);
	} else {
		for (i = 0; i < 16; i++)
			a[i] = (u8)rnd64();
	}
}

static int narrow_pct;	/* share of rules forced to be specific */

static bool wide(u16 min, u16 max)
{
	return min <= max && max - min > 1024;
}

static void rnd_rule(struct mp_rule_spec *r, u32 id)
{
	unsigned int f = rnd(100);

	memset(r, 0, sizeof(*r));
	r->id = id;
	r->proto = chance(80) ? TCP : UDP;
	rnd_range(&r->port);
	rnd_range(&r->lport);
	rnd_range(&r->rport);
	if (f < 35) {
		r->family = 0;
	} else if (f < 68) {
		r->family = 4;
		r->plen = chance(10) ? (chance(50) ? 0 : 32) : rnd(33);
		if (chance(2))
			r->plen = 33 + rnd(200);	/* clamped to 32 */
	} else if (f < 99) {
		r->family = 6;
		r->plen = chance(10) ? (chance(50) ? 0 : 128) : rnd(129);
		if (chance(2))
			r->plen = 129 + rnd(120);	/* clamped to 128 */
	} else {
		r->family = 5;			/* never matches */
	}
	if (wide(r->port.min, r->port.max) && wide(r->lport.min, r->lport.max) &&
	    wide(r->rport.min, r->rport.max) &&
	    (!r->family || r->plen < 12) && chance(narrow_pct)) {
		if (chance(50)) {
			r->family = chance(50) ? 4 : 6;
			r->plen = 12 + rnd(r->family == 4 ? 21 : 117);
		} else {
			r->port.min = rnd_port();
			r->port.max = r->port.min;
		}
	}
	if (r->family)
		rnd_addr(r->peer, r->family);
	if (chance(15)) {
		r->cgroup_level = rnd(CG_DEPTH + 1);
		r->cgroup_id = cg_id(r->cgroup_level, rnd(3));
	}
}

/* A packet, often built to hit (or nearly hit) a rule of @rules. */
static void rnd_pkt(struct mp_pkt *p, struct cg *cg,
		    const struct mp_rule_spec *rules, unsigned int n)
{
	const struct mp_rule_spec *r = n && chance(70) ? &rules[rnd(n)] : NULL;
	unsigned int i;

	memset(p, 0, sizeof(*p));
	cg_random(cg);
	p->in_cgroup = chance(85) ? fake_in_cgroup : NULL;
	p->cg_ctx = cg;
	p->proto = chance(80) ? TCP : UDP;
	p->family = chance(50) ? 4 : 6;
	p->svc = chance(40) ? MP_SVC_LOCAL :
		 chance(67) ? MP_SVC_REMOTE : MP_SVC_UNKNOWN;
	p->lport = rnd_port();
	p->rport = rnd_port();
	rnd_addr(p->raddr, p->family);
	if (!r)
		return;
	if (chance(90))
		p->proto = r->proto;
	p->lport = in_range(r->lport.min, r->lport.max);
	p->rport = in_range(r->rport.min, r->rport.max);
	if (chance(50))	/* the service port, when this or the other end listens */
		p->lport = in_range(r->port.min, r->port.max);
	else
		p->rport = in_range(r->port.min, r->port.max);
	if (chance(5))
		p->lport = chance(50) ? 0 : 0xffff;
	if ((r->family == 4 || r->family == 6) && chance(90)) {
		p->family = r->family;
		memcpy(p->raddr, r->peer, 16);
		for (i = r->plen; i < 128; i++)
			if (chance(50))
				p->raddr[i / 8] ^= 0x80 >> (i % 8);
		if (chance(10) && r->plen && r->plen <= 128) {
			i = r->plen - 1;	/* just outside */
			p->raddr[i / 8] ^= 0x80 >> (i % 8);
		}
	}
	if (r->cgroup_id && chance(80) && r->cgroup_level < CG_DEPTH) {
		if (cg->depth <= r->cgroup_level)
			cg->depth = r->cgroup_level + 1;
		cg->anc[r->cgroup_level] = r->cgroup_id;
	}
	/* what follows an IPv4 address is not looked at: zeros or not */
	if (p->family == 4 && chance(50))
		memset(p->raddr + 4, 0, 12);
}

static void print_pkt(const struct mp_pkt *p)
{
	unsigned int i;

	printf("#   pkt proto %u family %u svc %u lport %u rport %u cg %s raddr ",
	       p->proto, p->family, p->svc, p->lport, p->rport,
	       p->in_cgroup ? "yes" : "no");
	for (i = 0; i < (p->family == 4 ? 4U : 16U); i++)
		printf("%02x", p->raddr[i]);
	printf("\n");
}

static void print_rule(const char *what, const struct mp_rule_spec *r)
{
	unsigned int i;

	printf("#   %s id %u proto %u service port %u-%u lport %u-%u rport %u-%u fam %u/%u cg %llu@%u peer ",
	       what, r->id, r->proto, r->port.min, r->port.max, r->lport.min,
	       r->lport.max, r->rport.min, r->rport.max, r->family, r->plen,
	       (unsigned long long)r->cgroup_id, r->cgroup_level);
	for (i = 0; i < 16; i++)
		printf("%02x", r->peer[i]);
	printf("\n");
}

/*
 * The answer for a packet that does not say which end listens, from the
 * answers for each end: the same rule, or MP_NEED_SVC.
 */
static int ref_lookup_unknown(const struct mp_rule_spec *rules, unsigned int n,
			      const struct mp_pkt *p)
{
	struct mp_pkt q = *p;
	int local, remote;

	q.svc = MP_SVC_LOCAL;
	local = ref_lookup(rules, n, &q);
	q.svc = MP_SVC_REMOTE;
	remote = ref_lookup(rules, n, &q);
	return local == remote ? local : MP_NEED_SVC;
}

/* Packets whose answer depended on which end listens, which they did not say. */
static unsigned long undecided;

/* Compare table and reference on @count packets; returns mismatches. */
static unsigned long check_set(const struct mp_rule_spec *rules,
			       unsigned int n, const struct mp_ctable *t,
			       unsigned long count, unsigned long *hits)
{
	unsigned long bad = 0, i;
	struct mp_pkt p;
	struct cg cg;

	for (i = 0; i < count; i++) {
		const char *what;
		int want, got;

		rnd_pkt(&p, &cg, rules, n);
		want = ref_lookup(rules, n, &p);
		got = mp_ctable_lookup(t, &p);
		if (want >= 0)
			(*hits)++;
		undecided += want == MP_NEED_SVC;
		/* The scan on every fourth packet: it costs as much as ref. */
		what = "table";
		if (want == got && !(i % 4)) {
			what = "mp_rule_match() scan";
			got = scan_lookup(rules, n, &p, mp_rule_match);
		}
		/* Unknown end: the reference agrees with both ends' answers. */
		if (want == got && p.svc == MP_SVC_UNKNOWN && (i % 4) == 1) {
			what = "answers of both ends";
			got = ref_lookup_unknown(rules, n, &p);
		}
		if (want == got)
			continue;
		if (bad++ < 3) {
			printf("# mismatch: %s %d reference %d (n %u)\n",
			       what, got, want, n);
			print_pkt(&p);
			if (want >= 0)
				print_rule("want", &rules[want]);
			if (got >= 0)
				print_rule("got", &rules[got]);
		}
	}
	return bad;
}

/* Allocation failure injection: fail the fail_at-th allocation (1-based). */
static unsigned long alloc_count, fail_at;

static void *failing_zalloc(size_t size)
{
	if (fail_at && ++alloc_count == fail_at)
		return NULL;
	return calloc(1, size);
}

static int test_num;
static int failures;

static void report(int ok, const char *name)
{
	test_num++;
	if (!ok)
		failures++;
	printf("%sok %d %s\n", ok ? "" : "not ", test_num, name);
}

static int cmp_id(const void *a, const void *b)
{
	const struct mp_rule_spec *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void test_random(unsigned int n, unsigned long count)
{
	unsigned int rounds = n <= 16 ? 200 : n <= 256 ? 10 : 2, r, i;
	unsigned long bad = 0, hits = 0, bytes = 0, per = count / rounds + 1;
	struct mp_rule_spec *rules = calloc(n ? n : 1, sizeof(*rules));
	int nomem = 0;
	char name[64];

	undecided = 0;
	narrow_pct = n >= 4096 ? 100 : n >= 256 ? 90 : 0;
	for (r = 0; r < rounds && rules; r++) {
		struct mp_ctable *t;

		pools_init();
		for (i = 0; i < n; i++)
			rnd_rule(&rules[i], chance(3) && i ? rules[rnd(i)].id :
					    (u32)rnd64());
		/* every other set in id order, as the module gives them */
		if (r & 1)
			qsort(rules, n, sizeof(*rules), cmp_id);
		t = mp_ctable_build(rules, n);
		if (!t) {
			nomem = 1;
			break;
		}
		if (mp_ctable_bytes(t) > bytes)
			bytes = mp_ctable_bytes(t);
		bad += check_set(rules, n, t, per, &hits);
		mp_ctable_free(t);
	}
	printf("# random n=%u: %u rule sets, %lu packets, %lu matched, %lu undecided, %lu mismatches, max table %lu bytes\n",
	       n, rounds, per * rounds, hits, undecided, bad, bytes);
	snprintf(name, sizeof(name), "random_%u_rules", n);
	/* a useful test needs both hits and misses */
	report(rules && !nomem && !bad &&
	       (!n || (hits > per * rounds / 10 && undecided &&
		       hits < per * rounds - per * rounds / 10)), name);
	free(rules);
}

/* A packet of a connection this host opened: the peer listens. */
static struct mp_pkt pkt4(u16 lport, u16 rport, u32 addr)
{
	struct mp_pkt p = { .proto = TCP, .family = 4, .svc = MP_SVC_REMOTE,
			    .lport = lport, .rport = rport };

	p.raddr[0] = addr >> 24;
	p.raddr[1] = addr >> 16;
	p.raddr[2] = addr >> 8;
	p.raddr[3] = addr;
	return p;
}

static struct mp_pkt pkt6(u16 lport, u16 rport, u8 first, u8 last)
{
	struct mp_pkt p = { .proto = TCP, .family = 6, .svc = MP_SVC_REMOTE,
			    .lport = lport, .rport = rport };

	p.raddr[0] = first;
	p.raddr[15] = last;
	return p;
}

static int expect(const struct mp_ctable *t, const struct mp_rule_spec *rules,
		  unsigned int n, const struct mp_pkt *p, int want)
{
	int got = mp_ctable_lookup(t, p), ref = ref_lookup(rules, n, p);

	if (got == want && ref == want)
		return 1;
	printf("# expected %d: table %d reference %d\n", want, got, ref);
	print_pkt(p);
	return 0;
}

static void test_empty(void)
{
	struct mp_ctable *t = mp_ctable_build(NULL, 0);
	struct mp_pkt p = pkt4(1, 2, 0x0a000001);
	int ok = t && mp_ctable_lookup(t, &p) == -1 &&
		 mp_ctable_lookup(NULL, &p) == -1;

	p = pkt6(0, 0xffff, 0x20, 1);
	ok = ok && mp_ctable_lookup(t, &p) == -1;
	mp_ctable_free(t);
	mp_ctable_free(NULL);
	report(ok, "empty_table");
}

static void test_edges(void)
{
	struct mp_rule_spec r[10];
	struct mp_ctable *t;
	struct mp_pkt p;
	int ok = 1;

	r[0] = any_rule(10, TCP);		/* lport 0 only */
	r[0].lport.max = 0;
	r[1] = any_rule(11, TCP);		/* rport 65535 only */
	r[1].rport.min = 0xffff;
	r[2] = any_rule(12, TCP);		/* v4 /32 */
	r[2].family = 4;
	r[2].plen = 32;
	memcpy(r[2].peer, "\xc0\x00\x02\x01", 4);
	r[3] = any_rule(13, TCP);		/* v4 /0: any v4 */
	r[3].family = 4;
	r[3].plen = 0;
	memset(r[3].peer, 0xff, 16);
	r[4] = any_rule(5, TCP);		/* v6 /128 */
	r[4].family = 6;
	r[4].plen = 128;
	r[4].peer[0] = 0x20;
	r[4].peer[15] = 0x01;
	r[5] = any_rule(14, TCP);		/* v6 /0 */
	r[5].family = 6;
	r[6] = any_rule(1, UDP);		/* udp, service port 53 */
	r[6].port.min = 53;
	r[6].port.max = 53;
	r[7] = any_rule(0, TCP);		/* empty range: never */
	r[7].lport.min = 9;
	r[7].lport.max = 8;
	r[8] = any_rule(2, TCP);		/* cgroup 7 at level 1 */
	r[8].cgroup_id = 7;
	r[8].cgroup_level = 1;
	r[9] = any_rule(3, TCP);		/* service port 65535 */
	r[9].port.min = 0xffff;

	t = mp_ctable_build(r, 10);
	if (!t) {
		report(0, "edge_cases");
		return;
	}
	p = pkt4(0, 1, 0x01020304);
	ok &= expect(t, r, 10, &p, 0);		/* lport 0 */
	p = pkt4(1, 1, 0x01020304);
	ok &= expect(t, r, 10, &p, 3);		/* v4 /0 */
	p = pkt4(1, 1, 0xc0000201);
	ok &= expect(t, r, 10, &p, 2);		/* /32 beats /0 */
	p = pkt4(1, 1, 0xc0000200);
	ok &= expect(t, r, 10, &p, 3);
	p = pkt4(1, 0xffff, 0xc0000201);
	ok &= expect(t, r, 10, &p, 9);		/* service port 65535, id 3 */
	p = pkt4(0xffff, 2, 0x01020304);
	ok &= expect(t, r, 10, &p, 3);		/* local 65535: not the service */
	p.svc = MP_SVC_LOCAL;
	ok &= expect(t, r, 10, &p, 9);		/* this host listens on it */
	p.svc = MP_SVC_UNKNOWN;
	ok &= expect(t, r, 10, &p, MP_NEED_SVC);
	p = pkt6(1, 1, 0x20, 0x01);
	ok &= expect(t, r, 10, &p, 4);		/* /128 */
	p = pkt6(1, 1, 0x20, 0x02);
	ok &= expect(t, r, 10, &p, 5);		/* /0 */
	p = pkt6(1, 1, 0x20, 0x01);
	p.proto = UDP;
	ok &= expect(t, r, 10, &p, -1);
	p.lport = 53;
	ok &= expect(t, r, 10, &p, -1);		/* the peer serves, on 1 */
	p.svc = MP_SVC_LOCAL;
	ok &= expect(t, r, 10, &p, 6);
	p.lport = 54;
	p.rport = 53;
	ok &= expect(t, r, 10, &p, -1);
	p.svc = MP_SVC_REMOTE;
	ok &= expect(t, r, 10, &p, 6);
	p.lport = 53;
	p.svc = MP_SVC_UNKNOWN;			/* 53 at both ends */
	ok &= expect(t, r, 10, &p, 6);
	mp_ctable_free(t);
	report(ok, "edge_cases");
}

/*
 * Issue 22: the qemu preset (service port 49152-49215) and what a host
 * sees of it. A connection this host opened from local port 49200 to the
 * peer's 5201 is not migration; one to the peer's 49152 is, and so is one
 * this host accepted on 49152. Unknown end: MP_NEED_SVC only when the
 * answer depends on it, also when a lower id decides first.
 */
static void test_service_port(void)
{
	struct mp_rule_spec r[3];
	struct mp_ctable *t;
	struct mp_pkt p;
	int ok = 1, i;

	r[0] = any_rule(10, TCP);		/* qemu */
	r[0].port.min = 49152;
	r[0].port.max = 49215;
	r[1] = any_rule(20, TCP);		/* to the peer's 5201 */
	r[1].rport.min = 5201;
	r[1].rport.max = 5201;
	r[2] = any_rule(5, TCP);		/* v4 192.0.2.0/24 */
	r[2].family = 4;
	r[2].plen = 24;
	memcpy(r[2].peer, "\xc0\x00\x02\x00", 4);
	for (i = 1; i <= 3; i++) {
		t = mp_ctable_build(r, i);
		if (!t) {
			report(0, "service_port");
			return;
		}
		p = pkt4(49200, 5201, 0x0a000002);	/* the bug of issue 22 */
		ok &= expect(t, r, i, &p, i > 1 ? 1 : -1);
		p.svc = MP_SVC_UNKNOWN;
		ok &= expect(t, r, i, &p, MP_NEED_SVC);
		p = pkt4(40000, 49152, 0x0a000002);	/* to the peer's 49152 */
		ok &= expect(t, r, i, &p, 0);
		p.svc = MP_SVC_UNKNOWN;
		ok &= expect(t, r, i, &p, MP_NEED_SVC);
		p.svc = MP_SVC_LOCAL;			/* 40000 is not qemu's */
		ok &= expect(t, r, i, &p, -1);
		p = pkt4(49152, 40000, 0x0a000002);	/* accepted on 49152 */
		p.svc = MP_SVC_LOCAL;
		ok &= expect(t, r, i, &p, 0);
		p = pkt4(49160, 49152, 0x0a000002);	/* both ends in range */
		p.svc = MP_SVC_UNKNOWN;
		ok &= expect(t, r, i, &p, 0);
		p = pkt4(40000, 5201, 0x0a000002);	/* neither */
		p.svc = MP_SVC_UNKNOWN;
		ok &= expect(t, r, i, &p, i > 1 ? 1 : -1);
		/* a lower id that matches whichever end listens decides */
		p = pkt4(49200, 5201, 0xc0000201);
		p.svc = MP_SVC_UNKNOWN;
		ok &= expect(t, r, i, &p, i > 2 ? 2 : MP_NEED_SVC);
		mp_ctable_free(t);
	}
	report(ok, "service_port");
}

static void test_cgroup(void)
{
	struct mp_rule_spec r[2];
	struct cg cg = { .anc = { 1, 7, 9 }, .depth = 3 };
	struct mp_ctable *t;
	struct mp_pkt p;
	int ok = 1;

	r[0] = any_rule(1, TCP);
	r[0].cgroup_id = 7;
	r[0].cgroup_level = 1;
	r[0].lport.min = 49152;
	r[0].lport.max = 49215;
	r[1] = any_rule(2, TCP);
	r[1].lport.min = 49152;
	r[1].lport.max = 49152;
	t = mp_ctable_build(r, 2);
	if (!t) {
		report(0, "cgroup");
		return;
	}
	p = pkt4(49152, 1, 1);
	ok &= expect(t, r, 2, &p, 1);		/* no socket: no cgroup */
	p.in_cgroup = fake_in_cgroup;
	p.cg_ctx = &cg;
	ok &= expect(t, r, 2, &p, 0);
	cg.anc[1] = 8;
	ok &= expect(t, r, 2, &p, 1);
	cg.anc[1] = 7;
	cg.depth = 1;				/* too shallow */
	ok &= expect(t, r, 2, &p, 1);
	mp_ctable_free(t);
	report(ok, "cgroup");
}

/*
 * mp_rule_covers_lport() against the predicate: a rule that covers a port
 * matches random connections to it, whatever their peer and cgroup; one
 * that does not misses at least one of a few chosen connections to it.
 */
static void test_covers(unsigned long count)
{
	unsigned long i, covered = 0, bad = 0;
	struct mp_rule_spec r;
	struct mp_pkt p;
	struct cg cg;

	for (i = 0; i < count; i++) {
		u16 lport, rports[6];
		unsigned int k, miss = 0;
		bool covers;

		rnd_rule(&r, 1);
		if (chance(50))
			r.family = 0;
		if (chance(50))
			r.cgroup_id = 0;
		if (chance(50))
			r.rport = MP_PORTS_ANY;
		lport = chance(70) ? in_range(r.lport.min, r.lport.max) :
				     rnd_port();
		if (chance(50))
			lport = in_range(r.port.min, r.port.max);
		covers = mp_rule_covers_lport(&r, r.proto, lport);
		covered += covers;
		rports[0] = 0;
		rports[1] = 0xffff;
		rports[2] = r.rport.min - 1;
		rports[3] = r.rport.max + 1;
		rports[4] = r.port.min - 1;
		rports[5] = r.port.max + 1;
		for (k = 0; k < 16; k++) {
			rnd_pkt(&p, &cg, &r, chance(50));
			p.proto = r.proto;
			p.lport = lport;
			p.svc = MP_SVC_LOCAL;	/* connections to lport */
			if (k < 6) {
				/* the worst case for a rule that does not cover */
				p.rport = rports[k];
				p.in_cgroup = NULL;
				p.family = r.family == 4 ? 6 : 4;
			}
			miss += mp_rule_match(&r, &p) != 1;
		}
		if (covers == !miss)
			continue;
		if (bad++ < 3) {
			printf("# covers_lport %d for lport %u, %u of 16 missed\n",
			       covers, lport, miss);
			print_rule("rule", &r);
		}
	}
	printf("# covers: %lu rules, %lu cover the port, %lu wrong\n",
	       count, covered, bad);
	report(!bad && covered && covered < count, "covers_lport");
}

/*
 * Pathological sets: memory must stay bounded and answers right.
 * Nested service port ranges (quadratic class lists in both port maps
 * without the budget), staggered overlapping ranges, one
 * range shared by all rules, a /0../128 chain of nested v6 prefixes.
 */
static void test_patho(const char *name, int kind, unsigned long count)
{
	unsigned int n = 4096, i;
	struct mp_rule_spec *rules = calloc(n, sizeof(*rules));
	unsigned long bad = 0, hits = 0;
	struct mp_ctable *t;

	for (i = 0; rules && i < n; i++) {
		rules[i] = any_rule(n - i, TCP);
		switch (kind) {
		case 0:		/* service port: fills both maps */
			rules[i].port.min = i * 8;
			rules[i].port.max = 0xffff - i * 8;
			break;
		case 1:
			rules[i].rport.min = i * 16;
			rules[i].rport.max = i * 16 + 4096;
			rules[i].port.min = i * 8;
			rules[i].port.max = i * 8 + 8192;
			break;
		case 2:
			rules[i].port.min = 49152;
			rules[i].port.max = 49215;
			rules[i].cgroup_id = cg_id(i % CG_DEPTH, i % 3);
			rules[i].cgroup_level = i % CG_DEPTH;
			break;
		default:
			rules[i].family = 6;
			rules[i].plen = i % 129;
			memset(rules[i].peer, 0xa5, 16);
			rules[i].lport.min = i;
			rules[i].lport.max = i + 3000;
			break;
		}
	}
	t = rules ? mp_ctable_build(rules, n) : NULL;
	if (t)
		bad = check_set(rules, n, t, count, &hits);
	printf("# %s: %lu packets, %lu matched, %lu mismatches, table %lu bytes\n",
	       name, count, hits, bad, mp_ctable_bytes(t));
	/* worst case of classify.c for 4096 rules is about 4.5 MiB */
	report(t && !bad && mp_ctable_bytes(t) <= (5UL << 20), name);
	mp_ctable_free(t);
	free(rules);
}

/*
 * Every allocation of a build, made to fail in turn, must give NULL and
 * leak nothing (run under valgrind); then the build must succeed.
 */
static void test_alloc_failures(void)
{
	unsigned int n = 256, i, k, nulls = 0, tries = 0;
	struct mp_rule_spec *rules = calloc(n, sizeof(*rules));
	struct mp_ctable *t;
	int ok = !!rules;

	narrow_pct = 90;
	mp_test_zalloc = failing_zalloc;
	for (i = 0; rules && i < n; i++)
		rnd_rule(&rules[i], i);
	for (k = 1; ok && k < 1000; k++) {
		alloc_count = 0;
		fail_at = k;
		t = mp_ctable_build(rules, n);
		fail_at = 0;
		tries++;
		if (alloc_count < k) {	/* every allocation has failed once */
			ok = t != NULL;
			mp_ctable_free(t);
			break;
		}
		nulls += !t;
		ok = !t;
		mp_ctable_free(t);
	}
	mp_test_zalloc = NULL;
	printf("# allocation failures: %u builds, %u returned NULL\n", tries,
	       nulls);
	report(ok && nulls + 1 == tries, "allocation_failures");
	free(rules);
}

static void test_limits(void)
{
	struct mp_rule_spec r = any_rule(1, TCP);
	struct mp_ctable *t = mp_ctable_build(&r, MP_CTABLE_MAX_RULES + 1);

	report(!t, "too_many_rules_refused");
	mp_ctable_free(t);
}

int main(int argc, char **argv)
{
	static const unsigned int sizes[] = { 0, 1, 2, 16, 256, 4096 };
	unsigned long long seed = 0x6d69677072696fULL;
	unsigned long count = 100000;
	unsigned int i;
	int opt;

	while ((opt = getopt(argc, argv, "s:n:vh")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			count = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-s SEED] [-n PACKETS_PER_SET_SIZE]\n",
				argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	rnd_seed(seed);
	printf("TAP version 13\n");
	printf("1..%zu\n", ARRAY_SIZE(sizes) + 11);
	printf("# seed 0x%llx, %lu packets per rule-set size\n", seed, count);
	test_empty();
	test_edges();
	test_cgroup();
	test_service_port();
	test_limits();
	test_covers(count / 4);
	test_alloc_failures();
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		test_random(sizes[i], count);
	test_patho("nested_port_ranges", 0, count / 4);
	test_patho("staggered_service_port_ranges", 1, count / 4);
	test_patho("one_range_4096_cgroups", 2, count / 4);
	test_patho("nested_v6_prefix_chain", 3, count / 4);
	printf("# %d/%d passed\n", test_num - failures, test_num);
	return failures ? 1 : 0;
}
