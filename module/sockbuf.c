// SPDX-License-Identifier: GPL-2.0
/*
 * Socket tuning: the local TCP socket of a migration flow gets the
 * designated interface's priority, buffer sizes and unsent-bytes bound, on
 * both ends, and gets back what it had when the tuning no longer applies.
 *
 * The buffer policy keeps the application's view of the path honest. QEMU
 * (like most senders) measures bandwidth from the bytes it has written to
 * its sockets and stops the guest when the rest fits in its downtime limit;
 * every byte a socket holds unsent is a byte QEMU counts as moved. So:
 *  - each tuned socket holds at most "notsent" unsent bytes (the semantics
 *    of TCP_NOTSENT_LOWAT: a writer blocks beyond it); bytes in flight
 *    (the congestion window) are not limited;
 *  - buffers are sized for the path from its bandwidth-delay product (rate:
 *    the shaping rate, else the link speed; RTT: the socket's smoothed RTT
 *    after the handshake): the send buffer holds 2 BDP, the receive buffer
 *    offers 2 BDP of window; both are left to the kernel's autotuning when
 *    tcp_wmem/tcp_rmem's maximum covers that;
 *  - fixed sizes are still accepted, and "notsent off" leaves the socket's
 *    own setting.
 * A listener only gets a larger receive buffer when the path needs a
 * window scale beyond what the autotuning maximum gives (its SYN-ACK is
 * built from it); that tuning is recorded and undone when it no longer
 * applies (rule deleted, interface cleared or changed, module unloaded).
 *
 * Sizes are only written with the socket locked the way the TCP receive
 * path locks it: bh_lock_sock() and no owner (sock_owned_by_user()), which
 * excludes setsockopt() and the owner's system calls; or in the socket's
 * own transmit path, where TCP holds it either way (mp_child_first_tx()).
 * Nothing here sleeps on a socket lock: a local process can hold one for
 * as long as it likes (a sendmsg() from a page that faults slowly), and a
 * work waiting for it would hold up the reaper, which netns exit and
 * module unload wait for. When the socket is owned, the work tries again
 * a little later, for the tuning and for giving sizes back alike.
 *
 * The priority and TCP_NOTSENT_LOWAT are single words that setsockopt()
 * replaces in one store (6.12 writes SO_PRIORITY without the socket lock):
 * they are swapped with cmpxchg(), so neither side loses a write, and
 * giving them back is never deferred. Only the socket's lock holder may
 * call sk_write_space() (kTLS's pushes a record): a larger bound given
 * back to an owned socket wakes nobody, its owner sees it.
 *
 * The application's setsockopt() wins: a value migprio finds changed since
 * it tuned the socket (compared with what the socket had right after) is
 * the application's, and migprio leaves that field alone for the rest of
 * the flow, when it re-tunes and when it gives the socket back. The
 * comparison is by value: an application that sets exactly migprio's
 * value is not told apart. A socket that already had migprio's priority
 * keeps it when the flow ends: migprio never saves its own value as the
 * socket's original.
 *
 * Nothing here holds a socket reference while waiting: sockets are looked
 * up by their tuple when a work runs and recognised by their cookie
 * (sock_gen_cookie(), never reused), so a socket that went away is simply
 * not found, and one at a freed socket's address is not taken for it.
 */

#include <linux/hash.h>
#include <linux/slab.h>
#include <linux/sock_diag.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/inet_hashtables.h>
#include <net/inet6_hashtables.h>

#include "compat.h"
#include "flows.h"

/* Rate assumed when neither a shaping rate nor the link speed is known. */
#define MP_RATE_GUESS		(10000ULL * 125000)	/* 10 Gbit/s */
#define MP_RATE_MAX		(1000000ULL * 125000)	/* 1 Tbit/s */
/*
 * RTT a listener's receive buffer is sized for: its connections' RTT is not
 * known when the SYN-ACK (and so the window scale) is made.
 */
#define MP_RTT_LISTENER_US	(250 * USEC_PER_MSEC)
#define MP_AUTO_BUF_MAX		(256U << 20)
/*
 * Auto sizes in bandwidth-delay products: two BDPs of data in the send
 * buffer (in flight plus the retransmit queue; unsent bytes are bounded by
 * notsent), and two BDPs of window from the receive buffer, of which TCP
 * offers about half as window (the rest covers skb overhead).
 */
#define MP_SNDBUF_BDPS		2
#define MP_RCVBUF_BDPS		4
/* notsent auto: this much time at the rate, within [MIN, MAX]. */
#define MP_NOTSENT_AUTO_US	(4 * USEC_PER_MSEC)
#define MP_NOTSENT_AUTO_MIN	(128U << 10)
#define MP_NOTSENT_AUTO_MAX	(8U << 20)
/*
 * Tuned listeners remembered per netns; beyond, listeners are left alone.
 * Undone records are kept a while longer (at most as many again).
 */
#define MP_LISTENERS_MAX	256
#define MP_LISTENERS_BITS	6
/* A listener its process holds is given back its sizes this much later. */
#define MP_LISTENER_RETRY	(HZ / 10)
/* A listener was tuned: the records of those gone are dropped this later. */
#define MP_LISTENER_GC		HZ
/*
 * An undone listener record stays this long for the connections accepted
 * before (their first segment gives back what they inherited).
 */
#define MP_LISTENER_LINGER	(10 * HZ)

/*
 * A listener whose buffers migprio raised: which socket (its cookie), and
 * how to find it again (the tuple of a SYN it answered). Published with
 * RCU in its bucket; only @retired changes after that.
 */
