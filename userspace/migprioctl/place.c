// SPDX-License-Identifier: GPL-2.0
/*
 * The queue layout and ring sizes below the designated interface (see
 * place.h): the devices the walk (stack.c) names get the layout (qdisc.c)
 * and ring sizes (rings.c), all or nothing; the state files (state.c)
 * record each device changed, so that dev clear, a later dev set and a
 * reloaded module's successor put back exactly what was changed, and only
 * there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "place.h"
#include "qdisc.h"
#include "rings.h"
#include "state.h"

#define MP_TOUCH_MAX	(2 * MP_STACK_MAX)

struct rings_plan {
	bool record, changed;
	__u32 rx, tx, rx_prev, tx_prev;
	struct mp_rings before;
};

/* One device dev set changes: the layout, its rings, or both. */
struct touch {
	struct mp_stack_dev dev;
	bool queue, rings;		/* the plan */
	struct dev_state rec;		/* its record before; ifname "": none */
	__u32 prev_handle;		/* a layout of ours there before */
	bool tried;			/* the layout was (being) installed */
	struct mp_qdisc_state qs;	/* installed (handle 0: not, or failed) */
	struct rings_plan rp;
};

struct mp_place {
	const struct dev_set_args *a;
	__u32 ifindex;			/* the designated device */
	struct dev_state old;		/* the designation before */
	struct mp_stack stack;
	struct touch t[MP_TOUCH_MAX];
	unsigned int n;
	struct dev_state *recs;		/* every record of this netns before */
	unsigned int nrecs;
};

/* qdisc.c and rings.c messages name the interface and the step already */
static void report(int ret, const char *err, const char *what)
{
	if (err[0])
		pr_err("%s", err);
	else
		pr_err("%s: %s", what, strerror(-ret));
}

/* Does ifindex still name the device called ifname? */
static bool same_dev(__u32 ifindex, const char *ifname)
{
	char name[IF_NAMESIZE];

	return if_indextoname(ifindex, name) && !strcmp(name, ifname);
}

/* ---- records ---- */

struct recs {
	struct dev_state *v;
	unsigned int n;
	bool oom;
};

static void rec_collect(const struct dev_state *st, void *data)
{
	struct recs *r = data;
	struct dev_state *v;

	v = realloc(r->v, (r->n + 1) * sizeof(*v));
	if (!v) {
		r->oom = true;
		return;
	}
	r->v = v;
	r->v[r->n++] = *st;
}

static const struct dev_state *rec_find(const struct mp_place *p, __u32 ifindex)
{
	unsigned int i;

	for (i = 0; i < p->nrecs; i++) {
		if (p->recs[i].ifindex == ifindex)
			return &p->recs[i];
	}
	return NULL;
}

int mp_place_dev_rec(const struct dev_state *st, const struct mp_stack_dev *d,
		     struct dev_state *rec)
{
	if (mp_state_load(d->ifindex, rec) || strcmp(rec->ifname, d->ifname))
		return -ENOENT;
	/* the designated device's own file, or one written for it */
	if (d->ifindex != st->ifindex && rec->owner != st->ifindex)
		return -ENOENT;
	return 0;
}

/* ---- rings ---- */

/* rings max on a driver without ring sizes: a warning, nothing else */
static void rings_left(const char *err, const char *ifname, const char *what)
{
	if (err[0])
		pr_warn("%s; ring sizes left alone", err);
	else
		pr_warn("%s: the driver cannot %s ring sizes; left alone",
			ifname, what);
}

/* Resizing rings resets many NICs: say so before it happens. */
static void warn_rings(const char *ifname, __u32 rx, __u32 tx, __u32 to_rx,
		       __u32 to_tx)
{
	pr_warn("%s: ring sizes rx %u tx %u -> rx %u tx %u: many drivers (ixgbe, i40e, mlx5, bnxt) reset the NIC for this, its link goes down for a moment",
		ifname, rx, tx, to_rx, to_tx);
}

/*
 * Decide and set the ring sizes of ifname; 0, or 1 after reporting an
 * error. rec is what migprio recorded for it before (the state file's),
 * all zero when nothing.
 */
