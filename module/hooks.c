// SPDX-License-Identifier: GPL-2.0
/*
 * The packet path: netfilter hooks that classify, mark and account the
 * migration traffic of the designated interface.
 *
 * The hooks are registered in a netns only while it has a designated
 * interface, so other namespaces pay nothing. Per packet: parse the IP and
 * TCP/UDP headers, find the flow (lock-free), reuse its classification if
 * the config did not change since, else ask the classifier; mark outgoing
 * packets (skb->priority, DSCP), count, and create a flow entry for a new
 * matching connection whose packet a local full socket owns (the only
 * allocation on this path; what a remote peer sends on its own creates
 * nothing). Everything that
 * needs process context (events, socket tuning) goes to the flow's work.
 * Output through any interface of the netns also passes, while tuned
 * listeners are on record (one read otherwise), the check of a TCP
 * socket's first segment for sizes inherited from a tuned listener
 * (sockbuf.c, mp_child_first_tx()).
 *
 * The fast path: a tracked TCP flow whose socket migprio tuned carries
 * the priority itself (TCP copies sk_priority into every segment) and
 * counts its segments and bytes itself (tcp_sock: segs_out/segs_in,
 * bytes_sent/bytes_received). Such a flow switches to socket accounting
 * (MP_FLOW_SKACCT) on a segment its socket sends with the socket's lock
 * held and no owner, so that TCP has counted exactly what the hooks have
 * (mp_flow_acct_start()): the socket's counts then are the flow's base.
 * From then on, a packet of that socket (recognised by its cookie) whose
 * flow is classified for the current config and matched, with no DSCP to
 * write, no SYN, FIN or RST in it or seen before, and its socket neither
 * retransmitting nor probing, costs: the parse, the flow found by the
 * socket's address (a small per-netns cache checked against the key, no
 * hash of it: mp_flow_of_sk()), a few reads, the priority store and the
 * idle stamp. Nothing is counted per packet; what the socket counted
 * since the base is folded into the flow, and into its rule's and the
 * netns' counters while matched (IP bytes: payload plus every segment's
 * headers), by mp_flow_fold(): at every slow-path packet where the
 * connection may be about to end or the classification changed (a
 * received packet TCP has yet to count is counted there and added to the
 * base), at every dump (flows, rules, stats: each live flow's socket,
 * bounded by the table), every MP_FOLD_PASSES passes of the collector
 * (TCP's segment counts are 32 bits) and at the flow's end. Folds read a
 * socket only where they hold it: the packet's own, or one looked up by
 * the tuple with a reference (sockbuf.c, mp_sock_fold()). Everything
 * else (a config change, a rule deleted, the priority given back, DSCP
 * configured, a flow not yet tuned, a FIN or RST) takes the slow path
 * below, as before; a packet of the flow the socket does not count (a
 * timewait reply, another socket on the tuple) is counted per packet.
 *
 * Where: POST_ROUTING for what leaves through the interface (the final
 * output device is known there) and LOCAL_IN for what arrives through it
 * for this host (after early demux, so an established TCP socket is at
 * hand, and before TCP sees a SYN, so a listener can be tuned before its
 * SYN-ACK is built). Forwarded traffic is not ours: it has no local end.
 *
 * Priority NF_IP_PRI_NAT_SRC - 1: after mangle (our priority and DSCP
 * win over a mangle rule's), filter and security (dropped packets are not
 * counted nor start flows), and before source NAT, so the addresses and
 * ports are the local socket's own, as the rules and flows describe them.
 */

#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/netfilter_bridge.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/cgroup.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/dsfield.h>
#include <net/inet_ecn.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "flows.h"

/* Attempts at finding a flow's full socket (the first is usually early). */
#define MP_TUNE_TRIES	4

struct mp_skb {
	struct mp_flow_key key;
	u8 tcpflags;
	unsigned int poff;	/* payload offset from skb->data */
};

static bool mp_parse(const struct sk_buff *skb, u8 pf, bool tx,
		     struct mp_skb *m)
{
	unsigned int nhoff = skb_network_offset(skb), thoff;
	u8 proto;
	union {
		struct iphdr ip;
		struct ipv6hdr ip6;
		struct tcphdr tcp;
		struct udphdr udp;
	} _h;
	const __be16 *ports;

