// SPDX-License-Identifier: GPL-2.0
/*
 * The per-netns table of migration flows: lock-free lookup from the hooks,
 * bounded size, start and end events, idle garbage collection and dumps.
 *
 * Life of a flow: the hooks create it on the first matching packet that a
 * local full socket owns, sent or received (the only allocation on the
 * packet path, GFP_ATOMIC, refused once the table holds mp_max_flows
 * entries): a packet no socket of this host accepted (a SYN, a stray ACK,
 * unsolicited UDP) creates nothing, so a remote peer cannot fill the
 * table. The flow's work sends the start event and tunes the socket in
 * process context. A FIN in both directions or a RST only marks the flow:
 * the garbage collector (a delayed work, every second while the table is
 * not empty) ends it if the socket agrees (gone, closed or closing), else
 * forgets the mark (a spoofed or out-of-window segment that TCP dropped).
 * The collector also ends flows idle for mp_flow_idle_secs.
 *
 * Ending never blocks: ended flows are only unlinked, under the table's
 * spinlock, onto a list of dead flows, which is safe under RTNL (the
 * netdev notifier, dev clear) and in netns exit. The reaper, a work item,
 * takes the whole list, waits one RCU grace period for the batch (no hook
 * can see the flows or queue their work any more), cancels their work
 * (which never sleeps on a socket lock), gives each live socket its
 * priority back without taking its lock, sends the end events and frees
 * the flows. No RCU callbacks are used; mp_flows_destroy() flushes the
 * reaper, so nothing outlives it.
 */

#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/jiffies.h>
#include <linux/math64.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "flows.h"

struct mp_flow_table {
	struct rhashtable ht;
	spinlock_t lock;		/* insertion, removal, list */
	struct list_head list;		/* all flows, oldest first, RCU */
	struct list_head dead;		/* unlinked, for the reaper */
	struct work_struct reap;
	struct delayed_work gc;
	atomic_t count;			/* allocated flows, freed ones excluded */
	unsigned int seq;		/* bumped on removal, for dumps */
	bool dying;
};

static const struct rhashtable_params mp_flow_params = {
	.key_len = sizeof(struct mp_flow_key),
	.key_offset = offsetof(struct mp_flow, key),
	.head_offset = offsetof(struct mp_flow, node),
	.automatic_shrinking = true,
};

/* Called under rcu_read_lock (the hooks). */
struct mp_flow *mp_flow_lookup(struct mp_net *mn,
			       const struct mp_flow_key *key)
{
	return rhashtable_lookup(&mn->flows->ht, key, mp_flow_params);
}

static int mp_put_addr(struct sk_buff *skb, int v4, int v6, u8 family,
		       const u8 *addr)
{
	if (family == 4)
		return nla_put_in_addr(skb, v4, *(const __be32 *)addr);
	return nla_put(skb, v6, 16, addr);
}

