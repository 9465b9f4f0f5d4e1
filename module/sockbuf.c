// SPDX-License-Identifier: GPL-2.0
/*
 * Socket tuning: the local TCP socket of a migration flow gets the
 * designated interface's priority and buffer sizes, on both ends.
 *
 * Buffers are only written with the socket locked the way the TCP receive
 * path locks it: bh_lock_sock() and no owner (sock_owned_by_user()), which
 * excludes setsockopt() and the owner's system calls. Nothing here sleeps
 * on a socket lock: a local process can hold one for as long as it likes
 * (a sendmsg() from a page that faults slowly), and the flow's work would
 * then hold up the reaper, which netns exit and module unload wait for.
 * When the socket is owned, the work tries again a little later.
 *
 * The priority is a single word that setsockopt() replaces in one store:
 * it is swapped with cmpxchg(), without the lock, so neither side loses a
 * write. Giving it back (the flow ends or stops matching) is therefore
 * never deferred: the reaper does it for every ended flow whose socket
 * still has the priority migprio gave it. A socket that already had that
 * priority keeps it when the flow ends: migprio never saves its own value
 * as the socket's original, so a flow created again for the same socket
 * (after an idle end, say) cannot make it permanent.
 *
 * The work holds no socket reference while it is pending: it looks the
 * socket up by the flow's tuple when it runs, so a flow can be freed at any
 * time without a socket leak, and a socket that went away is simply not
 * found.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <net/sock.h>
#include <net/tcp.h>
#include <net/inet_hashtables.h>
#include <net/inet6_hashtables.h>

#include "flows.h"

static __be32 mp_v4(const u8 *a)
{
	__be32 v;

	memcpy(&v, a, sizeof(v));
	return v;
}

static struct inet_hashinfo *mp_tcp_hashinfo(struct net *net)
{
	return net->ipv4.tcp_death_row.hashinfo;
}

/* The TCP listener an incoming SYN of @k goes to; RCU, no reference. */
static struct sock *mp_listener_find(struct net *net,
				     const struct mp_flow_key *k, int ifindex)
{
	if (k->family == 4)
		return __inet_lookup_listener(net, mp_tcp_hashinfo(net), NULL, 0,
					      mp_v4(k->raddr), htons(k->rport),
					      mp_v4(k->laddr), k->lport,
					      ifindex, 0);
	return inet6_lookup_listener(net, mp_tcp_hashinfo(net), NULL, 0,
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
		sk = __inet_lookup_established(net, mp_tcp_hashinfo(net),
					       mp_v4(k->raddr), htons(k->rport),
					       mp_v4(k->laddr), k->lport,
					       ifindex, 0);
	else
		sk = __inet6_lookup_established(net, mp_tcp_hashinfo(net),
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

static bool mp_sk_bufs_ok(const struct sock *sk, const struct mp_dev_params *p)
{
	return READ_ONCE(sk->sk_sndbuf) >= (int)p->sndbuf &&
	       READ_ONCE(sk->sk_rcvbuf) >= (int)p->rcvbuf;
}

/*
 * Like SO_SNDBUFFORCE/SO_RCVBUFFORCE (no wmem_max/rmem_max cap, sizes
 * locked against autotuning) but never shrinking, and with the exact sizes
 * configured. A connected socket's window clamp was computed from its old
 * receive buffer; raise it as autotuning would. Socket locked.
 */
static void mp_sk_set_bufs(struct sock *sk, const struct mp_dev_params *p)
{
	if (sk->sk_sndbuf < (int)p->sndbuf) {
		sk->sk_userlocks |= SOCK_SNDBUF_LOCK;
		WRITE_ONCE(sk->sk_sndbuf, p->sndbuf);
		sk->sk_write_space(sk);
	}
	if (sk->sk_rcvbuf < (int)p->rcvbuf) {
		sk->sk_userlocks |= SOCK_RCVBUF_LOCK;
		WRITE_ONCE(sk->sk_rcvbuf, p->rcvbuf);
		if (sk->sk_state != TCP_LISTEN) {
			struct tcp_sock *tp = tcp_sk(sk);
			u32 win = tcp_win_from_space(sk, p->rcvbuf);

			if (tp->window_clamp < win)
				WRITE_ONCE(tp->window_clamp, win);
		}
	}
}

/*
 * An incoming SYN matched a rule that covers every connection to its
 * listener's port. The window scale of the connection is chosen from the
 * listener's receive buffer while the SYN-ACK is built (tcp_openreq_init_rwin
 * -> tcp_select_initial_window), right after this hook, and the child
 * inherits the listener's buffers: raise them now, so the accepted socket
 * can use its large buffer (wscale 9 for 32 MiB instead of 7). Only the
 * buffers: the SYN-ACK is marked by the hook, and the child gets its
 * priority from its own flow, which can restore it exactly. If a process
 * holds the listener locked, defer to the flow's work when the SYN has a
 * flow (flows start from packets a socket owns, so usually it has none):
 * then only later connections benefit. Softirq, under RCU.
 */
void mp_listener_tune(struct net *net, const struct mp_flow_key *k,
		      const struct mp_dev_params *p, int ifindex,
		      struct mp_flow *f)
{
	struct sock *sk = mp_listener_find(net, k, ifindex);
	bool done = false;

	if (!sk || mp_sk_bufs_ok(sk, p))
		return;
	bh_lock_sock(sk);
	if (!sock_owned_by_user(sk)) {
		mp_sk_set_bufs(sk, p);
		done = true;
	}
	bh_unlock_sock(sk);
	if (done) {
		atomic64_inc(&mp_net(net)->ev.socks_tuned);
	} else if (f) {
		set_bit(MP_FLOW_LISTENER, &f->flags);
		mp_flow_kick(f);
	}
}

/* The deferred listener tuning. Process context, never sleeps on @sk. */
static void mp_listener_tune_locked(struct mp_flow *f,
				    const struct mp_dev_params *p)
{
	struct net *net = f->mn->net;
	struct sock *sk;

	rcu_read_lock();
	sk = mp_listener_find(net, &f->key, f->ifindex);
	if (sk && !refcount_inc_not_zero(&sk->sk_refcnt))
		sk = NULL;
	rcu_read_unlock();
	if (!sk)
		return;
	/* Locked as the receive path locks it, see the top of the file. */
	local_bh_disable();
	bh_lock_sock(sk);
	if (sock_owned_by_user(sk)) {
		set_bit(MP_FLOW_LISTENER, &f->flags);
		mp_flow_retry(f);
	} else if (sk->sk_state == TCP_LISTEN && !mp_sk_bufs_ok(sk, p)) {
		mp_sk_set_bufs(sk, p);
		atomic64_inc(&f->mn->ev.socks_tuned);
	}
	bh_unlock_sock(sk);
	local_bh_enable();
	sock_put(sk);
}

/*
 * Tune the flow's socket (@p set) or give it its priority back (@p NULL).
 * Buffers stay as they are when the flow stops matching: shrinking a
 * buffer under a running connection helps nobody.
 */
static void mp_sock_apply(struct mp_flow *f, const struct mp_dev_params *p)
{
	struct sock *sk = mp_sock_lookup(f->mn->net, &f->key, f->ifindex);
	u32 prio;

	if (!sk)
		return;
	if (!sk_fullsock(sk))
		goto out;	/* not accepted yet: retried on a later packet */
	if (!p) {
		/* Unless someone set another priority since. */
		if (test_and_clear_bit(MP_FLOW_TUNED, &f->flags))
			cmpxchg(&sk->sk_priority, f->prio_set, f->prio_saved);
		goto out;
	}
	if (test_bit(MP_FLOW_TUNED, &f->flags))
		goto out;
	local_bh_disable();
	bh_lock_sock(sk);
	prio = READ_ONCE(sk->sk_priority);
	if (sock_owned_by_user(sk)) {
		mp_flow_retry(f);
	} else if (cmpxchg(&sk->sk_priority, prio, p->priority) == prio) {
		f->prio_saved = prio;
		f->prio_set = p->priority;
		mp_sk_set_bufs(sk, p);
		set_bit(MP_FLOW_TUNED, &f->flags);
		atomic64_inc(&f->mn->ev.socks_tuned);
	} else {
		mp_flow_retry(f);	/* setsockopt() got there first */
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
	bool tune;

	if (f->key.proto != IPPROTO_TCP)
		return;
	rcu_read_lock();
	cfg = mp_config_get(f->mn);
	p = cfg->dev;
	tune = cfg->ifindex == f->ifindex &&
	       test_bit(MP_FLOW_MATCHED, &f->flags);
	rcu_read_unlock();

	if (test_and_clear_bit(MP_FLOW_LISTENER, &f->flags) && tune)
		mp_listener_tune_locked(f, &p);
	if (tune != test_bit(MP_FLOW_TUNED, &f->flags))
		mp_sock_apply(f, tune ? &p : NULL);
}

/*
 * The flow ends while its socket may live on: give its priority back. Does
 * not lock the socket, so it cannot wait for a process. Process context.
 */
void mp_sock_release(struct mp_flow *f)
{
	if (f->key.proto == IPPROTO_TCP && test_bit(MP_FLOW_TUNED, &f->flags))
		mp_sock_apply(f, NULL);
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