	memset(m, 0, sizeof(*m));
	if (pf == NFPROTO_IPV4) {
		const struct iphdr *iph;

		iph = skb_header_pointer(skb, nhoff, sizeof(_h.ip), &_h);
		if (!iph || iph->ihl < 5 || iph->frag_off & htons(IP_OFFSET))
			return false;
		proto = iph->protocol;
		thoff = nhoff + iph->ihl * 4;
		m->key.family = 4;
		memcpy(m->key.laddr, tx ? &iph->saddr : &iph->daddr, 4);
		memcpy(m->key.raddr, tx ? &iph->daddr : &iph->saddr, 4);
	} else {
		const struct ipv6hdr *ip6h;
		__be16 frag_off;
		int off;

		ip6h = skb_header_pointer(skb, nhoff, sizeof(_h.ip6), &_h);
		if (!ip6h)
			return false;
		memcpy(m->key.laddr, tx ? &ip6h->saddr : &ip6h->daddr, 16);
		memcpy(m->key.raddr, tx ? &ip6h->daddr : &ip6h->saddr, 16);
		proto = ip6h->nexthdr;
		off = ipv6_skip_exthdr(skb, nhoff + sizeof(*ip6h), &proto,
				       &frag_off);
		/* Only a first fragment carries the ports. */
		if (off < 0 || frag_off & htons(IP6_OFFSET))
			return false;
		thoff = off;
		m->key.family = 6;
	}

	if (proto == IPPROTO_TCP) {
		const struct tcphdr *th;

		th = skb_header_pointer(skb, thoff, sizeof(_h.tcp), &_h);
		if (!th)
			return false;
		m->tcpflags = tcp_flag_byte(th);
		m->poff = thoff + th->doff * 4;
		ports = &th->source;
	} else if (proto == IPPROTO_UDP) {
		const struct udphdr *uh;

		uh = skb_header_pointer(skb, thoff, sizeof(_h.udp), &_h);
		if (!uh)
			return false;
		m->poff = thoff + sizeof(*uh);
		ports = &uh->source;
	} else {
		return false;
	}
	m->key.proto = proto;
	m->key.lport = ntohs(ports[tx ? 0 : 1]);
	m->key.rport = ntohs(ports[tx ? 1 : 0]);
	return true;
}

/*
 * The local full socket this packet belongs to, if the stack attached it:
 * the sender on output, the early-demuxed socket on input. Not a request
 * or timewait socket, nor the per-CPU control socket of TCP resets/ACKs.
 */
static struct sock *mp_local_sock(const struct sk_buff *skb,
				  const struct mp_skb *m)
{
	struct sock *sk = skb->sk;

	if (!sk || !sk_fullsock(sk) || sk->sk_protocol != m->key.proto ||
	    sk->sk_type != (m->key.proto == IPPROTO_TCP ? SOCK_STREAM :
							   SOCK_DGRAM) ||
	    inet_sk(sk)->inet_num != m->key.lport)
		return NULL;
	return sk;
}

/*
 * mp_pkt.in_cgroup: is the socket's cgroup v2 the rule's cgroup or below
 * it? @handle is the rule's struct mp_cgmatch (see migprio.h).
 */
static bool mp_in_cgroup(const void *ctx, u64 handle, u16 level)
{
	const struct mp_cgmatch *m = (const void *)(uintptr_t)handle;
	struct sock *sk = (struct sock *)ctx;
	struct cgroup *cgrp = sock_cgroup_ptr(&sk->sk_cgrp_data);
	u64 id = READ_ONCE(m->id);

	if (id) {
		cgrp = cgroup_ancestor(cgrp, READ_ONCE(m->level));
		if (cgrp && cgroup_id(cgrp) == id)
			return true;
	}
	mp_cgroup_miss(m);
	return false;
}

static void mp_flow_set_cls(struct mp_flow *f, const struct mp_config *cfg,
			    int idx)
{
	bool matched = idx >= 0;

	atomic64_set(&f->cls, MP_FLOW_CLS(cfg->gen, idx));
	if (matched)
		WRITE_ONCE(f->rule_id, cfg->rules[idx]->spec.id);
	if (matched != test_bit(MP_FLOW_MATCHED, &f->flags)) {
		if (matched)
			set_bit(MP_FLOW_MATCHED, &f->flags);
		else
			clear_bit(MP_FLOW_MATCHED, &f->flags);
		atomic_set(&f->tune_tries, 0);
	}
}

