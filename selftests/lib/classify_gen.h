/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Random input for the classifier core (module/classify.c) built in
 * userspace, shared by its unit test (selftests/classify_unit.c) and its
 * benchmark (classify_bench.c): a seeded generator (splitmix64, the same
 * sequence for the same seed), rules and packet ports, and the reference
 * answer of a linear scan.
 */
#ifndef MIGPRIO_CLASSIFY_GEN_H
#define MIGPRIO_CLASSIFY_GEN_H

#include "classify.h"

#define TCP 6
#define UDP 17

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* Restart the sequence of rnd64()/rnd() at seed. */
void rnd_seed(unsigned long long seed);
unsigned long long rnd64(void);
/* 0..n-1 (0 when n is 0). */
unsigned int rnd(unsigned int n);

/* A port in [min, max]; any port when the range is empty (min > max). */
u16 in_range(u16 min, u16 max);

/* A rule for proto that matches any port and any peer. */
struct mp_rule_spec any_rule(u32 id, u8 proto);

/*
 * Does @r match @pkt: 1, 0, or MP_NEED_SVC when pkt->svc does not say
 * which end listens and the rule matches for one end only? A naive
 * reference for mp_rule_match().
 */
int ref_match(const struct mp_rule_spec *r, const struct mp_pkt *pkt);

/*
 * Index of the rule with the lowest id that @match says matches (or, when
 * that rule's answer is MP_NEED_SVC, MP_NEED_SVC), or -1: a linear scan,
 * as the module does for rules not in its table yet.
 */
int scan_lookup(const struct mp_rule_spec *rules, unsigned int n,
		const struct mp_pkt *p,
		int (*match)(const struct mp_rule_spec *r,
			     const struct mp_pkt *pkt));

/* The lowest id ref_match() gives (scan_lookup()), -1 or MP_NEED_SVC. */
int ref_lookup(const struct mp_rule_spec *rules, unsigned int n,
	       const struct mp_pkt *p);

#endif /* MIGPRIO_CLASSIFY_GEN_H */
