/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The egress guard on the queue devices (egress.c): the devices where
 * migprioctl installed the queue layout get a netfilter egress hook that
 * keeps the layout's classes for the sockets of network namespaces with a
 * designation. Used by dev.c (designation, netdevice notifier), netlink.c
 * (dev-set, dev-get, stats-get) and main.c (init, exit).
 */
#ifndef _MIGPRIO_EGRESS_H
#define _MIGPRIO_EGRESS_H

#include <linux/netdevice.h>
#include <uapi/linux/migprio.h>

struct mp_egress_hook;

/*
 * The queue devices of one dev-set request, looked up under RTNL, and the
 * hooks mp_egress_prepare() registered for the devices not hooked yet.
 */
struct mp_egress_req {
	unsigned int n;
	struct net_device *dev[MIGPRIO_QUEUE_DEVS_MAX];
	unsigned int nadded;
	struct mp_egress_hook *added[MIGPRIO_QUEUE_DEVS_MAX];
};

/* main.c: per-netns state (pernet_operations), before the notifier. */
int mp_egress_init(void);
void mp_egress_exit(void);

/*
 * Changing the set, all or nothing, under RTNL (dev.c, with mn->lock):
 * prepare hooks the devices of @req not hooked yet (what can fail: the
 * allocations, the registration); then either abort (the designation
 * failed: unhook what prepare hooked) or commit (the set becomes @req's:
 * unhook the devices not in it). A NULL @req commits the empty set.
 */
int mp_egress_prepare(struct net *net, struct mp_egress_req *req);
void mp_egress_abort(struct net *net, struct mp_egress_req *req);
void mp_egress_commit(struct net *net, const struct mp_egress_req *req);

/* dev.c's netdevice notifier, RTNL held: a device leaves its netns. */
void mp_egress_netdev_unregister(struct net_device *dev);

/* Reading, for netlink.c: the hooked ifindexes (RTNL held), the counter. */
unsigned int mp_egress_devs(struct net *net, int *ifindex, unsigned int max);
u64 mp_egress_resets(struct net *net);

#endif /* _MIGPRIO_EGRESS_H */