/*
 * The rule with the lowest id that @pkt matches: the table's answer, else
 * the first of the rules added since it was built (their ids are higher).
 * MP_NEED_SVC when that depends on which end listens and pkt->svc does not
 * say.
 */
static int mp_rules_lookup(const struct mp_config *cfg,
			   const struct mp_pkt *pkt)
{
	int idx = mp_ctable_lookup(cfg->ctable, pkt), match;
	unsigned int i;

	for (i = cfg->nbuilt; idx == -1 && i < cfg->nrules; i++) {
		match = mp_rule_match(&cfg->rules[i]->spec, pkt);
		if (match)
			idx = match > 0 ? (int)i : match;
	}
	return idx;
}

/*
 * Which end listens, from what the packet and its owners say without a
 * lookup (Documentation/migprio.rst, "Which end listens"): the handshake,
 * a tracked flow's direction, a UDP socket's own state. MP_SVC_UNKNOWN
 * otherwise: then only mp_svc_lookup() tells, asked only when a rule's
 * answer depends on it.
 */
static u8 mp_svc(const struct mp_skb *m, bool tx, const struct mp_flow *f,
		 const struct sock *sk)
{
	u8 syn = m->tcpflags & (TCPHDR_SYN | TCPHDR_ACK);

	if (m->key.proto == IPPROTO_UDP) {
		/* no socket: the port the datagram is sent to */
		if (!sk)
			return tx ? MP_SVC_REMOTE : MP_SVC_LOCAL;
		/*
		 * A connected socket, or one whose port the kernel chose, is
		 * a client. sk_userlocks is read plainly: a bitfield on 6.1,
		 * set by bind() before any datagram.
		 */
		if (READ_ONCE(sk->sk_state) == TCP_ESTABLISHED ||
		    !(sk->sk_userlocks & SOCK_BINDPORT_LOCK))
			return MP_SVC_REMOTE;
		return MP_SVC_LOCAL;
	}
	if (syn == TCPHDR_SYN)			/* the sender connects */
		return tx ? MP_SVC_REMOTE : MP_SVC_LOCAL;
	if (syn == (TCPHDR_SYN | TCPHDR_ACK))	/* the sender accepted */
		return tx ? MP_SVC_LOCAL : MP_SVC_REMOTE;
	if (f)
		return f->dir == MIGPRIO_FLOW_DIR_IN ? MP_SVC_LOCAL :
						       MP_SVC_REMOTE;
	return MP_SVC_UNKNOWN;
}

/*
 * A TCP connection picked up mid-stream: did the local end accept it? An
 * accepted socket is a copy of its listener, listen() backlog included,
 * which a connecting socket never has; it tells even after the listener
 * closed. Without a socket (or after listen(fd, 0)): a listener owning the
 * local port.
 */
static u8 mp_svc_lookup(struct net *net, const struct mp_skb *m,
			const struct sock *sk, int ifindex)
{
	if (sk && READ_ONCE(sk->sk_max_ack_backlog))
		return MP_SVC_LOCAL;
	return mp_listener_exists(net, &m->key, ifindex) ? MP_SVC_LOCAL :
							   MP_SVC_REMOTE;
}

/*
 * Index of the matching rule in cfg->rules, or -1. A flow remembers the
 * answer for the config generation that gave it, so a config change (a
 * rule added or deleted mid-transfer) applies from the next packet on.
 * *svc: which end listens, MP_SVC_UNKNOWN when the answer did not need it.
 */
static int mp_classify(struct net *net, const struct mp_config *cfg,
		       struct mp_flow *f, const struct mp_skb *m,
		       struct sock *sk, bool tx, u8 *svc)
{
	struct mp_pkt pkt;
	int idx;

	*svc = MP_SVC_UNKNOWN;
	if (f) {
		u64 cls = atomic64_read(&f->cls);

		if (MP_FLOW_CLS_GEN(cls) == cfg->gen)
			return MP_FLOW_CLS_IDX(cls);
	}
	pkt.proto = m->key.proto;
	pkt.family = m->key.family;
	pkt.svc = mp_svc(m, tx, f, sk);
	pkt.lport = m->key.lport;
	pkt.rport = m->key.rport;
	memcpy(pkt.raddr, m->key.raddr, sizeof(pkt.raddr));
	pkt.in_cgroup = sk ? mp_in_cgroup : NULL;
	pkt.cg_ctx = sk;
	idx = mp_rules_lookup(cfg, &pkt);
	if (idx == MP_NEED_SVC) {
		pkt.svc = mp_svc_lookup(net, m, sk, cfg->ifindex);
		idx = mp_rules_lookup(cfg, &pkt);
	}
	*svc = pkt.svc;
	/*
	 * Without a socket, cgroup rules cannot match: do not let such a
	 * packet (a SYN, a reset) unmatch a flow a socket matched.
	 */
	if (f && (idx >= 0 || sk))
		mp_flow_set_cls(f, cfg, idx);
	return idx;
}

