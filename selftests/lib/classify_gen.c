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
		.port_max = 0xffff, .lport_max = 0xffff, .rport_max = 0xffff,
	};

	return r;
}

int ref_lookup(const struct mp_rule_spec *rules, unsigned int n,
	       const struct mp_pkt *p)
{
	int best = -1;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (mp_rule_match(&rules[i], p) &&
		    (best < 0 || rules[i].id < rules[best].id))
			best = i;
	return best;
}