static int mp_flow_fill(struct sk_buff *skb, const struct mp_flow *f,
			int end)
{
	const struct mp_flow_key *k = &f->key;
	unsigned long now = jiffies, last = READ_ONCE(f->last);
	u64 tx = atomic64_read(&f->tx_bytes), rx = atomic64_read(&f->rx_bytes);
	u64 age_ms;

	/* End: the duration, first to last packet. Otherwise the age. */
	age_ms = jiffies_to_msecs((end ? last : now) - f->start);
	if (nla_put_u8(skb, MIGPRIO_A_FLOW_PROTO, k->proto) ||
	    mp_put_addr(skb, MIGPRIO_A_FLOW_LOCAL_IPV4, MIGPRIO_A_FLOW_LOCAL_IPV6,
			k->family, k->laddr) ||
	    mp_put_addr(skb, MIGPRIO_A_FLOW_REMOTE_IPV4,
			MIGPRIO_A_FLOW_REMOTE_IPV6, k->family, k->raddr) ||
	    nla_put_u16(skb, MIGPRIO_A_FLOW_LPORT, k->lport) ||
	    nla_put_u16(skb, MIGPRIO_A_FLOW_RPORT, k->rport) ||
	    nla_put_u8(skb, MIGPRIO_A_FLOW_DIR, f->dir) ||
	    nla_put_u32(skb, MIGPRIO_A_FLOW_RULE_ID, READ_ONCE(f->rule_id)) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_FLOW_TX_PACKETS,
			      atomic64_read(&f->tx_packets), MIGPRIO_A_FLOW_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_FLOW_TX_BYTES, tx,
			      MIGPRIO_A_FLOW_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_FLOW_RX_PACKETS,
			      atomic64_read(&f->rx_packets), MIGPRIO_A_FLOW_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_FLOW_RX_BYTES, rx,
			      MIGPRIO_A_FLOW_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_FLOW_AGE_MS, age_ms,
			      MIGPRIO_A_FLOW_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_FLOW_IDLE_MS,
			      jiffies_to_msecs(now - last), MIGPRIO_A_FLOW_PAD))
		return -EMSGSIZE;
	if (!end)
		return 0;
	if (nla_put_u8(skb, MIGPRIO_A_FLOW_END_REASON, end) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_FLOW_RATE,
			      div64_u64((tx + rx) * 1000, max_t(u64, age_ms, 1)),
			      MIGPRIO_A_FLOW_PAD))
		return -EMSGSIZE;
	return 0;
}

static void mp_flow_notify(const struct mp_flow *f, u8 cmd, int end)
{
	struct net *net = f->mn->net;
	struct sk_buff *skb;
	void *hdr;

	if (!mp_nl_has_listeners(net))
		return;
	skb = mp_nl_ntf_new(cmd, &hdr, GFP_KERNEL);
	if (!skb)
		return;
	if (mp_flow_fill(skb, f, end)) {
		nlmsg_free(skb);
		return;
	}
	mp_nl_ntf_send(net, skb, hdr);
}

static void mp_flow_start_once(struct mp_flow *f)
{
	if (!test_and_set_bit(MP_FLOW_STARTED, &f->flags))
		mp_flow_notify(f, MIGPRIO_CMD_FLOW_START_NTF, 0);
}

static void mp_flow_work(struct work_struct *work)
{
	struct mp_flow *f = container_of(to_delayed_work(work), struct mp_flow,
					 work);

	mp_flow_start_once(f);
	mp_sock_sync(f);
}

/* Queue the flow's work (socket tuning). False if it was already queued. */
bool mp_flow_kick(struct mp_flow *f)
{
	return queue_delayed_work(system_wq, &f->work, 0);
}

/* From the work: a process holds the socket locked, try again later. */
void mp_flow_retry(struct mp_flow *f)
{
	queue_delayed_work(system_wq, &f->work, MP_FLOW_RETRY);
}

void mp_flow_end(struct mp_flow *f, enum migprio_flow_end reason)
{
	cmpxchg(&f->end, 0, reason);
}

/*
 * A new flow for @key, or the one another CPU inserted first. NULL when the
 * table is full or memory is short: the packet is marked all the same and
 * flows_untracked counts it. Called from the hooks under RCU.
 */
struct mp_flow *mp_flow_create(struct mp_net *mn,
			       const struct mp_flow_key *key, u8 dir,
			       struct mp_rule *rule, u64 cls, int ifindex)
{
	struct mp_flow_table *t = mn->flows;
	struct mp_flow *f, *old;

	if (READ_ONCE(t->dying))
		return NULL;
	if (atomic_inc_return(&t->count) > READ_ONCE(mp_max_flows))
		goto untracked;
	f = kzalloc(sizeof(*f), GFP_ATOMIC | __GFP_NOWARN);
	if (!f)
		goto untracked;
	f->key = *key;
	f->mn = mn;
	INIT_DELAYED_WORK(&f->work, mp_flow_work);
	atomic64_set(&f->cls, cls);
	__set_bit(MP_FLOW_MATCHED, &f->flags);
	f->rule_id = rule->spec.id;
	f->ifindex = ifindex;
	f->dir = dir;
	f->start = jiffies;
	f->last = f->start;