static void mp_count(struct mp_counters __percpu *ctr, bool tx,
		     unsigned int segs, unsigned int len)
{
	struct mp_counters *c = get_cpu_ptr(ctr);
	unsigned long flags;

	/* Output also runs in process context: keep BHs out of syncp. */
	flags = u64_stats_update_begin_irqsave(&c->syncp);
	if (tx) {
		u64_stats_add(&c->tx_packets, segs);
		u64_stats_add(&c->tx_bytes, len);
	} else {
		u64_stats_add(&c->rx_packets, segs);
		u64_stats_add(&c->rx_bytes, len);
	}
	u64_stats_update_end_irqrestore(&c->syncp, flags);
	put_cpu_ptr(ctr);
}

/* Socket accounting (see the top of the file) */

/* Add @d, all four counts at once. Any context. */
static void mp_count_sum(struct mp_counters __percpu *ctr,
			 const struct mp_counters_sum *d)
{
	struct mp_counters *c = get_cpu_ptr(ctr);
	unsigned long flags;

	flags = u64_stats_update_begin_irqsave(&c->syncp);
	u64_stats_add(&c->tx_packets, d->tx_packets);
	u64_stats_add(&c->tx_bytes, d->tx_bytes);
	u64_stats_add(&c->rx_packets, d->rx_packets);
	u64_stats_add(&c->rx_bytes, d->rx_bytes);
	u64_stats_update_end_irqrestore(&c->syncp, flags);
	put_cpu_ptr(ctr);
}

/*
 * What a TCP socket counted itself, as the hooks count a flow: segments
 * out and in (a GSO or GRO packet as its segments, like mp_segs(); pure
 * ACKs and retransmissions included), payload bytes sent (retransmitted
 * ones included) and received in sequence, less the sequence number a
 * received FIN takes (SOCK_DONE: only tcp_fin() sets it). Read without
 * the socket's lock, each word on its own, as tcp_get_info() may.
 */
static void mp_sk_counts(const struct sock *sk, struct mp_counters_sum *c)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	c->tx_packets = READ_ONCE(tp->segs_out);
	c->tx_bytes = READ_ONCE(tp->bytes_sent);
	c->rx_packets = READ_ONCE(tp->segs_in);
	c->rx_bytes = READ_ONCE(tp->bytes_received) - sock_flag(sk, SOCK_DONE);
}

/* Is @sk the socket the flow counts from? Any context. */
static bool mp_sk_acct(const struct mp_flow *f, const struct sock *sk)
{
	return sk && atomic64_read(&sk->sk_cookie) == READ_ONCE(f->acct_id);
}

/*
 * The socket counted since the base (@base, moved to @now): segments are
 * 32-bit counts that wrap, bytes 64-bit. Negative when a concurrent fold
 * read the socket later but moved the base first: the sum stays right.
 */
static s64 mp_fold_segs(atomic64_t *base, u64 now)
{
	return (s32)((u32)now - (u32)atomic64_xchg(base, now));
}

static s64 mp_fold_bytes(atomic64_t *base, u64 now)
{
	return now - atomic64_xchg(base, now);
}