struct mp_listener {
	struct hlist_node node;		/* ls->hash[], RCU */
	struct list_head undo;		/* the work's own list */
	struct rcu_head rcu;
	u64 cookie;
	struct mp_flow_key key;
	int ifindex;
	u32 tune_gen;
	unsigned long retired;		/* jiffies when undone, 0: live */
	struct mp_sk_tuning t;
};

struct mp_listeners {
	spinlock_t lock;		/* changes to hash, live, dying, due; BH */
	struct hlist_head hash[1 << MP_LISTENERS_BITS];	/* by local port */
	unsigned int live;		/* records not undone */
	bool dying;
	bool full;			/* a SYN found no room: work queued */
	struct delayed_work work;	/* undo what no longer applies */
	unsigned long due;		/* when the queued work runs */
	struct mp_net *mn;
};

static struct kmem_cache *mp_listener_cache;

int mp_listener_cache_create(void)
{
	mp_listener_cache = KMEM_CACHE(mp_listener, 0);
	return mp_listener_cache ? 0 : -ENOMEM;
}

void mp_listener_cache_destroy(void)
{
	kmem_cache_destroy(mp_listener_cache);
}

static __be32 mp_v4(const u8 *a)
{
	__be32 v;

	memcpy(&v, a, sizeof(v));
	return v;
}

/* The socket's cookie: its identity, never reused. Any context. */
static u64 mp_sk_cookie(struct sock *sk)
{
	u32 c[2];

	sock_diag_save_cookie(sk, c);
	return (u64)c[1] << 32 | c[0];
}

/*
 * The TCP listener an incoming SYN of @k goes to; RCU, no reference.
 * Listeners are freed after a grace period (SOCK_RCU_FREE): it stays a
 * socket until rcu_read_unlock(), if maybe a closed one.
 */
static struct sock *mp_listener_find(struct net *net,
				     const struct mp_flow_key *k, int ifindex)
{
	if (k->family == 4)
		return mp_inet_lookup_listener(net, NULL, 0, mp_v4(k->raddr),
					       htons(k->rport), mp_v4(k->laddr),
					       k->lport, ifindex, 0);
	return mp_inet6_lookup_listener(net, NULL, 0,
					(const struct in6_addr *)k->raddr,
					htons(k->rport),
					(const struct in6_addr *)k->laddr,
					k->lport, ifindex, 0);
}

/* The connection's own socket (full, request or timewait), referenced. */
static struct sock *mp_sock_lookup(struct net *net,
				   const struct mp_flow_key *k, int ifindex)
{
	struct sock *sk;

	rcu_read_lock();
	if (k->family == 4)
		sk = mp_inet_lookup_established(net, mp_v4(k->raddr),
						htons(k->rport),
						mp_v4(k->laddr), k->lport,
						ifindex, 0);
	else
		sk = mp_inet6_lookup_established(net,
						 (const struct in6_addr *)k->raddr,
						 htons(k->rport),
						 (const struct in6_addr *)k->laddr,
						 k->lport, ifindex, 0);
	rcu_read_unlock();
	return sk;
}

/* Called under rcu_read_lock (the hooks). */
bool mp_listener_exists(struct net *net, const struct mp_flow_key *k,
			int ifindex)
{
	return k->proto == IPPROTO_TCP && mp_listener_find(net, k, ifindex);
}

/* Sizing */

static u64 mp_path_rate(const struct mp_dev_params *p)
{
	u64 rate = p->rate ? : p->link_rate ? : MP_RATE_GUESS;

	return min(rate, MP_RATE_MAX);
}

/*
 * The buffer for @conf: a fixed size as configured, or for "auto" @bdps
 * bandwidth-delay products, 0 (leave it to autotuning) when the autotuning
 * maximum @autotune_max already reaches that.
 */
static u32 mp_buf_size(u32 conf, unsigned int bdps, u64 rate, u32 rtt_us,
		       int autotune_max)
{
	u64 size;

	if (conf != MIGPRIO_BUF_AUTO)
		return conf;
	size = bdps * div_u64(rate * rtt_us, USEC_PER_SEC);
	if (size <= (u64)max(autotune_max, 0))
		return 0;
	return min_t(u64, size, MP_AUTO_BUF_MAX);
}

/* The unsent-bytes bound for @conf; 0: leave the socket's own. */
static u32 mp_notsent_size(u32 conf, u64 rate)
{
	u64 size;

	if (conf == MIGPRIO_NOTSENT_OFF)
		return 0;
	if (conf != MIGPRIO_NOTSENT_AUTO)
		return conf;
	size = div_u64(rate * MP_NOTSENT_AUTO_US, USEC_PER_SEC);
	return clamp_t(u64, size, MP_NOTSENT_AUTO_MIN, MP_NOTSENT_AUTO_MAX);
}

/* Socket changes */

/*
 * Like SO_SNDBUF/SO_RCVBUF (sizes locked against autotuning) but without
 * the wmem_max/rmem_max cap, never below what the socket has, and recorded
 * in @t. A connected socket's window clamp was computed from its old
 * receive buffer: raise it as autotuning would. 0: leave that buffer alone.
 * Socket locked, not owned.
 */
