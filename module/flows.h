/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The data path's own view of a tracked flow, shared by hooks.c (per
 * packet), flows.c (table, garbage collection), netlink.c (events and
 * dumps) and sockbuf.c (socket tuning in process context).
 */
#ifndef _MIGPRIO_FLOWS_H
#define _MIGPRIO_FLOWS_H

#include <linux/rhashtable-types.h>
#include <linux/workqueue.h>
#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/rcupdate.h>

#include "migprio.h"

struct sock;

/* A connection as seen by this host. Zero-filled, then filled. */
struct mp_flow_key {
	u8 laddr[16];		/* network order; IPv4 in the first 4 bytes */
	u8 raddr[16];
	u16 lport, rport;	/* host order */
	u8 proto;
	u8 family;		/* 4 or 6 */
	u8 pad[2];
};

/*
 * What migprio changed on a socket, so that it can give exactly that back
 * (and only while the socket still has migprio's values).
 */
struct mp_sk_tuning {
	int sndbuf, rcvbuf;		/* sizes written, 0: left alone */
	int sndbuf_old, rcvbuf_old;
	u32 notsent, notsent_old;	/* TCP_NOTSENT_LOWAT, notsent 0: left alone */
	u8 locks_old;			/* SOCK_{SND,RCV}BUF_LOCK before */
};

/*
 * A socket's values right after migprio tuned it, whether migprio wrote
 * them or left them: a later difference is the application's own
 * setsockopt(), which then wins for the rest of the flow (mp_flow.app).
 */
struct mp_sk_seen {
	u32 notsent;
	int sndbuf, rcvbuf;
	u8 locks;			/* SOCK_{SND,RCV}BUF_LOCK */
};

/* Bits of mp_flow.app: what the application set after migprio did. */
enum {
	MP_APP_PRIO = BIT(0),
	MP_APP_NOTSENT = BIT(1),
	MP_APP_SNDBUF = BIT(2),
	MP_APP_RCVBUF = BIT(3),
};

/* Bits of mp_flow.flags */
enum {
	MP_FLOW_MATCHED,	/* the last classification found a rule */
	MP_FLOW_TUNED,		/* the local socket has our priority/buffers */
	MP_FLOW_STARTED,	/* the start event was sent */
	MP_FLOW_FIN_TX,		/* a FIN was seen: the end is checked */
	MP_FLOW_FIN_RX,		/* against the socket by the collector */
	MP_FLOW_RST,		/* a RST was seen: likewise */
	MP_FLOW_LISTENER,	/* the listener needs tuning from the work */
	MP_FLOW_PARTIAL,	/* given back but the sizes: its owner held it */
	MP_FLOW_SKACCT,		/* counted from its socket: hooks.c, top */
};

struct mp_flow {
	struct rhash_head node;
	struct mp_flow_key key;
	struct list_head list;		/* table's list, RCU, for GC and dumps */
	struct list_head reap;		/* the reaper's lists, once ended */
	struct mp_net *mn;
	/*
	 * Start event and socket tuning, run in process context. Queued from
	 * the hooks (and by itself, later, while a process holds the socket
	 * locked), never once the flow has ended (mp_flow_kick()); cancelled
	 * by the reaper after an RCU grace period, so it never runs after the
	 * flow is freed. It never sleeps on a socket lock, and holds no
	 * socket reference while pending: it looks the socket up by its
	 * tuple when it runs.
	 */
	struct delayed_work work;
	/* (config gen << 32) | (rule index + 1): the cached classification */
	atomic64_t cls;
	unsigned long flags;
	u32 rule_id;			/* last matching rule, 0: none */
	int ifindex;
	u8 dir;				/* enum migprio_flow_dir */
	int end;			/* enum migprio_flow_end, 0: live */
	atomic_t tune_tries;
	u32 prio_set;			/* priority we gave the socket */
	u32 prio_saved;			/* its priority before */
	struct mp_sk_tuning tuning;	/* sizes, with MP_FLOW_TUNED */
	struct mp_sk_seen seen;		/* the socket after the tuning */
	u8 app;				/* MP_APP_*: left to the application */
	u64 sock_id;			/* the socket tuned (sock_gen_cookie) */
	u64 acct_id;			/* the socket counted, MP_FLOW_SKACCT */
	unsigned int sk_slot;		/* its slot in the socket cache */
	u32 tune_gen;			/* mp_config.tune_gen it was tuned for */
	unsigned long start;		/* jiffies of the first packet */
	unsigned long last;		/* jiffies of the last packet */
	atomic64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
	/*
	 * With MP_FLOW_SKACCT: the socket's own counts (mp_sk_counts) already
	 * added to the four above, moved on by every fold (mp_flow_fold()).
	 */
	atomic64_t sk_tx_packets, sk_tx_bytes, sk_rx_packets, sk_rx_bytes;
};

