// SPDX-License-Identifier: GPL-2.0
/*
 * migprioctl dev set | show | clear: the designated migration interface,
 * its queues (qdisc.c) and NIC rings (rings.c).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
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

#define GUARD_DEFAULT	10

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
		case MIGPRIO_A_DEV_QUEUE:
		case MIGPRIO_A_DEV_GUARD:
		case MIGPRIO_A_DEV_CHANGE:
			if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
				continue;
			if (type == MIGPRIO_A_DEV_DSCP)
				st->dscp = mnl_attr_get_u8(a);
			else if (type == MIGPRIO_A_DEV_QUEUE)
				st->queue = mnl_attr_get_u8(a);
			else if (type == MIGPRIO_A_DEV_CHANGE)
				st->change = mnl_attr_get_u8(a);
			else
				st->guard = mnl_attr_get_u8(a), st->has_guard = true;
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
		case MIGPRIO_A_DEV_QDISC_HANDLE:
			st->qdisc_handle = mnl_attr_get_u32(a);
			break;
		case MIGPRIO_A_DEV_RING_RX:
			st->ring_rx = mnl_attr_get_u32(a);
			break;
		case MIGPRIO_A_DEV_RING_TX:
			st->ring_tx = mnl_attr_get_u32(a);
			break;
		case MIGPRIO_A_DEV_RING_RX_PREV:
			st->ring_rx_prev = mnl_attr_get_u32(a);
			break;
		case MIGPRIO_A_DEV_RING_TX_PREV:
			st->ring_tx_prev = mnl_attr_get_u32(a);
			break;
		}
	}
	/* the kernel reports 0 for what migprio did not install */
	st->has_rings = st->ring_rx || st->ring_tx;
	st->has_rate = st->has_rate && st->queue == MIGPRIO_QUEUE_HTB;
	st->has_guard = st->has_guard && st->queue == MIGPRIO_QUEUE_HTB;
	return 0;
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
	if (ret == -ENOENT || ret == -ENODEV) {
		/* a kernel may answer "nothing designated" with an error */
		memset(st, 0, sizeof(*st));
		st->dscp = -1;
		return 0;
	}
	if (ret)
		mp_kernel_err(ctx, MIGPRIO_CMD_DEV_GET);
	return ret;
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
	bool has_rate = false, has_guard = false, has_queue = false;
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
			return usage_err("%s dev set argument \"%s\"",
					 k == -2 ? "ambiguous" : "unknown", kw);
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

			if (q < 0)
				return usage_err("invalid queue \"%s\" (prio, htb or none)",
						 val);
			a->queue = q;
			has_queue = true;
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
	(void)has_queue;
	if (a->queue == MIGPRIO_QUEUE_HTB && !has_rate)
		return usage_err("queue htb needs a rate (e.g. rate 9500mbit)");
	if (a->queue != MIGPRIO_QUEUE_HTB && has_rate)
		return usage_err("rate is only used with queue htb");
	if (a->queue != MIGPRIO_QUEUE_HTB && has_guard)
		return usage_err("guard is only used with queue htb");
	if (a->queue == MIGPRIO_QUEUE_NONE && a->force)
		return usage_err("force is only used with queue prio or htb");
	if (!if_nametoindex(a->ifname)) {
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
		ret = mp_rings_set(ifname, old->ring_rx_prev, old->ring_tx_prev,
				   err, sizeof(err));
		if (ret) {
			report(ret, err, "restoring ring sizes");
			rc = 1;
		}
	}
	return rc;
}

struct rings_plan {
	bool record, changed;
	__u32 rx, tx, rx_prev, tx_prev;
	struct mp_rings before;
};