static void mp_sk_set_bufs(struct sock *sk, struct mp_sk_tuning *t,
			   u32 sndbuf, u32 rcvbuf)
{
	if (sndbuf && sk->sk_sndbuf < (int)sndbuf) {
		t->sndbuf_old = sk->sk_sndbuf;
		t->locks_old |= sk->sk_userlocks & SOCK_SNDBUF_LOCK;
		t->sndbuf = sndbuf;
		sk->sk_userlocks |= SOCK_SNDBUF_LOCK;
		WRITE_ONCE(sk->sk_sndbuf, sndbuf);
		if (sk->sk_state != TCP_LISTEN)
			sk->sk_write_space(sk);
	}
	if (rcvbuf && sk->sk_rcvbuf < (int)rcvbuf) {
		t->rcvbuf_old = sk->sk_rcvbuf;
		t->locks_old |= sk->sk_userlocks & SOCK_RCVBUF_LOCK;
		t->rcvbuf = rcvbuf;
		sk->sk_userlocks |= SOCK_RCVBUF_LOCK;
		WRITE_ONCE(sk->sk_rcvbuf, rcvbuf);
		if (sk->sk_state != TCP_LISTEN) {
			struct tcp_sock *tp = tcp_sk(sk);
			u32 win = tcp_win_from_space(sk, rcvbuf);

			if (tp->window_clamp < win)
				WRITE_ONCE(tp->window_clamp, win);
		}
	}
}

/* False when setsockopt() got there first: the application's value. */
static bool mp_sk_set_notsent(struct sock *sk, struct mp_sk_tuning *t,
			      u32 notsent)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!notsent || sk->sk_state == TCP_LISTEN)
		return true;
	t->notsent_old = READ_ONCE(tp->notsent_lowat);
	if (cmpxchg(&tp->notsent_lowat, t->notsent_old, notsent) !=
	    t->notsent_old)
		return false;
	t->notsent = notsent;
	sk->sk_write_space(sk);
	return true;
}

/*
 * Give back the buffer sizes @t records, where the socket still has
 * migprio's value, but those in @skip (MP_APP_SNDBUF, MP_APP_RCVBUF).
 * Smaller sizes wake nobody. The socket is locked, or this is its own
 * transmit path.
 */
static void mp_sk_restore_bufs(struct sock *sk, const struct mp_sk_tuning *t,
			       u8 skip)
{
	if (t->sndbuf && sk->sk_sndbuf == t->sndbuf &&
	    !(skip & MP_APP_SNDBUF)) {
		sk->sk_userlocks &= ~SOCK_SNDBUF_LOCK;
		sk->sk_userlocks |= t->locks_old & SOCK_SNDBUF_LOCK;
		WRITE_ONCE(sk->sk_sndbuf, t->sndbuf_old);
	}
	if (t->rcvbuf && sk->sk_rcvbuf == t->rcvbuf &&
	    !(skip & MP_APP_RCVBUF)) {
		sk->sk_userlocks &= ~SOCK_RCVBUF_LOCK;
		sk->sk_userlocks |= t->locks_old & SOCK_RCVBUF_LOCK;
		WRITE_ONCE(sk->sk_rcvbuf, t->rcvbuf_old);
	}
}

/* Does @sk carry the sizes @t raised, as a child inherits them? */
static bool mp_sk_has_bufs(const struct sock *sk, const struct mp_sk_tuning *t)
{
	return (t->sndbuf && sk->sk_sndbuf == t->sndbuf &&
		(sk->sk_userlocks & SOCK_SNDBUF_LOCK)) ||
	       (t->rcvbuf && sk->sk_rcvbuf == t->rcvbuf &&
		(sk->sk_userlocks & SOCK_RCVBUF_LOCK));
}

/* Listeners */

/*
 * What a listener gets: the fixed sizes, or for "auto" a receive buffer
 * large enough for the window scale a long path needs (its connections'
 * RTT is not known yet). The children inherit it; their own flows size
 * their buffers once they have an RTT, and their first segment gives
 * back what they inherited (mp_child_first_tx()).
 */
static void mp_listener_sizes(struct net *net, const struct mp_dev_params *p,
			      u32 *sndbuf, u32 *rcvbuf)
{
	*sndbuf = p->sndbuf;
	*rcvbuf = mp_buf_size(p->rcvbuf, MP_RCVBUF_BDPS, mp_path_rate(p),
			      MP_RTT_LISTENER_US,
			      READ_ONCE(net->ipv4.sysctl_tcp_rmem[2]));
}

static bool mp_sk_bufs_ok(const struct sock *sk, u32 sndbuf, u32 rcvbuf)
{
	return READ_ONCE(sk->sk_sndbuf) >= (int)sndbuf &&
	       READ_ONCE(sk->sk_rcvbuf) >= (int)rcvbuf;
}

static struct hlist_head *mp_listener_bucket(struct mp_listeners *ls,
					     u16 lport)
{
	return &ls->hash[hash_32(lport, MP_LISTENERS_BITS)];
}

/*
 * The live record of the listener with @cookie on @lport, or NULL. RCU or
 * ls->lock; at most MP_LISTENERS_MAX records (twice that with the undone
 * ones) to look at, usually one.
 */
static struct mp_listener *mp_listener_get(struct mp_listeners *ls, u16 lport,
					   u64 cookie)
{
	struct mp_listener *l;

	hlist_for_each_entry_rcu(l, mp_listener_bucket(ls, lport), node,
				 lockdep_is_held(&ls->lock))
		if (l->cookie == cookie && l->key.lport == lport &&
		    !READ_ONCE(l->retired))
			return l;
	return NULL;
}

/* Is @l the tuning @cfg makes? Then the listener is left as it is. */
static bool mp_listener_current(const struct mp_listener *l,
				const struct mp_config *cfg)
{
	return l->tune_gen == cfg->tune_gen && l->ifindex == cfg->ifindex;
}