static int set_rings(const struct dev_set_args *a, const char *ifname,
		     const struct dev_state *rec, struct rings_plan *rp)
{
	char err[256] = "";
	struct mp_rings cur;
	int ret;

	memset(rp, 0, sizeof(*rp));
	if (a->rings == RINGS_KEEP) {
		/* untouched; a re-set keeps what we must restore later */
		if (rec->has_rings) {
			rp->record = true;
			rp->rx = rec->ring_rx;
			rp->tx = rec->ring_tx;
			rp->rx_prev = rec->ring_rx_prev;
			rp->tx_prev = rec->ring_tx_prev;
		}
		return 0;
	}
	ret = mp_rings_get(ifname, &cur, err, sizeof(err));
	if (ret == -EOPNOTSUPP && a->rings == RINGS_MAX) {
		rings_left(err, ifname, "report");
		return 0;
	} else if (ret) {
		report(ret, err, "reading ring sizes");
		return 1;
	}
	if (a->rings == RINGS_MAX) {
		rp->rx = cur.rx_max ? cur.rx_max : cur.rx;
		rp->tx = cur.tx_max ? cur.tx_max : cur.tx;
	} else {
		rp->rx = a->rings_n;
		rp->tx = a->rings_n;
		if (cur.rx_max && rp->rx > cur.rx_max) {
			pr_warn("%s: RX ring limited to its maximum %u",
				ifname, cur.rx_max);
			rp->rx = cur.rx_max;
		}
		if (cur.tx_max && rp->tx > cur.tx_max) {
			pr_warn("%s: TX ring limited to its maximum %u",
				ifname, cur.tx_max);
			rp->tx = cur.tx_max;
		}
	}
	if (rec->has_rings) {
		rp->rx_prev = rec->ring_rx_prev;
		rp->tx_prev = rec->ring_tx_prev;
	} else {
		rp->rx_prev = cur.rx;
		rp->tx_prev = cur.tx;
	}
	rp->record = true;
	if (rp->rx == cur.rx && rp->tx == cur.tx)
		return 0;
	err[0] = '\0';
	warn_rings(ifname, cur.rx, cur.tx, rp->rx, rp->tx);
	ret = mp_rings_set(ifname, rp->rx, rp->tx, err, sizeof(err));
	if (ret == -EOPNOTSUPP && a->rings == RINGS_MAX) {
		rings_left(err, ifname, "change");
		memset(rp, 0, sizeof(*rp));
		return 0;
	} else if (ret) {
		report(ret, err, "setting ring sizes");
		return 1;
	}
	rp->changed = true;
	rp->before = cur;
	return 0;
}

/*
 * Put back what a designation installed on a device: its root qdisc and
 * its ring sizes (each only if recorded); 0 or 1 (reported).
 */
static int release(const struct dev_state *rec, bool qdisc, bool rings)
{
	char err[256] = "";
	int ret, rc = 0;

	if (qdisc && rec->qdisc_handle) {
		ret = mp_qdisc_teardown(rec->ifindex, rec->qdisc_handle, err,
					sizeof(err));
		if (ret) {
			report(ret, err, "removing the previous root qdisc");
			rc = 1;
		}
	}
	if (rings && rec->has_rings && rec->ring_rx_prev && rec->ring_tx_prev &&
	    (rec->ring_rx_prev != rec->ring_rx ||
	     rec->ring_tx_prev != rec->ring_tx)) {
		err[0] = '\0';
		warn_rings(rec->ifname, rec->ring_rx, rec->ring_tx,
			   rec->ring_rx_prev, rec->ring_tx_prev);
		ret = mp_rings_set(rec->ifname, rec->ring_rx_prev,
				   rec->ring_tx_prev, err, sizeof(err));
		if (ret) {
			report(ret, err, "restoring ring sizes");
			rc = 1;
		}
	}
	return rc;
}

/* A record: undo it if its device is still there, then forget it. */
static void release_recorded(const struct dev_state *st, void *data)
{
	int *rc = data;

	/* the device went away, or its ifindex now names another one */
	if (!same_dev(st->ifindex, st->ifname)) {
		mp_state_remove(st->ifindex);
		return;
	}
	if (release(st, true, true))
		*rc = 1;
	else
		mp_state_remove(st->ifindex);
}

