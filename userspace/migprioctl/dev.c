// SPDX-License-Identifier: GPL-2.0
/*
 * migprioctl dev set | show | clear: the designated migration interface,
 * its queues (qdisc.c) and NIC rings (rings.c).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/migprio.h>

#include "migprioctl.h"
#include "print.h"
#include "qdisc.h"
#include "rings.h"
#include "state.h"

#define GUARD_DEFAULT	10

bool dev_lookup_deferred;

const char *queue_name(int queue)
{
	switch (queue) {
	case MIGPRIO_QUEUE_NONE:
		return "none";
	case MIGPRIO_QUEUE_PRIO:
		return "prio";
	case MIGPRIO_QUEUE_HTB:
		return "htb";
	default:
		return "?";
	}
}

int dev_state_parse(const struct nlmsghdr *nlh, void *data)
{
	struct dev_state *st = data;
	const struct nlattr *a;

	memset(st, 0, sizeof(*st));
	st->dscp = -1;
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		int type = mnl_attr_get_type(a);

		switch (type) {
		case MIGPRIO_A_DEV_IFNAME:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				snprintf(st->ifname, sizeof(st->ifname), "%s",
					 mnl_attr_get_str(a));
			continue;
		case MIGPRIO_A_DEV_MASTER:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				snprintf(st->master, sizeof(st->master), "%s",
					 mnl_attr_get_str(a));
			continue;
		case MIGPRIO_A_DEV_RATE:
			if (mnl_attr_validate(a, MNL_TYPE_U64) >= 0) {
				st->rate = mnl_attr_get_u64(a);
				st->has_rate = true;
			}
			continue;
		case MIGPRIO_A_DEV_LINK_RATE:
			if (mnl_attr_validate(a, MNL_TYPE_U64) >= 0)
				st->link_rate = mnl_attr_get_u64(a);
			continue;
		case MIGPRIO_A_DEV_DSCP:
		case MIGPRIO_A_DEV_CHANGE:
			if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
				continue;
			if (type == MIGPRIO_A_DEV_DSCP)
				st->dscp = mnl_attr_get_u8(a);
			else
				st->change = mnl_attr_get_u8(a);
			continue;
		}
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			continue;
		switch (type) {
		case MIGPRIO_A_DEV_IFINDEX:
			st->ifindex = mnl_attr_get_u32(a);
			st->set = st->ifindex != 0;
			break;
		case MIGPRIO_A_DEV_PRIORITY:
			st->priority = mnl_attr_get_u32(a);
			break;
		case MIGPRIO_A_DEV_SNDBUF:
			st->sndbuf = mnl_attr_get_u32(a);
			break;
		case MIGPRIO_A_DEV_RCVBUF:
			st->rcvbuf = mnl_attr_get_u32(a);
			break;
		case MIGPRIO_A_DEV_NOTSENT:
			st->notsent = mnl_attr_get_u32(a);
			break;
		}
	}
	return 0;
}

/*
 * What the tool installed for the designation (queue, guard, root qdisc,
 * rings): its state file, not the kernel, keeps it. Absent: nothing.
 */
void dev_state_merge(struct dev_state *st)
{
	struct dev_state rec;

	if (st->set && !mp_state_load(st->ifindex, &rec)) {
		st->queue = rec.queue;
		st->guard = rec.guard;
		st->has_guard = rec.has_guard;
		st->qdisc_handle = rec.qdisc_handle;
		st->has_rings = rec.has_rings;
		st->ring_rx = rec.ring_rx;
		st->ring_tx = rec.ring_tx;
		st->ring_rx_prev = rec.ring_rx_prev;
		st->ring_tx_prev = rec.ring_tx_prev;
		st->rings_mode = rec.rings_mode;
		st->rings_n = rec.rings_n;
	}
	st->has_rate = st->has_rate && st->queue == MIGPRIO_QUEUE_HTB;
	st->has_guard = st->has_guard && st->queue == MIGPRIO_QUEUE_HTB;
}

/* The current designation; st->set false when there is none. */
static int dev_get(struct mp_ctx *ctx, struct dev_state *st)
{
	char buf[MP_NL_REQ_SIZE];
	struct nlmsghdr *req;
	int ret;

	memset(st, 0, sizeof(*st));
	st->dscp = -1;
	req = mp_nl_req(&ctx->nl, buf, MIGPRIO_CMD_DEV_GET, 0);
	ret = mp_nl_do(&ctx->nl, req, dev_state_parse, st);
	if (ret) {
		mp_kernel_err(ctx, MIGPRIO_CMD_DEV_GET);
		return ret;
	}
	dev_state_merge(st);
	return 0;
}

