// SPDX-License-Identifier: GPL-2.0
/*
 * Root qdisc layouts on the migration interface, built over rtnetlink from
 * the kernel's own qdiscs (see Documentation/queues.rst).
 *
 * Every layout migprio installs has the root handle 4d50: ("MP"), so an
 * admin and `tc qdisc show` can tell it apart, and migration packets select
 * their class directly through skb->priority = 4d50:MINOR (prio and htb
 * both classify a priority whose major is their handle without filters).
 *
 *   prio: 4d50: prio, 4 bands
 *         4d50:1  migration only (nothing in the priomap points here), bfifo
 *         4d50:2..4  pfifo_fast's three bands for everything else, fq_codel
 *   htb:  4d50: htb, default class 4d50:20
 *         4d50:1  rate = ceil = RATE
 *         4d50:10 migration, prio 0, rate RATE - floor, ceil RATE, bfifo
 *         4d50:20 other traffic, prio 1, rate floor (guard% of RATE), ceil
 *                 RATE, fq_codel
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/pkt_sched.h>
#include <linux/sockios.h>
#include <linux/rtnetlink.h>

#include "nlsock.h"
#include "qdisc.h"
#include <linux/migprio.h>

#define MP_HANDLE		MP_QDISC_HANDLE	/* 4d50: */
#define MP_CLASS(minor)		TC_H_MAKE(MP_HANDLE, (minor))

#define MP_PRIO_BANDS		4
#define MP_PRIO_MIG_BAND	1		/* class minor of band 0 */

#define MP_HTB_TOP		0x1
#define MP_HTB_MIG		0x10
#define MP_HTB_OTHER		0x20

/*
 * Leaves: migration streams want throughput, and an AQM that drops at 5 ms
 * of sojourn starves a stream at low rates (one 64 KiB GSO packet takes
 * 26 ms at 20 Mbit/s), so migration gets a FIFO; everything else gets
 * fq_codel for fairness between flows.
 *
 * The migration FIFO is bounded in bytes, to MP_MIG_QUEUE_MS at the rate
 * (htb's rate, else the link speed), at least three full GSO packets: what
 * sits in it counts as sent for the application (QEMU ends its switchover
 * when the last bytes are in the sockets' hands), so a deep queue is
 * downtime nobody sees. pfifo's default of txqueuelen packets (1000 full
 * frames: 120 ms at 100 Mbit/s) was that.
 */
#define MP_LEAF_MIG		"bfifo"
#define MP_LEAF_OTHER		"fq_codel"
#define MP_MIG_QUEUE_MS		10
#define MP_MIG_QUEUE_MIN	(3 * MP_GSO_MAX)
#define MP_MIG_QUEUE_MAX	(4U << 20)
#define MP_RATE_UNKNOWN		(10000ULL * 125000)	/* 10 Gbit/s */

/* The kernel's qdisc clock: 1 tick = 2^PSCHED_SHIFT ns (net/pkt_sched.h). */
#define MP_PSCHED_SHIFT		6
#define MP_NSEC_PER_SEC		1000000000ULL
#define MP_GSO_MAX		65536U		/* one full TSO/GSO packet */
#define MP_HTB_RATE_MIN		1000ULL		/* bytes/s, 8 kbit */
#define MP_HTB_QUANTUM_MIN	1514U
#define MP_HTB_QUANTUM_MAX	200000U		/* htb's own upper bound */

#define MP_KIND_LEN		32

struct root_info {
	int ifindex;
	bool found;			/* a visible root qdisc */
	__u32 handle;
	char kind[MP_KIND_LEN];
	__u32 child_handle;		/* non-default child of a default root */
	char child_kind[MP_KIND_LEN];
};

struct qdisc_ctx {
	struct nlsock sock;
	char buf[NLSOCK_MSG_SIZE];	/* the request */
	int ifindex;
	const char *ifname;
	char namebuf[IF_NAMESIZE + 16];
	char *err;
	size_t errlen;
};

static void fmt_handle(char *buf, size_t len, __u32 h)
{
	if (TC_H_MIN(h))
		snprintf(buf, len, "%x:%x", TC_H_MAJ(h) >> 16, TC_H_MIN(h));
	else
		snprintf(buf, len, "%x:", TC_H_MAJ(h) >> 16);
}