/* Under ls->lock: @l's tuning is undone; children may still need it. */
static void mp_listener_retire(struct mp_listeners *ls, struct mp_listener *l)
{
	if (l->retired)
		return;
	WRITE_ONCE(l->retired, jiffies ? : 1);
	WRITE_ONCE(ls->live, ls->live - 1);
}

static void mp_listener_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(mp_listener_cache,
			container_of(head, struct mp_listener, rcu));
}

/* Under ls->lock: forget @l (freed after the readers). */
static void mp_listener_del(struct mp_listeners *ls, struct mp_listener *l)
{
	mp_listener_retire(ls, l);
	hlist_del_rcu(&l->node);
	WRITE_ONCE(ls->mn->listener_records, ls->mn->listener_records - 1);
	call_rcu(&l->rcu, mp_listener_free_rcu);
}

/*
 * Under ls->lock: have the work run within @delay, or earlier if it is
 * queued for earlier already.
 */
static void mp_listeners_schedule(struct mp_listeners *ls,
				  unsigned long delay)
{
	unsigned long due = jiffies + delay;

	if (ls->dying)
		return;
	if (delayed_work_pending(&ls->work) && time_before_eq(ls->due, due))
		return;
	ls->due = due;
	mod_delayed_work(system_wq, &ls->work, delay);
}

static struct mp_listener *mp_listener_alloc(const struct mp_flow_key *k,
					     int ifindex, u32 tune_gen,
					     gfp_t gfp)
{
	struct mp_listener *l = kmem_cache_zalloc(mp_listener_cache, gfp);

	if (!l)
		return NULL;
	l->key = *k;
	l->ifindex = ifindex;
	l->tune_gen = tune_gen;
	return l;
}

/*
 * Tune listener @sk (locked by the caller, not owned) with record @l (its
 * key, ifindex and tune_gen filled in), replacing a record of an older
 * tuning; or free @l when there is nothing to do or no room to remember
 * it: a tuning that cannot be undone is not made. Any context.
 */
static bool mp_listener_add(struct mp_listeners *ls, struct sock *sk,
			    struct mp_listener *l, u32 sndbuf, u32 rcvbuf)
{
	struct mp_net *mn = ls->mn;
	struct mp_listener *old;
	bool done = false;

	l->cookie = mp_sk_cookie(sk);
	spin_lock_bh(&ls->lock);
	old = mp_listener_get(ls, l->key.lport, l->cookie);
	if (old && old->tune_gen == l->tune_gen && old->ifindex == l->ifindex)
		goto unlock;		/* tuned meanwhile */
	if (old) {
		/* its parameters changed: undone now, not when the work runs */
		mp_sk_restore_bufs(sk, &old->t, 0);
		mp_listener_retire(ls, old);
	}
	if (ls->dying || ls->live >= MP_LISTENERS_MAX ||
	    mn->listener_records >= 2 * MP_LISTENERS_MAX ||
	    mp_sk_bufs_ok(sk, sndbuf, rcvbuf))
		goto unlock;
	mp_sk_set_bufs(sk, &l->t, sndbuf, rcvbuf);
	hlist_add_head_rcu(&l->node, mp_listener_bucket(ls, l->key.lport));
	WRITE_ONCE(ls->live, ls->live + 1);
	WRITE_ONCE(mn->listener_records, mn->listener_records + 1);
	done = true;
	/* Listeners come and go: forget those that went, a little later. */
	mp_listeners_schedule(ls, MP_LISTENER_GC);
unlock:
	spin_unlock_bh(&ls->lock);
	if (!done)
		kmem_cache_free(mp_listener_cache, l);
	return done;
}

/*
 * The registry is full: have the work forget the records of gone ones,
 * once until it ran (a SYN flood costs a read here, no lock, no atomic).
 */
static void mp_listeners_gc_now(struct mp_listeners *ls)
{
	if (!READ_ONCE(ls->full)) {
		WRITE_ONCE(ls->full, true);
		mod_delayed_work(system_wq, &ls->work, 0);
	}
}

/*
 * An incoming SYN matched a rule that covers every connection to its
 * listener's port. The window scale of the connection is chosen from the
 * listener's receive buffer while the SYN-ACK is built (tcp_openreq_init_rwin
 * -> tcp_select_initial_window), right after this hook, and the child
 * inherits the listener's buffers: raise them now when the path needs it.
 * Only the buffers: the SYN-ACK is marked by the hook, and the child gets
 * its priority from its own flow. If a process holds the listener locked,
 * defer to the flow's work: then only later connections benefit.
 *
 * Softirq, under RCU, without a lock for a listener already tuned (or
 * needing nothing): a lookup in the registry, bounded by its size. One
 * allocation per listener tuned, none per SYN.
 */