/* ---- dev set ---- */

/* sndbuf, rcvbuf: auto or a size; notsent: auto, off or a size */
static int parse_buf(const char *kw, const char *s, __u32 *v)
{
	bool notsent = !strcmp(kw, "notsent");
	__u64 b;

	if (!strcmp(s, "auto")) {
		*v = notsent ? MIGPRIO_NOTSENT_AUTO : MIGPRIO_BUF_AUTO;
		return 0;
	}
	if (notsent && !strcmp(s, "off")) {
		*v = MIGPRIO_NOTSENT_OFF;
		return 0;
	}
	if (parse_size(s, &b))
		return usage_err("invalid %s \"%s\" (auto%s, or a size: 4194304, 512K, 32M, 1G)",
				 kw, s, notsent ? ", off" : "");
	if (notsent && (b < MIGPRIO_NOTSENT_MIN || b > MIGPRIO_NOTSENT_MAX))
		return usage_err("%s %s out of range (16K to 1G)", kw, s);
	if (!notsent && (b < MIGPRIO_BUF_MIN || b > MIGPRIO_BUF_MAX))
		return usage_err("%s %s out of range (64K to 1G)", kw, s);
	*v = b;
	return 0;
}

static int dev_set_parse(int argc, char **argv, union mp_args *u)
{
	static const char *const kws[] = {
		"priority", "sndbuf", "rcvbuf", "notsent", "dscp", "queue",
		"rate", "guard", "rings", "force", NULL,
	};
	static const char *const queues[] = { "none", "prio", "htb", NULL };
	struct dev_set_args *a = &u->dev_set;
	unsigned int seen = 0;
	bool has_rate = false, has_guard = false;
	int i, k;

	a->dscp = -1;
	a->queue = MIGPRIO_QUEUE_PRIO;
	a->guard = GUARD_DEFAULT;
	if (argc < 1)
		return usage_err("dev set needs an interface name");
	a->ifname = argv[0];
	if (!*a->ifname || strlen(a->ifname) >= IF_NAMESIZE)
		return usage_err("invalid interface name \"%s\"", a->ifname);
	for (i = 1; i < argc; i++) {
		const char *kw = argv[i], *val;

		k = kw_lookup(kw, kws);
		if (k < 0)
			return kw_usage_err("dev set argument", kw, kws, k);
		kw = kws[k];
		if (seen & (1U << k))
			return usage_err("%s given twice", kw);
		seen |= 1U << k;
		if (!strcmp(kw, "force")) {
			a->force = true;
			continue;
		}
		if (++i >= argc)
			return usage_err("%s needs a value", kw);
		val = argv[i];
		if (!strcmp(kw, "priority")) {
			if (parse_priority(val, &a->priority))
				return usage_err("invalid priority \"%s\" (0-%d, or a class id MAJ:MIN in hex, MAJ 1-fffe, MIN 1-ffff)",
						 val, MIGPRIO_PRIO_MAX);
			a->has_priority = true;
		} else if (!strcmp(kw, "sndbuf")) {
			if (parse_buf(kw, val, &a->sndbuf))
				return -1;
		} else if (!strcmp(kw, "rcvbuf")) {
			if (parse_buf(kw, val, &a->rcvbuf))
				return -1;
		} else if (!strcmp(kw, "notsent")) {
			if (parse_buf(kw, val, &a->notsent))
				return -1;
		} else if (!strcmp(kw, "dscp")) {
			__u8 d;

			if (!strcmp(val, "off"))
				a->dscp = -1;
			else if (parse_dscp(val, &d))
				return usage_err("invalid dscp \"%s\" (0-%d, cs0-cs7, af11-af43, ef or off)",
						 val, MIGPRIO_DSCP_MAX);
			else
				a->dscp = d;
		} else if (!strcmp(kw, "queue")) {
			int q = kw_lookup(val, queues);

			if (q == -3)
				return kw_usage_err("queue", val, queues, q);
			if (q < 0)
				return usage_err("invalid queue \"%s\" (prio, htb or none)",
						 val);
			a->queue = q;
		} else if (!strcmp(kw, "rate")) {
			if (parse_rate(val, &a->rate))
				return usage_err("invalid rate \"%s\" (a number with a tc unit: 100mbit, 9500mbit, 10gbit)",
						 val);
			has_rate = true;
		} else if (!strcmp(kw, "guard")) {
			size_t len = strlen(val);
			char pct[8];

			if (len && len < sizeof(pct) && val[len - 1] == '%') {
				memcpy(pct, val, len - 1);
				pct[len - 1] = '\0';
				val = pct;
			}
			if (parse_u32(val, &a->guard, 0, MIGPRIO_GUARD_MAX))
				return usage_err("invalid guard \"%s\" (percent 0-%d)",
						 argv[i], MIGPRIO_GUARD_MAX);
			has_guard = true;
		} else if (!strcmp(kw, "rings")) {
			if (!strcmp(val, "max")) {
				a->rings = RINGS_MAX;
			} else if (!strcmp(val, "keep")) {
				a->rings = RINGS_KEEP;
			} else if (!parse_u32(val, &a->rings_n, 1, 1U << 20)) {
				a->rings = RINGS_N;
			} else {
				return usage_err("invalid rings \"%s\" (max, keep or a size 1-%u)",
						 val, 1U << 20);
			}
		}
	}
	if (a->queue == MIGPRIO_QUEUE_HTB && !has_rate)
		return usage_err("queue htb needs a rate (e.g. rate 9500mbit)");
	if (a->queue != MIGPRIO_QUEUE_HTB && has_rate)
		return usage_err("rate is only used with queue htb");
	if (a->queue != MIGPRIO_QUEUE_HTB && has_guard)
		return usage_err("guard is only used with queue htb");
	if (a->queue == MIGPRIO_QUEUE_NONE && a->force)
		return usage_err("force is only used with queue prio or htb");
	if (!dev_lookup_deferred && !if_nametoindex(a->ifname)) {
		usage_err("cannot find device \"%s\"", a->ifname);
		return -3;
	}
	return 0;
}