void mp_flow_fold(struct mp_flow *f, const struct mp_config *cfg,
		  const struct sock *sk)
{
	struct mp_counters_sum c, d;
	struct mp_rule *rule = NULL;
	unsigned int hdr;
	bool matched;
	u64 cls;

	if (!test_bit(MP_FLOW_SKACCT, &f->flags) || !mp_sk_acct(f, sk))
		return;
	smp_rmb();	/* the base was set before the bit */
	mp_sk_counts(sk, &c);
	d.tx_packets = mp_fold_segs(&f->sk_tx_packets, c.tx_packets);
	d.tx_bytes = mp_fold_bytes(&f->sk_tx_bytes, c.tx_bytes);
	d.rx_packets = mp_fold_segs(&f->sk_rx_packets, c.rx_packets);
	d.rx_bytes = mp_fold_bytes(&f->sk_rx_bytes, c.rx_bytes);
	atomic64_add(d.tx_packets, &f->tx_packets);
	atomic64_add(d.tx_bytes, &f->tx_bytes);
	atomic64_add(d.rx_packets, &f->rx_packets);
	atomic64_add(d.rx_bytes, &f->rx_bytes);

	/* The rule and netns count what was matched, as per packet. */
	cls = atomic64_read(&f->cls);
	if (MP_FLOW_CLS_GEN(cls) == cfg->gen) {
		matched = MP_FLOW_CLS_IDX(cls) >= 0;
		if (matched)
			rule = cfg->rules[MP_FLOW_CLS_IDX(cls)];
	} else {
		/* not classified since the change: what it was until then */
		matched = test_bit(MP_FLOW_MATCHED, &f->flags);
		if (matched)
			rule = mp_config_rule(cfg, READ_ONCE(f->rule_id));
	}
	if (!matched || cfg->ifindex != f->ifindex)
		return;
	/* They count IP packets: with the headers of every segment. */
	hdr = (f->key.family == 4 ? sizeof(struct iphdr) :
				    sizeof(struct ipv6hdr)) +
	      READ_ONCE(tcp_sk(sk)->tcp_header_len);
	d.tx_bytes += d.tx_packets * hdr;
	d.rx_bytes += d.rx_packets * hdr;
	mp_count_sum(f->mn->ctr, &d);
	if (rule)
		mp_count_sum(rule->ctr, &d);
}

/*
 * Count the flow from its socket from now on. On a segment the socket
 * sends with its lock held and no owner: TCP counted this segment and
 * everything sent before it, and every segment received before it (the
 * backlog is empty without an owner), all of which the hooks counted.
 */
static void mp_flow_acct_start(struct mp_flow *f, const struct sock *sk)
{
	struct mp_counters_sum c;

	mp_sk_counts(sk, &c);
	atomic64_set(&f->sk_tx_packets, c.tx_packets);
	atomic64_set(&f->sk_tx_bytes, c.tx_bytes);
	atomic64_set(&f->sk_rx_packets, c.rx_packets);
	atomic64_set(&f->sk_rx_bytes, c.rx_bytes);
	WRITE_ONCE(f->acct_id, atomic64_read(&sk->sk_cookie));
	/* the base before the bit: mp_flow_fold()'s smp_rmb() */
	smp_mb__before_atomic();
	set_bit(MP_FLOW_SKACCT, &f->flags);
	mp_flow_cache_sk(f, sk);
}

/* Flow bits that keep a packet off the fast path. */
#define MP_FLOW_SLOW	(BIT(MP_FLOW_FIN_TX) | BIT(MP_FLOW_FIN_RX) | \
			 BIT(MP_FLOW_RST))
#define MP_FLOW_FAST	(BIT(MP_FLOW_MATCHED) | BIT(MP_FLOW_TUNED) | \
			 BIT(MP_FLOW_SKACCT))

/*
 * The socket may stop soon without a segment the hooks see: it retransmits
 * or probes (it ends by a timeout), or a FIN or RST went by. Its packets
 * take the slow path then, which folds the counts at each.
 */
static bool mp_sk_ending(const struct mp_flow *f, const struct sock *sk,
			 const struct mp_skb *m)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);

	return (READ_ONCE(f->flags) & MP_FLOW_SLOW) ||
	       (m->tcpflags & (TCPHDR_SYN | TCPHDR_FIN | TCPHDR_RST)) ||
	       READ_ONCE(icsk->icsk_retransmits) ||
	       READ_ONCE(icsk->icsk_probes_out);
}

/*
 * The fast path: a packet of the socket a tracked, tuned, matched flow
 * counts from, classified for this config, no DSCP to write, nothing
 * ending. The socket carries the priority and counts the packet.
 */
static bool mp_fast(const struct mp_flow *f, const struct mp_config *cfg,
		    const struct sock *sk, const struct mp_skb *m)
{
	u64 cls = atomic64_read(&f->cls);

	return (READ_ONCE(f->flags) & MP_FLOW_FAST) == MP_FLOW_FAST &&
	       MP_FLOW_CLS_GEN(cls) == cfg->gen &&
	       MP_FLOW_CLS_IDX(cls) >= 0 && cfg->dev.dscp < 0 &&
	       mp_sk_acct(f, sk) && !mp_sk_ending(f, sk, m);
}