int mp_place_release_all(void)
{
	int rc = 0;

	mp_state_each(release_recorded, &rc);
	return rc;
}

/* ---- dev set ---- */

static struct touch *touch_get(struct mp_place *p, const struct mp_stack_dev *d)
{
	const struct dev_state *rec;
	struct touch *t;
	unsigned int i;

	for (i = 0; i < p->n; i++) {
		if (p->t[i].dev.ifindex == d->ifindex)
			return &p->t[i];
	}
	if (p->n == MP_TOUCH_MAX)
		return NULL;
	t = &p->t[p->n++];
	memset(t, 0, sizeof(*t));
	t->dev = *d;
	rec = rec_find(p, d->ifindex);
	/* a reused ifindex is another device: its record is not this one's */
	if (rec && !strcmp(rec->ifname, d->ifname))
		t->rec = *rec;
	return t;
}

/* Did the designation before put its layout on t's device? */
static bool old_qdev(const struct mp_place *p, const struct touch *t)
{
	unsigned int i;

	for (i = 0; p->old.set && i < p->old.nqdev; i++) {
		if (p->old.qdev[i].ifindex == t->dev.ifindex)
			return true;
	}
	return false;
}

static void qdisc_req_init(struct mp_qdisc_req *qr, const struct touch *t,
			   int mode, __u64 rate, unsigned int guard, bool force)
{
	memset(qr, 0, sizeof(*qr));
	qr->ifindex = t->dev.ifindex;
	qr->ifname = t->dev.ifname;
	qr->mode = mode;
	qr->rate = rate;
	qr->guard = guard;
	qr->force = force;
}

/* Put one device's queues back as they were before this dev set. */
static void undo_qdisc(const struct mp_place *p, const struct touch *t)
{
	const struct dev_state *old = &p->old;
	struct mp_qdisc_state back;
	struct mp_qdisc_req qr;
	char err[256] = "";
	int ret;

	/*
	 * Our previous layout comes back with the previous designation's
	 * values, also when changing it in place failed half-way; a new
	 * layout goes (one that failed removed itself).
	 */
	bool back_old = t->prev_handle && old_qdev(p, t) &&
			old->queue != MIGPRIO_QUEUE_NONE;

	if (!t->tried || (!back_old && !t->qs.handle))
		return;
	if (back_old) {
		qdisc_req_init(&qr, t, old->queue, old->rate, old->guard, false);
		ret = mp_qdisc_setup(&qr, t->prev_handle, &back, err, sizeof(err));
	} else {
		ret = mp_qdisc_teardown(t->dev.ifindex, t->qs.handle, err,
					sizeof(err));
	}
	if (ret)
		report(ret, err, "undoing the queue setup");
}

static void undo_rings(const struct touch *t)
{
	char err[256] = "";
	int ret;

	if (!t->rp.changed)
		return;
	ret = mp_rings_set(t->dev.ifname, t->rp.before.rx, t->rp.before.tx,
			   err, sizeof(err));
	if (ret)
		report(ret, err, "restoring ring sizes");
}

static void place_free(struct mp_place *p)
{
	mp_stack_free(&p->stack);
	free(p->recs);
	free(p);
}

/* Undo the devices changed so far, last first. */
static void undo_devices(struct mp_place *p)
{
	unsigned int i;

	for (i = p->n; i-- > 0;)
		undo_rings(&p->t[i]);
	for (i = p->n; i-- > 0;)
		undo_qdisc(p, &p->t[i]);
}