static void qdisc_req_init(struct mp_qdisc_req *qr, int ifindex,
			   const char *ifname, int mode, __u64 rate,
			   unsigned int guard, bool force)
{
	memset(qr, 0, sizeof(*qr));
	qr->ifindex = ifindex;
	qr->ifname = ifname;
	qr->mode = mode;
	qr->rate = rate;
	qr->guard = guard;
	qr->force = force;
}

/* qdisc.c and rings.c messages name the interface and the step already */
static void report(int ret, const char *err, const char *what)
{
	if (err[0])
		pr_err("%s", err);
	else
		pr_err("%s: %s", what, strerror(-ret));
}

/* Resizing rings resets many NICs: say so before it happens. */
static void warn_rings(const char *ifname, __u32 rx, __u32 tx, __u32 to_rx,
		       __u32 to_tx)
{
	pr_warn("%s: ring sizes rx %u tx %u -> rx %u tx %u: many drivers (ixgbe, i40e, mlx5, bnxt) reset the NIC for this, its link goes down for a moment",
		ifname, rx, tx, to_rx, to_tx);
}

/*
 * Put back what a previous designation installed on an interface that is
 * no longer designated: its root qdisc and its ring sizes.
 */
static int dev_release(const struct dev_state *old)
{
	char err[256] = "", name[IF_NAMESIZE];
	const char *ifname = old->ifname;
	int ret, rc = 0;

	if (if_indextoname(old->ifindex, name))
		ifname = name;
	if (old->qdisc_handle) {
		ret = mp_qdisc_teardown(old->ifindex, old->qdisc_handle, err,
					sizeof(err));
		if (ret) {
			report(ret, err, "removing the previous root qdisc");
			rc = 1;
		}
	}
	if (old->has_rings && old->ring_rx_prev && old->ring_tx_prev &&
	    (old->ring_rx_prev != old->ring_rx ||
	     old->ring_tx_prev != old->ring_tx)) {
		err[0] = '\0';
		warn_rings(ifname, old->ring_rx, old->ring_tx, old->ring_rx_prev,
			   old->ring_tx_prev);
		ret = mp_rings_set(ifname, old->ring_rx_prev, old->ring_tx_prev,
				   err, sizeof(err));
		if (ret) {
			report(ret, err, "restoring ring sizes");
			rc = 1;
		}
	}
	return rc;
}