static int root_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct root_info *ri = data;
	const char *kind = "?";
	struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_NEWQDISC ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*tcm)) ||
	    tcm->tcm_ifindex != ri->ifindex ||
	    tcm->tcm_parent == TC_H_INGRESS)	/* also clsact */
		return 0;

	mnl_attr_for_each(attr, nlh, sizeof(*tcm)) {
		if (mnl_attr_get_type(attr) == TCA_KIND &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
			kind = mnl_attr_get_str(attr);
	}

	if (tcm->tcm_parent == TC_H_ROOT) {
		ri->found = true;
		ri->handle = tcm->tcm_handle;
		snprintf(ri->kind, sizeof(ri->kind), "%s", kind);
	} else if (!TC_H_MAJ(tcm->tcm_parent) && tcm->tcm_handle &&
		   !ri->child_handle) {
		/* An admin replaced a per-queue child of the default mq. */
		ri->child_handle = tcm->tcm_handle;
		snprintf(ri->child_kind, sizeof(ri->child_kind), "%s", kind);
	}
	return 0;
}

/* One request; on error c->err says "what: <kernel message or strerror>". */
static int tc_talk(struct qdisc_ctx *c, struct nlmsghdr *nlh, nlsock_cb cb,
		   void *data, const char *what)
{
	int ret = nlsock_talk(&c->sock, nlh, cb, data);

	if (ret)
		snprintf(c->err, c->errlen, "%s: %s", what,
			 nlsock_errstr(&c->sock.err));
	return ret;
}

static int read_root(struct qdisc_ctx *c, struct root_info *ri)
{
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	char what[64];

	memset(ri, 0, sizeof(*ri));
	ri->ifindex = c->ifindex;
	nlh = nlsock_msg(&c->sock, c->buf, RTM_GETQDISC, NLM_F_DUMP);
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = c->ifindex;
	snprintf(what, sizeof(what), "%s: reading qdiscs", c->ifname);
	return tc_talk(c, nlh, root_cb, ri, what);
}

static struct nlmsghdr *tc_msg(struct qdisc_ctx *c, __u16 type, __u16 flags,
			       __u32 parent, __u32 handle, const char *kind)
{
	struct nlmsghdr *nlh = nlsock_msg(&c->sock, c->buf, type,
					  NLM_F_ACK | flags);
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));

	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = c->ifindex;
	tcm->tcm_parent = parent;
	tcm->tcm_handle = handle;
	if (kind)
		mnl_attr_put_strz(nlh, TCA_KIND, kind);
	return nlh;
}

static int tc_change(struct qdisc_ctx *c, struct nlmsghdr *nlh,
		     const char *fmt_what, __u32 id)
{
	char what[96], h[16];

	fmt_handle(h, sizeof(h), id);
	snprintf(what, sizeof(what), "%s: %s %s", c->ifname, fmt_what, h);
	return tc_talk(c, nlh, NULL, NULL, what);
}

/* Create the root, or change it in place when it is already ours. */
static int put_root_prio(struct qdisc_ctx *c)
{
	/* pfifo_fast's map, shifted down one band: band 0 is migration's. */
	static const __u8 map[TC_PRIO_MAX + 1] = {
		2, 3, 3, 3, 2, 3, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2
	};
	struct tc_prio_qopt opt = { .bands = MP_PRIO_BANDS };
	struct nlmsghdr *nlh;

	memcpy(opt.priomap, map, sizeof(map));
	nlh = tc_msg(c, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE,
		     TC_H_ROOT, MP_HANDLE, "prio");
	mnl_attr_put(nlh, TCA_OPTIONS, sizeof(opt), &opt);
	return tc_change(c, nlh, "installing root qdisc prio", MP_HANDLE);
}

static int put_root_htb(struct qdisc_ctx *c)
{
	struct tc_htb_glob glob = {
		.version = 3,		/* HTB_VER >> 16, checked by the kernel */
		.rate2quantum = 10,
		.defcls = MP_HTB_OTHER,
	};
	struct nlmsghdr *nlh;
	struct nlattr *opts;

	nlh = tc_msg(c, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE,
		     TC_H_ROOT, MP_HANDLE, "htb");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_HTB_INIT, sizeof(glob), &glob);
	mnl_attr_nest_end(nlh, opts);
	return tc_change(c, nlh, "installing root qdisc htb", MP_HANDLE);
}