void mp_listener_tune(struct net *net, const struct mp_flow_key *k,
		      const struct mp_config *cfg, struct mp_flow *f)
{
	struct mp_net *mn = mp_net(net);
	struct mp_listeners *ls = mn->listeners;
	struct sock *sk = mp_listener_find(net, k, cfg->ifindex);
	const struct mp_listener *rec = NULL;
	bool owned, done = false;
	u32 sndbuf, rcvbuf;

	if (!sk)
		return;
	mp_listener_sizes(net, &cfg->dev, &sndbuf, &rcvbuf);
	if (READ_ONCE(mn->listener_records))
		rec = mp_listener_get(ls, k->lport, mp_sk_cookie(sk));
	/* Tuned as @cfg tunes it (what the application set since wins). */
	if (rec ? mp_listener_current(rec, cfg) :
		  mp_sk_bufs_ok(sk, sndbuf, rcvbuf))
		return;
	/* No room: nothing is allocated, the work makes room. */
	if ((!rec && READ_ONCE(ls->live) >= MP_LISTENERS_MAX) ||
	    READ_ONCE(mn->listener_records) >= 2 * MP_LISTENERS_MAX) {
		mp_listeners_gc_now(ls);
		return;
	}
	bh_lock_sock(sk);
	/* Nothing is allocated for a listener a process holds. */
	owned = sock_owned_by_user(sk);
	if (!owned && sk->sk_state == TCP_LISTEN) {
		struct mp_listener *l;

		l = mp_listener_alloc(k, cfg->ifindex, cfg->tune_gen,
				      GFP_ATOMIC | __GFP_NOWARN);
		done = l && mp_listener_add(ls, sk, l, sndbuf, rcvbuf);
	}
	bh_unlock_sock(sk);
	if (done)
		atomic64_inc(&mn->ev.socks_tuned);
	/* Owned by a process: the flow's work tunes it when it can. */
	if (owned && f) {
		set_bit(MP_FLOW_LISTENER, &f->flags);
		mp_flow_kick(f);
	}
}

/* The deferred listener tuning. Process context, never sleeps on a socket. */
static void mp_listener_tune_deferred(struct mp_flow *f,
				      const struct mp_dev_params *p,
				      u32 tune_gen)
{
	struct mp_net *mn = f->mn;
	struct mp_listener *l;
	u32 sndbuf, rcvbuf;
	struct sock *sk;

	l = mp_listener_alloc(&f->key, f->ifindex, tune_gen, GFP_KERNEL);
	if (!l)
		return;
	rcu_read_lock();
	sk = mp_listener_find(mn->net, &f->key, f->ifindex);
	if (sk && !refcount_inc_not_zero(&sk->sk_refcnt))
		sk = NULL;
	rcu_read_unlock();
	if (!sk) {
		kmem_cache_free(mp_listener_cache, l);
		return;
	}
	mp_listener_sizes(mn->net, p, &sndbuf, &rcvbuf);
	/* Locked as the receive path locks it, see the top of the file. */
	local_bh_disable();
	bh_lock_sock(sk);
	if (sock_owned_by_user(sk)) {
		kmem_cache_free(mp_listener_cache, l);
		set_bit(MP_FLOW_LISTENER, &f->flags);
		mp_flow_retry(f);
	} else if (sk->sk_state != TCP_LISTEN) {
		kmem_cache_free(mp_listener_cache, l);
	} else if (mp_listener_add(mn->listeners, sk, l, sndbuf, rcvbuf)) {
		atomic64_inc(&mn->ev.socks_tuned);
	}
	bh_unlock_sock(sk);
	local_bh_enable();
	sock_put(sk);
}

/* Does the tuning of @l still apply under @cfg? RCU. */
static bool mp_listener_valid(const struct mp_listener *l,
			      const struct mp_config *cfg)
{
	return mp_listener_current(l, cfg) &&
	       mp_config_covers_lport(cfg, l->key.lport);
}

/* Is @l's listener still the one its tuple leads to? RCU. */
static bool mp_listener_alive(struct net *net, const struct mp_listener *l)
{
	struct sock *sk = mp_listener_find(net, &l->key, l->ifindex);

	return sk && mp_sk_cookie(sk) == l->cookie;
}

/*
 * Give @l's listener back what it had, if it is still there. False when a
 * process holds it: then try again later.
 */
static bool mp_listener_undo(struct mp_net *mn, struct mp_listener *l)
{
	bool done = true;
	struct sock *sk;

	rcu_read_lock();
	sk = mp_listener_find(mn->net, &l->key, l->ifindex);
	if (sk && (mp_sk_cookie(sk) != l->cookie ||
		   !refcount_inc_not_zero(&sk->sk_refcnt)))
		sk = NULL;
	rcu_read_unlock();
	if (!sk)
		return true;
	local_bh_disable();
	bh_lock_sock(sk);
	/* A SYN may have replaced @l meanwhile, under the same lock. */
	if (sock_owned_by_user(sk))
		done = false;
	else if (sk->sk_state == TCP_LISTEN && !READ_ONCE(l->retired))
		mp_sk_restore_bufs(sk, &l->t, 0);
	bh_unlock_sock(sk);
	local_bh_enable();
	sock_put(sk);
	return done;
}

/*
 * Undo every listener tuning that no longer applies, forget the records
 * of listeners that went away (a listener no longer found by its tuple,
 * or another one there, is not ours any more: nothing to give back) and
 * the undone records older than MP_LISTENER_LINGER (all of them when a
 * SYN found no room). Process context,
 * takes no lock the control path holds (RTNL, mn->lock).
 */
