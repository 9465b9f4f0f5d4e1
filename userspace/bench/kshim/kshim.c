// SPDX-License-Identifier: GPL-2.0
/*
 * kshim: the functions behind kshim.h and its headers that are not inline
 * (work items, netfilter registration, IPv6 extension headers, the hash
 * table). One thread, one network namespace at a time.
 */
#include <stdio.h>

#include <linux/netfilter.h>
#include <linux/rhashtable.h>
#include <net/ipv6.h>

unsigned long jiffies = 1000;
unsigned long kshim_fail_alloc;
struct workqueue_struct *system_wq;

void kshim_warn(const char *file, int line)
{
	fprintf(stderr, "kshim: WARNING at %s:%d\n", file, line);
	abort();
}

/* ---- work items --------------------------------------------------------- */

static struct work_struct *pending_head;

bool queue_work(struct workqueue_struct *wq, struct work_struct *w)
{
	(void)wq;
	if (w->pending)
		return false;
	w->pending = true;
	w->next_pending = pending_head;
	pending_head = w;
	return true;
}

bool cancel_work_sync(struct work_struct *w)
{
	struct work_struct **pp;

	if (!w->pending)
		return false;
	for (pp = &pending_head; *pp; pp = &(*pp)->next_pending) {
		if (*pp == w) {
			*pp = w->next_pending;
			break;
		}
	}
	w->pending = false;
	return true;
}

void flush_work(struct work_struct *w)
{
	if (cancel_work_sync(w))
		w->func(w);
}

unsigned int kshim_run_work(void)
{
	struct work_struct *w = pending_head, *next;
	unsigned int n = 0;

	/* what was queued until now; what they queue waits for the next call */
	pending_head = NULL;
	for (; w; w = next) {
		next = w->next_pending;
		w->pending = false;
		w->func(w);
		n++;
	}
	return n;
}

/* ---- netfilter ---------------------------------------------------------- */

#define KSHIM_MAX_HOOKS	16

static struct {
	const struct net *net;
	const struct nf_hook_ops *ops;
} hooks[KSHIM_MAX_HOOKS];
static unsigned int nhooks;

int nf_register_net_hooks(const struct net *net, const struct nf_hook_ops *reg,
			  unsigned int n)
{
	unsigned int i, j;

	if (nhooks + n > KSHIM_MAX_HOOKS)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		/* sorted by priority, as the stack runs them */
		for (j = nhooks; j > 0 && hooks[j - 1].ops->priority > reg[i].priority; j--)
			hooks[j] = hooks[j - 1];
		hooks[j].net = net;
		hooks[j].ops = &reg[i];
		nhooks++;
	}
	return 0;
}

void nf_unregister_net_hooks(const struct net *net,
			     const struct nf_hook_ops *reg, unsigned int n)
{
	unsigned int i, j, k;

	for (i = 0; i < n; i++) {
		for (j = 0; j < nhooks; j++)
			if (hooks[j].net == net && hooks[j].ops == &reg[i])
				break;
		if (j == nhooks) {
			kshim_warn(__FILE__, __LINE__);
			continue;
		}
		for (k = j; k + 1 < nhooks; k++)
			hooks[k] = hooks[k + 1];
		nhooks--;
	}
}

unsigned int kshim_nf_hook(struct sk_buff *skb,
			   const struct nf_hook_state *state)
{
	unsigned int i, v;

	for (i = 0; i < nhooks; i++) {
		const struct nf_hook_ops *o = hooks[i].ops;

		if (hooks[i].net != state->net || o->pf != state->pf ||
		    o->hooknum != state->hook)
			continue;
		v = o->hook(o->priv, skb, state);
		if (v != NF_ACCEPT)
			return v;
	}
	return NF_ACCEPT;
}

unsigned int kshim_nf_hooks(const struct net *net)
{
	unsigned int i, n = 0;

	for (i = 0; i < nhooks; i++)
		n += hooks[i].net == net;
	return n;
}

/* ---- IPv6 extension headers --------------------------------------------- */