/* Time to send burst bytes at rate, in the kernel's psched ticks. */
static __u32 burst_ticks(__u64 rate, __u64 burst)
{
	__u64 ticks = burst * MP_NSEC_PER_SEC / rate >> MP_PSCHED_SHIFT;

	return ticks > 0xffffffffULL ? 0xffffffffU : (__u32)ticks;
}

/*
 * Burst: one millisecond at the rate plus one full GSO packet, so timer
 * slack does not cost throughput and a TSO packet fits the bucket.
 */
static __u64 burst_bytes(__u64 rate)
{
	return rate / 1000 + MP_GSO_MAX;
}

static void fill_ratespec(struct tc_ratespec *rs, __u64 rate)
{
	memset(rs, 0, sizeof(*rs));
	/* A known link layer: the kernel needs no legacy rate table. */
	rs->linklayer = TC_LINKLAYER_ETHERNET;
	rs->rate = rate > 0xffffffffULL ? 0xffffffffU : (__u32)rate;
}

static int put_htb_class(struct qdisc_ctx *c, __u32 parent, __u32 minor,
			 __u64 rate, __u64 ceil, __u32 prio)
{
	struct tc_htb_opt opt;
	struct nlmsghdr *nlh;
	struct nlattr *opts;
	__u64 quantum = rate / 10;

	if (quantum < MP_HTB_QUANTUM_MIN)
		quantum = MP_HTB_QUANTUM_MIN;
	if (quantum > MP_HTB_QUANTUM_MAX)
		quantum = MP_HTB_QUANTUM_MAX;

	memset(&opt, 0, sizeof(opt));
	fill_ratespec(&opt.rate, rate);
	fill_ratespec(&opt.ceil, ceil);
	opt.buffer = burst_ticks(rate, burst_bytes(rate));
	opt.cbuffer = burst_ticks(ceil, burst_bytes(ceil));
	opt.quantum = (__u32)quantum;
	opt.prio = prio;

	/* NLM_F_CREATE without EXCL: create, or change an existing class. */
	nlh = tc_msg(c, RTM_NEWTCLASS, NLM_F_CREATE, parent, MP_CLASS(minor),
		     "htb");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_HTB_PARMS, sizeof(opt), &opt);
	if (rate > 0xffffffffULL)
		mnl_attr_put_u64(nlh, TCA_HTB_RATE64, rate);
	if (ceil > 0xffffffffULL)
		mnl_attr_put_u64(nlh, TCA_HTB_CEIL64, ceil);
	mnl_attr_nest_end(nlh, opts);
	return tc_change(c, nlh, "setting htb class", MP_CLASS(minor));
}

/*
 * A leaf under a class: grafted over the default leaf, or kept. @limit:
 * a byte limit for a FIFO, 0 for the qdisc's defaults.
 */
static int put_leaf(struct qdisc_ctx *c, __u32 minor, const char *kind,
		    __u32 limit)
{
	struct tc_fifo_qopt fifo = { .limit = limit };
	struct nlmsghdr *nlh;
	char what[48];

	nlh = tc_msg(c, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE,
		     MP_CLASS(minor), 0, kind);
	if (limit)
		mnl_attr_put(nlh, TCA_OPTIONS, sizeof(fifo), &fifo);
	snprintf(what, sizeof(what), "installing %s under class", kind);
	return tc_change(c, nlh, what, MP_CLASS(minor));
}

/* The migration FIFO's byte limit for a link drained at @rate bytes/s. */
static __u32 mig_queue_limit(__u64 rate)
{
	__u64 limit = rate / 1000 * MP_MIG_QUEUE_MS;

	if (limit < MP_MIG_QUEUE_MIN)
		return MP_MIG_QUEUE_MIN;
	return limit > MP_MIG_QUEUE_MAX ? MP_MIG_QUEUE_MAX : limit;
}