static void mp_listeners_work(struct work_struct *work)
{
	struct mp_listeners *ls = container_of(to_delayed_work(work),
					       struct mp_listeners, work);
	unsigned long next = 0, now = jiffies;
	struct mp_net *mn = ls->mn;
	struct mp_listener *l, *n;
	struct hlist_node *tmp;
	const struct mp_config *cfg;
	bool busy = false, full = READ_ONCE(ls->full);
	LIST_HEAD(undo);
	unsigned int i;

	WRITE_ONCE(ls->full, false);
	rcu_read_lock();
	cfg = mp_config_rcu(mn);
	spin_lock_bh(&ls->lock);
	for (i = 0; i < ARRAY_SIZE(ls->hash); i++) {
		hlist_for_each_entry_safe(l, tmp, &ls->hash[i], node) {
			if (l->retired) {
				/* full: room before lingering */
				if (ls->dying || full ||
				    time_after_eq(now, l->retired + MP_LISTENER_LINGER))
					mp_listener_del(ls, l);
				else if (!next || time_before(l->retired, next))
					next = l->retired;
				continue;
			}
			if (ls->dying || !mp_listener_valid(l, cfg) ||
			    !mp_listener_alive(mn->net, l))
				list_add_tail(&l->undo, &undo);
		}
	}
	spin_unlock_bh(&ls->lock);
	rcu_read_unlock();

	list_for_each_entry_safe(l, n, &undo, undo) {
		/* Owned by a process: again later, or left when unloading. */
		if (!mp_listener_undo(mn, l) && !READ_ONCE(ls->dying)) {
			busy = true;
			continue;
		}
		spin_lock_bh(&ls->lock);
		if (ls->dying)
			mp_listener_del(ls, l);
		else
			mp_listener_retire(ls, l);
		spin_unlock_bh(&ls->lock);
		next = next ? : now;
	}
	spin_lock_bh(&ls->lock);
	if (busy)
		mp_listeners_schedule(ls, MP_LISTENER_RETRY);
	else if (next)
		mp_listeners_schedule(ls, next + MP_LISTENER_LINGER - now);
	spin_unlock_bh(&ls->lock);
}

/* Process context: the config changed, see what still applies. */
void mp_listeners_revalidate(struct mp_net *mn)
{
	struct mp_listeners *ls = mn->listeners;

	if (!ls || !READ_ONCE(mn->listener_records))
		return;
	spin_lock_bh(&ls->lock);
	mp_listeners_schedule(ls, 0);
	spin_unlock_bh(&ls->lock);
}

int mp_listeners_init(struct mp_net *mn)
{
	struct mp_listeners *ls = kzalloc(sizeof(*ls), GFP_KERNEL);

	if (!ls)
		return -ENOMEM;
	spin_lock_init(&ls->lock);
	INIT_DELAYED_WORK(&ls->work, mp_listeners_work);
	ls->mn = mn;
	mn->listeners = ls;
	return 0;
}

/*
 * Netns exit or module unload, after the hooks, the config's works and the
 * flows are gone: undo every listener tuning and forget every record.
 */
void mp_listeners_destroy(struct mp_net *mn)
{
	struct mp_listeners *ls = mn->listeners;

	if (!ls)
		return;
	spin_lock_bh(&ls->lock);
	ls->dying = true;
	spin_unlock_bh(&ls->lock);
	cancel_delayed_work_sync(&ls->work);
	mp_listeners_work(&ls->work.work);
	WARN_ON_ONCE(mn->listener_records);
	mn->listeners = NULL;
	kfree(ls);
}

/* Connections */

/*
 * The record of a tuned listener on @sk's local port whose sizes @sk
 * carries: an accepted connection inherited them. RCU.
 */
static const struct mp_listener *mp_listener_of_child(struct mp_listeners *ls,
						      const struct sock *sk)
{
	u16 lport = inet_sk(sk)->inet_num;
	const struct mp_listener *l;

	hlist_for_each_entry_rcu(l, mp_listener_bucket(ls, lport), node)
		if (l->key.lport == lport && mp_sk_has_bufs(sk, &l->t))
			return l;
	return NULL;
}

/*
 * A connection accepted from a listener migprio tuned inherited the
 * listener's buffers, which were there for its SYN-ACK's window scale:
 * start it from what the listener had before, so that it is sized like any
 * other connection. Socket locked.
 */
static void mp_child_rebase(struct sock *sk, const struct mp_flow *f)
{
	const struct mp_listener *l;

	if (!READ_ONCE(f->mn->listener_records))
		return;
	rcu_read_lock();
	l = mp_listener_of_child(f->mn->listeners, sk);
	if (l)
		mp_sk_restore_bufs(sk, &l->t, 0);
	rcu_read_unlock();
}

/*
 * The same for every accepted connection, whatever interface it came
 * through and whether it has a flow or not, at its first segment: TCP
 * transmits with the socket held (owner or bh_lock_sock()), so its sizes
 * can be written here. A socket is a child of a tuned listener when it
 * carries the sizes a live or lately undone record raised. Hooks, RCU.
 */
void mp_child_first_tx(struct mp_net *mn, struct sk_buff *skb,
		       struct mp_flow *f)
{
	struct sock *sk = skb->sk;
	const struct mp_listener *l;
	unsigned int segs;

	if (!sk || !sk_fullsock(sk) || sk->sk_protocol != IPPROTO_TCP ||
	    sk->sk_type != SOCK_STREAM ||
	    !(sk->sk_userlocks & (SOCK_SNDBUF_LOCK | SOCK_RCVBUF_LOCK)))
		return;
	segs = skb_is_gso(skb) ? skb_shinfo(skb)->gso_segs : 1;
	/* TCP counted this segment before handing it to IP. */
	if (READ_ONCE(tcp_sk(sk)->segs_out) > max(segs, 1U) ||
	    (f && test_bit(MP_FLOW_TUNED, &f->flags)))
		return;
	sock_owned_by_me(sk);
	l = mp_listener_of_child(mn->listeners, sk);
	if (l)
		mp_sk_restore_bufs(sk, &l->t, 0);
}

