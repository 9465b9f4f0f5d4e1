// SPDX-License-Identifier: GPL-2.0
/*
 * migprioctl dev set | show | clear: the designated migration interface,
 * and through place.c the queues (qdisc.c) and NIC rings (rings.c) below it
 * where its traffic meets everything else (stack.c).
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
#include "place.h"
#include "print.h"
#include "qdisc.h"
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
		const struct nlattr *q;

		switch (type) {
		case MIGPRIO_A_DEV_QUEUE_DEVS:
			mnl_attr_for_each_nested(q, a) {
				if (mnl_attr_get_type(q) == MIGPRIO_A_QUEUE_DEV_IFINDEX &&
				    mnl_attr_validate(q, MNL_TYPE_U32) >= 0 &&
				    st->nreset < MP_STACK_MAX)
					st->reset[st->nreset++] = mnl_attr_get_u32(q);
			}
			continue;
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
 * What the tool installed for the designation (queue, guard, uplink, where
 * the queue and rings went): its state files, not the kernel, keep it.
 * Absent: nothing. qdisc_handle and ring_* become those of the first queue
 * and ring device (dev show's JSON keys from before the walk).
 */
void dev_state_merge(struct dev_state *st)
{
	struct dev_state rec, dr;
	unsigned int i;

	if (st->set && !mp_state_load(st->ifindex, &rec) && !rec.owner) {
		st->queue = rec.queue;
		st->guard = rec.guard;
		st->has_guard = rec.has_guard;
		st->rings_mode = rec.rings_mode;
		st->rings_n = rec.rings_n;
		memcpy(st->uplink, rec.uplink, sizeof(st->uplink));
		st->per_slave = rec.per_slave;
		st->nqdev = rec.nqdev;
		memcpy(st->qdev, rec.qdev, sizeof(st->qdev));
		st->nrdev = rec.nrdev;
		memcpy(st->rdev, rec.rdev, sizeof(st->rdev));
		/* a file from before the walk: the device itself */
		if (!st->nqdev && rec.qdisc_handle) {
			st->qdev[0].ifindex = st->ifindex;
			memcpy(st->qdev[0].ifname, rec.ifname, IF_NAMESIZE);
			st->nqdev = 1;
		}
		if (!st->nrdev && rec.has_rings) {
			st->rdev[0].ifindex = st->ifindex;
			memcpy(st->rdev[0].ifname, rec.ifname, IF_NAMESIZE);
			st->nrdev = 1;
		}
	}
	for (i = 0; i < st->nqdev && !st->qdisc_handle; i++) {
		if (!mp_place_dev_rec(st, &st->qdev[i], &dr))
			st->qdisc_handle = dr.qdisc_handle;
	}
	for (i = 0; i < st->nrdev && !st->has_rings; i++) {
		if (!mp_place_dev_rec(st, &st->rdev[i], &dr) && dr.has_rings) {
			st->has_rings = true;
			st->ring_rx = dr.ring_rx;
			st->ring_tx = dr.ring_tx;
			st->ring_rx_prev = dr.ring_rx_prev;
			st->ring_tx_prev = dr.ring_tx_prev;
		}
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
		"rate", "guard", "rings", "force", "uplink", "per-slave", NULL,
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
		if (!strcmp(kw, "per-slave")) {
			a->per_slave = true;
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
		} else if (!strcmp(kw, "uplink")) {
			if (!*val || strlen(val) >= IF_NAMESIZE)
				return usage_err("invalid uplink \"%s\" (an interface name)",
						 val);
			a->uplink = val;
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
	if (a->queue == MIGPRIO_QUEUE_NONE && a->per_slave)
		return usage_err("per-slave is only used with queue prio or htb");
	if (!dev_lookup_deferred && !if_nametoindex(a->ifname)) {
		usage_err("cannot find device \"%s\"", a->ifname);
		return -3;
	}
	if (!dev_lookup_deferred && a->uplink && !if_nametoindex(a->uplink)) {
		usage_err("cannot find uplink device \"%s\"", a->uplink);
		return -3;
	}
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

/* The kernel's designation parameters, as dev-get gives them back. */
struct dev_req {
	__u32 ifindex, priority, sndbuf, rcvbuf, notsent;
	int dscp;			/* -1: none */
	__u64 rate;			/* 0: none */
	unsigned int nqdev;		/* queue devices (module/egress.c) */
	__u32 qdev[MIGPRIO_QUEUE_DEVS_MAX];
};

/*
 * dev-set with all parameters. The queue devices, where the kernel resets
 * foreign priorities of the layout's classes, are left out for a module
 * of family version 2 (not reloaded since an upgrade): it would refuse
 * the attribute.
 */
static int dev_req_send(struct mp_ctx *ctx, const struct dev_req *d)
{
	char buf[MP_NL_REQ_SIZE];
	struct nlmsghdr *req;
	struct nlattr *nest;
	unsigned int i;

	req = mp_nl_req(&ctx->nl, buf, MIGPRIO_CMD_DEV_SET, 0);
	mnl_attr_put_u32(req, MIGPRIO_A_DEV_IFINDEX, d->ifindex);
	mnl_attr_put_u32(req, MIGPRIO_A_DEV_PRIORITY, d->priority);
	mnl_attr_put_u32(req, MIGPRIO_A_DEV_SNDBUF, d->sndbuf);
	mnl_attr_put_u32(req, MIGPRIO_A_DEV_RCVBUF, d->rcvbuf);
	mnl_attr_put_u32(req, MIGPRIO_A_DEV_NOTSENT, d->notsent);
	if (d->dscp >= 0)
		mnl_attr_put_u8(req, MIGPRIO_A_DEV_DSCP, d->dscp);
	if (d->rate)
		mnl_attr_put_u64(req, MIGPRIO_A_DEV_RATE, d->rate);
	if (d->nqdev && !(ctx->nl.version && ctx->nl.version < 3)) {
		nest = mnl_attr_nest_start(req, MIGPRIO_A_DEV_QUEUE_DEVS);
		for (i = 0; i < d->nqdev; i++)
			mnl_attr_put_u32(req, MIGPRIO_A_QUEUE_DEV_IFINDEX,
					 d->qdev[i]);
		mnl_attr_nest_end(req, nest);
	}
	return mp_nl_do(&ctx->nl, req, NULL, NULL);
}

static int dev_set_locked(struct mp_ctx *ctx, const union mp_args *u)
{
	const struct dev_set_args *a = &u->dev_set;
	struct mp_place *pl;
	struct dev_state old;
	struct dev_req d;
	__u32 priority;
	int ifindex;

	ifindex = if_nametoindex(a->ifname);
	if (!ifindex) {
		pr_err("cannot find device \"%s\"", a->ifname);
		return 1;
	}
	if (dev_get(ctx, &old))
		return 1;

	/* 1. the layout and rings below (stack.c), all or nothing */
	if (mp_place_apply(a, ifindex, &old, &pl, &priority))
		return 1;
	/*
	 * 2. remember what we installed (the kernel keeps none of it), before
	 * the kernel announces the designation to monitors
	 */
	mp_place_record(pl);

	/*
	 * 3. the kernel: all parameters at once, and the devices that got
	 * the layout
	 */
	d = (struct dev_req){
		.ifindex = ifindex, .sndbuf = a->sndbuf, .rcvbuf = a->rcvbuf,
		.notsent = a->notsent, .dscp = a->dscp,
		.priority = a->has_priority ? a->priority : priority,
		.rate = a->queue == MIGPRIO_QUEUE_HTB ? a->rate : 0,
	};
	d.nqdev = mp_place_qdevs(pl, d.qdev, ARRAY_SIZE(d.qdev));
	if (dev_req_send(ctx, &d)) {
		mp_kernel_err(ctx, MIGPRIO_CMD_DEV_SET);
		dev_master_hint(a->ifname, &ctx->nl.sock.err);
		mp_place_undo(pl);
		return 1;
	}

	/* 4. clean up what the previous designation left behind */
	mp_place_commit(pl);
	print_done(ctx);
	return 0;
}

static int dev_set_run(struct mp_ctx *ctx, const union mp_args *u)
{
	int rc;

	mp_state_lock();
	rc = dev_set_locked(ctx, u);
	mp_state_unlock();
	return rc;
}

/*
 * The follower released devices that are no longer below the designation
 * (place.h): the kernel's queue devices become those of the record left,
 * the designation's parameters unchanged. 0, or 1 (reported).
 */
int dev_requeue(struct mp_ctx *ctx)
{
	struct dev_state st;
	struct dev_req d;
	unsigned int i;

	if (dev_get(ctx, &st) || !st.set)
		return 1;
	d = (struct dev_req){
		.ifindex = st.ifindex, .priority = st.priority,
		.sndbuf = st.sndbuf, .rcvbuf = st.rcvbuf,
		.notsent = st.notsent, .dscp = st.dscp, .rate = st.rate,
	};
	for (i = 0; i < st.nqdev && d.nqdev < ARRAY_SIZE(d.qdev); i++)
		d.qdev[d.nqdev++] = st.qdev[i].ifindex;
	if (dev_req_send(ctx, &d)) {
		mp_kernel_err(ctx, MIGPRIO_CMD_DEV_SET);
		return 1;
	}
	return 0;
}

/* ---- dev clear ---- */

int dev_clear(struct mp_ctx *ctx)
{
	char buf[MP_NL_REQ_SIZE];
	struct nlmsghdr *req;
	int rc = 1;

	mp_state_lock();
	/* the kernel first: if it refuses, nothing has changed */
	req = mp_nl_req(&ctx->nl, buf, MIGPRIO_CMD_DEV_CLEAR, 0);
	if (mp_nl_do(&ctx->nl, req, NULL, NULL))
		mp_kernel_err(ctx, MIGPRIO_CMD_DEV_CLEAR);
	else	/* every device changed, also by designations a reloaded module forgot */
		rc = mp_place_release_all();
	mp_state_unlock();
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

/* The ring sizes of one device, text and JSON. */
static void print_rings(const char *ifname, const struct dev_state *r)
{
	print_string(PRINT_ANY, "ifname", "rings     %s", ifname);
	print_uint(PRINT_ANY, "rx", " rx %u", r->ring_rx);
	print_uint(PRINT_ANY, "tx", " tx %u", r->ring_tx);
	print_uint(PRINT_ANY, "rx_prev", " (previously rx %u", r->ring_rx_prev);
	print_uint(PRINT_ANY, "tx_prev", " tx %u)\n", r->ring_tx_prev);
}

/* Does the kernel reset foreign priorities on ifindex (egress.c)? */
static bool dev_resets(const struct dev_state *st, __u32 ifindex)
{
	unsigned int i;

	for (i = 0; i < st->nreset; i++) {
		if (st->reset[i] == ifindex)
			return true;
	}
	return false;
}

/*
 * Below the designated device: the uplink argument, where the layout is
 * (and whether it still is, whether the kernel resets foreign priorities
 * there), the walk now, the rings sized. Each queue device is checked live
 * (tc), so a queue that is gone says so.
 */
static void dev_print_below(const struct dev_state *st)
{
	struct mp_place_check pc;
	struct dev_state r;
	char b[32];
	unsigned int i, nrings = 0;
	const char *state;
	bool reset;
	__u32 h;

	if (st->uplink[0])
		print_string(PRINT_ANY, "uplink", "uplink    %s (as given)\n",
			     st->uplink);
	else
		print_null(PRINT_JSON, "uplink", NULL, NULL);
	print_bool(PRINT_JSON, "per_slave", NULL, st->per_slave);
	if (st->per_slave)
		print_string(PRINT_FP, NULL, "%s", "per-slave a layout on each slave\n");
	if (st->qdisc_handle)
		print_string(PRINT_JSON, "qdisc_handle", NULL,
			     fmt_handle(b, sizeof(b), st->qdisc_handle));
	else
		print_null(PRINT_JSON, "qdisc_handle", NULL, NULL);
	open_json_array("queue_devs");
	for (i = 0; i < st->nqdev; i++) {
		state = mp_place_qdev_state(&st->qdev[i], &h);
		open_json_object(NULL);
		print_string(PRINT_FP, NULL, "qdisc     %s", h ?
			     fmt_handle(b, sizeof(b), h) : "none");
		print_string(PRINT_ANY, "ifname", " on %s", st->qdev[i].ifname);
		print_uint(PRINT_ANY, "ifindex", " (ifindex %u)", st->qdev[i].ifindex);
		if (h)
			print_string(PRINT_JSON, "qdisc_handle", NULL, b);
		else
			print_null(PRINT_JSON, "qdisc_handle", NULL, NULL);
		print_string(PRINT_JSON, "state", NULL, state);
		reset = dev_resets(st, st->qdev[i].ifindex);
		print_bool(PRINT_JSON, "priority_reset", NULL, reset);
		if (h && reset)
			print_string(PRINT_FP, NULL, "%s",
				     ", foreign priorities reset");
		if (!h)
			print_string(PRINT_FP, NULL,
				     ": %s; syncconf (or the migprio unit) puts it back",
				     strcmp(state, "gone") ?
				     "its root qdisc is not migprio's any more" :
				     "the device is gone");
		print_nl();
		close_json_object();
	}
	close_json_array();
	if (!st->nqdev)
		print_string(PRINT_FP, NULL, "qdisc     %s\n", "none installed");
	/* the kernel's own list, also of devices the record no longer has */
	open_json_array("priority_reset_ifindexes");
	for (i = 0; i < st->nreset; i++)
		print_uint(PRINT_JSON, NULL, NULL, st->reset[i]);
	close_json_array();

	mp_place_check(st, &pc);
	if (pc.path[0])
		print_string(PRINT_ANY, "path", "path      %s\n", pc.path);
	else
		print_null(PRINT_JSON, "path", NULL, NULL);
	if (pc.ret)
		print_string(PRINT_ANY, "stack_changed", "warning   %s\n", pc.why);
	else
		print_null(PRINT_JSON, "stack_changed", NULL, NULL);

	/* "rings": the first device's (one NIC before the walk existed) */
	open_json_array("ring_devs");
	for (i = 0; i < st->nrdev; i++) {
		if (mp_place_dev_rec(st, &st->rdev[i], &r) || !r.has_rings)
			continue;
		open_json_object(NULL);
		print_rings(st->rdev[i].ifname, &r);
		close_json_object();
		nrings++;
	}
	close_json_array();
	if (!nrings)
		print_string(PRINT_FP, NULL, "rings     %s\n", "untouched");
	if (st->has_rings) {
		open_json_object("rings");
		print_uint(PRINT_JSON, "rx", NULL, st->ring_rx);
		print_uint(PRINT_JSON, "tx", NULL, st->ring_tx);
		print_uint(PRINT_JSON, "rx_prev", NULL, st->ring_rx_prev);
		print_uint(PRINT_JSON, "tx_prev", NULL, st->ring_tx_prev);
		close_json_object();
	} else {
		print_null(PRINT_JSON, "rings", NULL, NULL);
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
	dev_print_below(st);
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
	if (a->uplink)
		snprintf(st->uplink, sizeof(st->uplink), "%s", a->uplink);
	st->per_slave = a->per_slave;
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

static bool conf_uplink(const struct dev_state *st, const struct dev_conf_opt *o,
			char *buf, size_t len)
{
	(void)o;
	snprintf(buf, len, "%s", st->uplink);
	return st->uplink[0];
}

/* a flag: the keyword alone */
static bool conf_per_slave(const struct dev_state *st,
			   const struct dev_conf_opt *o, char *buf, size_t len)
{
	(void)o;
	snprintf(buf, len, "%s", "");
	return st->per_slave;
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
	{ "uplink", conf_uplink, 0, 0 },
	{ "per-slave", conf_per_slave, 0, 0 },
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
			n += snprintf(buf + n, len - n, " %s%s%s", o->kw,
				      v[0] ? " " : "", v);
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
	"          [guard PCT] [uplink DEV] [per-slave] [rings max|N|keep] [force]\n"
	"dev show | list\n"
	"dev clear\n",
};
