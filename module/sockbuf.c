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
 * excludes setsockopt() and the owner's system calls. Nothing here sleeps
 * on a socket lock: a local process can hold one for as long as it likes
 * (a sendmsg() from a page that faults slowly), and a work waiting for it
 * would hold up the reaper, which netns exit and module unload wait for.
 * When the socket is owned, the work tries again a little later.
 *
 * The priority and TCP_NOTSENT_LOWAT are single words that setsockopt()
 * replaces in one store: they are swapped with cmpxchg(), so neither side
 * loses a write, and giving them back (the flow ends or stops matching) is
 * never deferred: the reaper does it for every ended flow whose socket
 * still has migprio's values. Buffer sizes are given back with them when
 * the socket is not owned at that moment, else they stay. A socket that
 * already had migprio's priority keeps it when the flow ends: migprio never
 * saves its own value as the socket's original.
 *
 * Nothing here holds a socket reference while waiting: sockets are looked
 * up by their tuple when a work runs, so a socket that went away is simply
 * not found.
 */

#include <linux/slab.h>
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
/* Tuned listeners remembered per netns; beyond, listeners are left alone. */
#define MP_LISTENERS_MAX	256
/* A listener its process holds is given back its sizes this much later. */
#define MP_LISTENER_RETRY	(HZ / 10)

/* A listener whose buffers migprio raised, found again by its tuple. */
struct mp_listener {
	struct list_head node;
	struct mp_flow_key key;
	const struct sock *sk;		/* identity only, never dereferenced */
	int ifindex;
	u32 tune_gen;
	struct mp_sk_tuning t;
};

struct mp_listeners {
	spinlock_t lock;		/* list, count, dying; BH */
	struct list_head list;
	unsigned int count;
	bool dying;
	struct delayed_work work;	/* undo what no longer applies */
	struct mp_net *mn;
};

static __be32 mp_v4(const u8 *a)
{
	__be32 v;

	memcpy(&v, a, sizeof(v));
	return v;
}

/* The TCP listener an incoming SYN of @k goes to; RCU, no reference. */
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

/* Socket changes; the socket is locked */

/*
 * Like SO_SNDBUF/SO_RCVBUF (sizes locked against autotuning) but without
 * the wmem_max/rmem_max cap, never below what the socket has, and recorded
 * in @t. A connected socket's window clamp was computed from its old
 * receive buffer: raise it as autotuning would. 0: leave that buffer alone.
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

static void mp_sk_set_notsent(struct sock *sk, struct mp_sk_tuning *t,
			      u32 notsent)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!notsent || sk->sk_state == TCP_LISTEN)
		return;
	t->notsent_old = READ_ONCE(tp->notsent_lowat);
	if (cmpxchg(&tp->notsent_lowat, t->notsent_old, notsent) !=
	    t->notsent_old)
		return;		/* setsockopt() got there first: it wins */
	t->notsent = notsent;
	sk->sk_write_space(sk);
}

/*
 * Give back the buffer sizes @t records, where the socket still has
 * migprio's value (an application's own setsockopt() since wins). True
 * when something was given back.
 */
static bool mp_sk_restore_bufs(struct sock *sk, const struct mp_sk_tuning *t)
{
	bool done = false;

	if (t->sndbuf && sk->sk_sndbuf == t->sndbuf) {
		sk->sk_userlocks &= ~SOCK_SNDBUF_LOCK;
		sk->sk_userlocks |= t->locks_old & SOCK_SNDBUF_LOCK;
		WRITE_ONCE(sk->sk_sndbuf, t->sndbuf_old);
		sk->sk_write_space(sk);
		done = true;
	}
	if (t->rcvbuf && sk->sk_rcvbuf == t->rcvbuf) {
		sk->sk_userlocks &= ~SOCK_RCVBUF_LOCK;
		sk->sk_userlocks |= t->locks_old & SOCK_RCVBUF_LOCK;
		WRITE_ONCE(sk->sk_rcvbuf, t->rcvbuf_old);
		done = true;
	}
	return done;
}

/*
 * Give back what @t records and forget it: TCP_NOTSENT_LOWAT always, the
 * sizes when @locked (the caller holds the socket as the receive path does).
 */
static void mp_sk_restore(struct sock *sk, struct mp_sk_tuning *t,
			  bool locked)
{
	if (locked)
		mp_sk_restore_bufs(sk, t);
	if (t->notsent && sk->sk_state != TCP_LISTEN &&
	    cmpxchg(&tcp_sk(sk)->notsent_lowat, t->notsent,
		    t->notsent_old) == t->notsent)
		sk->sk_write_space(sk);
	memset(t, 0, sizeof(*t));
}

/* Listeners */

