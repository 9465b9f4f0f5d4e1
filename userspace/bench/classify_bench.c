// SPDX-License-Identifier: GPL-2.0
/*
 * P2b: cost of one classifier lookup (module/classify.c built in userspace)
 * for 1, 16, 256 and 4096 rules.
 *
 * Rule sets look like a real deployment grown large: ports drawn from 32
 * ranges (single service ports, the QEMU migration range, random ranges),
 * on the service, local or remote port; 45% IPv4 peer prefixes (/8../32),
 * 45% IPv6 (/16../128), 10% without prefix; 10% UDP. Packets: half built
 * to hit a random rule, half random (ports from the same pool or random,
 * random addresses), a third of them not saying which end listens (a
 * connection picked up mid-stream: such a lookup may answer MP_NEED_SVC,
 * and the module then asks again knowing it); the median over repetitions
 * of the mean ns per lookup
 * is reported for all packets, the hits and the misses, next to a naive
 * linear scan for scale.
 *
 *   classify_bench [-j] [-r REPS] [-n PACKETS] [-s SEED]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "classify_gen.h"

#define NRANGES 32

static u16 rmin[NRANGES], rmax[NRANGES];

static void ranges_init(void)
{
	static const u16 fixed[][2] = {
		{ 49152, 49215 }, { 22, 22 }, { 5201, 5201 }, { 8000, 8100 },
		{ 443, 443 }, { 16509, 16509 }, { 49152, 49152 },
		{ 61000, 61999 },
	};
	unsigned int i, w;

	for (i = 0; i < NRANGES; i++) {
		if (i < ARRAY_SIZE(fixed)) {
			rmin[i] = fixed[i][0];
			rmax[i] = fixed[i][1];
			continue;
		}
		w = i % 3 ? 1 + rnd(1024) : 1;
		rmin[i] = 1024 + rnd(65536 - 1024 - w);
		rmax[i] = rmin[i] + w - 1;
	}
}

static void gen_rule(struct mp_rule_spec *r, u32 id)
{
	unsigned int k = rnd(NRANGES), d = rnd(4), f = rnd(100), i;

	*r = any_rule(id, rnd(10) ? TCP : UDP);
	if (d < 2) {
		r->port.min = rmin[k];
		r->port.max = rmax[k];
	} else if (d == 2) {
		r->lport.min = rmin[k];
		r->lport.max = rmax[k];
	} else {
		r->rport.min = rmin[k];
		r->rport.max = rmax[k];
	}
	if (f < 45) {
		r->family = 4;
		r->plen = 8 + rnd(25);
	} else if (f < 90) {
		r->family = 6;
		r->plen = 16 + rnd(113);
	}
	for (i = 0; i < 16; i++)
		r->peer[i] = (u8)rnd64();
	if (r->family == 6) {		/* global unicast, like real peers */
		r->peer[0] = 0x20;
		r->peer[1] = 0x01;
	}
}