/* The plan: the walk's queue and ring devices, plus rings kept. */
static int plan(struct mp_place *p)
{
	const struct dev_set_args *a = p->a;
	struct mp_stack_req req = {
		.ifindex = p->ifindex, .uplink = a->uplink,
		.per_slave = a->per_slave,
	};
	bool need = a->queue != MIGPRIO_QUEUE_NONE || a->rings != RINGS_KEEP;
	struct mp_stack *st = &p->stack;
	char err[512];
	unsigned int i;
	struct touch *t;
	int ret;

	ret = mp_stack_walk(&req, st, err, sizeof(err));
	if (ret && (need || req.uplink || req.per_slave)) {
		pr_err("%s", err);
		return 1;
	}
	for (i = 0; a->queue != MIGPRIO_QUEUE_NONE && i < st->nqueue; i++) {
		t = touch_get(p, &st->queue[i]);
		if (t)
			t->queue = true;
	}
	for (i = 0; a->rings != RINGS_KEEP && i < st->nrings; i++) {
		t = touch_get(p, &st->rings[i]);
		if (t)
			t->rings = true;
	}
	/* rings keep: what was raised below stays raised, and recorded */
	for (i = 0; a->rings == RINGS_KEEP && i < p->nrecs; i++) {
		const struct dev_state *r = &p->recs[i];
		struct mp_stack_dev d = { .ifindex = r->ifindex };

		if (!r->has_rings || !same_dev(r->ifindex, r->ifname) ||
		    (r->ifindex != p->ifindex &&
		     !mp_stack_is_below(st, r->ifindex)))
			continue;
		snprintf(d.ifname, sizeof(d.ifname), "%s", r->ifname);
		t = touch_get(p, &d);
		if (t)
			t->rings = true;
	}
	return 0;
}

int mp_place_apply(const struct dev_set_args *a, __u32 ifindex,
		   const struct dev_state *old, struct mp_place **out,
		   __u32 *priority)
{
	struct recs r = { 0 };
	struct mp_qdisc_req qr;
	struct dev_set_args ra;
	struct mp_place *p;
	char err[256] = "";
	unsigned int i;
	int ret;

	*out = NULL;
	*priority = mp_qdisc_priority(a->queue);
	p = calloc(1, sizeof(*p));
	if (!p) {
		pr_err("out of memory");
		return 1;
	}
	p->a = a;
	p->ifindex = ifindex;
	p->old = *old;
	mp_state_each(rec_collect, &r);
	p->recs = r.v;
	p->nrecs = r.n;
	if (r.oom || plan(p)) {
		if (r.oom)
			pr_err("out of memory");
		place_free(p);
		return 1;
	}

	/* 1. queues: replace what we installed before, refuse foreign ones */
	for (i = 0; i < p->n; i++) {
		struct touch *t = &p->t[i];

		if (!t->queue)
			continue;
		/*
		 * The record is trusted while the designation that wrote it
		 * is live; after a module reload only a layout recognised as
		 * ours (qdisc.c) is replaced without force.
		 */
		t->prev_handle = old_qdev(p, t) ? t->rec.qdisc_handle : 0;
		/*
		 * syncconf: the layout stays as it is (it checked that it is
		 * where the walk puts it): not even changed in place
		 */
		if (a->keep_queue && t->prev_handle) {
			t->qs.handle = t->prev_handle;
			t->qs.priority = mp_qdisc_priority(a->queue);
			*priority = t->qs.priority;
			continue;
		}
		if (!t->prev_handle) {
			ret = mp_qdisc_ours(t->dev.ifindex, err, sizeof(err));
			if (ret < 0) {
				report(ret, err, t->dev.ifname);
				goto undo;
			}
			if (ret)
				t->prev_handle = MP_QDISC_HANDLE;
		}
		qdisc_req_init(&qr, t, a->queue, a->rate, a->guard, a->force);
		t->tried = true;
		ret = mp_qdisc_setup(&qr, t->prev_handle, &t->qs, err,
				     sizeof(err));
		if (ret) {
			report(ret, err, t->dev.ifname);
			goto undo;
		}
		*priority = t->qs.priority;
	}

	/*
	 * 2. rings, on the devices at the bottom; syncconf's keep_rings:
	 * recorded as before, untouched
	 */
	ra = *a;
	if (a->keep_rings)
		ra.rings = RINGS_KEEP;
	for (i = 0; i < p->n; i++) {
		struct touch *t = &p->t[i];

		if (t->rings && set_rings(&ra, t->dev.ifname, &t->rec, &t->rp))
			goto undo;
	}
	*out = p;
	return 0;

undo:
	undo_devices(p);
	place_free(p);
	return 1;
}

unsigned int mp_place_qdevs(const struct mp_place *p, __u32 *ifindex,
			    unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < p->n && n < max; i++) {
		if (p->t[i].queue && p->t[i].qs.handle)
			ifindex[n++] = p->t[i].dev.ifindex;
	}
	return n;
}