#define MP_FLOW_CLS(gen, idx)	(((u64)(gen) << 32) | (u32)((idx) + 1))
#define MP_FLOW_CLS_GEN(cls)	((u32)((cls) >> 32))
#define MP_FLOW_CLS_IDX(cls)	((int)(u32)(cls) - 1)

/* flows.c */
struct mp_flow *mp_flow_lookup(struct mp_net *mn,
			       const struct mp_flow_key *key);
/*
 * The socket cache: a socket-accounted flow by its socket's address, so
 * that its packets need no hash of their key. A hint the caller checks
 * against the packet's key: the flow it gives is one of the table, the
 * only one with that key (a slot is cleared before its flow leaves the
 * table, and only a live flow is put in one: mp_flow_cache_sk()).
 * Colliding sockets take the slot from each other; the loser's packets
 * use mp_flow_lookup(). Hooks, RCU.
 */
static inline struct mp_flow *mp_flow_of_sk(struct mp_net *mn,
					    const struct sock *sk)
{
	return rcu_dereference(mn->skcache[hash_ptr(sk, MP_SKCACHE_BITS)]);
}

void mp_flow_cache_sk(struct mp_flow *f, const struct sock *sk);
struct mp_flow *mp_flow_create(struct mp_net *mn,
			       const struct mp_flow_key *key, u8 dir,
			       struct mp_rule *rule, u64 cls, int ifindex);
void mp_flow_end(struct mp_flow *f, enum migprio_flow_end reason);
bool mp_flow_kick(struct mp_flow *f);
void mp_flow_retry(struct mp_flow *f);
/* flows.c: the walk of a dump, under rcu_read_lock */
u32 mp_flows_gen(struct mp_net *mn);		/* bumped on every removal */
struct mp_flow *mp_flows_next(struct mp_net *mn, struct mp_flow *prev);

/*
 * netlink.c: a FLOW_START_NTF or FLOW_END_NTF (with f->end as the reason)
 * to the events group. Process context.
 */
void mp_nl_flow_notify(const struct mp_flow *f, u8 cmd);

/* Delay of the work's next try while a process holds the socket locked. */
#define MP_FLOW_RETRY	(HZ / 10)

/* sockbuf.c: process context, never sleeping on a socket lock */
void mp_sock_sync(struct mp_flow *f);
/*
 * The flow ended: give its socket back what it had. False while a process
 * holds the socket and sizes are left to give back (try again later);
 * @final gives back what needs no lock and forgets the rest.
 */
bool mp_sock_release(struct mp_flow *f, bool final);
/* sockbuf.c: any context; may the flow end with @reason? */
bool mp_sock_agrees(struct mp_flow *f, enum migprio_flow_end reason);
/* sockbuf.c: hooks, under RCU */
bool mp_listener_exists(struct net *net, const struct mp_flow_key *k,
			int ifindex);
void mp_listener_tune(struct net *net, const struct mp_flow_key *k,
		      const struct mp_config *cfg, struct mp_flow *f);
/*
 * sockbuf.c: hooks, under RCU, on output through any interface of a netns
 * with a designated one: the first segment of an accepted connection that
 * inherited a tuned listener's sizes gives them back (@f: its flow, if
 * any; a tuned flow's own work did that).
 */
void mp_child_first_tx(struct mp_net *mn, struct sk_buff *skb,
		       struct mp_flow *f);
static inline void mp_child_tx(struct mp_net *mn, struct sk_buff *skb,
			       struct mp_flow *f)
{
	if (unlikely(READ_ONCE(mn->listener_records)))
		mp_child_first_tx(mn, skb, f);
}

/* hooks.c: does a rule of @cfg cover every connection to TCP @lport? RCU */
bool mp_config_covers_lport(const struct mp_config *cfg, u16 lport);
/*
 * hooks.c: add what @sk, the flow's tuned socket (held by the caller),
 * counted since the last fold to the flow and, while it matches, to its
 * rule's and the netns' counters. Any context, under RCU.
 */
void mp_flow_fold(struct mp_flow *f, const struct mp_config *cfg,
		  const struct sock *sk);
/* sockbuf.c: the same, finding the socket by its tuple. Process context. */
void mp_sock_fold(struct mp_flow *f);
/* flows.c: mp_sock_fold() every live flow, before a dump of counters */
void mp_flows_fold(struct mp_net *mn);

#endif /* _MIGPRIO_FLOWS_H */
