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

/*
 * What syncconf does to the reserved ports, worked out first (--dry-run
 * prints it) by reserve_plan(), made by reserve_apply().
 */
struct reserve_plan {
	bool active;		/* a rule asks or asked: else nothing is read */
	bool sysctl_changes;	/* the sysctl's value changes */
	bool changed;		/* the sysctl or the rules asking change */
	char *sysctl, *value;	/* the sysctl's value now and after */
	char *more, *less;	/* the ports it adds and takes out, "": none */
	char *state, *text;	/* the record's text now and after, NULL: none */
	struct reserve_rules asked;	/* the rules recorded as asking now */
	bool wrote_sysctl, wrote_record;	/* reserve_apply() did */
};

/*
 * The plan: the ports migprioctl reserved become those of @rules with
 * reserve_ports set (the missing ones added, those it added that no rule
 * asks for any more taken out). Reads nothing (not even the sysctl) when
 * no rule asks and nothing is recorded. 0, or 1 after reporting an error.
 * Free it with reserve_plan_free() in any case.
 */
int reserve_plan(const struct rule_add_args *const *rules, unsigned int n,
		 struct reserve_plan *pl);
/* Write the sysctl and the record; 0, or 1 after reporting (nothing changed). */
int reserve_apply(struct reserve_plan *pl);
/* A later step failed: put back what reserve_apply() wrote. */
void reserve_undo(struct reserve_plan *pl);
void reserve_plan_free(struct reserve_plan *pl);

#endif /* MIGPRIOCTL_RESERVE_H */