/* The designated device's own record: the arguments and the walk. */
static void own_record(const struct mp_place *p, struct dev_state *now)
{
	const struct dev_set_args *a = p->a;
	unsigned int i;

	now->ifindex = p->ifindex;
	if (!if_indextoname(p->ifindex, now->ifname))
		snprintf(now->ifname, sizeof(now->ifname), "%s", a->ifname);
	now->queue = a->queue;
	now->guard = a->guard;
	now->has_guard = a->queue == MIGPRIO_QUEUE_HTB;
	now->rings_mode = a->rings;
	now->rings_n = a->rings_n;
	if (a->uplink)
		snprintf(now->uplink, sizeof(now->uplink), "%s", a->uplink);
	now->per_slave = a->per_slave;
	for (i = 0; i < p->n; i++) {
		if (p->t[i].queue && now->nqdev < MP_STACK_MAX)
			now->qdev[now->nqdev++] = p->t[i].dev;
		if (p->t[i].rings && now->nrdev < MP_STACK_MAX)
			now->rdev[now->nrdev++] = p->t[i].dev;
	}
}

void mp_place_record(struct mp_place *p)
{
	struct dev_state now;
	bool own = false;
	unsigned int i;
	int ret;

	for (i = 0; i < p->n; i++) {
		const struct touch *t = &p->t[i];

		memset(&now, 0, sizeof(now));
		if (t->dev.ifindex == p->ifindex) {
			own_record(p, &now);
			own = true;
		} else {
			now.ifindex = t->dev.ifindex;
			snprintf(now.ifname, sizeof(now.ifname), "%s",
				 t->dev.ifname);
			now.owner = p->ifindex;
		}
		now.qdisc_handle = t->qs.handle;
		if (t->rp.record) {
			now.has_rings = true;
			now.ring_rx = t->rp.rx;
			now.ring_tx = t->rp.tx;
			now.ring_rx_prev = t->rp.rx_prev;
			now.ring_tx_prev = t->rp.tx_prev;
		}
		ret = mp_state_save(&now);
		if (ret)
			pr_warn("cannot record the changes to %s under %s: %s",
				now.ifname, MP_RUNDIR, strerror(-ret));
	}
	if (!own) {
		memset(&now, 0, sizeof(now));
		own_record(p, &now);
		ret = mp_state_save(&now);
		if (ret)
			pr_warn("cannot record the changes to %s under %s: %s",
				now.ifname, MP_RUNDIR, strerror(-ret));
	}
}

/* The record of ifindex as it was before (none: removed). */
static void restore_record(const struct mp_place *p, __u32 ifindex)
{
	const struct dev_state *rec = rec_find(p, ifindex);

	if (rec)
		mp_state_save(rec);
	else
		mp_state_remove(ifindex);
}

void mp_place_undo(struct mp_place *p)
{
	unsigned int i;

	restore_record(p, p->ifindex);
	for (i = 0; i < p->n; i++)
		restore_record(p, p->t[i].dev.ifindex);
	undo_devices(p);
	place_free(p);
}

void mp_place_commit(struct mp_place *p)
{
	unsigned int i, j;

	for (i = 0; i < p->nrecs; i++) {
		const struct dev_state *r = &p->recs[i];
		const struct touch *t = NULL;
		bool q, rings;

		for (j = 0; j < p->n; j++) {
			if (p->t[j].dev.ifindex == r->ifindex)
				t = &p->t[j];
		}
		if (!same_dev(r->ifindex, r->ifname)) {
			/*
			 * Gone, or the ifindex is another device's now: the
			 * record goes, unless dev set just wrote a new one.
			 */
			if (!t && r->ifindex != p->ifindex)
				mp_state_remove(r->ifindex);
			continue;
		}
		q = !(t && t->qs.handle);
		rings = !(t && t->rp.record);
		if (release(r, q, rings))
			continue;	/* kept: dev clear tries again */
		if (!t && r->ifindex != p->ifindex)
			mp_state_remove(r->ifindex);
	}
	place_free(p);
}

/* ---- is it still in place? ---- */

static bool same_set(const struct mp_stack_dev *a, unsigned int na,
		     const struct mp_stack_dev *b, unsigned int nb)
{
	unsigned int i, j;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb && b[j].ifindex != a[i].ifindex; j++)
			;
		if (j == nb)
			return false;
	}
	return true;
}