/* Rewrite DSCP, keeping ECN; the IPv4 checksum is updated incrementally. */
static void mp_set_dscp(struct mp_net *mn, struct sk_buff *skb, u8 pf,
			u8 dscp)
{
	unsigned int len = skb_network_offset(skb);
	u8 dsf = dscp << 2;

	if (pf == NFPROTO_IPV4) {
		if ((ipv4_get_dsfield(ip_hdr(skb)) & ~INET_ECN_MASK) == dsf)
			return;
		if (skb_ensure_writable(skb, len + sizeof(struct iphdr)))
			return;
		ipv4_change_dsfield(ip_hdr(skb), INET_ECN_MASK, dsf);
	} else {
		if ((ipv6_get_dsfield(ipv6_hdr(skb)) & ~INET_ECN_MASK) == dsf)
			return;
		if (skb_ensure_writable(skb, len + sizeof(struct ipv6hdr)))
			return;
		ipv6_change_dsfield(ipv6_hdr(skb), INET_ECN_MASK, dsf);
	}
	atomic64_inc(&mn->ev.dscp_rewritten);
}

/* Direction of a new flow: incoming when the local end listens. */
static u8 mp_flow_dir(struct net *net, const struct mp_skb *m, u8 svc,
		      const struct sock *sk, int ifindex)
{
	if (svc == MP_SVC_UNKNOWN)
		svc = mp_svc_lookup(net, m, sk, ifindex);
	return svc == MP_SVC_LOCAL ? MIGPRIO_FLOW_DIR_IN : MIGPRIO_FLOW_DIR_OUT;
}

bool mp_config_covers_lport(const struct mp_config *cfg, u16 lport)
{
	unsigned int i;

	for (i = 0; i < cfg->nrules; i++)
		if (mp_rule_covers_lport(&cfg->rules[i]->spec, IPPROTO_TCP,
					 lport))
			return true;
	return false;
}

/* The collector's idle time: the last packet, to the jiffy. */
static void mp_flow_touch(struct mp_flow *f)
{
	unsigned long now = jiffies;

	if (READ_ONCE(f->last) != now)
		WRITE_ONCE(f->last, now);
}

/* @by_sk: the socket counts the packet (socket accounting). */
static void mp_flow_account(struct mp_flow *f, struct sk_buff *skb, bool tx,
			    const struct mp_skb *m, struct sock *sk,
			    bool matched, unsigned int segs, bool by_sk)
{
	/* A flow counts payload: what the application sent or received. */
	unsigned int payload = skb->len > m->poff ? skb->len - m->poff : 0;

	if (!by_sk && tx) {
		atomic64_add(segs, &f->tx_packets);
		atomic64_add(payload, &f->tx_bytes);
	} else if (!by_sk) {
		atomic64_add(segs, &f->rx_packets);
		atomic64_add(payload, &f->rx_bytes);
	}
	mp_flow_touch(f);

	/* TCP has not checked them yet: the collector asks the socket. */
	if ((m->tcpflags & TCPHDR_RST) && !test_bit(MP_FLOW_RST, &f->flags))
		set_bit(MP_FLOW_RST, &f->flags);
	else if ((m->tcpflags & TCPHDR_FIN) &&
		 !test_bit(tx ? MP_FLOW_FIN_TX : MP_FLOW_FIN_RX, &f->flags))
		set_bit(tx ? MP_FLOW_FIN_TX : MP_FLOW_FIN_RX, &f->flags);

	if (m->key.proto != IPPROTO_TCP)
		return;
	if (matched) {
		/* Tune the socket once it exists (an accepted child). */
		if (sk && !test_bit(MP_FLOW_TUNED, &f->flags) &&
		    atomic_read(&f->tune_tries) < MP_TUNE_TRIES &&
		    mp_flow_kick(f))
			atomic_inc(&f->tune_tries);
	} else if (test_bit(MP_FLOW_TUNED, &f->flags)) {
		/*
		 * The rule went away but the socket still has our priority:
		 * undo it on this packet and have the work restore it.
		 */
		if (tx && skb->priority == f->prio_set)
			skb->priority = f->prio_saved;
		mp_flow_kick(f);
	}
}