int ipv6_skip_exthdr(const struct sk_buff *skb, int start, u8 *nexthdrp,
		     __be16 *frag_offp)
{
	u8 nexthdr = *nexthdrp;

	*frag_offp = 0;
	for (;;) {
		const u8 *h;
		int len;

		switch (nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_FRAGMENT:
		case IPPROTO_AH:
			break;
		case IPPROTO_NONE:
			return -1;
		default:
			*nexthdrp = nexthdr;
			return start;
		}
		h = skb_header_pointer(skb, start, 8, NULL);
		if (!h)
			return -1;
		if (nexthdr == IPPROTO_FRAGMENT) {
			*frag_offp = *(const __be16 *)(h + 2) & htons(IP6_OFFSET);
			len = 8;
		} else if (nexthdr == IPPROTO_AH) {
			len = (h[1] + 2) * 4;
		} else {
			len = (h[1] + 1) * 8;
		}
		nexthdr = h[0];
		start += len;
	}
}

/* ---- hash table --------------------------------------------------------- */

#define KSHIM_RHT_MIN	64U

static void *kshim_rht_obj(const struct rhashtable *ht,
			   const struct rhash_head *he)
{
	return (char *)he - ht->p.head_offset;
}

static u32 kshim_rht_bucket(const struct rhashtable *ht,
			    const struct rhash_head *he)
{
	const char *key = (const char *)kshim_rht_obj(ht, he) + ht->p.key_offset;

	return kshim_rht_hash(key, ht->p.key_len, ht->seed) & (ht->size - 1);
}

static int kshim_rht_alloc(struct rhashtable *ht, unsigned int size)
{
	struct rhash_head **old = ht->buckets, *he, *next;
	unsigned int oldsize = ht->size, i;

	ht->buckets = calloc(size, sizeof(*ht->buckets));
	if (!ht->buckets) {
		ht->buckets = old;
		return -ENOMEM;
	}
	ht->size = size;
	for (i = 0; i < oldsize; i++) {
		for (he = old[i]; he; he = next) {
			struct rhash_head **b;

			next = he->next;
			b = &ht->buckets[kshim_rht_bucket(ht, he)];
			he->next = *b;
			*b = he;
		}
	}
	free(old);
	return 0;
}

void *kshim_rht_insert(struct rhashtable *ht, struct rhash_head *obj)
{
	const char *key = (const char *)kshim_rht_obj(ht, obj) + ht->p.key_offset;
	struct rhash_head **b, *he;

	for (he = ht->buckets[kshim_rht_bucket(ht, obj)]; he; he = he->next)
		if (kshim_rht_key_eq((const char *)kshim_rht_obj(ht, he) +
				     ht->p.key_offset, key, ht->p.key_len))
			return kshim_rht_obj(ht, he);
	if (ht->nelems + 1 > ht->size / 4 * 3 &&
	    kshim_rht_alloc(ht, ht->size * 2))
		return ERR_PTR(-ENOMEM);
	b = &ht->buckets[kshim_rht_bucket(ht, obj)];
	obj->next = *b;
	*b = obj;
	ht->nelems++;
	return NULL;
}

int kshim_rht_remove(struct rhashtable *ht, struct rhash_head *obj)
{
	struct rhash_head **pp;

	for (pp = &ht->buckets[kshim_rht_bucket(ht, obj)]; *pp; pp = &(*pp)->next) {
		if (*pp == obj) {
			*pp = obj->next;
			ht->nelems--;
			return 0;
		}
	}
	return -ENOENT;
}

int rhashtable_init(struct rhashtable *ht,
		    const struct rhashtable_params *params)
{
	memset(ht, 0, sizeof(*ht));
	ht->p = *params;
	ht->seed = 0x6d70u;
	return kshim_rht_alloc(ht, KSHIM_RHT_MIN);
}

void rhashtable_destroy(struct rhashtable *ht)
{
	free(ht->buckets);
	ht->buckets = NULL;
	ht->size = 0;
}