static void list_devs(char *buf, size_t len, const struct mp_stack_dev *d,
		      unsigned int n)
{
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? " " : "",
				d[i].ifname);
}

const char *mp_place_qdev_state(const struct mp_stack_dev *d, __u32 *handle)
{
	char err[256];

	*handle = 0;
	if (!same_dev(d->ifindex, d->ifname))
		return "gone";
	if (mp_qdisc_ours(d->ifindex, err, sizeof(err)) != 1)
		return "replaced";
	*handle = MP_QDISC_HANDLE;
	return "installed";
}

void mp_place_check(const struct dev_state *st, struct mp_place_check *pc)
{
	struct mp_stack_req req = {
		.ifindex = st->ifindex, .per_slave = st->per_slave,
		.uplink = st->uplink[0] ? st->uplink : NULL,
	};
	bool queue = st->queue != MIGPRIO_QUEUE_NONE;
	char now[128], then[128];
	struct mp_stack stack;
	unsigned int i;
	__u32 h;

	memset(pc, 0, sizeof(*pc));
	if (!st->set || (!queue && st->rings_mode == RINGS_KEEP))
		return;
	if (mp_stack_walk(&req, &stack, pc->why, sizeof(pc->why))) {
		pc->ret = -1;
		mp_stack_free(&stack);
		return;
	}
	snprintf(pc->path, sizeof(pc->path), "%s", stack.path);
	if (queue && !same_set(stack.queue, stack.nqueue, st->qdev, st->nqdev)) {
		list_devs(now, sizeof(now), stack.queue, stack.nqueue);
		list_devs(then, sizeof(then), st->qdev, st->nqdev);
		snprintf(pc->why, sizeof(pc->why),
			 "the queue belongs on %s now, it was put on %s",
			 now, then[0] ? then : "nothing");
		pc->ret = 1;
	} else if (st->rings_mode != RINGS_KEEP &&
		   !same_set(stack.rings, stack.nrings, st->rdev, st->nrdev)) {
		list_devs(now, sizeof(now), stack.rings, stack.nrings);
		list_devs(then, sizeof(then), st->rdev, st->nrdev);
		snprintf(pc->why, sizeof(pc->why),
			 "the rings to size are on %s now, they were on %s",
			 now, then[0] ? then : "nothing");
		pc->ret = 1;
	}
	for (i = 0; queue && !pc->ret && i < st->nqdev; i++) {
		const char *s = mp_place_qdev_state(&st->qdev[i], &h);

		if (!h) {
			snprintf(pc->why, sizeof(pc->why), "the queue on %s is %s",
				 st->qdev[i].ifname, s);
			pc->ret = 1;
		}
	}
	mp_stack_free(&stack);
}

/* Keep the devices of v that are still below. */
static void keep_below(const struct mp_stack *stack, struct mp_stack_dev *v,
		       unsigned int *n)
{
	unsigned int i, k = 0;

	for (i = 0; i < *n; i++) {
		if (mp_stack_is_below(stack, v[i].ifindex))
			v[k++] = v[i];
	}
	*n = k;
}

int mp_place_release_unreachable(const struct dev_state *st)
{
	struct mp_stack_req req = { .ifindex = st->ifindex };
	struct dev_state own;
	struct recs r = { 0 };
	struct mp_stack stack;
	char err[512];
	unsigned int i;
	int n = 0, rc = 0;

	if (!st->set)
		return 0;
	mp_stack_walk(&req, &stack, err, sizeof(err));
	mp_state_each(rec_collect, &r);
	for (i = 0; i < r.n; i++) {
		const struct dev_state *rec = &r.v[i];

		if (rec->ifindex == st->ifindex ||
		    mp_stack_is_below(&stack, rec->ifindex))
			continue;
		release_recorded(rec, &rc);
		n++;
	}
	/* the designation's record names only what is still below */
	if (n && !mp_state_load(st->ifindex, &own) && !own.owner) {
		keep_below(&stack, own.qdev, &own.nqdev);
		keep_below(&stack, own.rdev, &own.nrdev);
		mp_state_save(&own);
	}
	free(r.v);
	mp_stack_free(&stack);
	return n;
}