/*
 * Segments on the wire. gso_segs is 0 for a GSO packet from an untrusted
 * source (virtio-net, tun: SKB_GSO_DODGY) until the stack recomputes it:
 * count the payload in gso_size pieces then, as qdisc_pkt_len_init() does.
 */
static unsigned int mp_segs(const struct sk_buff *skb, const struct mp_skb *m)
{
	const struct skb_shared_info *shinfo = skb_shinfo(skb);
	unsigned int payload;

	if (!skb_is_gso(skb))
		return 1;
	if (shinfo->gso_segs)
		return shinfo->gso_segs;
	payload = skb->len > m->poff ? skb->len - m->poff : 0;
	return max(DIV_ROUND_UP(payload, shinfo->gso_size), 1U);
}

/*
 * May the live flow be counted from its socket from this packet on? A
 * segment its tuned, established socket sends with its lock held and no
 * owner (see mp_flow_acct_start()), matched, no DSCP to write, nothing
 * ending.
 */
static bool mp_acct_ready(const struct mp_flow *f, const struct mp_config *cfg,
			  const struct sock *sk, const struct mp_skb *m)
{
	return m->key.proto == IPPROTO_TCP && sk && !READ_ONCE(f->end) &&
	       test_bit(MP_FLOW_TUNED, &f->flags) &&
	       test_bit(MP_FLOW_MATCHED, &f->flags) &&
	       !test_bit(MP_FLOW_SKACCT, &f->flags) && cfg->dev.dscp < 0 &&
	       atomic64_read(&sk->sk_cookie) == READ_ONCE(f->sock_id) &&
	       READ_ONCE(sk->sk_state) == TCP_ESTABLISHED &&
	       !sock_owned_by_user_nocheck(sk) && !mp_sk_ending(f, sk, m);
}

static void mp_packet(struct mp_net *mn, const struct mp_config *cfg,
		      struct sk_buff *skb, const struct nf_hook_state *state,
		      const struct mp_skb *m, bool tx)
{
	struct sock *sk = mp_local_sock(skb, m);
	struct mp_flow *f = sk ? mp_flow_of_sk(mn, sk) : NULL;
	struct mp_rule *rule = NULL;
	unsigned int segs;
	bool by_sk = false;
	int idx;
	u8 svc;

	/* the socket cache's flow is the table's if it has the key */
	if (!f || memcmp(&f->key, &m->key, sizeof(m->key)))
		f = mp_flow_lookup(mn, &m->key);
	if (tx)
		mp_child_tx(mn, skb, f);
	if (f && test_bit(MP_FLOW_SKACCT, &f->flags)) {
		if (mp_fast(f, cfg, sk, m)) {
			if (tx)
				skb->priority = cfg->dev.priority;
			mp_flow_touch(f);
			return;
		}
		/* TCP counts it; without a socket, early demux is off */
		by_sk = mp_sk_acct(f, sk) || (!tx && !skb->sk);
	}
	segs = mp_segs(skb, m);
	if (by_sk && sk &&
	    (mp_sk_ending(f, sk, m) ||
	     MP_FLOW_CLS_GEN(atomic64_read(&f->cls)) != cfg->gen)) {
		/* for the rule it had, and before the socket goes */
		mp_flow_fold(f, cfg, sk);
		if (!tx) {
			/*
			 * TCP counts this one after the hook, maybe as the
			 * socket's last: counted here, and in the base.
			 */
			atomic64_add(segs, &f->sk_rx_packets);
			atomic64_add(skb->len > m->poff ? skb->len - m->poff : 0,
				     &f->sk_rx_bytes);
			by_sk = false;
		}
	}
	idx = mp_classify(state->net, cfg, f, m, sk, tx, &svc);
	if (idx >= 0) {
		rule = cfg->rules[idx];
		/*
		 * Only a packet a local connection's socket owns starts a
		 * flow, not one the peer alone sent (nor a listener's reply).
		 */
		if (!f && sk && sk->sk_state != TCP_LISTEN &&
		    !(m->tcpflags & TCPHDR_RST))
			f = mp_flow_create(mn, &m->key,
					   mp_flow_dir(state->net, m, svc, sk,
						       cfg->ifindex),
					   rule, MP_FLOW_CLS(cfg->gen, idx),
					   cfg->ifindex);
		if (tx) {
			skb->priority = cfg->dev.priority;
			if (cfg->dev.dscp >= 0)
				mp_set_dscp(mn, skb, state->pf, cfg->dev.dscp);
		}
		if (!by_sk) {
			mp_count(mn->ctr, tx, segs, skb->len);
			mp_count(rule->ctr, tx, segs, skb->len);
		}
		if (!tx && (m->tcpflags & (TCPHDR_SYN | TCPHDR_ACK)) ==
			   TCPHDR_SYN &&
		    mp_rule_covers_lport(&rule->spec, IPPROTO_TCP,
					 m->key.lport))
			mp_listener_tune(state->net, &m->key, cfg, f);
	}
	if (!f)
		return;
	mp_flow_account(f, skb, tx, m, sk, !!rule, segs, by_sk);
	if (tx && rule && mp_acct_ready(f, cfg, sk, m))
		mp_flow_acct_start(f, sk);
}