/*
 * Note what the application set since the last tuning (see the top of the
 * file): it keeps it. Socket locked.
 */
static void mp_sk_note_app(const struct sock *sk, struct mp_flow *f)
{
	const struct mp_sk_seen *s = &f->seen;
	u8 locks = sk->sk_userlocks;

	if (READ_ONCE(sk->sk_priority) != f->prio_set)
		f->app |= MP_APP_PRIO;
	if (READ_ONCE(tcp_sk(sk)->notsent_lowat) != s->notsent)
		f->app |= MP_APP_NOTSENT;
	/* setsockopt() locks a size; autotuning only changes unlocked ones */
	if ((locks & SOCK_SNDBUF_LOCK) &&
	    (!(s->locks & SOCK_SNDBUF_LOCK) || sk->sk_sndbuf != s->sndbuf))
		f->app |= MP_APP_SNDBUF;
	if ((locks & SOCK_RCVBUF_LOCK) &&
	    (!(s->locks & SOCK_RCVBUF_LOCK) || sk->sk_rcvbuf != s->rcvbuf))
		f->app |= MP_APP_RCVBUF;
}

/*
 * Tune @sk for @p, recording what it had in @f, leaving alone what the
 * application set since an earlier tuning. Without an RTT sample (a
 * handshake with retransmissions) auto sizes are left to autotuning.
 * Socket held as the receive path holds it.
 */
static void mp_sk_tune(struct sock *sk, struct mp_flow *f,
		       const struct mp_dev_params *p)
{
	struct net *net = sock_net(sk);
	u32 rtt_us = tcp_sk(sk)->srtt_us >> 3;
	u64 rate = mp_path_rate(p);
	u32 prio = READ_ONCE(sk->sk_priority);
	u32 sndbuf, rcvbuf;

	/* setsockopt(SO_PRIORITY) got there first: it wins, no retry */
	if (!(f->app & MP_APP_PRIO) &&
	    cmpxchg(&sk->sk_priority, prio, p->priority) != prio)
		f->app |= MP_APP_PRIO;
	if (f->app & MP_APP_PRIO) {
		WRITE_ONCE(f->prio_saved, 0);
		WRITE_ONCE(f->prio_set, 0);
	} else {
		WRITE_ONCE(f->prio_saved, prio);
		WRITE_ONCE(f->prio_set, p->priority);
	}
	sndbuf = mp_buf_size(p->sndbuf, MP_SNDBUF_BDPS, rate, rtt_us,
			     READ_ONCE(net->ipv4.sysctl_tcp_wmem[2]));
	rcvbuf = mp_buf_size(p->rcvbuf, MP_RCVBUF_BDPS, rate, rtt_us,
			     READ_ONCE(net->ipv4.sysctl_tcp_rmem[2]));
	mp_sk_set_bufs(sk, &f->tuning, f->app & MP_APP_SNDBUF ? 0 : sndbuf,
		       f->app & MP_APP_RCVBUF ? 0 : rcvbuf);
	if (!(f->app & MP_APP_NOTSENT) &&
	    !mp_sk_set_notsent(sk, &f->tuning, mp_notsent_size(p->notsent, rate)))
		f->app |= MP_APP_NOTSENT;
	f->seen.notsent = READ_ONCE(tcp_sk(sk)->notsent_lowat);
	f->seen.sndbuf = sk->sk_sndbuf;
	f->seen.rcvbuf = sk->sk_rcvbuf;
	f->seen.locks = sk->sk_userlocks & (SOCK_SNDBUF_LOCK | SOCK_RCVBUF_LOCK);
}

/*
 * Give @sk back the priority and the unsent bound @f recorded, each unless
 * someone set another value since; no lock needed, and what the socket
 * then has is what migprio saw last. Only the socket's lock holder may wake
 * its writers (@wake: locked, not owned).
 */
static void mp_sk_untune_words(struct sock *sk, struct mp_flow *f, bool wake)
{
	struct mp_sk_tuning *t = &f->tuning;

	if (!(f->app & MP_APP_PRIO) &&
	    cmpxchg(&sk->sk_priority, f->prio_set, f->prio_saved) ==
	    f->prio_set)
		WRITE_ONCE(f->prio_set, f->prio_saved);
	if (t->notsent && !(f->app & MP_APP_NOTSENT) &&
	    cmpxchg(&tcp_sk(sk)->notsent_lowat, t->notsent,
		    t->notsent_old) == t->notsent) {
		f->seen.notsent = t->notsent_old;
		if (wake)
			sk->sk_write_space(sk);
	}
	t->notsent = 0;
}

/* Give @sk back everything @f recorded and forget it. Socket locked. */
static void mp_sk_untune(struct sock *sk, struct mp_flow *f)
{
	mp_sk_untune_words(sk, f, true);
	mp_sk_restore_bufs(sk, &f->tuning, f->app);
	memset(&f->tuning, 0, sizeof(f->tuning));
}

/*
 * Tune the flow's socket for @p: the first time, or again when it was
 * tuned for another tune_gen (what it had is given back first). While a
 * process owns the socket, or the handshake has no RTT sample yet, the
 * work tries again later.
 */