/* The interface's speed in bytes/s, MP_RATE_UNKNOWN when it has none. */
static __u64 link_rate(const char *ifname)
{
	struct ethtool_cmd ecmd = { .cmd = ETHTOOL_GSET };
	struct ifreq ifr = { .ifr_data = (void *)&ecmd };
	__u32 speed;
	int fd;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return MP_RATE_UNKNOWN;
	speed = ioctl(fd, SIOCETHTOOL, &ifr) ? 0 : ethtool_cmd_speed(&ecmd);
	close(fd);
	if (!speed || speed == (__u32)SPEED_UNKNOWN)
		return MP_RATE_UNKNOWN;
	return (__u64)speed * 125000;	/* Mbit/s */
}

static int build_prio(struct qdisc_ctx *c, struct mp_qdisc_state *out)
{
	__u32 band, limit = mig_queue_limit(link_rate(c->ifname));
	int ret;

	ret = put_root_prio(c);
	for (band = 1; !ret && band <= MP_PRIO_BANDS; band++)
		ret = band == MP_PRIO_MIG_BAND ?
		      put_leaf(c, band, MP_LEAF_MIG, limit) :
		      put_leaf(c, band, MP_LEAF_OTHER, 0);
	out->priority = MP_CLASS(MP_PRIO_MIG_BAND);
	return ret;
}

/*
 * Both leaves have ceil = RATE and their rates add up to RATE. When both
 * are backlogged each gets its rate; spare capacity goes to the lower prio
 * value first, so migration takes everything the floor does not hold.
 */
static int build_htb(struct qdisc_ctx *c, const struct mp_qdisc_req *req,
		     bool in_place, struct mp_qdisc_state *out)
{
	__u64 rate = req->rate, floor, mig;
	int ret = 0;

	floor = rate * req->guard / 100;
	if (floor < rate / 1000)
		floor = rate / 1000;	/* guard 0: a token rate, prio 1 */
	if (floor < MP_HTB_RATE_MIN)
		floor = MP_HTB_RATE_MIN;
	mig = rate > floor + MP_HTB_RATE_MIN ? rate - floor : MP_HTB_RATE_MIN;

	/* htb has no change operation: an in-place update only touches classes. */
	if (!in_place)
		ret = put_root_htb(c);
	if (!ret)
		ret = put_htb_class(c, MP_HANDLE, MP_HTB_TOP, rate, rate, 0);
	if (!ret)
		ret = put_htb_class(c, MP_CLASS(MP_HTB_TOP), MP_HTB_MIG, mig,
				    rate, 0);
	if (!ret)
		ret = put_htb_class(c, MP_CLASS(MP_HTB_TOP), MP_HTB_OTHER,
				    floor, rate, 1);
	if (!ret)
		ret = put_leaf(c, MP_HTB_MIG, MP_LEAF_MIG,
			       mig_queue_limit(rate));
	if (!ret)
		ret = put_leaf(c, MP_HTB_OTHER, MP_LEAF_OTHER, 0);
	out->priority = MP_CLASS(MP_HTB_MIG);
	return ret;
}

static int del_root(struct qdisc_ctx *c, __u32 handle)
{
	struct nlmsghdr *nlh;

	nlh = tc_msg(c, RTM_DELQDISC, 0, TC_H_ROOT, handle, NULL);
	return tc_change(c, nlh, "removing root qdisc", handle);
}

static int ctx_open(struct qdisc_ctx *c, int ifindex, const char *ifname,
		    char *err, size_t errlen)
{
	int ret;

	c->ifindex = ifindex;
	c->err = err;
	c->errlen = errlen;
	if (!ifname) {
		if (!if_indextoname(ifindex, c->namebuf))
			snprintf(c->namebuf, sizeof(c->namebuf),
				 "ifindex %d", ifindex);
		ifname = c->namebuf;
	}
	c->ifname = ifname;
	ret = nlsock_open(&c->sock, NETLINK_ROUTE);
	if (ret)
		snprintf(err, errlen, "cannot open netlink socket: %s",
			 strerror(-ret));
	return ret;
}

/* Is the current root something an admin set up (not ours, not default)? */
static bool root_foreign(const struct root_info *ri, __u32 prev_handle)
{
	if (!ri->found)
		return false;		/* noop: interface never brought up */
	if (ri->handle)
		return !prev_handle || ri->handle != prev_handle;
	return ri->child_handle != 0;
}