/*
 * A packet routed through this host (a tenant's), not sent by it: ip_forward()
 * flags IPv4; ip6_forward() flags nothing (IP6SKB_FORWARDED is multicast
 * routing's), but a forwarded packet came in on an interface (skb_iif) and
 * one this host sends was allocated here (skb_iif 0).
 */
static bool mp_forwarded(const struct sk_buff *skb, u8 pf)
{
	if (pf == NFPROTO_IPV4)
		return IPCB(skb)->flags & IPSKB_FORWARDED;
	return (IP6CB(skb)->flags & IP6SKB_FORWARDED) || skb->skb_iif;
}

static unsigned int mp_hook(void *priv, struct sk_buff *skb,
			    const struct nf_hook_state *state)
{
	bool tx = state->hook == NF_INET_POST_ROUTING;
	const struct net_device *dev = tx ? state->out : state->in;
	struct mp_net *mn = mp_net(state->net);
	const struct mp_config *cfg = mp_config_rcu(mn);
	struct mp_skb m;

	if (!dev || !cfg->ifindex)
		return NF_ACCEPT;
	if (dev->ifindex != cfg->ifindex) {
		/* A tuned listener's child may have come this way. */
		if (tx)
			mp_child_tx(mn, skb, NULL);
		return NF_ACCEPT;
	}
	if (tx && mp_forwarded(skb, state->pf))
		return NF_ACCEPT;
	/*
	 * br_netfilter (bridge-nf-call-iptables) runs the IP hooks for
	 * frames the bridge forwards between its ports, with the bridge as
	 * output device and a zeroed IP control block: a guest's traffic,
	 * not this host's. Our own output gets no bridge info. LOCAL_IN is
	 * not filtered: what reaches it over the bridge is for a local
	 * socket, ours, whether or not it still carries the info.
	 */
	if (tx && nf_bridge_info_exists(skb))
		return NF_ACCEPT;
	if (mp_parse(skb, state->pf, tx, &m))
		mp_packet(mn, cfg, skb, state, &m, tx);
	return NF_ACCEPT;
}

static const struct nf_hook_ops mp_nf_ops[] = {
	{
		.hook		= mp_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_POST_ROUTING,
		.priority	= NF_IP_PRI_NAT_SRC - 1,
	},
	{
		.hook		= mp_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_IN,
		.priority	= NF_IP_PRI_NAT_SRC - 1,
	},
	{
		.hook		= mp_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_POST_ROUTING,
		.priority	= NF_IP6_PRI_NAT_SRC - 1,
	},
	{
		.hook		= mp_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_LOCAL_IN,
		.priority	= NF_IP6_PRI_NAT_SRC - 1,
	},
};

/* Process context, under mn->lock. Nothing to do when registered. */
int mp_hooks_register(struct mp_net *mn)
{
	int err;

	lockdep_assert_held(&mn->lock);
	if (mn->hooks_registered)
		return 0;
	err = nf_register_net_hooks(mn->net, mp_nf_ops, ARRAY_SIZE(mp_nf_ops));
	if (err)
		return err;
	mn->hooks_registered = true;
	return 0;
}

/*
 * Process context, under mn->lock. Hooks already running may still finish
 * after this returns: what they use is RCU-protected (configs) or freed
 * after a grace period (flows).
 */
void mp_hooks_unregister(struct mp_net *mn)
{
	lockdep_assert_held(&mn->lock);
	if (!mn->hooks_registered)
		return;
	nf_unregister_net_hooks(mn->net, mp_nf_ops, ARRAY_SIZE(mp_nf_ops));
	mn->hooks_registered = false;
}
