/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migprio internal interfaces shared between the control plane (config.c,
 * dev.c, netlink.c, pernet.c) and the data path (hooks.c, flows.c,
 * sockbuf.c).
 *
 * Data flows one way: a netlink request is validated into a new, immutable
 * struct mp_config which is published with RCU; the hooks read it per
 * packet; flows and counters go back out through dumps and events.
 *
 * Names: a function whose name ends in _locked is called with mp_net.lock
 * held; it never takes that lock itself.
 */
#ifndef _MIGPRIO_H
#define _MIGPRIO_H

#include <linux/types.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/u64_stats_sync.h>
#include <linux/netdevice.h>
#include <linux/refcount.h>
#include <linux/workqueue.h>
#include <uapi/linux/migprio.h>

#include "classify.h"

/* Module parameters (main.c). */
extern unsigned int mp_max_rules;	/* per netns, default 4096 */
extern unsigned int mp_max_flows;	/* per netns, default 65536 */
extern unsigned int mp_flow_idle_secs;	/* default 30 */
extern unsigned int mp_build_delay_ms;	/* default 100, see config.c */
/* main.c: set once module unload has begun */
extern bool mp_unloading;

/*
 * Rules added at the end of the set since the last classifier build are
 * matched one by one (mp_rule_match()) until the next build; at most this
 * many, so a burst of additions costs one build per MP_RULES_UNBUILT_MAX.
 */
#define MP_RULES_UNBUILT_MAX	64

/* Per-rule and per-netns counters: per-CPU, summed when read. */
struct mp_counters {
	u64_stats_t tx_packets;
	u64_stats_t tx_bytes;
	u64_stats_t rx_packets;
	u64_stats_t rx_bytes;
	struct u64_stats_sync syncp;
};

struct mp_counters_sum {
	u64 tx_packets, tx_bytes, rx_packets, rx_bytes;
};

/* Counters that change once per flow or socket, not per packet. */
struct mp_events_stats {
	atomic64_t flows_started;
	atomic64_t flows_ended;
	atomic64_t flows_untracked;
	atomic64_t socks_tuned;
	atomic64_t dscp_rewritten;
};

/*
 * A cgroup match is by path: the path is resolved to the cgroup's id when
 * the rule is added, and again by a work item when a socket's cgroup does
 * not match it (at most once a second per netns), so that a cgroup created
 * or re-created after the rule (a VM started later, a scope re-created) is
 * found. The rule's spec.cgroup_id holds the address of this (nonzero,
 * opaque to classify.c); the data path reads id and level with READ_ONCE()
 * and neither allocates nor sleeps.
 */
struct mp_cgmatch {
	u64 id;				/* 0: no such cgroup now */
	u16 level;
	struct cgroup *root;		/* the adder's cgroup namespace root, held */
	struct mp_net *mn;
};

/*
 * A rule. Immutable once published except for its counters and its cgroup
 * id. Shared by successive configs; freed with call_rcu() once a published
 * config no longer holds it.
 */
struct mp_rule {
	struct mp_rule_spec spec;		/* match + id, see classify.h */
	char name[MIGPRIO_NAME_MAXLEN + 1];
	char *cgroup_path;			/* NULL when no cgroup match */
	struct mp_cgmatch cg;
	struct mp_counters __percpu *ctr;
	atomic64_t flows;
	struct rcu_head rcu;
};

/* Parameters of the designated interface. */
struct mp_dev_params {
	u32 priority;		/* skb->priority for migration packets */
	u32 sndbuf;		/* bytes, or MIGPRIO_BUF_AUTO */
	u32 rcvbuf;
	u32 notsent;		/* bytes, MIGPRIO_NOTSENT_AUTO or _OFF */
	s16 dscp;		/* -1: leave DSCP alone */
	u64 rate;		/* bytes/s of the shaper, 0: none */
	u64 link_rate;		/* bytes/s of the link when designated, 0: unknown */
};

/*
 * A rule set and its compiled classifier, shared (refcounted) by successive
 * configs until the rules change, so that a change of the interface or its
 * parameters needs no rebuild. Control plane only: the data path uses the
 * copies in struct mp_config.
 */
struct mp_ruleset {
	refcount_t ref;
	unsigned int nrules;
	unsigned int nbuilt;		/* rules[0..nbuilt) are in the table */
	struct mp_rule **rules;		/* sorted by id */
	struct mp_ctable_ref *ct;	/* table; never NULL, even for 0 rules */
};

/*
 * One immutable snapshot of a netns' configuration. Every change builds a
 * new one under mp_net.lock and publishes it with rcu_assign_pointer().
 */
