// SPDX-License-Identifier: GPL-2.0
/*
 * Random input for the classifier core, shared by its unit test and its
 * benchmark (see classify_gen.h).
 */
#include "classify_gen.h"

static unsigned long long rng_state;

void rnd_seed(unsigned long long seed)
{
	rng_state = seed;
}

unsigned long long rnd64(void)
{
	/* splitmix64 */
	unsigned long long z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

unsigned int rnd(unsigned int n)
{
	return n ? (unsigned int)(rnd64() % n) : 0;
}

u16 in_range(u16 min, u16 max)
{
	if (min > max)
		return (u16)rnd(65536);
	return (u16)(min + rnd((unsigned int)max - min + 1));
}

struct mp_rule_spec any_rule(u32 id, u8 proto)
{
	struct mp_rule_spec r = {
		.id = id, .proto = proto,
		.port = MP_PORTS_ANY, .lport = MP_PORTS_ANY,
		.rport = MP_PORTS_ANY,
	};

	return r;
}

/*
 * The naive reference, written from the spec alone (no compiled form, the
 * prefix compared bit by bit), so that it shares nothing with classify.c.
 */
bool ref_match(const struct mp_rule_spec *r, const struct mp_pkt *pkt)
{
	unsigned int plen, i;

	if (pkt->proto != r->proto)
		return false;
	if (pkt->lport < r->lport.min || pkt->lport > r->lport.max)
		return false;
	if (pkt->rport < r->rport.min || pkt->rport > r->rport.max)
		return false;
	if ((pkt->lport < r->port.min || pkt->lport > r->port.max) &&
	    (pkt->rport < r->port.min || pkt->rport > r->port.max))
		return false;
	if (r->family) {
		if (r->family != 4 && r->family != 6)
			return false;
		if (pkt->family != r->family)
			return false;
		plen = r->plen;
		if (r->family == 4 && plen > 32)
			plen = 32;
		if (plen > 128)
			plen = 128;
		for (i = 0; i < plen; i++) {
			u8 bit = 0x80 >> (i % 8);

			if ((pkt->raddr[i / 8] & bit) != (r->peer[i / 8] & bit))
				return false;
		}
	}
	if (r->cgroup_id) {
		if (!pkt->in_cgroup)
			return false;
		if (!pkt->in_cgroup(pkt->cg_ctx, r->cgroup_id, r->cgroup_level))
			return false;
	}
	return true;
}

int scan_lookup(const struct mp_rule_spec *rules, unsigned int n,
		const struct mp_pkt *p,
		bool (*match)(const struct mp_rule_spec *r,
			      const struct mp_pkt *pkt))
{
	int best = -1;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (match(&rules[i], p) &&
		    (best < 0 || rules[i].id < rules[best].id))
			best = i;
	return best;
}

int ref_lookup(const struct mp_rule_spec *rules, unsigned int n,
	       const struct mp_pkt *p)
{
	return scan_lookup(rules, n, p, ref_match);
}