/*
 * What a listener gets: the fixed sizes, or for "auto" a receive buffer
 * large enough for the window scale a long path needs (its connections'
 * RTT is not known yet). The children inherit it; their own flows size
 * their buffers once they have an RTT.
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

/*
 * Is listener @sk (locked) already tuned as @new would tune it? A record of
 * an older tuning (the parameters changed, and the work that undoes it has
 * not run yet) is undone here, so that the new tuning is not lost to it.
 * Under ls->lock.
 */
static bool mp_listener_known(struct mp_listeners *ls, struct sock *sk,
			      const struct mp_listener *new)
{
	struct mp_listener *l;

	list_for_each_entry(l, &ls->list, node) {
		if (l->sk != sk)
			continue;
		if (l->tune_gen == new->tune_gen && l->ifindex == new->ifindex)
			return true;
		mp_sk_restore_bufs(sk, &l->t);
		list_del(&l->node);
		ls->count--;
		kfree(l);
		return false;
	}
	return false;
}

/*
 * Tune listener @sk (locked by the caller) with record @l, or free @l when
 * there is nothing to do or no room to remember it: a tuning that cannot
 * be undone is not made. Any context.
 */
static bool mp_listener_apply(struct mp_listeners *ls, struct sock *sk,
			      struct mp_listener *l, u32 sndbuf, u32 rcvbuf)
{
	bool done = false;

	spin_lock_bh(&ls->lock);
	if (!ls->dying && ls->count < MP_LISTENERS_MAX &&
	    !mp_listener_known(ls, sk, l) &&
	    !mp_sk_bufs_ok(sk, sndbuf, rcvbuf)) {
		mp_sk_set_bufs(sk, &l->t, sndbuf, rcvbuf);
		l->sk = sk;
		list_add_tail(&l->node, &ls->list);
		ls->count++;
		done = true;
	} else if (ls->count >= MP_LISTENERS_MAX) {
		/* Forget listeners that are gone, for the next SYN. */
		mod_delayed_work(system_wq, &ls->work, 0);
	}
	spin_unlock_bh(&ls->lock);
	if (!done)
		kfree(l);
	return done;
}

/*
 * Does listener @sk have buffers from a tuning @cfg no longer makes? They
 * are to be replaced now, not when the work gets to them. RCU (the hooks).
 */
static bool mp_listener_stale(struct mp_listeners *ls, const struct sock *sk,
			      const struct mp_config *cfg)
{
	const struct mp_listener *l;
	bool stale = false;

	if (!READ_ONCE(ls->count))
		return false;
	spin_lock_bh(&ls->lock);
	list_for_each_entry(l, &ls->list, node) {
		if (l->sk == sk) {
			stale = l->tune_gen != cfg->tune_gen ||
				l->ifindex != cfg->ifindex;
			break;
		}
	}
	spin_unlock_bh(&ls->lock);
	return stale;
}

static struct mp_listener *mp_listener_new(const struct mp_flow_key *k,
					   int ifindex, u32 tune_gen, gfp_t gfp)
{
	struct mp_listener *l = kzalloc(sizeof(*l), gfp);

	if (!l)
		return NULL;
	l->key = *k;
	l->ifindex = ifindex;
	l->tune_gen = tune_gen;
	return l;
}

/*
 * An incoming SYN matched a rule that covers every connection to its
 * listener's port. The window scale of the connection is chosen from the
 * listener's receive buffer while the SYN-ACK is built (tcp_openreq_init_rwin
 * -> tcp_select_initial_window), right after this hook, and the child
 * inherits the listener's buffers: raise them now when the path needs it.
 * Only the buffers: the SYN-ACK is marked by the hook, and the child gets
 * its priority from its own flow. If a process holds the listener locked,
 * defer to the flow's work: then only later connections benefit. Softirq,
 * under RCU; one allocation per listener tuned, not per packet.
 */