static int refuse_foreign(struct qdisc_ctx *c, const struct root_info *ri)
{
	char h[16];

	if (ri->handle) {
		fmt_handle(h, sizeof(h), ri->handle);
		snprintf(c->err, c->errlen,
			 "%s has a root qdisc %s %s that migprio did not install; use 'force' to replace it",
			 c->ifname, ri->kind, h);
	} else {
		fmt_handle(h, sizeof(h), ri->child_handle);
		snprintf(c->err, c->errlen,
			 "%s has a qdisc %s %s under its root that migprio did not install; use 'force' to replace it",
			 c->ifname, ri->child_kind, h);
	}
	return -EEXIST;
}

static int setup_layout(struct qdisc_ctx *c, const struct mp_qdisc_req *req,
			__u32 prev_handle, struct mp_qdisc_state *out)
{
	const char *kind = req->mode == MIGPRIO_QUEUE_HTB ? "htb" : "prio";
	bool ours = false, in_place, created;
	struct root_info ri;
	char msg[256];
	int ret;

	ret = read_root(c, &ri);
	if (ret)
		return ret;

	if (req->mode == MIGPRIO_QUEUE_NONE) {
		/* Leave qdiscs alone, but remove our own previous layout. */
		if (ri.found && ri.handle && ri.handle == prev_handle)
			ret = del_root(c, prev_handle);
		return ret;
	}

	if (root_foreign(&ri, prev_handle)) {
		if (!req->force)
			return refuse_foreign(c, &ri);
	} else {
		ours = ri.found && ri.handle;
	}

	in_place = ours && ri.handle == MP_HANDLE && !strcmp(ri.kind, kind);
	if (!in_place && ri.found && ri.handle == MP_HANDLE) {
		/*
		 * Same handle, other kind (or a forced leftover): the kernel
		 * cannot replace a qdisc by its own handle, so remove first.
		 */
		ret = del_root(c, MP_HANDLE);
		if (ret)
			return ret;
	}
	created = !in_place;

	if (req->mode == MIGPRIO_QUEUE_HTB)
		ret = build_htb(c, req, in_place, out);
	else
		ret = build_prio(c, out);
	if (!ret) {
		out->handle = MP_HANDLE;
		return 0;
	}

	/* Never leave a half-built layout behind: fall back to the default. */
	if (created) {
		snprintf(msg, sizeof(msg), "%s", c->err);
		if (!del_root(c, MP_HANDLE))
			snprintf(c->err, c->errlen,
				 "%s; %s is left with the kernel's default qdisc",
				 msg, c->ifname);
		else
			snprintf(c->err, c->errlen, "%s", msg);
	}
	return ret;
}

int mp_qdisc_setup(const struct mp_qdisc_req *req, __u32 prev_handle,
		   struct mp_qdisc_state *out, char *err, size_t errlen)
{
	struct qdisc_ctx c;
	int ret;

	out->handle = 0;
	out->priority = MIGPRIO_PRIO_DEFAULT;
	if (errlen)
		err[0] = '\0';

	if (req->mode < MIGPRIO_QUEUE_NONE || req->mode > MIGPRIO_QUEUE_MAX) {
		snprintf(err, errlen, "unknown queue mode %d", req->mode);
		return -EINVAL;
	}
	if (req->mode == MIGPRIO_QUEUE_HTB &&
	    req->rate < 2 * MP_HTB_RATE_MIN) {
		snprintf(err, errlen, "queue htb needs a rate of at least %llu bytes/s",
			 2 * MP_HTB_RATE_MIN);
		return -EINVAL;
	}
	if (req->guard > MIGPRIO_GUARD_MAX) {
		snprintf(err, errlen, "guard must be 0..%d percent",
			 MIGPRIO_GUARD_MAX);
		return -EINVAL;
	}

	ret = ctx_open(&c, req->ifindex, req->ifname, err, errlen);
	if (ret)
		return ret;
	ret = setup_layout(&c, req, prev_handle, out);
	nlsock_close(&c.sock);
	if (ret) {
		out->handle = 0;
		out->priority = MIGPRIO_PRIO_DEFAULT;
	}
	return ret;
}

