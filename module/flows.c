// SPDX-License-Identifier: GPL-2.0
/*
 * The per-netns table of migration flows: lock-free lookup from the hooks,
 * bounded size, idle garbage collection, and the walk that dumps use. The
 * start and end events and the dumps are built in netlink.c.
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
 * Ending never blocks: an ended flow is only taken off the list of live
 * flows (dumps, the collector, re-tuning), under the table's spinlock,
 * onto a list of dead flows, which is safe under RTNL (the netdev
 * notifier, dev clear) and in netns exit. It stays in the hash table
 * until its socket is given back what it had: a packet of the connection
 * meanwhile finds it (counted, nothing queued) instead of making a second
 * flow, whose work would record migprio's own values as the socket's and
 * then see them given back under it. The reaper, a work item, takes the
 * dead flows, waits one RCU grace period for the batch (no hook nor
 * re-tune sees them live any more, so none queues their work), cancels
 * their work (which never sleeps on a socket lock), gives each live
 * socket back what it had, sends the end events, takes the flows out of
 * the hash table and frees them after a second grace period. A socket a
 * process holds gets its priority and unsent bound back at once, its
 * sizes when it is free: the reaper tries again every MP_FLOW_RETRY, and
 * at netns exit and module unload for a short while only. No RCU
 * callbacks are used; mp_flows_destroy() runs the reaper to the end, so
 * nothing outlives it.
 */

#include <linux/delay.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/jiffies.h>
#include <net/sock.h>

#include "flows.h"

/*
 * Netns exit and module unload: a socket its process holds is tried this
 * many times, this far apart, for its sizes (a busy sender lets go within
 * a sendmsg()), then left with them.
 */
#define MP_RELEASE_FINAL_TRIES	10
#define MP_RELEASE_FINAL_MS	10
/*
 * The collector folds socket-accounted flows' counts every this many
 * passes (seconds), so that fewer than 2^31 segments, the range of TCP's
 * 32-bit counts, go by between two folds (2^31 full segments take minutes
 * even at 400 Gbit/s).
 */
#define MP_FOLD_PASSES		30

struct mp_flow_table {
	struct rhashtable ht;
	spinlock_t lock;		/* insertion, removal, list, dead */
	struct list_head list;		/* live flows, oldest first, RCU */
	struct list_head dead;		/* ended, for the reaper */
	struct list_head releasing;	/* the reaper's: sockets still held */
	struct delayed_work reap;
	struct delayed_work gc;
	atomic_t count;			/* allocated flows, freed ones excluded */
	unsigned int gen;		/* bumped on removal, for dumps */
	unsigned int gc_passes;
	bool dying;
	struct mp_net *mn;
};

static struct kmem_cache *mp_flow_cache;

int mp_flow_cache_create(void)
{
	mp_flow_cache = KMEM_CACHE(mp_flow, 0);
	return mp_flow_cache ? 0 : -ENOMEM;
}

void mp_flow_cache_destroy(void)
{
	kmem_cache_destroy(mp_flow_cache);
}

static const struct rhashtable_params mp_flow_params = {
	.key_len = sizeof(struct mp_flow_key),
	.key_offset = offsetof(struct mp_flow, key),
	.head_offset = offsetof(struct mp_flow, node),
	.automatic_shrinking = true,
};

/* Called under rcu_read_lock (the hooks). An ended flow is found too. */
struct mp_flow *mp_flow_lookup(struct mp_net *mn,
			       const struct mp_flow_key *key)
{
	return rhashtable_lookup(&mn->flows->ht, key, mp_flow_params);
}

/*
 * Hooks, once per flow (its first socket-accounted segment). Not once it
 * has ended: the reaper's grace period after the end makes sure a flow
 * is not put in a slot after the reaper cleared it.
 */