static void gen_pkt(struct mp_pkt *p, const struct mp_rule_spec *rules,
		    unsigned int n, int hit)
{
	const struct mp_rule_spec *r = &rules[rnd(n)];
	unsigned int i;

	memset(p, 0, sizeof(*p));
	p->proto = rnd(10) ? TCP : UDP;
	p->family = rnd(2) ? 4 : 6;
	p->svc = rnd(3);		/* enum mp_svc */
	p->lport = rnd(2) ? rmin[rnd(NRANGES)] : rnd(65536);
	p->rport = rnd(2) ? rmin[rnd(NRANGES)] : 32768 + rnd(28232);
	for (i = 0; i < 16; i++)
		p->raddr[i] = (u8)rnd64();
	if (p->family == 6) {
		p->raddr[0] = 0x20;
		p->raddr[1] = 0x01;
	}
	if (!hit)
		return;
	p->proto = r->proto;
	p->lport = in_range(r->lport.min, r->lport.max);
	p->rport = in_range(r->rport.min, r->rport.max);
	if (!mp_ports_any(r->port) && p->svc == MP_SVC_REMOTE)
		p->rport = in_range(r->port.min, r->port.max);
	else if (!mp_ports_any(r->port))
		p->lport = in_range(r->port.min, r->port.max);
	if (r->family) {
		p->family = r->family;
		for (i = 0; i < 16; i++) {
			u8 keep = r->plen >= 8 * (i + 1) ? 0xff :
				  r->plen <= 8 * i ? 0 :
				  (u8)(0xff00 >> (r->plen - 8 * i));

			p->raddr[i] = (r->peer[i] & keep) | (p->raddr[i] & ~keep);
		}
	}
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_id(const void *a, const void *b)
{
	const struct mp_rule_spec *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static volatile long sink;

/* Mean ns per lookup over @m lookups cycling through @pk[0..mask]. */
static double time_table(const struct mp_ctable *t, const struct mp_pkt *pk,
			 unsigned int m, unsigned int mask)
{
	double t0 = now_ns();
	unsigned int i;
	long s = 0;

	for (i = 0; i < m; i++)
		s += mp_ctable_lookup(t, &pk[i & mask]);
	sink += s;
	return (now_ns() - t0) / m;
}

static double time_naive(const struct mp_rule_spec *rules, unsigned int n,
			 const struct mp_pkt *pk, unsigned int m)
{
	double t0 = now_ns();
	unsigned int i;
	long s = 0;

	/* what the module does for rules not in the table yet */
	for (i = 0; i < m; i++)
		s += scan_lookup(rules, n, &pk[i], mp_rule_match);
	sink += s;
	return (now_ns() - t0) / m;
}

enum { M_ALL, M_HIT, M_MISS, M_WARM, M_NUM };

struct setup {
	unsigned int n, nh, nm;
	struct mp_rule_spec *rules;
	struct mp_ctable *t;
	struct mp_pkt *pk, *hit, *miss;
	double v[M_NUM][64];
	double med[M_NUM], naive, build_ms, matched;
	unsigned long bytes;
};

static int setup(struct setup *su, unsigned int n, unsigned int m)
{
	unsigned int i, j;
	double t0;

	su->n = n;
	su->rules = calloc(n, sizeof(*su->rules));
	su->pk = calloc(m, sizeof(*su->pk));
	su->hit = calloc(m, sizeof(*su->pk));
	su->miss = calloc(m, sizeof(*su->pk));
	if (!su->rules || !su->pk || !su->hit || !su->miss)
		return -1;
	for (i = 0; i < n; i++)
		gen_rule(&su->rules[i], i);
	for (i = n - 1; i > 0; i--) {	/* ids in random order */
		u32 tmp = su->rules[i].id;

		j = rnd(i + 1);
		su->rules[i].id = su->rules[j].id;
		su->rules[j].id = tmp;
	}
	/* the module gives the table its rules in id order */
	qsort(su->rules, n, sizeof(*su->rules), cmp_id);
	t0 = now_ns();
	su->t = mp_ctable_build(su->rules, n);
	su->build_ms = (now_ns() - t0) / 1e6;
	if (!su->t)
		return -1;
	for (i = 0; i < m; i++) {
		gen_pkt(&su->pk[i], su->rules, n, i & 1);
		if (mp_ctable_lookup(su->t, &su->pk[i]) >= 0)
			su->hit[su->nh++] = su->pk[i];
		else
			su->miss[su->nm++] = su->pk[i];
	}
	su->bytes = mp_ctable_bytes(su->t);
	su->matched = 100.0 * su->nh / m;
	su->naive = time_naive(su->rules, n, su->pk, n >= 256 ? m / 64 : m);
	return 0;
}

/* One repetition of every measurement (sizes interleaved by the caller). */
static void measure(struct setup *su, unsigned int m, unsigned int r)
{
	su->v[M_ALL][r] = time_table(su->t, su->pk, m, ~0U);
	su->v[M_HIT][r] = su->nh ? time_table(su->t, su->hit, su->nh, ~0U) : 0;
	su->v[M_MISS][r] = su->nm ? time_table(su->t, su->miss, su->nm, ~0U) :
			   0;
	su->v[M_WARM][r] = time_table(su->t, su->pk, m, 63);
}

int main(int argc, char **argv)
{
	static const unsigned int sizes[] = { 1, 16, 256, 4096 };
	unsigned int nsz = ARRAY_SIZE(sizes);
	unsigned int reps = 9, m = 1 << 16, r, k, s;
	unsigned long long seed = 0x62656e6368ULL;
	static struct setup su[4];
	int json = 0, opt;

	while ((opt = getopt(argc, argv, "jr:n:s:h")) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'r':
			reps = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			m = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr,
				"usage: %s [-j] [-r REPS] [-n PACKETS] [-s SEED]\n",
				argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (reps < 1 || reps > 64 || m < 64) {
		fprintf(stderr, "bad -r (1..64) or -n (>= 64)\n");
		return 2;
	}
	rnd_seed(seed);
	ranges_init();
	for (s = 0; s < nsz; s++) {
		if (setup(&su[s], sizes[s], m)) {
			fprintf(stderr, "setup failed for %u rules\n",
				sizes[s]);
			return 1;
		}
		measure(&su[s], m, 0);		/* warm-up, discarded */
	}
	for (r = 0; r < reps; r++)
		for (s = 0; s < nsz; s++)
			measure(&su[s], m, r);
	for (s = 0; s < nsz; s++) {
		for (k = 0; k < M_NUM; k++) {
			qsort(su[s].v[k], reps, sizeof(double), cmp_double);
			su[s].med[k] = su[s].v[k][reps / 2];
		}
		mp_ctable_free(su[s].t);
		free(su[s].rules);
		free(su[s].pk);
		free(su[s].hit);
		free(su[s].miss);
	}
	if (json) {
		printf("{\"bench\":\"classify\",\"reps\":%u,\"packets\":%u,\"results\":[",
		       reps, m);
		for (s = 0; s < nsz; s++)
			printf("%s{\"rules\":%u,\"ns_per_lookup\":%.1f,\"ns_hit\":%.1f,\"ns_miss\":%.1f,\"ns_warm\":%.1f,\"ns_naive\":%.1f,\"matched_pct\":%.1f,\"table_bytes\":%lu,\"build_ms\":%.2f}",
			       s ? "," : "", su[s].n, su[s].med[M_ALL],
			       su[s].med[M_HIT], su[s].med[M_MISS],
			       su[s].med[M_WARM], su[s].naive, su[s].matched,
			       su[s].bytes, su[s].build_ms);
		printf("],\"ratio_4096_to_1\":%.2f,\"ratio_warm_4096_to_1\":%.2f}\n",
		       su[nsz - 1].med[M_ALL] / su[0].med[M_ALL],
		       su[nsz - 1].med[M_WARM] / su[0].med[M_WARM]);
		return 0;
	}
	printf("P2b classifier lookup, ns per lookup (thread CPU time), median of %u interleaved runs of %u packets\n",
	       reps, m);
	printf("%6s %9s %7s %7s %8s %9s %8s %10s %9s\n", "rules", "all", "hit",
	       "miss", "warm64", "naive", "matched", "table KiB", "build ms");
	for (s = 0; s < nsz; s++)
		printf("%6u %9.1f %7.1f %7.1f %8.1f %9.1f %7.1f%% %10.1f %9.2f\n",
		       su[s].n, su[s].med[M_ALL], su[s].med[M_HIT],
		       su[s].med[M_MISS], su[s].med[M_WARM], su[s].naive,
		       su[s].matched, su[s].bytes / 1024.0, su[s].build_ms);
	printf("4096 vs 1 rule: %.2fx (all packets), %.2fx (warm64: 64 packets cycled)\n",
	       su[nsz - 1].med[M_ALL] / su[0].med[M_ALL],
	       su[nsz - 1].med[M_WARM] / su[0].med[M_WARM]);
	return 0;
}