static void dev_release_recorded(const struct dev_state *st, void *data);

/* A leftover of a designation a reloaded module forgot, on another interface. */
static void dev_release_other(const struct dev_state *st, void *data)
{
	int rc = 0;

	if (st->ifindex != *(const __u32 *)data)
		dev_release_recorded(st, &rc);
}

struct rings_plan {
	bool record, changed;
	__u32 rx, tx, rx_prev, tx_prev;
	struct mp_rings before;
};

/*
 * Decide and set the ring sizes; 0, or 1 after reporting an error. rec is
 * what migprio recorded for this interface before (the module's record, or
 * after a reload the state file's), all zero when nothing.
 */
static int dev_set_rings(const struct dev_set_args *a, const struct dev_state *rec,
			 struct rings_plan *rp)
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
	ret = mp_rings_get(a->ifname, &cur, err, sizeof(err));
	if (ret == -EOPNOTSUPP && a->rings == RINGS_MAX) {
		if (err[0])
			pr_warn("%s; ring sizes left alone", err);
		else
			pr_warn("%s: the driver cannot report ring sizes; left alone",
				a->ifname);
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
				a->ifname, cur.rx_max);
			rp->rx = cur.rx_max;
		}
		if (cur.tx_max && rp->tx > cur.tx_max) {
			pr_warn("%s: TX ring limited to its maximum %u",
				a->ifname, cur.tx_max);
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
	warn_rings(a->ifname, cur.rx, cur.tx, rp->rx, rp->tx);
	ret = mp_rings_set(a->ifname, rp->rx, rp->tx, err, sizeof(err));
	if (ret == -EOPNOTSUPP && a->rings == RINGS_MAX) {
		if (err[0])
			pr_warn("%s; ring sizes left alone", err);
		else
			pr_warn("%s: the driver cannot change ring sizes; left alone",
				a->ifname);
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
 * The kernel refuses an interface with a master (EBUSY). Kernels before
 * 6.3 cannot format the master's name into the message: name it from
 * sysfs (this netns' view under ip netns exec).
 */
static void dev_master_hint(const char *ifname, const struct nlsock_err *e)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *master;
	ssize_t n;

	if (e->code != -EBUSY || strstr(e->msg, " is a slave of "))
		return;
	snprintf(path, sizeof(path), "/sys/class/net/%s/master", ifname);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return;
	link[n] = '\0';
	master = basename(link);
	pr_err("%s is a slave of %s; designate %s", ifname, master, master);
}

static int dev_set_run(struct mp_ctx *ctx, const union mp_args *u)
{
	const struct dev_set_args *a = &u->dev_set;
	struct mp_qdisc_state qs = { 0 };
	struct mp_qdisc_req qr;
	struct rings_plan rp;
	struct dev_state old, rec, now = { 0 };
	struct dev_set_args ra = *a;
	char err[256] = "", buf[MP_NL_REQ_SIZE];
	struct nlmsghdr *req;
	__u32 priority, prev_handle = 0;
	int ifindex, ret;
	bool same;

	ifindex = if_nametoindex(a->ifname);
	if (!ifindex) {
		pr_err("cannot find device \"%s\"", a->ifname);
		return 1;
	}
	if (dev_get(ctx, &old))
		return 1;
	same = old.set && old.ifindex == (__u32)ifindex;

	/*
	 * What we installed here before: the module's record, or after a
	 * module reload the state file's; our own 4d50: layout is adopted
	 * when it is recognised as such.
	 */
	if (same) {
		rec = old;
		prev_handle = old.qdisc_handle;
	} else if (mp_state_load(ifindex, &rec) ||
		   strcmp(rec.ifname, a->ifname)) {
		memset(&rec, 0, sizeof(rec));
	}
	if (!prev_handle) {
		ret = mp_qdisc_ours(ifindex, err, sizeof(err));
		if (ret < 0) {
			report(ret, err, a->ifname);
			return 1;
		}
		if (ret)
			prev_handle = MP_QDISC_HANDLE;
	}

	/* 1. queues: replaces what we installed before, refuses foreign */
	if (same && a->keep_queue) {
		qs.handle = old.qdisc_handle;
		qs.priority = mp_qdisc_priority(a->queue);
	} else if (a->queue != MIGPRIO_QUEUE_NONE || (prev_handle && !same)) {
		qdisc_req_init(&qr, ifindex, a->ifname, a->queue, a->rate,
			       a->guard, a->force);
		ret = mp_qdisc_setup(&qr, prev_handle, &qs, err,
				     sizeof(err));
		if (ret) {
			report(ret, err, a->ifname);
			return 1;
		}
	}

	/* 2. rings */
	if (same && a->keep_rings)
		ra.rings = RINGS_KEEP;	/* recorded as asked, untouched */
	if (dev_set_rings(&ra, &rec, &rp))
		goto undo_qdisc;

	/*
	 * 3. remember what we installed (the kernel keeps none of it), before
	 * the kernel announces the designation to monitors
	 */
	now.ifindex = ifindex;
	snprintf(now.ifname, sizeof(now.ifname), "%s", a->ifname);
	now.queue = a->queue;
	now.guard = a->guard;
	now.has_guard = a->queue == MIGPRIO_QUEUE_HTB;
	now.qdisc_handle = qs.handle;
	now.rings_mode = a->rings;
	now.rings_n = a->rings_n;
	if (rp.record) {
		now.has_rings = true;
		now.ring_rx = rp.rx;
		now.ring_tx = rp.tx;
		now.ring_rx_prev = rp.rx_prev;
		now.ring_tx_prev = rp.tx_prev;
	}
	ret = mp_state_save(&now);
	if (ret)
		pr_warn("cannot record the changes to %s under %s: %s",
			a->ifname, MP_RUNDIR, strerror(-ret));

	/* 4. the kernel: all parameters at once */
	if (a->has_priority)
		priority = a->priority;
	else if (a->queue != MIGPRIO_QUEUE_NONE)
		priority = qs.priority;
	else
		priority = MIGPRIO_PRIO_DEFAULT;
	req = mp_nl_req(&ctx->nl, buf, MIGPRIO_CMD_DEV_SET, 0);
	mnl_attr_put_u32(req, MIGPRIO_A_DEV_IFINDEX, ifindex);
	mnl_attr_put_u32(req, MIGPRIO_A_DEV_PRIORITY, priority);
	mnl_attr_put_u32(req, MIGPRIO_A_DEV_SNDBUF, a->sndbuf);
	mnl_attr_put_u32(req, MIGPRIO_A_DEV_RCVBUF, a->rcvbuf);
	mnl_attr_put_u32(req, MIGPRIO_A_DEV_NOTSENT, a->notsent);
	if (a->dscp >= 0)
		mnl_attr_put_u8(req, MIGPRIO_A_DEV_DSCP, a->dscp);
	if (a->queue == MIGPRIO_QUEUE_HTB)
		mnl_attr_put_u64(req, MIGPRIO_A_DEV_RATE, a->rate);
	if (mp_nl_do(&ctx->nl, req, NULL, NULL)) {
		mp_kernel_err(ctx, MIGPRIO_CMD_DEV_SET);
		dev_master_hint(a->ifname, &ctx->nl.sock.err);
		/* the record as it was (none: removed) */
		rec.ifindex = ifindex;
		mp_state_save(&rec);
		goto undo_rings;
	}

	/* 5. clean up what the previous designation left behind */
	if (!old.set) {
		__u32 idx = ifindex;

		mp_state_each(dev_release_other, &idx);
	} else if (!same) {
		if (!dev_release(&old))
			mp_state_remove(old.ifindex);
	} else if (old.qdisc_handle && !qs.handle) {
		err[0] = '\0';
		ret = mp_qdisc_teardown(ifindex, old.qdisc_handle, err,
					sizeof(err));
		if (ret)
			report(ret, err, "removing the previous root qdisc");
	}
	print_done(ctx);
	return 0;

undo_rings:
	if (rp.changed) {
		err[0] = '\0';
		ret = mp_rings_set(a->ifname, rp.before.rx, rp.before.tx, err,
				   sizeof(err));
		if (ret)
			report(ret, err, "restoring ring sizes");
	}
undo_qdisc:
	if (!qs.handle || (same && a->keep_queue))
		return 1;
	err[0] = '\0';
	if (same && old.qdisc_handle && old.queue != MIGPRIO_QUEUE_NONE) {
		/* put the previous layout back */
		struct mp_qdisc_state back;

		qdisc_req_init(&qr, ifindex, a->ifname, old.queue, old.rate,
			       old.guard, false);
		ret = mp_qdisc_setup(&qr, qs.handle, &back, err, sizeof(err));
		if (!ret && back.handle != old.qdisc_handle)
			pr_warn("%s: previous queues restored with handle %x:, the module records %x:",
				a->ifname, back.handle >> 16,
				old.qdisc_handle >> 16);
	} else {
		ret = mp_qdisc_teardown(ifindex, qs.handle, err, sizeof(err));
	}
	if (ret)
		report(ret, err, "undoing the queue setup");
	return 1;
}

/* ---- dev clear ---- */

/* A state file the module knows nothing of (it was reloaded): undo it. */
static void dev_release_recorded(const struct dev_state *st, void *data)
{
	char name[IF_NAMESIZE];
	int *rc = data;

	/* the interface went away, or its ifindex now names another one */
	if (!if_indextoname(st->ifindex, name) || strcmp(name, st->ifname)) {
		mp_state_remove(st->ifindex);
		return;
	}
	if (dev_release(st))
		*rc = 1;
	else
		mp_state_remove(st->ifindex);
}

int dev_clear(struct mp_ctx *ctx)
{
	char buf[MP_NL_REQ_SIZE];
	struct nlmsghdr *req;
	struct dev_state old;
	int rc = 0;

	if (dev_get(ctx, &old))
		return 1;
	/* the kernel first: if it refuses, nothing has changed */
	req = mp_nl_req(&ctx->nl, buf, MIGPRIO_CMD_DEV_CLEAR, 0);
	if (mp_nl_do(&ctx->nl, req, NULL, NULL)) {
		mp_kernel_err(ctx, MIGPRIO_CMD_DEV_CLEAR);
		return 1;
	}
	if (old.set) {
		rc = dev_release(&old);
		if (!rc)
			mp_state_remove(old.ifindex);
	}
	/* what designations before a module reload left behind */
	mp_state_each(dev_release_recorded, &rc);
	return rc;
}

static int dev_clear_run(struct mp_ctx *ctx, const union mp_args *u)
{
	int rc;

	(void)u;
	rc = dev_clear(ctx);
	if (!rc)
		print_done(ctx);
	return rc;
}

/* ---- dev show ---- */

/* A size, "auto" (@auto_val) or "off" (@off_val, 0: none), text and JSON. */
static void print_buf(const char *key, const char *fmt, __u32 v,
		      __u32 auto_val, __u32 off_val)
{
	char b[32];

	if (v == auto_val) {
		print_string(PRINT_ANY, key, fmt, "auto");
	} else if (off_val && v == off_val) {
		print_string(PRINT_ANY, key, fmt, "off");
	} else {
		print_u64(PRINT_JSON, key, NULL, v);
		print_string(PRINT_FP, NULL, fmt, fmt_size(b, sizeof(b), v));
	}
}

static void dev_print(const struct dev_state *st)
{
	char b[64];

	if (!st->set) {
		print_null(PRINT_ANY, "dev", "%s\n",
			   "no migration interface designated");
		return;
	}
	open_json_object("dev");
	print_string(PRINT_ANY, "ifname", "dev       %s", st->ifname);
	print_uint(PRINT_ANY, "ifindex", " (ifindex %u)\n", st->ifindex);
	if (st->master[0]) {
		print_string(PRINT_ANY, "master", "master    %s", st->master);
		print_string(PRINT_FP, NULL,
			     " (traffic passes %s: nothing matches; designate it)\n",
			     st->master);
	} else {
		print_null(PRINT_JSON, "master", NULL, NULL);
	}
	print_uint(PRINT_JSON, "priority", NULL, st->priority);
	print_string(PRINT_FP, NULL, "priority  %s\n",
		     fmt_priority(b, sizeof(b), st->priority));
	if (st->priority >> 16)
		print_string(PRINT_JSON, "classid", NULL, b);
	else
		print_null(PRINT_JSON, "classid", NULL, NULL);
	print_buf("sndbuf", "sndbuf    %s\n", st->sndbuf, MIGPRIO_BUF_AUTO, 0);
	print_buf("rcvbuf", "rcvbuf    %s\n", st->rcvbuf, MIGPRIO_BUF_AUTO, 0);
	print_buf("notsent", "notsent   %s\n", st->notsent, MIGPRIO_NOTSENT_AUTO,
		  MIGPRIO_NOTSENT_OFF);
	if (st->link_rate) {
		print_u64(PRINT_JSON, "link_rate", NULL, st->link_rate);
		print_string(PRINT_FP, NULL, "link      %s\n",
			     fmt_rate(b, sizeof(b), st->link_rate));
	} else {
		print_null(PRINT_ANY, "link_rate", "link      %s\n",
			   "speed unknown");
	}
	if (st->dscp >= 0)
		print_uint(PRINT_ANY, "dscp", "dscp      %u\n", st->dscp);
	else
		print_null(PRINT_ANY, "dscp", "dscp      %s\n", "off");
	print_string(PRINT_ANY, "queue", "queue     %s", queue_name(st->queue));
	if (st->has_rate) {
		print_u64(PRINT_JSON, "rate", NULL, st->rate);
		print_string(PRINT_FP, NULL, " rate %s",
			     fmt_rate(b, sizeof(b), st->rate));
	} else {
		print_null(PRINT_JSON, "rate", NULL, NULL);
	}
	if (st->has_guard)
		print_uint(PRINT_ANY, "guard", " guard %u%%", st->guard);
	else
		print_null(PRINT_JSON, "guard", NULL, NULL);
	print_nl();
	if (st->qdisc_handle)
		print_string(PRINT_ANY, "qdisc_handle", "qdisc     %s\n",
			     fmt_handle(b, sizeof(b), st->qdisc_handle));
	else
		print_null(PRINT_ANY, "qdisc_handle", "qdisc     %s\n",
			   "none installed");
	if (st->has_rings) {
		open_json_object("rings");
		print_uint(PRINT_ANY, "rx", "rings     rx %u", st->ring_rx);
		print_uint(PRINT_ANY, "tx", " tx %u", st->ring_tx);
		print_uint(PRINT_ANY, "rx_prev", " (previously rx %u", st->ring_rx_prev);
		print_uint(PRINT_ANY, "tx_prev", " tx %u)\n", st->ring_tx_prev);
		close_json_object();
	} else {
		print_null(PRINT_ANY, "rings", "rings     %s\n", "untouched");
	}
	close_json_object();
}

static int dev_show_run(struct mp_ctx *ctx, const union mp_args *u)
{
	struct dev_state st;

	(void)u;
	if (dev_get(ctx, &st))
		return 1;
	open_json_object(NULL);
	dev_print(&st);
	close_json_object();
	return 0;
}

/* ---- the configuration line: showconf, syncconf ---- */

/* The designation and its record, as showconf prints it. */
int dev_running(struct mp_ctx *ctx, struct dev_state *st)
{
	return dev_get(ctx, st);
}

/* The state a dev set line asks for, with every default filled in. */
void dev_args_state(const struct dev_set_args *a, struct dev_state *st)
{
	memset(st, 0, sizeof(*st));
	st->set = true;
	snprintf(st->ifname, sizeof(st->ifname), "%s", a->ifname);
	st->priority = a->has_priority ? a->priority :
		       mp_qdisc_priority(a->queue);
	st->sndbuf = a->sndbuf;
	st->rcvbuf = a->rcvbuf;
	st->notsent = a->notsent;
	st->dscp = a->dscp;
	st->queue = a->queue;
	st->has_rate = a->queue == MIGPRIO_QUEUE_HTB;
	st->has_guard = st->has_rate;
	st->rate = a->rate;
	st->guard = a->guard;
	st->rings_mode = a->rings;
	st->rings_n = a->rings_n;
}

/*
 * Each formatter writes the option's value into buf, or returns false when
 * the option is at its default and is left out of the line.
 */
struct dev_conf_opt {
	const char *kw;
	bool (*fmt)(const struct dev_state *st, const struct dev_conf_opt *o,
		    char *buf, size_t len);
	size_t off;		/* of the field in struct dev_state */
	__u64 dflt;
};

#define DEV_U32(st, o)	(*(const __u32 *)((const char *)(st) + (o)->off))

static bool conf_priority(const struct dev_state *st,
			  const struct dev_conf_opt *o, char *buf, size_t len)
{
	(void)o;
	fmt_priority(buf, len, st->priority);
	return st->priority != mp_qdisc_priority(st->queue);
}

/* sndbuf, rcvbuf, notsent: a size, or auto (the default: left out), off */
static bool conf_size(const struct dev_state *st, const struct dev_conf_opt *o,
		      char *buf, size_t len)
{
	__u32 v = DEV_U32(st, o);

	if (v == MIGPRIO_NOTSENT_OFF)
		snprintf(buf, len, "off");
	else
		fmt_size(buf, len, v);
	return v != o->dflt;
}

static bool conf_dscp(const struct dev_state *st, const struct dev_conf_opt *o,
		      char *buf, size_t len)
{
	(void)o;
	snprintf(buf, len, "%d", st->dscp);
	return st->dscp >= 0;
}

static bool conf_queue(const struct dev_state *st, const struct dev_conf_opt *o,
		       char *buf, size_t len)
{
	(void)o;
	snprintf(buf, len, "%s", queue_name(st->queue));
	return st->queue != MIGPRIO_QUEUE_PRIO;
}

/* Exact, so that parsing it gives the same number of bytes per second. */
static bool conf_rate(const struct dev_state *st, const struct dev_conf_opt *o,
		      char *buf, size_t len)
{
	static const char *const units[] = { "bit", "kbit", "mbit", "gbit" };
	__u64 bits = st->rate * 8;
	unsigned int i = 0;

	(void)o;
	while (i < ARRAY_SIZE(units) - 1 && bits && !(bits % 1000)) {
		bits /= 1000;
		i++;
	}
	snprintf(buf, len, "%llu%s", (unsigned long long)bits, units[i]);
	return st->has_rate;
}

static bool conf_guard(const struct dev_state *st, const struct dev_conf_opt *o,
		       char *buf, size_t len)
{
	snprintf(buf, len, "%u", st->guard);
	return st->has_guard && st->guard != o->dflt;
}

static bool conf_rings(const struct dev_state *st, const struct dev_conf_opt *o,
		       char *buf, size_t len)
{
	(void)o;
	if (st->rings_mode == RINGS_N)
		snprintf(buf, len, "%u", st->rings_n);
	else
		snprintf(buf, len, "max");
	return st->rings_mode != RINGS_KEEP;
}

/* dev set's options in showconf's order; one line per option. */
static const struct dev_conf_opt dev_conf_opts[] = {
	{ "priority", conf_priority, 0, 0 },
	{ "sndbuf", conf_size, offsetof(struct dev_state, sndbuf), MIGPRIO_BUF_AUTO },
	{ "rcvbuf", conf_size, offsetof(struct dev_state, rcvbuf), MIGPRIO_BUF_AUTO },
	{ "notsent", conf_size, offsetof(struct dev_state, notsent),
	  MIGPRIO_NOTSENT_AUTO },
	{ "dscp", conf_dscp, 0, 0 },
	{ "queue", conf_queue, 0, 0 },
	{ "rate", conf_rate, 0, 0 },
	{ "guard", conf_guard, 0, GUARD_DEFAULT },
	{ "rings", conf_rings, 0, 0 },
};

/* "dev set IFNAME OPTION VALUE...", options at their default left out. */
char *dev_conf_line(const struct dev_state *st, char *buf, size_t len)
{
	size_t i, n;
	char v[64];

	n = snprintf(buf, len, "dev set %s", st->ifname);
	for (i = 0; i < ARRAY_SIZE(dev_conf_opts) && n < len; i++) {
		const struct dev_conf_opt *o = &dev_conf_opts[i];

		if (o->fmt(st, o, v, sizeof(v)))
			n += snprintf(buf + n, len - n, " %s %s", o->kw, v);
	}
	return buf;
}

static const struct mp_cmd dev_cmds[] = {
	{ "set", dev_set_parse, dev_set_run, CMD_APPLY | CMD_CONF | CMD_DEV_SET,
	  NULL, NULL },
	{ "show", parse_noargs, dev_show_run, 0, NULL, "list" },
	{ "clear", parse_noargs, dev_clear_run, CMD_APPLY, NULL, NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};

const struct mp_object dev_object = {
	.name = "dev",
	.cmds = dev_cmds,
	.dflt = "show",
	.usage =
	"dev set IFNAME [priority N|MAJ:MIN] [sndbuf auto|SIZE] [rcvbuf auto|SIZE]\n"
	"          [notsent auto|off|SIZE] [dscp N|off] [queue prio|htb|none] [rate RATE]\n"
	"          [guard PCT] [rings max|N|keep] [force]\n"
	"dev show | list\n"
	"dev clear\n",
};