	spin_lock_bh(&t->lock);
	old = rhashtable_lookup_get_insert_fast(&t->ht, &f->node,
						mp_flow_params);
	/* No seq bump: appended at the tail, a resumed dump stays exact. */
	if (!old)
		list_add_tail_rcu(&f->list, &t->list);
	spin_unlock_bh(&t->lock);
	if (old) {
		kfree(f);
		atomic_dec(&t->count);
		if (IS_ERR(old))
			goto untracked_nodec;
		return old;
	}
	atomic64_inc(&mn->ev.flows_started);
	atomic64_inc(&rule->flows);
	mp_flow_kick(f);
	queue_delayed_work(system_wq, &t->gc, HZ);
	return f;

untracked:
	atomic_dec(&t->count);
untracked_nodec:
	atomic64_inc(&mn->ev.flows_untracked);
	return NULL;
}

/* Under t->lock: take @f out of the table, onto the reaper's list. */
static void mp_flow_unlink(struct mp_flow_table *t, struct mp_flow *f)
{
	rhashtable_remove_fast(&t->ht, &f->node, mp_flow_params);
	list_del_rcu(&f->list);
	list_add_tail(&f->reap, &t->dead);
	t->seq++;
}

/* Finish and free the unlinked flows, one grace period for all. */
static void mp_flows_reap(struct work_struct *work)
{
	struct mp_flow_table *t = container_of(work, struct mp_flow_table,
					       reap);
	struct mp_flow *f, *n;
	LIST_HEAD(victims);

	spin_lock_bh(&t->lock);
	list_splice_init(&t->dead, &victims);
	spin_unlock_bh(&t->lock);
	if (list_empty(&victims))
		return;
	/* After this no hook holds a victim, so none queues its work again. */
	synchronize_rcu();
	list_for_each_entry_safe(f, n, &victims, reap) {
		cancel_delayed_work_sync(&f->work);
		mp_flow_start_once(f);
		/* Its socket may live on (idle, flush, or still closing). */
		mp_sock_release(f);
		mp_flow_notify(f, MIGPRIO_CMD_FLOW_END_NTF, READ_ONCE(f->end));
		atomic64_inc(&f->mn->ev.flows_ended);
		kfree(f);
		atomic_dec(&t->count);
	}
}

/*
 * A FIN or RST was seen: end the flow only if its socket agrees, else
 * forget the mark (TCP dropped the segment, or it was spoofed). A FIN
 * we sent is ours; a received one has to be confirmed.
 */
static void mp_flow_check_end(struct mp_flow *f)
{
	if (test_bit(MP_FLOW_RST, &f->flags)) {
		if (mp_sock_agrees(f, MIGPRIO_FLOW_END_RST))
			mp_flow_end(f, MIGPRIO_FLOW_END_RST);
		else
			clear_bit(MP_FLOW_RST, &f->flags);
	} else if (test_bit(MP_FLOW_FIN_TX, &f->flags) &&
		   test_bit(MP_FLOW_FIN_RX, &f->flags)) {
		if (mp_sock_agrees(f, MIGPRIO_FLOW_END_FIN))
			mp_flow_end(f, MIGPRIO_FLOW_END_FIN);
		else
			clear_bit(MP_FLOW_FIN_RX, &f->flags);
	}
}

static void mp_flows_gc(struct work_struct *work)
{
	struct mp_flow_table *t = container_of(to_delayed_work(work),
					       struct mp_flow_table, gc);
	unsigned long idle = READ_ONCE(mp_flow_idle_secs) * HZ;
	struct mp_flow *f, *n;
	bool reap;

	spin_lock_bh(&t->lock);
	list_for_each_entry_safe(f, n, &t->list, list) {
		if (time_after(jiffies, READ_ONCE(f->last) + idle))
			mp_flow_end(f, MIGPRIO_FLOW_END_IDLE);
		else if (!READ_ONCE(f->end))
			mp_flow_check_end(f);
		if (READ_ONCE(f->end))
			mp_flow_unlink(t, f);
	}
	reap = !list_empty(&t->dead);
	spin_unlock_bh(&t->lock);
	if (reap)
		queue_work(system_wq, &t->reap);
	/* A flow created from now on queues the collector itself. */
	if (!list_empty(&t->list) && !READ_ONCE(t->dying))
		queue_delayed_work(system_wq, &t->gc, HZ);
}