void mp_listener_tune(struct net *net, const struct mp_flow_key *k,
		      const struct mp_config *cfg, struct mp_flow *f)
{
	struct mp_listeners *ls = mp_net(net)->listeners;
	struct sock *sk = mp_listener_find(net, k, cfg->ifindex);
	bool owned, done = false;
	u32 sndbuf, rcvbuf;

	if (!sk)
		return;
	mp_listener_sizes(net, &cfg->dev, &sndbuf, &rcvbuf);
	if (mp_sk_bufs_ok(sk, sndbuf, rcvbuf) &&
	    !mp_listener_stale(ls, sk, cfg))
		return;
	bh_lock_sock(sk);
	/* Nothing is allocated for a listener a process holds. */
	owned = sock_owned_by_user(sk);
	if (!owned) {
		struct mp_listener *l;

		l = mp_listener_new(k, cfg->ifindex, cfg->tune_gen,
				    GFP_ATOMIC | __GFP_NOWARN);
		done = l && mp_listener_apply(ls, sk, l, sndbuf, rcvbuf);
	}
	bh_unlock_sock(sk);
	if (done)
		atomic64_inc(&mp_net(net)->ev.socks_tuned);
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

	l = mp_listener_new(&f->key, f->ifindex, tune_gen, GFP_KERNEL);
	if (!l)
		return;
	rcu_read_lock();
	sk = mp_listener_find(mn->net, &f->key, f->ifindex);
	if (sk && !refcount_inc_not_zero(&sk->sk_refcnt))
		sk = NULL;
	rcu_read_unlock();
	if (!sk) {
		kfree(l);
		return;
	}
	mp_listener_sizes(mn->net, p, &sndbuf, &rcvbuf);
	/* Locked as the receive path locks it, see the top of the file. */
	local_bh_disable();
	bh_lock_sock(sk);
	if (sock_owned_by_user(sk)) {
		kfree(l);
		set_bit(MP_FLOW_LISTENER, &f->flags);
		mp_flow_retry(f);
	} else if (sk->sk_state != TCP_LISTEN) {
		kfree(l);
	} else if (mp_listener_apply(mn->listeners, sk, l, sndbuf, rcvbuf)) {
		atomic64_inc(&mn->ev.socks_tuned);
	}
	bh_unlock_sock(sk);
	local_bh_enable();
	sock_put(sk);
}

/* Does the tuning of @l still apply under @cfg? RCU. */
static bool mp_listener_valid(const struct mp_listeners *ls,
			      const struct mp_listener *l,
			      const struct mp_config *cfg)
{
	return !ls->dying && cfg->ifindex == l->ifindex &&
	       cfg->tune_gen == l->tune_gen &&
	       mp_config_covers_lport(cfg, l->key.lport);
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
	if (sk != l->sk || (sk && !refcount_inc_not_zero(&sk->sk_refcnt)))
		sk = NULL;
	rcu_read_unlock();
	if (!sk)
		return true;
	local_bh_disable();
	bh_lock_sock(sk);
	if (sock_owned_by_user(sk))
		done = false;
	else if (sk->sk_state == TCP_LISTEN)
		mp_sk_restore(sk, &l->t, true);
	bh_unlock_sock(sk);
	local_bh_enable();
	sock_put(sk);
	return done;
}

/*
 * Undo every listener tuning that no longer applies. A listener that went
 * away is not found by its tuple any more and is only forgotten. Process
 * context, takes no lock the control path holds (RTNL, mn->lock).
 */
static void mp_listeners_work(struct work_struct *work)
{
	struct mp_listeners *ls = container_of(to_delayed_work(work),
					       struct mp_listeners, work);
	struct mp_listener *l, *n;
	LIST_HEAD(undo);
	LIST_HEAD(busy);

	rcu_read_lock();
	spin_lock_bh(&ls->lock);
	list_for_each_entry_safe(l, n, &ls->list, node) {
		if (mp_listener_valid(ls, l, mp_config_rcu(ls->mn)) &&
		    mp_listener_exists(ls->mn->net, &l->key, l->ifindex))
			continue;
		list_move_tail(&l->node, &undo);
		ls->count--;
	}
	spin_unlock_bh(&ls->lock);
	rcu_read_unlock();

	list_for_each_entry_safe(l, n, &undo, node) {
		/* Owned by a process: again later, or left when unloading. */
		if (!mp_listener_undo(ls->mn, l) && !READ_ONCE(ls->dying)) {
			list_move_tail(&l->node, &busy);
			continue;
		}
		list_del(&l->node);
		kfree(l);
	}
	if (list_empty(&busy))
		return;
	spin_lock_bh(&ls->lock);
	list_for_each_entry_safe(l, n, &busy, node) {
		list_move_tail(&l->node, &ls->list);
		ls->count++;
	}
	spin_unlock_bh(&ls->lock);
	queue_delayed_work(system_wq, &ls->work, MP_LISTENER_RETRY);
}

void mp_listeners_revalidate(struct mp_net *mn)
{
	struct mp_listeners *ls = mn->listeners;

	if (ls && READ_ONCE(ls->count))
		mod_delayed_work(system_wq, &ls->work, 0);
}

int mp_listeners_init(struct mp_net *mn)
{
	struct mp_listeners *ls = kzalloc(sizeof(*ls), GFP_KERNEL);

	if (!ls)
		return -ENOMEM;
	spin_lock_init(&ls->lock);
	INIT_LIST_HEAD(&ls->list);
	INIT_DELAYED_WORK(&ls->work, mp_listeners_work);
	ls->mn = mn;
	mn->listeners = ls;
	return 0;
}

/*
 * Netns exit or module unload, after the hooks and flow works are gone:
 * undo every listener tuning and wait for it.
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
	WARN_ON_ONCE(!list_empty(&ls->list));
	mn->listeners = NULL;
	kfree(ls);
}

/* Connections */