static void mp_sock_tune(struct mp_flow *f, const struct mp_dev_params *p,
			 u32 tune_gen)
{
	struct sock *sk = mp_sock_lookup(f->mn->net, &f->key, f->ifindex);

	if (!sk)
		return;
	if (!sk_fullsock(sk))
		goto out;	/* not accepted yet: retried on a later packet */
	/* Sizes need the RTT: wait for the handshake's sample. */
	if (sk->sk_state == TCP_SYN_SENT) {
		mp_flow_retry(f);
		goto out;
	}
	local_bh_disable();
	bh_lock_sock(sk);
	if (sock_owned_by_user(sk)) {
		mp_flow_retry(f);
	} else {
		if (test_bit(MP_FLOW_TUNED, &f->flags)) {
			mp_sk_note_app(sk, f);
			mp_sk_untune(sk, f);
		} else {
			mp_child_rebase(sk, f);
		}
		mp_sk_tune(sk, f, p);
		f->sock_id = mp_sk_cookie(sk);
		f->tune_gen = tune_gen;
		set_bit(MP_FLOW_TUNED, &f->flags);
		clear_bit(MP_FLOW_PARTIAL, &f->flags);
		atomic64_inc(&f->mn->ev.socks_tuned);
	}
	bh_unlock_sock(sk);
	local_bh_enable();
out:
	sock_gen_put(sk);
}

/*
 * Give the flow's socket back what it had. The priority and the unsent
 * bound at once; the sizes need the socket free of its owner: false when
 * they are left for a later try (MP_FLOW_PARTIAL; never with @final,
 * which forgets them).
 */
static bool mp_sock_untune(struct mp_flow *f, bool final)
{
	struct sock *sk;
	bool owned;

	if (!test_bit(MP_FLOW_TUNED, &f->flags))
		return true;
	sk = mp_sock_lookup(f->mn->net, &f->key, f->ifindex);
	if (sk && (!sk_fullsock(sk) || mp_sk_cookie(sk) != f->sock_id)) {
		sock_gen_put(sk);	/* gone: timewait, or another one */
		sk = NULL;
	}
	if (sk) {
		local_bh_disable();
		bh_lock_sock(sk);
		owned = sock_owned_by_user(sk);
		if (owned)
			mp_sk_untune_words(sk, f, false);
		else
			mp_sk_untune(sk, f);
		bh_unlock_sock(sk);
		local_bh_enable();
		sock_put(sk);
		if (owned && !final && (f->tuning.sndbuf || f->tuning.rcvbuf)) {
			set_bit(MP_FLOW_PARTIAL, &f->flags);
			return false;
		}
	}
	memset(&f->tuning, 0, sizeof(f->tuning));
	clear_bit(MP_FLOW_TUNED, &f->flags);
	clear_bit(MP_FLOW_PARTIAL, &f->flags);
	return true;
}

/* The flow's work: bring its socket in line with its classification. */
void mp_sock_sync(struct mp_flow *f)
{
	struct mp_dev_params p;
	struct mp_config *cfg;
	bool tune, tuned;
	u32 tune_gen;

	if (f->key.proto != IPPROTO_TCP)
		return;
	rcu_read_lock();
	cfg = mp_config_rcu(f->mn);
	p = cfg->dev;
	tune_gen = cfg->tune_gen;
	tune = cfg->ifindex == f->ifindex &&
	       test_bit(MP_FLOW_MATCHED, &f->flags);
	rcu_read_unlock();
	tuned = test_bit(MP_FLOW_TUNED, &f->flags);

	if (test_and_clear_bit(MP_FLOW_LISTENER, &f->flags) && tune)
		mp_listener_tune_deferred(f, &p, tune_gen);
	if (tune && (!tuned || f->tune_gen != tune_gen ||
		     test_bit(MP_FLOW_PARTIAL, &f->flags)))
		mp_sock_tune(f, &p, tune_gen);
	else if (!tune && tuned && !mp_sock_untune(f, false))
		mp_flow_retry(f);
}

/*
 * The flow ended while its socket may live on: give it back what it had.
 * Never waits for a process holding the socket. Process context.
 */
bool mp_sock_release(struct mp_flow *f, bool final)
{
	return f->key.proto != IPPROTO_TCP || mp_sock_untune(f, final);
}

/*
 * A FIN or RST of the flow was seen by the hooks, before TCP checked it:
 * does the socket agree that the connection is over? Yes when it is gone
 * (or a timewait socket), for a RST when it is closed, for FINs when it
 * left the established state. Called by the collector, BHs off.
 */
bool mp_sock_agrees(struct mp_flow *f, enum migprio_flow_end reason)
{
	struct sock *sk;
	int state;

	if (f->key.proto != IPPROTO_TCP)
		return true;
	sk = mp_sock_lookup(f->mn->net, &f->key, f->ifindex);
	if (!sk)
		return true;
	state = sk_fullsock(sk) ? READ_ONCE(sk->sk_state) : TCP_CLOSE;
	sock_gen_put(sk);
	if (reason == MIGPRIO_FLOW_END_RST)
		return state == TCP_CLOSE;
	return !((1 << state) &
		 (TCPF_ESTABLISHED | TCPF_SYN_SENT | TCPF_SYN_RECV));
}

/*
 * Socket accounting (hooks.c): fold what the flow's socket counted since
 * the last fold, if the socket is still there. Process context.
 */
void mp_sock_fold(struct mp_flow *f)
{
	struct sock *sk;

	if (!test_bit(MP_FLOW_SKACCT, &f->flags))
		return;
	sk = mp_sock_lookup(f->mn->net, &f->key, f->ifindex);
	if (!sk)
		return;
	if (sk_fullsock(sk)) {
		rcu_read_lock();
		mp_flow_fold(f, mp_config_rcu(f->mn), sk);
		rcu_read_unlock();
	}
	sock_gen_put(sk);
}
