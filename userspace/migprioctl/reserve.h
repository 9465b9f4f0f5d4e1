/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The migration ports in net.ipv4.ip_local_reserved_ports, on request: the
 * rule lines of a syncconf file that carry the word reserve-ports have
 * their port and lport ranges reserved, so that no connection this host
 * opens takes one of them as its ephemeral port. Only what migprioctl
 * added is ever taken out again; what it added, the value it found first
 * and the rules that asked are recorded in
 *   /run/migprio/<netns inode>-reserved-ports
 * with "key value" lines:
 *   before LIST    the sysctl's value before migprioctl first added a port
 *                  ("-": empty); for the administrator, never written back
 *   added LIST     the ports migprioctl added and will take out again
 *   rule LINE      the match of a rule line with reserve-ports (showconf)
 * LIST is the sysctl's own syntax (1000,2000-2010). The file goes when
 * nothing is reserved any more.
 */
#ifndef MIGPRIOCTL_RESERVE_H
#define MIGPRIOCTL_RESERVE_H

#include "migprioctl.h"

#define MP_RESERVED_PORTS	"/proc/sys/net/ipv4/ip_local_reserved_ports"

/* What reserve_sync() changed, to put back when a later step fails. */
struct reserve_prev {
	bool wrote_sysctl, wrote_record;
	char *sysctl;		/* the sysctl's value before */
	char *state;		/* the record's text before, NULL: none */
};

/*
 * Make the ports migprioctl reserved those of @rules with reserve_ports
 * set: add the missing ones, take out those it added that no rule asks
 * for any more, record it. Does nothing (not even read the sysctl) when no
 * rule asks and nothing is recorded. 0, or 1 after reporting an error
 * (nothing changed). *changed: the sysctl or the asking rules changed.
 * @prev: what reserve_undo() puts back (free it with _free() otherwise).
 */
int reserve_sync(const struct rule_add_args *const *rules, unsigned int n,
		 struct reserve_prev *prev, bool *changed);
/* Put back what reserve_sync() changed, then free @prev. */
void reserve_undo(struct reserve_prev *prev);
void reserve_prev_free(struct reserve_prev *prev);

/* The rule matches recorded as asking for reserve-ports. */
struct reserve_rules {
	char *text;		/* one per line, each ending in a newline */
	unsigned int n;
};

/* Read them (none without a record); 0 or -errno. Free with _free(). */
int reserve_rules_load(struct reserve_rules *r);
/* Does the rule whose conf line is @line (@keylen: its match) ask? */
bool reserve_rules_has(const struct reserve_rules *r, const char *line,
		       size_t keylen);
void reserve_rules_free(struct reserve_rules *r);

#endif /* MIGPRIOCTL_RESERVE_H */