struct mp_config {
	int ifindex;			/* 0: no designated interface */
	char ifname[IFNAMSIZ];
	struct mp_dev_params dev;
	unsigned int nrules;
	struct mp_rule **rules;		/* sorted by id */
	/*
	 * Compiled classifier over rules[0..nbuilt); never NULL:
	 * mp_ctable_build() is also called with n = 0 and must return an
	 * empty table then. rules[nbuilt..nrules), fewer than
	 * MP_RULES_UNBUILT_MAX, were added since and have higher ids: they
	 * are matched one by one when the table finds nothing.
	 */
	unsigned int nbuilt;
	struct mp_ctable *ctable;
	/*
	 * Classification generation, never 0: a flow's cached rule index is
	 * valid for this gen only. Bumped when the rules or what they match
	 * (a cgroup's id) change, not by designation, parameters or a
	 * rename. Also the rule dump's sequence number.
	 */
	u32 gen;
	/*
	 * Bumped when what a tuned socket gets changes (interface, priority,
	 * sizes, rates): tuned sockets and listeners are tuned again.
	 */
	u32 tune_gen;
	struct mp_ruleset *rs;		/* owner of rules[] and ctable */
	struct rcu_head rcu;
};

struct mp_flow_table;
struct mp_flow;

#define MP_SKCACHE_BITS		8
#define MP_SKCACHE_SLOTS	BIT(MP_SKCACHE_BITS)
struct mp_listeners;

struct mp_net {
	struct net *net;
	struct mutex lock;		/* serialises config changes */
	struct mp_config __rcu *cfg;	/* never NULL after init */
	u32 next_rule_id;
	struct delayed_work build_work;	/* builds rules added meanwhile */
	struct work_struct cg_work;	/* resolves cgroup rules' paths again */
	unsigned long cg_next;		/* jiffies: earliest next cg_work */
	bool hooks_registered;		/* hooks.c, under lock */
	struct mp_counters __percpu *ctr;
	struct mp_events_stats ev;
	struct mp_flow_table *flows;
	/* flows.h, mp_flow_of_sk(): socket-accounted flows by socket */
	struct mp_flow __rcu *skcache[MP_SKCACHE_SLOTS];
	struct mp_listeners *listeners;	/* sockbuf.c */
	/*
	 * sockbuf.c: records of tuned listeners (live or just undone),
	 * changed under the registry's lock, read by the hooks without it.
	 */
	unsigned int listener_records;
};

/* pernet.c */
struct mp_net *mp_net(const struct net *net);
int mp_pernet_init(void);
void mp_pernet_exit(void);

/*
 * The published config, for a reader inside rcu_read_lock() (the hooks run
 * in one) or holding mn->lock. No reference is taken: the config stays
 * valid until rcu_read_unlock(), or until mn->lock is released.
 */
static inline struct mp_config *mp_config_rcu(struct mp_net *mn)
{
	return rcu_dereference_check(mn->cfg, lockdep_is_held(&mn->lock));
}

/* The published config, for a writer: the caller holds mn->lock. */
static inline struct mp_config *mp_config_locked(struct mp_net *mn)
{
	return rcu_dereference_protected(mn->cfg, lockdep_is_held(&mn->lock));
}

/* config.c */
/* config.c: rule @id of @cfg, or NULL. RCU. */
struct mp_rule *mp_config_rule(const struct mp_config *cfg, u32 id);
void mp_counters_sum(struct mp_counters __percpu *ctr,
		     struct mp_counters_sum *sum);
struct mp_counters __percpu *mp_counters_alloc(void);	/* free_percpu() */
int mp_config_init(struct mp_net *mn);
void mp_config_quiesce(struct mp_net *mn);	/* netns exit: works stopped */
void mp_config_destroy(struct mp_net *mn);	/* netns exit */

/* dev.c: follow the designated interface */
int mp_netdev_notifier_register(void);
void mp_netdev_notifier_unregister(void);

/* config.c, any context: a socket's cgroup did not match @m */
void mp_cgroup_miss(const struct mp_cgmatch *m);

/*
 * hooks.c: process context, under mn->lock. Registering registered hooks
 * or unregistering unregistered ones does nothing (hooks.c alone reads and
 * writes mp_net.hooks_registered).
 */
int mp_hooks_register(struct mp_net *mn);
void mp_hooks_unregister(struct mp_net *mn);

/* flows.c */
int mp_flow_cache_create(void);		/* module init and exit */
void mp_flow_cache_destroy(void);
int mp_flows_init(struct mp_net *mn);
void mp_flows_destroy(struct mp_net *mn);	/* ends all, sends events */
void mp_flows_flush(struct mp_net *mn, enum migprio_flow_end reason);
unsigned int mp_flows_active(struct mp_net *mn);
void mp_flows_retune(struct mp_net *mn);	/* have the works tune again */

/* sockbuf.c: tuned listeners, undone when their tuning no longer applies */
int mp_listener_cache_create(void);	/* module init and exit */
void mp_listener_cache_destroy(void);
int mp_listeners_init(struct mp_net *mn);
void mp_listeners_destroy(struct mp_net *mn);	/* undoes all, waits */
void mp_listeners_revalidate(struct mp_net *mn);	/* any context */

/* netlink.c: every message is built there */
int mp_genl_register(void);
void mp_genl_unregister(void);
void mp_nl_dev_notify(struct net *net, const struct mp_config *cfg,
		      enum migprio_dev_change change);

#endif /* _MIGPRIO_H */
