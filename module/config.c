// SPDX-License-Identifier: GPL-2.0
/*
 * Per-netns configuration: immutable snapshots published with RCU.
 *
 * A change never edits the published struct mp_config: it builds a new one
 * (sharing the rule set when the rules did not change), publishes it with
 * rcu_assign_pointer() and retires the old one with call_rcu(). A rule
 * lives in every config from its addition to its removal and is freed by
 * call_rcu() after the first config without it is published. Everything
 * that can fail (allocation, classifier build) happens before publication,
 * so a failed request changes nothing.
 *
 * Building the classifier table costs time linear in the rule count, so a
 * rule added or deleted after the last built one (the usual case: ids only
 * grow) reuses the current table, and the data path matches the few rules
 * beyond it one by one. A delayed work builds the whole set once the
 * changes pause (build_delay_ms), or a change builds it at once when
 * MP_RULES_UNBUILT_MAX rules are waiting: adding n rules one request at a
 * time costs n / MP_RULES_UNBUILT_MAX builds instead of n.
 */

#include <linux/cgroup.h>
#include <linux/kernfs.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <net/net_namespace.h>

#include "config.h"

void mp_dev_params_default(struct mp_dev_params *p)
{
	memset(p, 0, sizeof(*p));
	p->priority = MIGPRIO_PRIO_DEFAULT;
	p->sndbuf = MIGPRIO_BUF_AUTO;
	p->rcvbuf = MIGPRIO_BUF_AUTO;
	p->notsent = MIGPRIO_NOTSENT_AUTO;
	p->dscp = -1;
}

/* Counters */

struct mp_counters __percpu *mp_counters_alloc(void)
{
	struct mp_counters __percpu *ctr;
	int cpu;

	ctr = alloc_percpu(struct mp_counters);
	if (!ctr)
		return NULL;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(ctr, cpu)->syncp);
	return ctr;
}

void mp_counters_sum(struct mp_counters __percpu *ctr,
		     struct mp_counters_sum *sum)
{
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct mp_counters *c = per_cpu_ptr(ctr, cpu);
		u64 tx_packets, tx_bytes, rx_packets, rx_bytes;
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&c->syncp);
			tx_packets = u64_stats_read(&c->tx_packets);
			tx_bytes = u64_stats_read(&c->tx_bytes);
			rx_packets = u64_stats_read(&c->rx_packets);
			rx_bytes = u64_stats_read(&c->rx_bytes);
		} while (u64_stats_fetch_retry(&c->syncp, start));
		sum->tx_packets += tx_packets;
		sum->tx_bytes += tx_bytes;
		sum->rx_packets += rx_packets;
		sum->rx_bytes += rx_bytes;
	}
}

/* Rules */

struct mp_rule *mp_rule_alloc(void)
{
	struct mp_rule *r;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return NULL;
	r->ctr = mp_counters_alloc();
	if (!r->ctr) {
		kfree(r);
		return NULL;
	}
	return r;
}

/* Any context: also called from RCU callbacks. */
void mp_rule_free(struct mp_rule *r)
{
	if (r->cg.root)
		cgroup_put(r->cg.root);
	kfree(r->cgroup_path);
	free_percpu(r->ctr);
	kfree(r);
}

static void mp_rule_free_rcu(struct rcu_head *head)
{
	mp_rule_free(container_of(head, struct mp_rule, rcu));
}

/*
 * Remember a cgroup v2 path, relative to the caller's cgroup namespace, for
 * the rule to match by; it need not exist yet. Process context.
 */
int mp_rule_set_cgroup(struct mp_rule *r, const char *path)
{
	struct cgroup *root;

	root = cgroup_get_from_path("/");
	if (IS_ERR(root))
		return PTR_ERR(root);
	r->cgroup_path = kstrdup(path, GFP_KERNEL);
	if (!r->cgroup_path) {
		cgroup_put(root);
		return -ENOMEM;
	}
	r->cg.root = root;
	r->spec.cgroup_id = (uintptr_t)&r->cg;
	return 0;
}

/*
 * Walk @r's path down from its namespace root, one kernfs directory per
 * component, and store the id and level found (0: none). Returns whether
 * they changed. Process context.
 */