/*
 * End every flow with @reason. Never sleeps: callable under RTNL and
 * mn->lock; the reaper sends the events and frees the flows later. The
 * hooks should be unregistered first, or flows may be created again.
 */
void mp_flows_flush(struct mp_net *mn, enum migprio_flow_end reason)
{
	struct mp_flow_table *t = mn->flows;
	struct mp_flow *f, *n;

	if (!t)
		return;
	spin_lock_bh(&t->lock);
	list_for_each_entry_safe(f, n, &t->list, list) {
		mp_flow_end(f, reason);
		mp_flow_unlink(t, f);
	}
	spin_unlock_bh(&t->lock);
	queue_work(system_wq, &t->reap);
}

/*
 * The parameters of tuned sockets changed: have every TCP flow's work
 * bring its socket in line. Process context.
 */
void mp_flows_retune(struct mp_net *mn)
{
	struct mp_flow_table *t = mn->flows;
	struct mp_flow *f;

	if (!t)
		return;
	rcu_read_lock();
	list_for_each_entry_rcu(f, &t->list, list)
		if (f->key.proto == IPPROTO_TCP &&
		    test_bit(MP_FLOW_TUNED, &f->flags))
			mp_flow_kick(f);
	rcu_read_unlock();
}

unsigned int mp_flows_active(struct mp_net *mn)
{
	return mn->flows ? atomic_read(&mn->flows->count) : 0;
}

int mp_flows_init(struct mp_net *mn)
{
	struct mp_flow_table *t;
	int err;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	err = rhashtable_init(&t->ht, &mp_flow_params);
	if (err) {
		kfree(t);
		return err;
	}
	spin_lock_init(&t->lock);
	INIT_LIST_HEAD(&t->list);
	INIT_LIST_HEAD(&t->dead);
	INIT_WORK(&t->reap, mp_flows_reap);
	INIT_DELAYED_WORK(&t->gc, mp_flows_gc);
	t->seq = 1;
	mn->flows = t;
	return 0;
}

/*
 * Netns exit or module unload, with the hooks already unregistered: end
 * the remaining flows and wait for the reaper, which never waits for a
 * process holding a socket locked.
 */
void mp_flows_destroy(struct mp_net *mn)
{
	struct mp_flow_table *t = mn->flows;

	if (!t)
		return;
	WRITE_ONCE(t->dying, true);
	cancel_delayed_work_sync(&t->gc);
	mp_flows_flush(mn, MIGPRIO_FLOW_END_FLUSH);
	flush_work(&t->reap);
	WARN_ON_ONCE(atomic_read(&t->count));
	rhashtable_destroy(&t->ht);
	mn->flows = NULL;
	kfree(t);
}

/*
 * FLOW_GET dump. cb->args[0] is the number of flows already sent. Flows
 * are appended at the tail, so new flows shift nothing and come in a later
 * part; only a removal can make a resumed dump skip or repeat one, and
 * only removals bump cb->seq (NLM_F_DUMP_INTR).
 */
int mp_flows_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct mp_flow_table *t = mp_net(sock_net(skb->sk))->flows;
	long idx = 0, start = cb->args[0];
	struct mp_flow *f;
	void *hdr;

	rcu_read_lock();
	cb->seq = READ_ONCE(t->seq);
	list_for_each_entry_rcu(f, &t->list, list) {
		if (idx < start) {
			idx++;
			continue;
		}
		hdr = mp_genl_dump_put(skb, cb, MIGPRIO_CMD_FLOW_GET);
		if (!hdr)
			break;
		if (mp_flow_fill(skb, f, 0)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		nl_dump_check_consistent(cb, genlmsg_nlhdr(hdr));
		idx++;
	}
	rcu_read_unlock();
	cb->args[0] = idx;
	return skb->len;
}