void mp_flow_cache_sk(struct mp_flow *f, const struct sock *sk)
{
	if (READ_ONCE(f->end))
		return;
	f->sk_slot = hash_ptr(sk, MP_SKCACHE_BITS);
	rcu_assign_pointer(f->mn->skcache[f->sk_slot], f);
}

static void mp_flow_start_once(struct mp_flow *f)
{
	if (!test_and_set_bit(MP_FLOW_STARTED, &f->flags))
		mp_nl_flow_notify(f, MIGPRIO_CMD_FLOW_START_NTF);
}

static void mp_flow_work(struct work_struct *work)
{
	struct mp_flow *f = container_of(to_delayed_work(work), struct mp_flow,
					 work);

	mp_flow_start_once(f);
	mp_sock_sync(f);
}

/*
 * Queue the flow's work (socket tuning). False if it was already queued,
 * or the flow has ended: the reaper gives its socket back, and cancels
 * the work after a grace period, which covers a caller that saw it live.
 */
bool mp_flow_kick(struct mp_flow *f)
{
	if (READ_ONCE(f->end))
		return false;
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
	f = kmem_cache_zalloc(mp_flow_cache, GFP_ATOMIC | __GFP_NOWARN);
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
	/* No gen bump: appended at the tail, a resumed dump stays exact. */
	if (!old)
		list_add_tail_rcu(&f->list, &t->list);
	spin_unlock_bh(&t->lock);
	if (old) {
		kmem_cache_free(mp_flow_cache, f);
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

/*
 * Under t->lock: take ended @f off the live list, onto the reaper's. It
 * stays in the hash table until its socket is given back.
 */
static void mp_flow_unlink(struct mp_flow_table *t, struct mp_flow *f)
{
	list_del_rcu(&f->list);
	list_add_tail(&f->reap, &t->dead);
	t->gen++;
}

static void mp_flows_reap_soon(struct mp_flow_table *t)
{
	mod_delayed_work(system_wq, &t->reap, 0);
}

/*
 * One pass of the reaper: finish the flows ended since the last pass and
 * those whose socket was held then. True while some socket is still held
 * (@final: never). Process context.
 */
static bool mp_flows_reap_pass(struct mp_flow_table *t, bool final)
{
	struct mp_flow *f, *n;
	LIST_HEAD(victims);
	LIST_HEAD(done);

	spin_lock_bh(&t->lock);
	list_splice_init(&t->dead, &victims);
	spin_unlock_bh(&t->lock);
	if (!list_empty(&victims)) {
		/* From now on f->end is seen: nothing queues their work. */
		synchronize_rcu();
		list_for_each_entry(f, &victims, reap) {
			cancel_delayed_work_sync(&f->work);
			mp_flow_start_once(f);
		}
		list_splice_tail(&victims, &t->releasing);
	}
	list_for_each_entry_safe(f, n, &t->releasing, reap) {
		/* Its socket may live on (idle, flush, or still closing). */
		if (!mp_sock_release(f, final))
			continue;
		/* the last of its socket's counts, if it is still there */
		mp_sock_fold(f);
		mp_nl_flow_notify(f, MIGPRIO_CMD_FLOW_END_NTF);
		atomic64_inc(&f->mn->ev.flows_ended);
		list_move_tail(&f->reap, &done);
	}
	if (list_empty(&done))
		return !list_empty(&t->releasing);
	spin_lock_bh(&t->lock);
	list_for_each_entry(f, &done, reap) {
		/*
		 * Out of the socket cache: no hook puts it back (ended). A
		 * flow taking the slot meanwhile may lose it: only a hint.
		 */
		if (test_bit(MP_FLOW_SKACCT, &f->flags) &&
		    rcu_access_pointer(t->mn->skcache[f->sk_slot]) == f)
			RCU_INIT_POINTER(t->mn->skcache[f->sk_slot], NULL);
		rhashtable_remove_fast(&t->ht, &f->node, mp_flow_params);
	}
	spin_unlock_bh(&t->lock);
	/* After this no hook holds one of them. */
	synchronize_rcu();
	list_for_each_entry_safe(f, n, &done, reap) {
		kmem_cache_free(mp_flow_cache, f);
		atomic_dec(&t->count);
	}
	return !list_empty(&t->releasing);
}

static void mp_flows_reap(struct work_struct *work)
{
	struct mp_flow_table *t = container_of(to_delayed_work(work),
					       struct mp_flow_table, reap);

	if (mp_flows_reap_pass(t, false) && !READ_ONCE(t->dying))
		queue_delayed_work(system_wq, &t->reap, MP_FLOW_RETRY);
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
		mp_flows_reap_soon(t);
	if (++t->gc_passes % MP_FOLD_PASSES == 0)
		mp_flows_fold(t->mn);
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
	mp_flows_reap_soon(t);
}

/*
 * The parameters of tuned sockets changed: have every TCP flow's work
 * bring its socket in line, tuned or not yet (a work that read the old
 * config may be tuning it right now; it runs again). Process context.
 */
void mp_flows_retune(struct mp_net *mn)
{
	struct mp_flow_table *t = mn->flows;
	struct mp_flow *f;

	if (!t)
		return;
	rcu_read_lock();
	list_for_each_entry_rcu(f, &t->list, list)
		if (f->key.proto == IPPROTO_TCP)
			mp_flow_kick(f);
	rcu_read_unlock();
}

void mp_flows_fold(struct mp_net *mn)
{
	struct mp_flow *f = NULL;

	rcu_read_lock();
	while ((f = mp_flows_next(mn, f)))
		mp_sock_fold(f);
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
	INIT_LIST_HEAD(&t->releasing);
	INIT_DELAYED_WORK(&t->reap, mp_flows_reap);
	INIT_DELAYED_WORK(&t->gc, mp_flows_gc);
	t->gen = 1;
	t->mn = mn;
	mn->flows = t;
	return 0;
}

/*
 * Netns exit or module unload, with the hooks already unregistered: end
 * the remaining flows and run the reaper to the end. A socket a process
 * holds is tried for MP_RELEASE_FINAL_TRIES * MP_RELEASE_FINAL_MS, then
 * keeps its sizes: nothing waits for a socket's lock.
 */
void mp_flows_destroy(struct mp_net *mn)
{
	struct mp_flow_table *t = mn->flows;
	int i;

	if (!t)
		return;
	WRITE_ONCE(t->dying, true);
	cancel_delayed_work_sync(&t->gc);
	mp_flows_flush(mn, MIGPRIO_FLOW_END_FLUSH);
	/* A running pass may have queued another: neither runs again. */
	cancel_delayed_work_sync(&t->reap);
	for (i = 0; i < MP_RELEASE_FINAL_TRIES && mp_flows_reap_pass(t, false);
	     i++)
		msleep(MP_RELEASE_FINAL_MS);
	mp_flows_reap_pass(t, true);
	WARN_ON_ONCE(atomic_read(&t->count));
	rhashtable_destroy(&t->ht);
	mn->flows = NULL;
	kfree(t);
}

/*
 * Walking the table for a dump (netlink.c), under rcu_read_lock. Flows
 * are appended at the tail, so new flows shift nothing; only a removal
 * can make a resumed walk skip or repeat one, and only removals bump the
 * generation.
 */
u32 mp_flows_gen(struct mp_net *mn)
{
	return mn->flows ? READ_ONCE(mn->flows->gen) : 0;
}

/* The flow after @prev (NULL: the first), or NULL at the end. */
struct mp_flow *mp_flows_next(struct mp_net *mn, struct mp_flow *prev)
{
	struct mp_flow_table *t = mn->flows;
	struct list_head *pos;

	if (!t)
		return NULL;
	pos = prev ? &prev->list : &t->list;
	return list_next_or_null_rcu(&t->list, pos, struct mp_flow, list);
}
