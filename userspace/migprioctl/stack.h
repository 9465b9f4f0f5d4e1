/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where the designated interface's traffic meets everything else: the
 * devices below it that get the queue layout and the NICs whose rings are
 * sized. Implemented in stack.c from one rtnetlink dump of the links;
 * used by dev.c (dev set, show, clear) and, through it, by syncconf and
 * its follower.
 */
#ifndef MIGPRIOCTL_STACK_H
#define MIGPRIOCTL_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <linux/types.h>

#define MP_STACK_MAX	16	/* queue devices, ring devices */

struct mp_stack_dev {
	__u32 ifindex;
	char ifname[IF_NAMESIZE];
};

struct mp_stack {
	/* the queue layout goes on each (a bond, a NIC, per-slave: slaves) */
	struct mp_stack_dev queue[MP_STACK_MAX];
	unsigned int nqueue;
	/* rings: the devices at the bottom (a bond's slaves, else the queue's) */
	struct mp_stack_dev rings[MP_STACK_MAX];
	unsigned int nrings;
	/* why, for dev show: "vmbr0.100 (vlan) > vmbr0 (bridge) > bond0 (bond ...)" */
	char path[384];
	/*
	 * Every device below the designated one (bridge ports, bond slaves,
	 * a VLAN's lower...), filled even when the walk fails: a device
	 * migprio changed that is not in it is no longer its business.
	 */
	__u32 *below;
	unsigned int nbelow;
};

struct mp_stack_req {
	__u32 ifindex;		/* the designated device */
	const char *uplink;	/* "uplink DEV", or NULL: found by the walk */
	bool per_slave;		/* a bond's or team's layout on each slave */
};

/*
 * Walk down from req->ifindex (see stack.c for the rules). 0, or -errno
 * with err saying why no queue device can be chosen (ambiguous, none, in
 * another netns, uplink not below); st->below is filled in both cases.
 * Free with mp_stack_free().
 */
int mp_stack_walk(const struct mp_stack_req *req, struct mp_stack *st,
		  char *err, size_t errlen);
void mp_stack_free(struct mp_stack *st);
bool mp_stack_is_below(const struct mp_stack *st, __u32 ifindex);

#endif /* MIGPRIOCTL_STACK_H */