static bool mp_cgroup_resolve(struct mp_rule *r)
{
	struct kernfs_node *kn, *next;
	const char *p = r->cgroup_path;
	u16 level = r->cg.root->level;
	char name[NAME_MAX + 1];
	u64 id = 0;
	size_t len;

	kn = r->cg.root->kn;
	kernfs_get(kn);
	for (;;) {
		p += strspn(p, "/");
		len = strcspn(p, "/");
		if (!len)
			break;
		if (len > NAME_MAX)
			goto none;
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		next = kernfs_find_and_get(kn, name);
		kernfs_put(kn);
		kn = next;
		if (!kn || kernfs_type(kn) != KERNFS_DIR)
			goto none;
		level++;
	}
	id = kn->id;		/* = cgroup_id() of its cgroup */
none:
	kernfs_put(kn);
	if (!id)
		level = 0;
	if (id == r->cg.id && level == r->cg.level)
		return false;
	/* a reader seeing half of the change only misses one packet */
	WRITE_ONCE(r->cg.level, level);
	WRITE_ONCE(r->cg.id, id);
	return true;
}

static int mp_u32_cmp(u32 a, u32 b)
{
	return a < b ? -1 : a > b;
}

static int mp_ports_cmp(struct mp_ports a, struct mp_ports b)
{
	return mp_u32_cmp(a.min, b.min) ?: mp_u32_cmp(a.max, b.max);
}

/*
 * An order of the matches (criteria and cgroup path, not id nor name): 0
 * is the same match, which a rule set holds once.
 */
static int mp_rule_cmp(const struct mp_rule *ra, const struct mp_rule *rb)
{
	const struct mp_rule_spec *a = &ra->spec, *b = &rb->spec;
	int c;

	c = mp_u32_cmp(a->proto, b->proto) ?:
	    mp_u32_cmp(a->family, b->family) ?: mp_u32_cmp(a->plen, b->plen) ?:
	    mp_ports_cmp(a->port, b->port) ?: mp_ports_cmp(a->lport, b->lport) ?:
	    mp_ports_cmp(a->rport, b->rport) ?:
	    memcmp(a->peer, b->peer, sizeof(a->peer));
	if (c || ra->cgroup_path == rb->cgroup_path)
		return c;
	if (!ra->cgroup_path || !rb->cgroup_path)
		return ra->cgroup_path ? 1 : -1;
	return strcmp(ra->cgroup_path, rb->cgroup_path);
}

