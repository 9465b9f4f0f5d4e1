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

static bool ref_has(struct mp_ports p, u16 port)
{
	return port >= p.min && port <= p.max;
}

/* Everything but the service port, which ref_match() decides. */
static bool ref_match_rest(const struct mp_rule_spec *r,
			   const struct mp_pkt *pkt)
{
	unsigned int plen, i;

	if (pkt->proto != r->proto)
		return false;
	if (!ref_has(r->lport, pkt->lport) || !ref_has(r->rport, pkt->rport))
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

/*
 * The naive reference, written from the spec alone (no compiled form, the
 * prefix compared bit by bit), so that it shares nothing with classify.c.
 * The service port is the port of the end that listens; when the packet
 * does not say which, the rule must give one answer for both ends.
 */
int ref_match(const struct mp_rule_spec *r, const struct mp_pkt *pkt)
{
	bool local, remote;

	if (!ref_match_rest(r, pkt))
		return 0;
	local = ref_has(r->port, pkt->lport);	/* if this host listens */
	remote = ref_has(r->port, pkt->rport);	/* if the peer listens */
	if (pkt->svc == MP_SVC_LOCAL)
		return local;
	if (pkt->svc == MP_SVC_REMOTE)
		return remote;
	if (local && remote)
		return 1;
	return local || remote ? MP_NEED_SVC : 0;
}

int scan_lookup(const struct mp_rule_spec *rules, unsigned int n,
		const struct mp_pkt *p,
		int (*match)(const struct mp_rule_spec *r,
			     const struct mp_pkt *pkt))
{
	int best = -1, answer = 0, m;
	unsigned int i;

	for (i = 0; i < n; i++) {
		m = match(&rules[i], p);
		if (m && (best < 0 || rules[i].id < rules[best].id)) {
			best = i;
			answer = m;
		}
	}
	return answer == MP_NEED_SVC ? MP_NEED_SVC : best;
}

int ref_lookup(const struct mp_rule_spec *rules, unsigned int n,
	       const struct mp_pkt *p)
{
	return scan_lookup(rules, n, p, ref_match);
}