/*
 * A connection accepted from a listener migprio tuned inherited the
 * listener's buffers, which were there for its SYN-ACK's window scale:
 * start it from what the listener had before, so that it is sized like any
 * other connection. Socket locked.
 */
static void mp_child_rebase(struct sock *sk, const struct mp_flow *f)
{
	struct mp_listeners *ls = f->mn->listeners;
	struct mp_listener *l;

	if (f->dir != MIGPRIO_FLOW_DIR_IN)
		return;
	spin_lock_bh(&ls->lock);
	list_for_each_entry(l, &ls->list, node) {
		if (l->ifindex == f->ifindex && l->key.lport == f->key.lport &&
		    l->key.family == f->key.family &&
		    mp_sk_restore_bufs(sk, &l->t))
			break;
	}
	spin_unlock_bh(&ls->lock);
}

/*
 * Tune @sk for @p, recording what it had in @f. Without an RTT sample
 * (a handshake with retransmissions) auto sizes are left to autotuning.
 * False when setsockopt() changed the priority meanwhile: try again.
 * Socket held as the receive path holds it.
 */
static bool mp_sk_tune(struct sock *sk, struct mp_flow *f,
		       const struct mp_dev_params *p)
{
	struct net *net = sock_net(sk);
	u32 rtt_us = tcp_sk(sk)->srtt_us >> 3;
	u64 rate = mp_path_rate(p);
	u32 prio = READ_ONCE(sk->sk_priority);

	if (cmpxchg(&sk->sk_priority, prio, p->priority) != prio)
		return false;
	f->prio_saved = prio;
	f->prio_set = p->priority;
	mp_sk_set_bufs(sk, &f->tuning,
		       mp_buf_size(p->sndbuf, MP_SNDBUF_BDPS, rate, rtt_us,
				   READ_ONCE(net->ipv4.sysctl_tcp_wmem[2])),
		       mp_buf_size(p->rcvbuf, MP_RCVBUF_BDPS, rate, rtt_us,
				   READ_ONCE(net->ipv4.sysctl_tcp_rmem[2])));
	mp_sk_set_notsent(sk, &f->tuning, mp_notsent_size(p->notsent, rate));
	return true;
}

/*
 * Give @sk back what @f recorded: the priority and the unsent bound always
 * (each unless someone set another value since), the sizes when @locked.
 */
static void mp_sk_untune(struct sock *sk, struct mp_flow *f, bool locked)
{
	cmpxchg(&sk->sk_priority, f->prio_set, f->prio_saved);
	mp_sk_restore(sk, &f->tuning, locked);
}

/*
 * Tune the flow's socket for @p (again, when it was tuned for another
 * tune_gen), or give it back what it had (@p NULL: never waits, see the top
 * of the file).
 */
static void mp_sock_apply(struct mp_flow *f, const struct mp_dev_params *p,
			  u32 tune_gen)
{
	struct sock *sk = mp_sock_lookup(f->mn->net, &f->key, f->ifindex);
	bool owned;

	if (!sk)
		return;
	if (!sk_fullsock(sk))
		goto out;	/* not accepted yet: retried on a later packet */
	if (!p && !test_bit(MP_FLOW_TUNED, &f->flags))
		goto out;
	/* Sizes need the RTT: wait for the handshake's sample. */
	if (p && sk->sk_state == TCP_SYN_SENT)
		goto out;
	local_bh_disable();
	bh_lock_sock(sk);
	owned = sock_owned_by_user(sk);
	if (!p) {
		mp_sk_untune(sk, f, !owned);
		clear_bit(MP_FLOW_TUNED, &f->flags);
	} else if (owned) {
		mp_flow_retry(f);
	} else {
		if (test_and_clear_bit(MP_FLOW_TUNED, &f->flags))
			mp_sk_untune(sk, f, true);
		else
			mp_child_rebase(sk, f);
		if (mp_sk_tune(sk, f, p)) {
			f->tune_gen = tune_gen;
			set_bit(MP_FLOW_TUNED, &f->flags);
			atomic64_inc(&f->mn->ev.socks_tuned);
		} else {
			mp_flow_retry(f);	/* setsockopt() got there first */
		}
	}
	bh_unlock_sock(sk);
	local_bh_enable();
out:
	sock_gen_put(sk);
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
	if (tune != tuned || (tune && f->tune_gen != tune_gen))
		mp_sock_apply(f, tune ? &p : NULL, tune_gen);
}

/*
 * The flow ends while its socket may live on: give it back what it had.
 * Never waits for a process holding the socket. Process context.
 */
void mp_sock_release(struct mp_flow *f)
{
	if (f->key.proto == IPPROTO_TCP && test_bit(MP_FLOW_TUNED, &f->flags))
		mp_sock_apply(f, NULL, 0);
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