/* Index of rule @id in a set sorted by id, or -1. */
static int mp_rules_find(struct mp_rule * const *rules, unsigned int n, u32 id)
{
	unsigned int lo = 0, hi = n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (rules[mid]->spec.id == id)
			return mid;
		if (rules[mid]->spec.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

struct mp_rule *mp_config_rule(const struct mp_config *cfg, u32 id)
{
	int i = mp_rules_find(cfg->rules, cfg->nrules, id);

	return i < 0 ? NULL : cfg->rules[i];
}

/* Rule sets */

/*
 * A reference to a built classifier table, shared by the rule sets that
 * only add rules after (or remove rules from) the ones it was built over.
 */
struct mp_ctable_ref {
	refcount_t ref;
	struct mp_ctable *t;
};

static void mp_ctable_ref_put(struct mp_ctable_ref *ct)
{
	if (!ct || !refcount_dec_and_test(&ct->ref))
		return;
	mp_ctable_free(ct->t);
	kfree(ct);
}

static struct mp_ruleset *mp_ruleset_alloc(unsigned int nrules)
{
	struct mp_ruleset *rs;

	rs = kzalloc(sizeof(*rs), GFP_KERNEL);
	if (!rs)
		return NULL;
	/* Never NULL, so that an empty set still builds. */
	rs->rules = kvcalloc(max(nrules, 1U), sizeof(*rs->rules), GFP_KERNEL);
	if (!rs->rules) {
		kfree(rs);
		return NULL;
	}
	rs->nrules = nrules;
	refcount_set(&rs->ref, 1);
	return rs;
}

/* Any context. Does not free the rules: they may live on in a newer set. */
static void mp_ruleset_put(struct mp_ruleset *rs)
{
	if (!refcount_dec_and_test(&rs->ref))
		return;
	mp_ctable_ref_put(rs->ct);
	kvfree(rs->rules);
	kfree(rs);
}

/* Build the classifier table over all rules of @rs. */
static int mp_ruleset_build(struct mp_ruleset *rs)
{
	struct mp_rule_spec *specs;
	struct mp_ctable_ref *ct;
	unsigned int i;

	ct = kzalloc(sizeof(*ct), GFP_KERNEL);
	specs = kvcalloc(max(rs->nrules, 1U), sizeof(*specs), GFP_KERNEL);
	if (!ct || !specs)
		goto err;
	for (i = 0; i < rs->nrules; i++)
		specs[i] = rs->rules[i]->spec;
	ct->t = mp_ctable_build(specs, rs->nrules);
	if (!ct->t)
		goto err;
	kvfree(specs);
	refcount_set(&ct->ref, 1);
	rs->ct = ct;
	rs->nbuilt = rs->nrules;
	return 0;

err:
	kvfree(specs);
	kfree(ct);
	return -ENOMEM;
}

/*
 * Let @rs use the table of @old when that is cheaper than a build and
 * still right: @rs has the same first old->nbuilt rules (a change after
 * them) and at most MP_RULES_UNBUILT_MAX rules beyond. The build work
 * catches up later. With build_delay_ms = 0 every change builds at once.
 */
static void mp_ruleset_reuse(struct mp_ruleset *rs,
			     const struct mp_ruleset *old, unsigned int at)
{
	if (!READ_ONCE(mp_build_delay_ms) || at < old->nbuilt ||
	    rs->nrules - old->nbuilt > MP_RULES_UNBUILT_MAX)
		return;
	refcount_inc(&old->ct->ref);
	rs->ct = old->ct;
	rs->nbuilt = old->nbuilt;
}

/* Configs */

void mp_config_free(struct mp_config *cfg)
{
	mp_ruleset_put(cfg->rs);
	kfree(cfg);
}

static void mp_config_free_rcu(struct rcu_head *head)
{
	mp_config_free(container_of(head, struct mp_config, rcu));
}

/* A copy of @old (or an empty config) using rule set @rs (ref taken over). */
static struct mp_config *mp_config_new_gfp(const struct mp_config *old,
					   struct mp_ruleset *rs, gfp_t gfp)
{
	struct mp_config *cfg;

	cfg = kzalloc(sizeof(*cfg), gfp);
	if (!cfg)
		return NULL;
	if (old) {
		cfg->ifindex = old->ifindex;
		strscpy(cfg->ifname, old->ifname, sizeof(cfg->ifname));
		cfg->dev = old->dev;
		cfg->gen = old->gen;
		cfg->tune_gen = old->tune_gen;
	} else {
		mp_dev_params_default(&cfg->dev);
	}
	cfg->rs = rs;
	cfg->nrules = rs->nrules;
	cfg->rules = rs->rules;
	cfg->nbuilt = rs->nbuilt;
	cfg->ctable = rs->ct->t;
	return cfg;
}

static struct mp_config *mp_config_new(const struct mp_config *old,
				       struct mp_ruleset *rs)
{
	return mp_config_new_gfp(old, rs, GFP_KERNEL);
}

/* A copy of the current config sharing its rule set. */
struct mp_config *mp_config_dup_gfp(struct mp_config *old, gfp_t gfp)
{
	struct mp_config *cfg;

	refcount_inc(&old->rs->ref);
	cfg = mp_config_new_gfp(old, old->rs, gfp);
	if (!cfg)
		mp_ruleset_put(old->rs);
	return cfg;
}

struct mp_config *mp_config_dup(struct mp_config *old)
{
	return mp_config_dup_gfp(old, GFP_KERNEL);
}

/*
 * Publish @cfg and return the config it replaces, still to be retired.
 * A new generation makes flows classify again; @same_rules (the same rules
 * in the same order, only built differently, or another interface or
 * parameters) keeps their answers valid.
 */
struct mp_config *mp_config_publish(struct mp_net *mn, struct mp_config *cfg,
				    bool same_rules)
{
	struct mp_config *old = mp_config_locked(mn);

	cfg->gen = same_rules ? old->gen : old->gen + 1 ? : 1;
	rcu_assign_pointer(mn->cfg, cfg);
	/* Tuned sockets follow: listeners the new config no longer covers
	 * are given back their buffers, and new parameters are applied.
	 */
	mp_listeners_revalidate(mn);
	if (cfg->tune_gen != old->tune_gen)
		mp_flows_retune(mn);
	return old;
}

/* Free @old once no reader can see it, and its rules too if @with_rules. */
void mp_config_retire(struct mp_config *old, bool with_rules)
{
	unsigned int i;

	if (with_rules)
		for (i = 0; i < old->nrules; i++)
			call_rcu(&old->rules[i]->rcu, mp_rule_free_rcu);
	call_rcu(&old->rcu, mp_config_free_rcu);
}

static void mp_build_schedule(struct mp_net *mn, unsigned long delay)
{
	queue_delayed_work(system_wq, &mn->build_work, delay);
}

/* How mp_config_commit_rules() treats the config it replaces. */
enum {
	MP_COMMIT_SAME_RULES = BIT(0),	/* same rules, same order: same gen */
	MP_COMMIT_FREE_RULES = BIT(1),	/* none of its rules lives on */
};

/*
 * Publish rule set @rs (its reference is taken over), building its table
 * unless it reuses the current one; rules it leaves unbuilt are built by
 * the work after build_delay_ms.
 */
static int mp_config_commit_rules(struct mp_net *mn, struct mp_ruleset *rs,
				  unsigned int flags)
{
	unsigned int delay = min(READ_ONCE(mp_build_delay_ms), 10000U);
	struct mp_config *cfg, *old;
	int err;

	if (!rs->ct) {
		err = mp_ruleset_build(rs);
		if (err)
			goto err_put;
	}
	err = -ENOMEM;
	cfg = mp_config_new(mp_config_locked(mn), rs);
	if (!cfg)
		goto err_put;
	old = mp_config_publish(mn, cfg, flags & MP_COMMIT_SAME_RULES);
	mp_config_retire(old, flags & MP_COMMIT_FREE_RULES);
	if (cfg->nbuilt < cfg->nrules)
		mp_build_schedule(mn, msecs_to_jiffies(delay));
	return 0;

err_put:
	mp_ruleset_put(rs);
	return err;
}

/* Build the table over the rules added since the last build. */
static void mp_build_work(struct work_struct *work)
{
	struct mp_net *mn = container_of(to_delayed_work(work), struct mp_net,
					 build_work);
	struct mp_config *cfg;
	struct mp_ruleset *rs;

	mutex_lock(&mn->lock);
	cfg = mp_config_locked(mn);
	if (cfg->nbuilt == cfg->nrules)
		goto out;
	rs = mp_ruleset_alloc(cfg->nrules);
	if (rs) {
		memcpy(rs->rules, cfg->rules, cfg->nrules * sizeof(*rs->rules));
		if (!mp_config_commit_rules(mn, rs, MP_COMMIT_SAME_RULES))
			goto out;
	}
	/* Out of memory: the unbuilt rules still match, try again later. */
	mp_build_schedule(mn, HZ);
out:
	mutex_unlock(&mn->lock);
}

/* Resolve every cgroup rule again; republish if an id changed. */
static void mp_cgroup_work(struct work_struct *work)
{
	struct mp_net *mn = container_of(work, struct mp_net, cg_work);
	struct mp_config *cfg, *old;
	bool changed = false;
	unsigned int i;

	mutex_lock(&mn->lock);
	cfg = mp_config_locked(mn);
	for (i = 0; i < cfg->nrules; i++)
		if (cfg->rules[i]->cgroup_path)
			changed |= mp_cgroup_resolve(cfg->rules[i]);
	if (changed) {
		/* a new generation: flows classify again */
		cfg = mp_config_dup(cfg);
		if (cfg) {
			old = mp_config_publish(mn, cfg, false);
			mp_config_retire(old, false);
		}
	}
	mutex_unlock(&mn->lock);
}

void mp_cgroup_miss(const struct mp_cgmatch *m)
{
	struct mp_net *mn = m->mn;
	unsigned long next = READ_ONCE(mn->cg_next);

	if (time_before(jiffies, next))
		return;
	WRITE_ONCE(mn->cg_next, jiffies + HZ);
	schedule_work(&mn->cg_work);
}

int mp_config_init(struct mp_net *mn)
{
	struct mp_ruleset *rs;
	struct mp_config *cfg;
	int err;

	INIT_DELAYED_WORK(&mn->build_work, mp_build_work);
	INIT_WORK(&mn->cg_work, mp_cgroup_work);
	rs = mp_ruleset_alloc(0);
	if (!rs)
		return -ENOMEM;
	err = mp_ruleset_build(rs);
	if (err)
		goto err_put;
	err = -ENOMEM;
	cfg = mp_config_new(NULL, rs);
	if (!cfg)
		goto err_put;
	cfg->gen = 1;
	mn->next_rule_id = 1;
	RCU_INIT_POINTER(mn->cfg, cfg);
	return 0;

err_put:
	mp_ruleset_put(rs);
	return err;
}

/*
 * Netns exit, first of all (the hooks are gone: nothing queues cg_work;
 * no request arrives: nothing queues build_work): no config is published
 * from now on.
 */
void mp_config_quiesce(struct mp_net *mn)
{
	cancel_delayed_work_sync(&mn->build_work);
	cancel_work_sync(&mn->cg_work);
}

/* Netns exit: the works are stopped, the flows and listeners gone. */
void mp_config_destroy(struct mp_net *mn)
{
	struct mp_config *cfg;

	mp_config_quiesce(mn);
	cfg = rcu_dereference_protected(mn->cfg, true);
	RCU_INIT_POINTER(mn->cfg, NULL);
	if (cfg)
		mp_config_retire(cfg, true);
}

/* Rule changes */

/* The first id from @id on that no rule of @cfg has. */
static u32 mp_rule_free_id(const struct mp_config *cfg, u32 id)
{
	/* Fewer rules than ids: this ends. */
	while (!id || mp_rules_find(cfg->rules, cfg->nrules, id) >= 0)
		id++;
	return id;
}

int mp_rule_add_locked(struct mp_net *mn, struct mp_rule *r,
		       struct netlink_ext_ack *extack)
{
	struct mp_config *cfg = mp_config_locked(mn);
	struct mp_ruleset *rs;
	unsigned int i, at;
	int err;

	for (i = 0; i < cfg->nrules; i++) {
		if (!mp_rule_cmp(cfg->rules[i], r)) {
			NL_SET_ERR_MSG(extack, "An identical rule exists");
			return -EEXIST;
		}
	}
	if (cfg->nrules >= mp_max_rules) {
		NL_SET_ERR_MSG(extack, "Rule limit of this network namespace reached");
		return -ENOSPC;
	}
	r->spec.id = mp_rule_free_id(cfg, mn->next_rule_id);
	if (r->cgroup_path) {
		r->cg.mn = mn;
		mp_cgroup_resolve(r);
	}
	rs = mp_ruleset_alloc(cfg->nrules + 1);
	if (!rs)
		return -ENOMEM;
	for (at = 0; at < cfg->nrules && cfg->rules[at]->spec.id < r->spec.id; at++)
		rs->rules[at] = cfg->rules[at];
	rs->rules[at] = r;
	for (i = at; i < cfg->nrules; i++)
		rs->rules[i + 1] = cfg->rules[i];
	mp_ruleset_reuse(rs, cfg->rs, at);
	err = mp_config_commit_rules(mn, rs, 0);
	if (err)
		return err;
	mn->next_rule_id = r->spec.id + 1;
	return 0;
}

/* A rule of a batch or of the set, for finding the batch's duplicates. */
struct mp_rule_ref {
	const struct mp_rule *r;
	int idx;			/* in the batch, -1: in the set */
};

static int mp_rule_ref_cmp(const void *a, const void *b)
{
	const struct mp_rule_ref *x = a, *y = b;

	return mp_rule_cmp(x->r, y->r) ?: x->idx - y->idx;
}

/*
 * The first rule of @rules (index) whose match is in @cfg or earlier in
 * @rules, or @n: O((nrules + n) log) instead of a scan per rule.
 */
static int mp_rules_first_dup(const struct mp_config *cfg,
			      struct mp_rule **rules, unsigned int n,
			      unsigned int *dup)
{
	unsigned int total = cfg->nrules + n, i;
	struct mp_rule_ref *refs;

	refs = kvmalloc_array(total, sizeof(*refs), GFP_KERNEL);
	if (!refs)
		return -ENOMEM;
	for (i = 0; i < cfg->nrules; i++)
		refs[i] = (struct mp_rule_ref){ .r = cfg->rules[i], .idx = -1 };
	for (i = 0; i < n; i++)
		refs[cfg->nrules + i] = (struct mp_rule_ref){ .r = rules[i],
							      .idx = i };
	sort(refs, total, sizeof(*refs), mp_rule_ref_cmp, NULL);
	*dup = n;
	/* in a run of equal matches, all but the first are duplicates */
	for (i = 1; i < total; i++)
		if (!mp_rule_cmp(refs[i - 1].r, refs[i].r) &&
		    (unsigned int)refs[i].idx < *dup)
			*dup = refs[i].idx;
	kvfree(refs);
	return 0;
}

static int mp_rule_id_cmp(const void *a, const void *b)
{
	const struct mp_rule *x = *(const struct mp_rule * const *)a;
	const struct mp_rule *y = *(const struct mp_rule * const *)b;

	return mp_u32_cmp(x->spec.id, y->spec.id);
}

/*
 * Add @n rules at once, all or none: one rule set, at most one build of
 * the classifier table, one publication. Each rule is checked as by
 * mp_rule_add_locked(), against the set and the rules before it in
 * @rules. On an error *@bad is the index of the rule at fault, or @n when
 * no rule is (memory). On success the rules belong to the config, with
 * increasing ids in their order.
 */
int mp_rules_add_locked(struct mp_net *mn, struct mp_rule **rules,
			unsigned int n, unsigned int *bad,
			struct netlink_ext_ack *extack)
{
	struct mp_config *cfg = mp_config_locked(mn);
	struct mp_ruleset *rs;
	unsigned int i, at;
	u32 id;
	int err;

	*bad = n;
	if (cfg->nrules + n > mp_max_rules) {
		*bad = mp_max_rules > cfg->nrules ? mp_max_rules - cfg->nrules : 0;
		NL_SET_ERR_MSG(extack, "Rule limit of this network namespace reached");
		return -ENOSPC;
	}
	err = mp_rules_first_dup(cfg, rules, n, bad);
	if (err)
		return err;
	if (*bad < n) {
		NL_SET_ERR_MSG(extack, "An identical rule exists");
		return -EEXIST;
	}
	rs = mp_ruleset_alloc(cfg->nrules + n);
	if (!rs)
		return -ENOMEM;
	memcpy(rs->rules, cfg->rules, cfg->nrules * sizeof(*rs->rules));
	id = mn->next_rule_id;
	for (i = 0; i < n; i++) {
		id = mp_rule_free_id(cfg, id);
		rules[i]->spec.id = id++;
		rs->rules[cfg->nrules + i] = rules[i];
	}
	/* ids only grow, unless they wrapped around: then sort them in */
	at = cfg->nrules;
	if (n && cfg->nrules &&
	    rules[0]->spec.id < cfg->rules[cfg->nrules - 1]->spec.id) {
		sort(rs->rules, rs->nrules, sizeof(*rs->rules), mp_rule_id_cmp,
		     NULL);
		at = 0;
	}
	for (i = 0; i < n; i++) {
		if (rules[i]->cgroup_path) {
			rules[i]->cg.mn = mn;
			mp_cgroup_resolve(rules[i]);
		}
	}
	mp_ruleset_reuse(rs, cfg->rs, at);
	err = mp_config_commit_rules(mn, rs, 0);
	if (err)
		return err;
	mn->next_rule_id = id;
	return 0;
}

int mp_rule_del_locked(struct mp_net *mn, u32 id)
{
	struct mp_config *cfg = mp_config_locked(mn);
	struct mp_ruleset *rs;
	struct mp_rule *r;
	int at, err;

	at = mp_rules_find(cfg->rules, cfg->nrules, id);
	if (at < 0)
		return -ENOENT;
	r = cfg->rules[at];
	rs = mp_ruleset_alloc(cfg->nrules - 1);
	if (!rs)
		return -ENOMEM;
	memcpy(rs->rules, cfg->rules, at * sizeof(*rs->rules));
	memcpy(rs->rules + at, cfg->rules + at + 1,
	       (cfg->nrules - at - 1) * sizeof(*rs->rules));
	mp_ruleset_reuse(rs, cfg->rs, at);
	err = mp_config_commit_rules(mn, rs, 0);
	if (err)
		return err;
	/* Published without @r: free it after the readers of the old one. */
	call_rcu(&r->rcu, mp_rule_free_rcu);
	return 0;
}

int mp_rule_flush_locked(struct mp_net *mn)
{
	struct mp_ruleset *rs;

	rs = mp_ruleset_alloc(0);
	if (!rs)
		return -ENOMEM;
	return mp_config_commit_rules(mn, rs, MP_COMMIT_FREE_RULES);
}