int mp_qdisc_teardown(int ifindex, __u32 handle, char *err, size_t errlen)
{
	struct root_info ri;
	struct qdisc_ctx c;
	int ret;

	if (errlen)
		err[0] = '\0';
	if (!handle)
		return 0;
	ret = ctx_open(&c, ifindex, NULL, err, errlen);
	if (ret)
		return ret;
	ret = read_root(&c, &ri);
	/*
	 * Only our own root goes; an admin's later change stays. The kernel
	 * checks the handle again under RTNL, so a race cannot remove theirs.
	 */
	if (!ret && ri.found && ri.handle == handle)
		ret = del_root(&c, handle);
	nlsock_close(&c.sock);
	return ret;
}

/* ---- recognising a layout of ours ---- */

struct layout_info {
	int ifindex;
	__u32 root_handle;
	char root_kind[MP_KIND_LEN];
	__u32 bands;
	char leaf[MP_HTB_OTHER + 1][MP_KIND_LEN];	/* by parent minor */
};

static int layout_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct layout_info *li = data;
	const struct nlattr *opts = NULL;
	const char *kind = "";
	struct nlattr *attr;
	__u32 minor;

	if (nlh->nlmsg_type != RTM_NEWQDISC ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*tcm)) ||
	    tcm->tcm_ifindex != li->ifindex)
		return 0;
	mnl_attr_for_each(attr, nlh, sizeof(*tcm)) {
		if (mnl_attr_get_type(attr) == TCA_KIND &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
			kind = mnl_attr_get_str(attr);
		else if (mnl_attr_get_type(attr) == TCA_OPTIONS)
			opts = attr;
	}
	if (tcm->tcm_parent == TC_H_ROOT) {
		li->root_handle = tcm->tcm_handle;
		snprintf(li->root_kind, sizeof(li->root_kind), "%s", kind);
		/* prio's options start with its tc_prio_qopt */
		if (opts && mnl_attr_get_payload_len(opts) >=
			    sizeof(struct tc_prio_qopt))
			li->bands = ((const struct tc_prio_qopt *)
				     mnl_attr_get_payload(opts))->bands;
		return 0;
	}
	minor = TC_H_MIN(tcm->tcm_parent);
	if (TC_H_MAJ(tcm->tcm_parent) == MP_HANDLE && minor <= MP_HTB_OTHER)
		snprintf(li->leaf[minor], sizeof(li->leaf[0]), "%s", kind);
	return 0;
}

int mp_qdisc_ours(int ifindex, char *err, size_t errlen)
{
	struct layout_info li = { .ifindex = ifindex };
	struct qdisc_ctx c;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	__u32 band;
	int ret;

	if (errlen)
		err[0] = '\0';
	ret = ctx_open(&c, ifindex, NULL, err, errlen);
	if (ret)
		return ret;
	nlh = nlsock_msg(&c.sock, c.buf, RTM_GETQDISC, NLM_F_DUMP);
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	ret = tc_talk(&c, nlh, layout_cb, &li, "reading qdiscs");
	nlsock_close(&c.sock);
	if (ret)
		return ret;
	if (li.root_handle != MP_HANDLE)
		return 0;
	if (!strcmp(li.root_kind, "prio")) {
		if (li.bands != MP_PRIO_BANDS)
			return 0;
		for (band = 1; band <= MP_PRIO_BANDS; band++) {
			if (strcmp(li.leaf[band], band == MP_PRIO_MIG_BAND ?
				   MP_LEAF_MIG : MP_LEAF_OTHER))
				return 0;
		}
		return 1;
	}
	return !strcmp(li.root_kind, "htb") &&
	       !strcmp(li.leaf[MP_HTB_MIG], MP_LEAF_MIG) &&
	       !strcmp(li.leaf[MP_HTB_OTHER], MP_LEAF_OTHER);
}

__u32 mp_qdisc_priority(int mode)
{
	switch (mode) {
	case MIGPRIO_QUEUE_PRIO:
		return MP_CLASS(MP_PRIO_MIG_BAND);
	case MIGPRIO_QUEUE_HTB:
		return MP_CLASS(MP_HTB_MIG);
	default:
		return MIGPRIO_PRIO_DEFAULT;
	}
}