/* Decide and set the ring sizes; 0, or 1 after reporting an error. */
static int dev_set_rings(const struct dev_set_args *a, const struct dev_state *old,
			 bool same, struct rings_plan *rp)
{
	char err[256] = "";
	struct mp_rings cur;
	int ret;

	memset(rp, 0, sizeof(*rp));
	if (a->rings == RINGS_KEEP) {
		/* untouched; a re-set keeps what we must restore later */
		if (same && old->has_rings) {
			rp->record = true;
			rp->rx = old->ring_rx;
			rp->tx = old->ring_tx;
			rp->rx_prev = old->ring_rx_prev;
			rp->tx_prev = old->ring_tx_prev;
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
	if (same && old->has_rings) {
		rp->rx_prev = old->ring_rx_prev;
		rp->tx_prev = old->ring_tx_prev;
	} else {
		rp->rx_prev = cur.rx;
		rp->tx_prev = cur.tx;
	}
	rp->record = true;
	if (rp->rx == cur.rx && rp->tx == cur.tx)
		return 0;
	err[0] = '\0';
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
static void dev_master_hint(const char *ifname, const struct mp_nl_err *e)
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
	struct dev_state old;
	char err[256] = "", buf[MP_NL_REQ_SIZE];
	struct nlmsghdr *req;
	__u32 priority;
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

	/* 1. queues: replaces what we installed before, refuses foreign */
	if (a->queue != MIGPRIO_QUEUE_NONE) {
		qdisc_req_init(&qr, ifindex, a->ifname, a->queue, a->rate,
			       a->guard, a->force);
		ret = mp_qdisc_setup(&qr, same ? old.qdisc_handle : 0, &qs, err,
				     sizeof(err));
		if (ret) {
			report(ret, err, a->ifname);
			return 1;
		}
	}

	/* 2. rings */
	if (dev_set_rings(a, &old, same, &rp))
		goto undo_qdisc;

	/* 3. the kernel: all parameters and what we installed, at once */
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
	mnl_attr_put_u8(req, MIGPRIO_A_DEV_QUEUE, a->queue);
	if (a->queue == MIGPRIO_QUEUE_HTB) {
		mnl_attr_put_u64(req, MIGPRIO_A_DEV_RATE, a->rate);
		mnl_attr_put_u8(req, MIGPRIO_A_DEV_GUARD, a->guard);
	}
	if (qs.handle)
		mnl_attr_put_u32(req, MIGPRIO_A_DEV_QDISC_HANDLE, qs.handle);
	if (rp.record) {
		mnl_attr_put_u32(req, MIGPRIO_A_DEV_RING_RX, rp.rx);
		mnl_attr_put_u32(req, MIGPRIO_A_DEV_RING_TX, rp.tx);
		mnl_attr_put_u32(req, MIGPRIO_A_DEV_RING_RX_PREV, rp.rx_prev);
		mnl_attr_put_u32(req, MIGPRIO_A_DEV_RING_TX_PREV, rp.tx_prev);
	}
	if (mp_nl_do(&ctx->nl, req, NULL, NULL)) {
		mp_kernel_err(ctx, MIGPRIO_CMD_DEV_SET);
		dev_master_hint(a->ifname, &ctx->nl.err);
		goto undo_rings;
	}

	/* 4. clean up what the previous designation left behind */
	if (old.set && !same) {
		dev_release(&old);
	} else if (same && old.qdisc_handle && !qs.handle) {
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
	if (!qs.handle)
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

static int dev_clear_run(struct mp_ctx *ctx, const union mp_args *u)
{
	char buf[MP_NL_REQ_SIZE];
	struct nlmsghdr *req;
	struct dev_state old;
	int rc;

	(void)u;
	if (dev_get(ctx, &old))
		return 1;
	/* the kernel first: if it refuses, nothing has changed */
	req = mp_nl_req(&ctx->nl, buf, MIGPRIO_CMD_DEV_CLEAR, 0);
	if (mp_nl_do(&ctx->nl, req, NULL, NULL)) {
		mp_kernel_err(ctx, MIGPRIO_CMD_DEV_CLEAR);
		return 1;
	}
	rc = old.set ? dev_release(&old) : 0;
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

static const struct mp_cmd dev_cmds[] = {
	{ "set", dev_set_parse, dev_set_run, CMD_APPLY, NULL },
	{ "show", parse_noargs, dev_show_run, 0, NULL },
	{ "clear", parse_noargs, dev_clear_run, CMD_APPLY, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

const struct mp_object dev_object = {
	.name = "dev",
	.cmds = dev_cmds,
	.dflt = "show",
	.usage =
	"dev set IFNAME [priority N|MAJ:MIN] [sndbuf auto|SIZE] [rcvbuf auto|SIZE]\n"
	"          [notsent auto|off|SIZE] [dscp N|off] [queue prio|htb|none] [rate RATE]\n"
	"          [guard PCT] [rings max|N|keep] [force]\n"
	"dev show\n"
	"dev clear\n",
};
