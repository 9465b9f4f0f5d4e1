// SPDX-License-Identifier: GPL-2.0
/*
 * netlink_test: the "migprio" generic netlink family, driven with raw
 * libmnl messages (no migprioctl), run in the VM as root.
 *
 * - the family, its operations (with their permission flags) and the
 *   "events" group are registered;
 * - dev and rule requests round-trip; dev-set replaces (omitted parameters
 *   take their defaults); the netdevice notifier follows rename and removal
 *   of the designated interface with dev-change notifications, and the
 *   removal of a queue device (queue-devs);
 * - every bad input gets the expected errno, extack message and offending
 *   (or missing) attribute, and leaves dev-get and rule-get output
 *   byte-for-byte unchanged;
 * - EEXIST, ENOSPC (the module is loaded with max_rules=8), ENOENT;
 * - rule-add-batch adds its rules with increasing ids, or none of them:
 *   a duplicate (of a rule there or of one before it in the request), a
 *   bad field or the rule limit is refused with the offset of the rule
 *   (or field) at fault and leaves the state byte-for-byte unchanged;
 * - a rule dump that races with a change, and a flow dump that races with
 *   the removal of flows (not with new flows), are flagged NLM_F_DUMP_INTR;
 * - uid 65534 without capabilities gets EPERM on every operation; root of
 *   a new user namespace with its own netns can read but not change;
 * - two netns do not see each other's state; deleting a configured netns
 *   and unloading the module afterwards work (vm-run fails on any splat).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <netinet/in.h>
#include <libmnl/libmnl.h>

#include "../uapi/linux/migprio.h"
#include "kselftest_harness.h"

#define MAX_RULES	8
#define CG_ROOT		"/sys/fs/cgroup"
#define CG_TEST		"/mp_nltest"
#define BUFSZ		(64 * 1024)
#define NREPLY		64

/* A request attribute; a table of them ends with kind K_END. */
enum kind { K_END, K_U8, K_U16, K_U32, K_U64, K_STR, K_BIN, K_NEST };
struct attr {
	int type;
	enum kind k;
	uint64_t v;
	const void *p;
	size_t len;
};

#define U8(t, x)	{ (t), K_U8, (x), NULL, 0 }
#define U16(t, x)	{ (t), K_U16, (x), NULL, 0 }
#define U32(t, x)	{ (t), K_U32, (x), NULL, 0 }
#define U64(t, x)	{ (t), K_U64, (x), NULL, 0 }
#define STR(t, s)	{ (t), K_STR, 0, (s), 0 }
#define BIN(t, b, l)	{ (t), K_BIN, 0, (b), (l) }
#define NEST(t, a)	{ (t), K_NEST, 0, (a), 0 }	/* a: an attr table */
/* one entry of queue-devs */
#define QD(x)		U32(MIGPRIO_A_QUEUE_DEV_IFINDEX, (x))

struct nl {
	struct mnl_socket *sk;
	uint16_t family;
	uint32_t events_grp;
	uint32_t seq;
	char req[BUFSZ];
};

/* What came back for one request. */
struct reply {
	int err;		/* positive errno, 0 for success */
	char msg[512];		/* extack message */
	int bad_type;		/* type of the attribute at the error offset */
	long bad_off;		/* that offset, -1: none */
	int miss_type;		/* NLMSGERR_ATTR_MISS_TYPE */
	bool intr;		/* a part had NLM_F_DUMP_INTR */
	int n;			/* data messages */
	size_t off[NREPLY];	/* offsets of the data messages in buf */
	size_t used;
	char buf[4 * BUFSZ];
};

static const char *ip_bin(void)
{
	return access("/usr/sbin/ip", X_OK) ? "/sbin/ip" : "/usr/sbin/ip";
}

static int run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Family id and group id from the generic netlink controller. */
static int ctrl_grp_cb(const struct nlattr *a, void *data)
{
	struct nl *nl = data;
	const struct nlattr *g, *x;

	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID) {
		nl->family = mnl_attr_get_u16(a);
	} else if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GROUPS) {
		mnl_attr_for_each_nested(g, a) {
			const char *name = NULL;
			uint32_t id = 0;

			mnl_attr_for_each_nested(x, g) {
				if (mnl_attr_get_type(x) == CTRL_ATTR_MCAST_GRP_ID)
					id = mnl_attr_get_u32(x);
				if (mnl_attr_get_type(x) == CTRL_ATTR_MCAST_GRP_NAME)
					name = mnl_attr_get_str(x);
			}
			if (name && !strcmp(name, MIGPRIO_MCGRP_EVENTS))
				nl->events_grp = id;
		}
	}
	return MNL_CB_OK;
}

static void put_attrs(struct nlmsghdr *nlh, const struct attr *a)
{
	for (; a && a->k != K_END; a++) {
		switch (a->k) {
		case K_U8:
			mnl_attr_put_u8(nlh, a->type, a->v);
			break;
		case K_U16:
			mnl_attr_put_u16(nlh, a->type, a->v);
			break;
		case K_U32:
			mnl_attr_put_u32(nlh, a->type, a->v);
			break;
		case K_U64:
			mnl_attr_put_u64(nlh, a->type, a->v);
			break;
		case K_STR:
			mnl_attr_put_strz(nlh, a->type, a->p);
			break;
		case K_NEST: {
			struct nlattr *nest = mnl_attr_nest_start(nlh, a->type);

			put_attrs(nlh, a->p);
			mnl_attr_nest_end(nlh, nest);
			break;
		}
		default:
			mnl_attr_put(nlh, a->type, a->len, a->p);
			break;
		}
	}
}

static struct nlmsghdr *msg_start(struct nl *nl, uint16_t type, uint8_t cmd,
				  uint16_t flags, uint8_t version)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->req);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

static void parse_extack(struct nl *nl, const struct nlmsghdr *nlh,
			 struct reply *r)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t skip = sizeof(*e);
	const struct nlattr *a;

	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		skip += e->msg.nlmsg_len - sizeof(e->msg);
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	mnl_attr_for_each(a, nlh, skip) {
		switch (mnl_attr_get_type(a)) {
		case NLMSGERR_ATTR_MSG:
			snprintf(r->msg, sizeof(r->msg), "%s", mnl_attr_get_str(a));
			break;
		case NLMSGERR_ATTR_OFFS: {
			uint32_t off = mnl_attr_get_u32(a);
			const struct nlattr *bad = (void *)(nl->req + off);

			r->bad_type = bad->nla_type & NLA_TYPE_MASK;
			r->bad_off = off;
			break;
		}
		case NLMSGERR_ATTR_MISS_TYPE:
			r->miss_type = mnl_attr_get_u32(a);
			break;
		}
	}
}

/* Send the request in nl->req and collect everything up to its end. */
static int transact(struct nl *nl, struct reply *r, size_t rcvlen)
{
	const struct nlmsghdr *req = (void *)nl->req;
	char buf[BUFSZ];
	bool done = false;

	memset(r, 0, offsetof(struct reply, buf));
	r->bad_type = r->miss_type = -1;
	r->bad_off = -1;
	if (mnl_socket_sendto(nl->sk, req, req->nlmsg_len) < 0)
		return -errno;
	while (!done) {
		const struct nlmsghdr *nlh;
		int len = mnl_socket_recvfrom(nl->sk, buf, rcvlen);

		if (len < 0)
			return -errno;
		for (nlh = (void *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != req->nlmsg_seq)
				continue;	/* a notification */
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				r->intr = true;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				r->err = -e->error;
				parse_extack(nl, nlh, r);
				done = true;
			} else if (nlh->nlmsg_type == NLMSG_DONE) {
				/* a dump ends here, with its status */
				int *status = mnl_nlmsg_get_payload(nlh);

				if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*status)))
					r->err = -*status;
				done = true;
			} else if (r->n < NREPLY &&
				   r->used + nlh->nlmsg_len <= sizeof(r->buf)) {
				r->off[r->n++] = r->used;
				memcpy(r->buf + r->used, nlh, nlh->nlmsg_len);
				r->used += nlh->nlmsg_len;
			}
		}
	}
	return 0;
}

static int request(struct nl *nl, uint8_t cmd, uint16_t flags,
		   const struct attr *attrs, struct reply *r)
{
	struct nlmsghdr *nlh;

	nlh = msg_start(nl, nl->family, cmd, flags, MIGPRIO_FAMILY_VERSION);
	put_attrs(nlh, attrs);
	return transact(nl, r, BUFSZ);
}

static int nl_open(struct nl *nl)
{
	struct reply *r = malloc(sizeof(*r));
	const struct nlmsghdr *nlh;
	int one = 1, ret = -1;

	memset(nl, 0, sizeof(*nl));
	nl->sk = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sk || mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sk, NETLINK_CAP_ACK, &one, sizeof(one));
	nlh = msg_start(nl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, 1);
	mnl_attr_put_strz((void *)nlh, CTRL_ATTR_FAMILY_NAME, MIGPRIO_FAMILY_NAME);
	if (transact(nl, r, BUFSZ) || r->err || r->n != 1)
		goto out;
	nlh = (void *)(r->buf + r->off[0]);
	mnl_attr_parse(nlh, GENL_HDRLEN, ctrl_grp_cb, nl);
	ret = nl->family ? 0 : -1;
out:
	free(r);
	return ret;
}

static void nl_close(struct nl *nl)
{
	if (nl->sk)
		mnl_socket_close(nl->sk);
	nl->sk = NULL;
}

static const struct nlattr *get_attr(const struct reply *r, int i, int type)
{
	const struct nlmsghdr *nlh = (const void *)(r->buf + r->off[i]);
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN)
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

static uint64_t get_uint(const struct reply *r, int i, int type)
{
	const struct nlattr *a = get_attr(r, i, type);

	if (!a)
		return ~0ULL;
	switch (mnl_attr_get_payload_len(a)) {
	case 1:
		return mnl_attr_get_u8(a);
	case 2:
		return mnl_attr_get_u16(a);
	case 4:
		return mnl_attr_get_u32(a);
	default:
		return mnl_attr_get_u64(a);
	}
}

static const char *get_str(const struct reply *r, int i, int type)
{
	const struct nlattr *a = get_attr(r, i, type);

	return a ? mnl_attr_get_str(a) : "";
}

/*
 * The queue devices of a dev record, as a bit per ifindex below 64 (the
 * test's interfaces are recent, but a reused big one counts as bit 63);
 * 0 when there is no queue-devs nest.
 */
static uint64_t get_queue_devs(const struct reply *r, int i)
{
	const struct nlattr *nest = get_attr(r, i, MIGPRIO_A_DEV_QUEUE_DEVS);
	const struct nlattr *a;
	uint64_t set = 0;

	if (!nest)
		return 0;
	mnl_attr_for_each_nested(a, nest) {
		uint32_t idx = mnl_attr_get_u32(a);

		set |= 1ULL << (idx < 63 ? idx : 63);
	}
	return set;
}

/* dev-get and rule-get, as bytes: state to compare before and after. */
static size_t snapshot(struct nl *nl, char *out, size_t size)
{
	static struct reply r;
	size_t n = 0;
	int i;

	if (request(nl, MIGPRIO_CMD_DEV_GET, 0, NULL, &r) || r.err)
		return 0;
	memcpy(out, r.buf, r.used < size ? r.used : size);
	n = r.used < size ? r.used : size;
	if (request(nl, MIGPRIO_CMD_RULE_GET, NLM_F_DUMP, NULL, &r) || r.err)
		return 0;
	if (n + r.used <= size) {
		memcpy(out + n, r.buf, r.used);
		n += r.used;
	}
	/* sequence numbers and port ids differ per request */
	for (i = 0; (size_t)i + sizeof(struct nlmsghdr) <= n;) {
		struct nlmsghdr *nlh = (void *)(out + i);

		nlh->nlmsg_seq = 0;
		nlh->nlmsg_pid = 0;
		if (nlh->nlmsg_len < sizeof(*nlh))
			break;
		i += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	return n;
}

static size_t first_diff(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n && a[i] == b[i]; i++)
		;
	return i;
}

/* max_rules of the loaded module (8 when this test loaded it). */
static int max_rules(void)
{
	FILE *f = fopen("/sys/module/migprio/parameters/max_rules", "r");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

static bool module_loaded(void)
{
	return !access("/sys/module/migprio", F_OK);
}

static void ensure_module(void)
{
	if (!module_loaded())
		run("modprobe migprio max_rules=%d", MAX_RULES);
}

FIXTURE(mp) {
	struct nl nl;
	struct reply r;
	char veth[IFNAMSIZ];
	int ifindex;
};

FIXTURE_SETUP(mp)
{
	ensure_module();
	ASSERT_TRUE(module_loaded());
	ASSERT_EQ(0, nl_open(&self->nl));
	/* A clean state and an interface of our own. */
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_CLEAR, 0, NULL, &self->r));
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_FLUSH, 0, NULL, &self->r));
	snprintf(self->veth, sizeof(self->veth), "mpt%d", getpid() % 10000);
	run("%s link del %s 2>/dev/null", ip_bin(), self->veth);
	ASSERT_EQ(0, run("%s link add %s type veth peer name %sp", ip_bin(),
			 self->veth, self->veth));
	self->ifindex = if_nametoindex(self->veth);
	ASSERT_NE(0, self->ifindex);
}

FIXTURE_TEARDOWN(mp)
{
	run("%s link del %s 2>/dev/null", ip_bin(), self->veth);
	nl_close(&self->nl);
}

/* The family, its operations with their permission flags, the group. */
struct ops_seen {
	uint32_t flags[MIGPRIO_CMD_MAX + 1];
	bool seen[MIGPRIO_CMD_MAX + 1];
};

static int ctrl_ops_cb(const struct nlattr *a, void *data)
{
	struct ops_seen *o = data;
	const struct nlattr *op, *x;

	if (mnl_attr_get_type(a) != CTRL_ATTR_OPS)
		return MNL_CB_OK;
	mnl_attr_for_each_nested(op, a) {
		uint32_t id = 0, flags = 0;

		mnl_attr_for_each_nested(x, op) {
			if (mnl_attr_get_type(x) == CTRL_ATTR_OP_ID)
				id = mnl_attr_get_u32(x);
			if (mnl_attr_get_type(x) == CTRL_ATTR_OP_FLAGS)
				flags = mnl_attr_get_u32(x);
		}
		if (id <= MIGPRIO_CMD_MAX) {
			o->seen[id] = true;
			o->flags[id] = flags;
		}
	}
	return MNL_CB_OK;
}

TEST_F(mp, family)
{
	static const struct { int cmd; uint32_t need; } ops[] = {
		{ MIGPRIO_CMD_DEV_GET, GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO },
		{ MIGPRIO_CMD_DEV_SET, GENL_ADMIN_PERM | GENL_CMD_CAP_DO },
		{ MIGPRIO_CMD_DEV_CLEAR, GENL_ADMIN_PERM | GENL_CMD_CAP_DO },
		{ MIGPRIO_CMD_RULE_ADD, GENL_ADMIN_PERM | GENL_CMD_CAP_DO },
		{ MIGPRIO_CMD_RULE_DEL, GENL_ADMIN_PERM | GENL_CMD_CAP_DO },
		{ MIGPRIO_CMD_RULE_GET, GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DUMP },
		{ MIGPRIO_CMD_RULE_FLUSH, GENL_ADMIN_PERM | GENL_CMD_CAP_DO },
		{ MIGPRIO_CMD_FLOW_GET, GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DUMP },
		{ MIGPRIO_CMD_STATS_GET, GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO },
		{ MIGPRIO_CMD_RULE_ADD_BATCH, GENL_ADMIN_PERM | GENL_CMD_CAP_DO },
	};
	struct ops_seen o = { 0 };
	struct nlmsghdr *nlh;
	unsigned int i;

	nlh = msg_start(&self->nl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, MIGPRIO_FAMILY_NAME);
	ASSERT_EQ(0, transact(&self->nl, &self->r, BUFSZ));
	ASSERT_EQ(0, self->r.err);
	ASSERT_EQ(1, self->r.n);
	EXPECT_EQ(MIGPRIO_FAMILY_VERSION,
		  get_uint(&self->r, 0, CTRL_ATTR_VERSION));
	mnl_attr_parse((void *)(self->r.buf + self->r.off[0]), GENL_HDRLEN,
		       ctrl_ops_cb, &o);
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		EXPECT_TRUE(o.seen[ops[i].cmd]) TH_LOG("op %d missing", ops[i].cmd);
		EXPECT_EQ(ops[i].need, o.flags[ops[i].cmd] & ops[i].need)
			TH_LOG("op %d flags %#x", ops[i].cmd, o.flags[ops[i].cmd]);
	}
	/* Notifications are not operations. */
	EXPECT_FALSE(o.seen[MIGPRIO_CMD_FLOW_START_NTF]);
	EXPECT_NE(0, self->nl.events_grp);
}

/* A second socket listening to "events" (requests would eat them). */
static int subscribe(struct nl *ev)
{
	int grp;

	if (nl_open(ev))
		return -1;
	grp = ev->events_grp;
	return mnl_socket_setsockopt(ev->sk, NETLINK_ADD_MEMBERSHIP, &grp,
				     sizeof(grp));
}

/* Wait (up to 5 s) for a dev-change notification; its change or -1. */
static int wait_dev_change(struct nl *nl, struct reply *r)
{
	struct timeval tv = { .tv_sec = 5 };
	char buf[BUFSZ];
	int len;

	setsockopt(mnl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	while ((len = mnl_socket_recvfrom(nl->sk, buf, sizeof(buf))) > 0) {
		const struct nlmsghdr *nlh = (void *)buf;
		const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

		if (nlh->nlmsg_type != nl->family ||
		    g->cmd != MIGPRIO_CMD_DEV_CHANGE_NTF)
			continue;
		r->n = 1;
		r->off[0] = 0;
		memcpy(r->buf, nlh, nlh->nlmsg_len);
		return get_uint(r, 0, MIGPRIO_A_DEV_CHANGE);
	}
	return -1;
}

/* Numbers of the dev attributes the tool keeps in /run/migprio/ now. */
static const int mp_dev_gone[] = { 8, 10, 11, 12, 13, 14, 15 };

TEST_F(mp, dev_set_get_replace)
{
	struct attr full[] = {
		STR(MIGPRIO_A_DEV_IFNAME, self->veth),
		U32(MIGPRIO_A_DEV_PRIORITY, 0x10002),
		U32(MIGPRIO_A_DEV_SNDBUF, 1 << 20),
		U32(MIGPRIO_A_DEV_RCVBUF, 2 << 20),
		U8(MIGPRIO_A_DEV_DSCP, 10),
		U64(MIGPRIO_A_DEV_RATE, 12500000),
		{ 0 },
	};
	struct attr by_index[] = {
		U32(MIGPRIO_A_DEV_IFINDEX, self->ifindex),
		U32(MIGPRIO_A_DEV_PRIORITY, 3),
		{ 0 },
	};
	struct reply *r = &self->r;
	struct nl ev;

	/* Nothing designated: an empty reply. */
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_GET, 0, NULL, r));
	ASSERT_EQ(0, r->err);
	ASSERT_EQ(1, r->n);
	EXPECT_EQ(NULL, get_attr(r, 0, MIGPRIO_A_DEV_IFINDEX));

	ASSERT_EQ(0, subscribe(&ev));
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_SET, 0, full, r));
	ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_GET, 0, NULL, r));
	EXPECT_EQ(self->ifindex, get_uint(r, 0, MIGPRIO_A_DEV_IFINDEX));
	EXPECT_STREQ(self->veth, get_str(r, 0, MIGPRIO_A_DEV_IFNAME));
	EXPECT_EQ(0x10002, get_uint(r, 0, MIGPRIO_A_DEV_PRIORITY));
	EXPECT_EQ(1 << 20, get_uint(r, 0, MIGPRIO_A_DEV_SNDBUF));
	EXPECT_EQ(2 << 20, get_uint(r, 0, MIGPRIO_A_DEV_RCVBUF));
	EXPECT_EQ(10, get_uint(r, 0, MIGPRIO_A_DEV_DSCP));
	EXPECT_EQ(12500000, get_uint(r, 0, MIGPRIO_A_DEV_RATE));
	/* The tool's records (queue, guard, qdisc, rings) are not the kernel's. */
	for (int t = 0; t < (int)ARRAY_SIZE(mp_dev_gone); t++)
		EXPECT_EQ(NULL, get_attr(r, 0, mp_dev_gone[t]));
	EXPECT_EQ(MIGPRIO_DEV_CHANGE_SET, wait_dev_change(&ev, r));

	/* Setting again replaces: omitted parameters are the defaults. */
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_SET, 0, by_index, r));
	ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_GET, 0, NULL, r));
	EXPECT_EQ(3, get_uint(r, 0, MIGPRIO_A_DEV_PRIORITY));
	EXPECT_EQ(MIGPRIO_BUF_AUTO, get_uint(r, 0, MIGPRIO_A_DEV_SNDBUF));
	EXPECT_EQ(MIGPRIO_BUF_AUTO, get_uint(r, 0, MIGPRIO_A_DEV_RCVBUF));
	EXPECT_EQ(MIGPRIO_NOTSENT_AUTO, get_uint(r, 0, MIGPRIO_A_DEV_NOTSENT));
	EXPECT_EQ(NULL, get_attr(r, 0, MIGPRIO_A_DEV_DSCP));
	EXPECT_EQ(MIGPRIO_DEV_CHANGE_SET, wait_dev_change(&ev, r));

	/* Rename is followed, removal clears the designation. */
	ASSERT_EQ(0, run("%s link set %s name %sr", ip_bin(), self->veth,
			 self->veth));
	EXPECT_EQ(MIGPRIO_DEV_CHANGE_SET, wait_dev_change(&ev, r));
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_GET, 0, NULL, r));
	EXPECT_EQ(0, strncmp(self->veth, get_str(r, 0, MIGPRIO_A_DEV_IFNAME),
			     strlen(self->veth)));
	EXPECT_EQ('r', get_str(r, 0, MIGPRIO_A_DEV_IFNAME)[strlen(self->veth)]);
	ASSERT_EQ(0, run("%s link del %sr", ip_bin(), self->veth));
	EXPECT_EQ(MIGPRIO_DEV_CHANGE_GONE, wait_dev_change(&ev, r));
	EXPECT_EQ(self->ifindex, get_uint(r, 0, MIGPRIO_A_DEV_IFINDEX));
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_GET, 0, NULL, r));
	EXPECT_EQ(NULL, get_attr(r, 0, MIGPRIO_A_DEV_IFINDEX));

	/* Clear by request (the fixture's interface is gone: use lo). */
	by_index[0].v = 1;
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_SET, 0, by_index, r));
	EXPECT_EQ(MIGPRIO_DEV_CHANGE_SET, wait_dev_change(&ev, r));
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_CLEAR, 0, NULL, r));
	EXPECT_EQ(0, r->err);
	EXPECT_EQ(MIGPRIO_DEV_CHANGE_CLEAR, wait_dev_change(&ev, r));
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_GET, 0, NULL, r));
	EXPECT_EQ(NULL, get_attr(r, 0, MIGPRIO_A_DEV_IFINDEX));
	nl_close(&ev);
}

/*
 * Queue devices (module/egress.c): listed by dev-get and the dev-change
 * event, replaced by the next dev-set, one that is removed leaves the
 * list, dev-clear and the designated interface's removal empty it.
 */
TEST_F(mp, queue_devs)
{
	char dummy[IFNAMSIZ];
	struct attr qd[] = { QD(self->ifindex), QD(0), { 0 } };
	struct attr a[] = {
		STR(MIGPRIO_A_DEV_IFNAME, self->veth),
		U32(MIGPRIO_A_DEV_PRIORITY, 0x4d500010),
		NEST(MIGPRIO_A_DEV_QUEUE_DEVS, qd),
		{ 0 },
	};
	struct reply *r = &self->r;
	uint64_t both, one;
	struct nl ev;
	int di;

	snprintf(dummy, sizeof(dummy), "mpq%d", getpid() % 10000);
	run("%s link del %s 2>/dev/null", ip_bin(), dummy);
	ASSERT_EQ(0, run("%s link add %s type dummy", ip_bin(), dummy));
	di = if_nametoindex(dummy);
	ASSERT_NE(0, di);
	qd[1].v = di;
	both = (1ULL << (self->ifindex < 63 ? self->ifindex : 63)) |
	       (1ULL << (di < 63 ? di : 63));
	one = 1ULL << (di < 63 ? di : 63);

	ASSERT_EQ(0, subscribe(&ev));
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_SET, 0, a, r));
	ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
	EXPECT_EQ(MIGPRIO_DEV_CHANGE_SET, wait_dev_change(&ev, r));
	EXPECT_EQ(both, get_queue_devs(r, 0));
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_GET, 0, NULL, r));
	EXPECT_EQ(both, get_queue_devs(r, 0));

	/* dev-set replaces the list: the dummy alone */
	qd[0] = qd[1];
	qd[1] = (struct attr){ 0 };
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_SET, 0, a, r));
	ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
	EXPECT_EQ(MIGPRIO_DEV_CHANGE_SET, wait_dev_change(&ev, r));
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_GET, 0, NULL, r));
	EXPECT_EQ(one, get_queue_devs(r, 0));

	/* the queue device goes, the designation stays */
	ASSERT_EQ(0, run("%s link del %s", ip_bin(), dummy));
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_GET, 0, NULL, r));
	EXPECT_EQ(self->ifindex, get_uint(r, 0, MIGPRIO_A_DEV_IFINDEX));
	EXPECT_EQ(NULL, get_attr(r, 0, MIGPRIO_A_DEV_QUEUE_DEVS));

	/* omitted: none; given again, then cleared */
	a[2] = (struct attr){ 0 };
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_SET, 0, a, r));
	ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_GET, 0, NULL, r));
	EXPECT_EQ(NULL, get_attr(r, 0, MIGPRIO_A_DEV_QUEUE_DEVS));
	qd[0] = (struct attr)QD(self->ifindex);
	a[2] = (struct attr)NEST(MIGPRIO_A_DEV_QUEUE_DEVS, qd);
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_SET, 0, a, r));
	ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_CLEAR, 0, NULL, r));
	ASSERT_EQ(0, r->err);
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_SET, 0, a, r));
	ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_GET, 0, NULL, r));
	EXPECT_EQ(1ULL << (self->ifindex < 63 ? self->ifindex : 63),
		  get_queue_devs(r, 0));

	/* the designated interface, also the queue device, goes */
	ASSERT_EQ(0, run("%s link del %s", ip_bin(), self->veth));
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_GET, 0, NULL, r));
	EXPECT_EQ(NULL, get_attr(r, 0, MIGPRIO_A_DEV_IFINDEX));
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_STATS_GET, 0, NULL, r));
	EXPECT_NE(~0ULL, get_uint(r, 0, MIGPRIO_A_STATS_PRIORITY_RESET));
	nl_close(&ev);
}

/* Rules nested in rule-add-batch requests. */
static const struct attr batch_bad_range[] = {
	U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 10),
	U16(MIGPRIO_A_RULE_SERVICE_PORT_MAX, 9),
	{ 0 },
};
static const struct attr batch_with_id[] = {
	U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 10),
	U32(MIGPRIO_A_RULE_ID, 5),
	{ 0 },
};
static const struct attr batch_new[] = {
	U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 11),
	{ 0 },
};
/* the rule configure() adds, under another name */
static const struct attr batch_qemu[] = {
	U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 49152),
	U16(MIGPRIO_A_RULE_SERVICE_PORT_MAX, 49215),
	STR(MIGPRIO_A_RULE_NAME, "again"),
	{ 0 },
};

/* A rejected request: errno, message, attribute. */
struct bad {
	const char *what;
	uint8_t cmd;
	struct attr a[6];
	int err;
	const char *msg;	/* substring of the extack message */
	int bad_type;		/* attribute at the error offset, -1: none */
	int miss_type;		/* missing attribute, -1: none */
};

#define PEER6 "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1"
#define LONG_IFNAME "abcdefghijklmnop"
#define LONG_NAME "abcdefghijklmnopqrstuvwxyz0123456"

/* queue-devs contents of bad requests (lo is ifindex 1) */
static const struct attr qd_unknown[] = { QD(99999), { 0 } };
static const struct attr qd_zero[] = { QD(0), { 0 } };
static const struct attr qd_twice[] = { QD(1), QD(1), { 0 } };
static const struct attr qd_17[] = {
	QD(1), QD(1), QD(1), QD(1), QD(1), QD(1), QD(1), QD(1), QD(1),
	QD(1), QD(1), QD(1), QD(1), QD(1), QD(1), QD(1), QD(1), { 0 },
};
static const struct attr qd_u16[] = {
	U16(MIGPRIO_A_QUEUE_DEV_IFINDEX, 1), { 0 },
};
static const struct attr qd_unknown_attr[] = {
	U32(MIGPRIO_A_QUEUE_DEV_IFINDEX + 1, 1), { 0 },
};
/* a nest's payload without NLA_F_NESTED: one ifindex attribute, lo */
#define QD_RAW	"\x08\0\x01\0\x01\0\0\0"

static const struct bad bad_inputs[] = {
	{ "dev-set without interface", MIGPRIO_CMD_DEV_SET,
	  { U32(MIGPRIO_A_DEV_PRIORITY, 1) },
	  EINVAL, "IFINDEX or IFNAME required", -1, MIGPRIO_A_DEV_IFNAME },
	{ "dev-set unknown ifname", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "nosuchdev0") },
	  ENODEV, "no such interface", MIGPRIO_A_DEV_IFNAME, -1 },
	{ "dev-set unknown ifindex", MIGPRIO_CMD_DEV_SET,
	  { U32(MIGPRIO_A_DEV_IFINDEX, 99999) },
	  ENODEV, "no such interface", MIGPRIO_A_DEV_IFINDEX, -1 },
	{ "dev-set ifindex and ifname disagree", MIGPRIO_CMD_DEV_SET,
	  { U32(MIGPRIO_A_DEV_IFINDEX, 1), STR(MIGPRIO_A_DEV_IFNAME, "mp_other") },
	  EINVAL, "different interfaces", MIGPRIO_A_DEV_IFNAME, -1 },
	{ "dev-set ifname too long", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, LONG_IFNAME) },
	  EINVAL, "", MIGPRIO_A_DEV_IFNAME, -1 },
	{ "dev-set priority 16", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"), U32(MIGPRIO_A_DEV_PRIORITY, 16) },
	  ERANGE, "PRIORITY", MIGPRIO_A_DEV_PRIORITY, -1 },
	{ "dev-set priority ffff:1", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"),
	    U32(MIGPRIO_A_DEV_PRIORITY, 0xffff0001) },
	  ERANGE, "PRIORITY", MIGPRIO_A_DEV_PRIORITY, -1 },
	{ "dev-set priority 1:0", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"),
	    U32(MIGPRIO_A_DEV_PRIORITY, 0x10000) },
	  ERANGE, "PRIORITY", MIGPRIO_A_DEV_PRIORITY, -1 },
	{ "dev-set sndbuf too small", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"),
	    U32(MIGPRIO_A_DEV_SNDBUF, MIGPRIO_BUF_MIN - 1) },
	  ERANGE, "SNDBUF", MIGPRIO_A_DEV_SNDBUF, -1 },
	{ "dev-set rcvbuf too large", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"),
	    U32(MIGPRIO_A_DEV_RCVBUF, MIGPRIO_BUF_MAX + 1) },
	  ERANGE, "RCVBUF", MIGPRIO_A_DEV_RCVBUF, -1 },
	{ "dev-set notsent too small", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"),
	    U32(MIGPRIO_A_DEV_NOTSENT, MIGPRIO_NOTSENT_MIN - 1) },
	  ERANGE, "NOTSENT", MIGPRIO_A_DEV_NOTSENT, -1 },
	/* plain ranges are the generated policy's (NLA_POLICY_MAX) */
	{ "dev-set dscp 64", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"), U8(MIGPRIO_A_DEV_DSCP, 64) },
	  ERANGE, "integer out of range", MIGPRIO_A_DEV_DSCP, -1 },
	{ "dev-set former queue attribute (8)", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"), U8(8, 1) },
	  EINVAL, "", 8, -1 },
	{ "dev-set former ring-tx-prev attribute (15)", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"), U32(15, 256) },
	  EINVAL, "", 15, -1 },
	{ "dev-set u32 attribute of 2 bytes", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"), U16(MIGPRIO_A_DEV_SNDBUF, 1) },
	  EINVAL, "", MIGPRIO_A_DEV_SNDBUF, -1 },
	{ "dev-set read-only attribute", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"), U8(MIGPRIO_A_DEV_CHANGE, 1) },
	  EINVAL, "", MIGPRIO_A_DEV_CHANGE, -1 },
	{ "dev-set unknown attribute", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"), U32(MIGPRIO_A_DEV_MAX + 1, 1) },
	  EINVAL, "", MIGPRIO_A_DEV_MAX + 1, -1 },
	{ "dev-set queue device unknown", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"),
	    NEST(MIGPRIO_A_DEV_QUEUE_DEVS, qd_unknown) },
	  ENODEV, "QUEUE-DEVS: no such interface", MIGPRIO_A_QUEUE_DEV_IFINDEX, -1 },
	{ "dev-set queue device 0", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"),
	    NEST(MIGPRIO_A_DEV_QUEUE_DEVS, qd_zero) },
	  ENODEV, "QUEUE-DEVS: no such interface", MIGPRIO_A_QUEUE_DEV_IFINDEX, -1 },
	{ "dev-set queue device twice", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"),
	    NEST(MIGPRIO_A_DEV_QUEUE_DEVS, qd_twice) },
	  EINVAL, "QUEUE-DEVS: interface listed twice", MIGPRIO_A_QUEUE_DEV_IFINDEX, -1 },
	{ "dev-set 17 queue devices", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"),
	    NEST(MIGPRIO_A_DEV_QUEUE_DEVS, qd_17) },
	  E2BIG, "QUEUE-DEVS: at most 16", MIGPRIO_A_QUEUE_DEV_IFINDEX, -1 },
	{ "dev-set queue device ifindex of 2 bytes", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"),
	    NEST(MIGPRIO_A_DEV_QUEUE_DEVS, qd_u16) },
	  EINVAL, "", MIGPRIO_A_QUEUE_DEV_IFINDEX, -1 },
	{ "dev-set queue-devs unknown attribute", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"),
	    NEST(MIGPRIO_A_DEV_QUEUE_DEVS, qd_unknown_attr) },
	  EINVAL, "", MIGPRIO_A_QUEUE_DEV_IFINDEX + 1, -1 },
	{ "dev-set queue-devs without NLA_F_NESTED", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"),
	    BIN(MIGPRIO_A_DEV_QUEUE_DEVS, QD_RAW, 8) },
	  EINVAL, "NLA_F_NESTED", MIGPRIO_A_DEV_QUEUE_DEVS, -1 },
	{ "dev-set queue-devs as u32", MIGPRIO_CMD_DEV_SET,
	  { STR(MIGPRIO_A_DEV_IFNAME, "lo"), U32(MIGPRIO_A_DEV_QUEUE_DEVS, 1) },
	  EINVAL, "", MIGPRIO_A_DEV_QUEUE_DEVS, -1 },
	{ "dev-get with an attribute", MIGPRIO_CMD_DEV_GET,
	  { U32(MIGPRIO_A_DEV_IFINDEX, 1) },
	  EINVAL, "", -1, -1 },
	/* issue 22: "either port" is gone; an old client's rule is refused */
	{ "rule-add former either-port attribute (4)", MIGPRIO_CMD_RULE_ADD,
	  { U16(4, 49152) },
	  EINVAL, "", 4, -1 },
	{ "rule-add former either-port attribute (5)", MIGPRIO_CMD_RULE_ADD,
	  { U16(5, 49215) },
	  EINVAL, "", 5, -1 },
	{ "rule-add proto icmp", MIGPRIO_CMD_RULE_ADD,
	  { U8(MIGPRIO_A_RULE_PROTO, 1) },
	  EINVAL, "PROTO", MIGPRIO_A_RULE_PROTO, -1 },
	{ "rule-add port min > max", MIGPRIO_CMD_RULE_ADD,
	  { U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 10), U16(MIGPRIO_A_RULE_SERVICE_PORT_MAX, 9) },
	  EINVAL, "SERVICE_PORT_MAX is below SERVICE_PORT_MIN", MIGPRIO_A_RULE_SERVICE_PORT_MAX, -1 },
	{ "rule-add lport min > max", MIGPRIO_CMD_RULE_ADD,
	  { U16(MIGPRIO_A_RULE_LPORT_MIN, 10), U16(MIGPRIO_A_RULE_LPORT_MAX, 9) },
	  EINVAL, "LPORT_MAX is below LPORT_MIN", MIGPRIO_A_RULE_LPORT_MAX, -1 },
	{ "rule-add rport min > max", MIGPRIO_CMD_RULE_ADD,
	  { U16(MIGPRIO_A_RULE_RPORT_MIN, 10), U16(MIGPRIO_A_RULE_RPORT_MAX, 9) },
	  EINVAL, "RPORT_MAX is below RPORT_MIN", MIGPRIO_A_RULE_RPORT_MAX, -1 },
	{ "rule-add IPv4 prefix /33", MIGPRIO_CMD_RULE_ADD,
	  { U32(MIGPRIO_A_RULE_PEER_IPV4, 0x0100000a),
	    U8(MIGPRIO_A_RULE_PEER_PREFIXLEN, 33) },
	  EINVAL, "PEER_PREFIXLEN", MIGPRIO_A_RULE_PEER_PREFIXLEN, -1 },
	{ "rule-add IPv6 prefix /129", MIGPRIO_CMD_RULE_ADD,
	  { BIN(MIGPRIO_A_RULE_PEER_IPV6, PEER6, 16),
	    U8(MIGPRIO_A_RULE_PEER_PREFIXLEN, 129) },
	  ERANGE, "integer out of range", MIGPRIO_A_RULE_PEER_PREFIXLEN, -1 },
	{ "rule-add IPv4 and IPv6", MIGPRIO_CMD_RULE_ADD,
	  { U32(MIGPRIO_A_RULE_PEER_IPV4, 0x0100000a),
	    BIN(MIGPRIO_A_RULE_PEER_IPV6, PEER6, 16) },
	  EINVAL, "exclusive", MIGPRIO_A_RULE_PEER_IPV6, -1 },
	{ "rule-add prefix length without address", MIGPRIO_CMD_RULE_ADD,
	  { U8(MIGPRIO_A_RULE_PEER_PREFIXLEN, 8) },
	  EINVAL, "PEER_PREFIXLEN without", MIGPRIO_A_RULE_PEER_PREFIXLEN, -1 },
	{ "rule-add IPv6 address of 15 bytes", MIGPRIO_CMD_RULE_ADD,
	  { BIN(MIGPRIO_A_RULE_PEER_IPV6, PEER6, 15) },
	  ERANGE, "", MIGPRIO_A_RULE_PEER_IPV6, -1 },
	{ "rule-add relative cgroup path", MIGPRIO_CMD_RULE_ADD,
	  { STR(MIGPRIO_A_RULE_CGROUP, "mp_nltest") },
	  EINVAL, "CGROUP", MIGPRIO_A_RULE_CGROUP, -1 },
	{ "rule-add name too long", MIGPRIO_CMD_RULE_ADD,
	  { STR(MIGPRIO_A_RULE_NAME, LONG_NAME) },
	  EINVAL, "", MIGPRIO_A_RULE_NAME, -1 },
	{ "rule-add with an id", MIGPRIO_CMD_RULE_ADD,
	  { U32(MIGPRIO_A_RULE_ID, 5) },
	  EINVAL, "", MIGPRIO_A_RULE_ID, -1 },
	{ "rule-add with a counter", MIGPRIO_CMD_RULE_ADD,
	  { U64(MIGPRIO_A_RULE_TX_BYTES, 5) },
	  EINVAL, "", MIGPRIO_A_RULE_TX_BYTES, -1 },
	{ "rule-add-batch without rules", MIGPRIO_CMD_RULE_ADD_BATCH,
	  { { 0 } },
	  EINVAL, "RULE required", -1, MIGPRIO_A_RULE_BATCH_RULE },
	{ "rule-add-batch with ids", MIGPRIO_CMD_RULE_ADD_BATCH,
	  { NEST(MIGPRIO_A_RULE_BATCH_RULE, batch_new),
	    U32(MIGPRIO_A_RULE_BATCH_ID, 5) },
	  EINVAL, "", MIGPRIO_A_RULE_BATCH_ID, -1 },
	{ "rule-add-batch a rule with an id", MIGPRIO_CMD_RULE_ADD_BATCH,
	  { NEST(MIGPRIO_A_RULE_BATCH_RULE, batch_new),
	    NEST(MIGPRIO_A_RULE_BATCH_RULE, batch_with_id) },
	  EINVAL, "", MIGPRIO_A_RULE_ID, -1 },
	{ "rule-add-batch a rule with port min > max", MIGPRIO_CMD_RULE_ADD_BATCH,
	  { NEST(MIGPRIO_A_RULE_BATCH_RULE, batch_new),
	    NEST(MIGPRIO_A_RULE_BATCH_RULE, batch_bad_range) },
	  EINVAL, "SERVICE_PORT_MAX is below SERVICE_PORT_MIN",
	  MIGPRIO_A_RULE_SERVICE_PORT_MAX, -1 },
	{ "rule-add-batch a rule there is", MIGPRIO_CMD_RULE_ADD_BATCH,
	  { NEST(MIGPRIO_A_RULE_BATCH_RULE, batch_new),
	    NEST(MIGPRIO_A_RULE_BATCH_RULE, batch_qemu) },
	  EEXIST, "identical rule", MIGPRIO_A_RULE_BATCH_RULE, -1 },
	{ "rule-del without id", MIGPRIO_CMD_RULE_DEL,
	  { { 0 } },
	  EINVAL, "ID required", -1, MIGPRIO_A_RULE_ID },
	{ "rule-del unknown id", MIGPRIO_CMD_RULE_DEL,
	  { U32(MIGPRIO_A_RULE_ID, 4000000000U) },
	  ENOENT, "no such rule", MIGPRIO_A_RULE_ID, -1 },
};

/* A configured state that bad requests must leave alone. */
static void configure(struct __test_metadata *_metadata, struct nl *nl,
		      struct reply *r, const char *dev)
{
	struct attr qd[] = { QD(if_nametoindex(dev)), { 0 } };
	struct attr dev_a[] = {
		STR(MIGPRIO_A_DEV_IFNAME, dev),
		U32(MIGPRIO_A_DEV_PRIORITY, 5),
		U8(MIGPRIO_A_DEV_DSCP, 8),
		NEST(MIGPRIO_A_DEV_QUEUE_DEVS, qd),
		{ 0 },
	};
	struct attr rule_a[] = {
		U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 49152),
		U16(MIGPRIO_A_RULE_SERVICE_PORT_MAX, 49215),
		STR(MIGPRIO_A_RULE_NAME, "qemu"),
		{ 0 },
	};

	ASSERT_EQ(0, request(nl, MIGPRIO_CMD_DEV_SET, 0, dev_a, r));
	ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
	ASSERT_EQ(0, request(nl, MIGPRIO_CMD_DEV_GET, 0, NULL, r));
	ASSERT_NE(0, get_queue_devs(r, 0));
	ASSERT_EQ(0, request(nl, MIGPRIO_CMD_RULE_ADD, 0, rule_a, r));
	ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
}

TEST_F(mp, bad_input)
{
	static char before[BUFSZ], after[BUFSZ];
	size_t nb, na;
	unsigned int i;

	configure(_metadata, &self->nl, &self->r, self->veth);
	nb = snapshot(&self->nl, before, sizeof(before));
	ASSERT_NE(0, nb);
	for (i = 0; i < ARRAY_SIZE(bad_inputs); i++) {
		const struct bad *b = &bad_inputs[i];
		struct reply *r = &self->r;

		ASSERT_EQ(0, request(&self->nl, b->cmd, 0, b->a, r));
		EXPECT_EQ(b->err, r->err) TH_LOG("%s: %s", b->what, r->msg);
		EXPECT_NE(NULL, strstr(r->msg, b->msg))
			TH_LOG("%s: message \"%s\"", b->what, r->msg);
		EXPECT_NE(0, r->msg[0]) TH_LOG("%s: no message", b->what);
		if (b->bad_type >= 0)
			EXPECT_EQ(b->bad_type, r->bad_type)
				TH_LOG("%s: offset names attribute %d", b->what, r->bad_type);
		if (b->miss_type >= 0)
			EXPECT_EQ(b->miss_type, r->miss_type)
				TH_LOG("%s: missing attribute %d", b->what, r->miss_type);
		na = snapshot(&self->nl, after, sizeof(after));
		EXPECT_TRUE(na == nb && !memcmp(before, after, nb))
			TH_LOG("%s: state changed (%zu/%zu bytes, first difference at %zu)",
			       b->what, nb, na, first_diff(before, after, nb));
	}
}

/* A second interface in another netns: invisible from here. */
TEST_F(mp, dev_in_other_netns)
{
	static char before[BUFSZ], after[BUFSZ];
	struct attr a[] = { STR(MIGPRIO_A_DEV_IFNAME, ""), { 0 } };
	char peer[IFNAMSIZ + 1];
	int idx;
	size_t nb;

	snprintf(peer, sizeof(peer), "%sp", self->veth);
	idx = if_nametoindex(peer);
	run("%s netns del mp_nlt_other 2>/dev/null", ip_bin());
	ASSERT_EQ(0, run("%s netns add mp_nlt_other", ip_bin()));
	ASSERT_EQ(0, run("%s link set %s netns mp_nlt_other", ip_bin(), peer));
	configure(_metadata, &self->nl, &self->r, self->veth);
	nb = snapshot(&self->nl, before, sizeof(before));
	a[0].p = peer;
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_SET, 0, a, &self->r));
	EXPECT_EQ(ENODEV, self->r.err);
	EXPECT_NE(NULL, strstr(self->r.msg, "no such interface"));
	/* Its index, unless an interface here has the same one. */
	if (!if_indextoname(idx, peer)) {
		a[0] = (struct attr)U32(MIGPRIO_A_DEV_IFINDEX, idx);
		ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_SET, 0, a,
				     &self->r));
		EXPECT_EQ(ENODEV, self->r.err);
		/* nor as a queue device of a designation here */
		struct attr qd[] = { QD(idx), { 0 } };
		struct attr q[] = {
			STR(MIGPRIO_A_DEV_IFNAME, self->veth),
			NEST(MIGPRIO_A_DEV_QUEUE_DEVS, qd), { 0 },
		};

		ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_SET, 0, q,
				     &self->r));
		EXPECT_EQ(ENODEV, self->r.err);
		EXPECT_NE(NULL, strstr(self->r.msg, "QUEUE-DEVS: no such interface"))
			TH_LOG("message \"%s\"", self->r.msg);
		EXPECT_EQ(MIGPRIO_A_QUEUE_DEV_IFINDEX, self->r.bad_type);
	}
	EXPECT_EQ(nb, snapshot(&self->nl, after, sizeof(after)));
	EXPECT_EQ(0, memcmp(before, after, nb));
	run("%s netns del mp_nlt_other", ip_bin());
}

static int add_port_rule(struct nl *nl, struct reply *r, int port,
			 const char *name)
{
	struct attr a[] = {
		U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, port),
		STR(MIGPRIO_A_RULE_NAME, name),
		{ 0 },
	};

	if (request(nl, MIGPRIO_CMD_RULE_ADD, 0, a, r))
		return -1;
	return r->err;
}

TEST_F(mp, rule_add_dump_del)
{
	struct attr v4[] = {
		U8(MIGPRIO_A_RULE_PROTO, IPPROTO_UDP),
		U16(MIGPRIO_A_RULE_LPORT_MAX, 1000),
		U16(MIGPRIO_A_RULE_RPORT_MIN, 2000),
		U16(MIGPRIO_A_RULE_RPORT_MAX, 2010),
		U32(MIGPRIO_A_RULE_PEER_IPV4, htonl(0x0a0102ff)),
		U8(MIGPRIO_A_RULE_PEER_PREFIXLEN, 24),
		{ 0 },
	};
	struct attr v6[] = {
		BIN(MIGPRIO_A_RULE_PEER_IPV6, PEER6, 16),
		STR(MIGPRIO_A_RULE_CGROUP, CG_TEST),
		{ 0 },
	};
	struct reply *r = &self->r;
	uint32_t id1, id2, id3;
	struct stat st;

	ASSERT_EQ(0, add_port_rule(&self->nl, r, 49152, "one"));
	id1 = get_uint(r, 0, MIGPRIO_A_RULE_ID);
	EXPECT_NE(0, id1);
	/* MIN alone is a single port; defaults shown back. */
	EXPECT_EQ(49152, get_uint(r, 0, MIGPRIO_A_RULE_SERVICE_PORT_MIN));
	EXPECT_EQ(49152, get_uint(r, 0, MIGPRIO_A_RULE_SERVICE_PORT_MAX));
	EXPECT_EQ(IPPROTO_TCP, get_uint(r, 0, MIGPRIO_A_RULE_PROTO));
	EXPECT_STREQ("one", get_str(r, 0, MIGPRIO_A_RULE_NAME));
	EXPECT_EQ(0, get_uint(r, 0, MIGPRIO_A_RULE_FLOWS));

	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_ADD, 0, v4, r));
	ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
	id2 = get_uint(r, 0, MIGPRIO_A_RULE_ID);
	EXPECT_GT(id2, id1);
	EXPECT_EQ(0, get_uint(r, 0, MIGPRIO_A_RULE_LPORT_MIN));
	EXPECT_EQ(1000, get_uint(r, 0, MIGPRIO_A_RULE_LPORT_MAX));
	EXPECT_EQ(~0ULL, get_uint(r, 0, MIGPRIO_A_RULE_SERVICE_PORT_MIN));
	/* Host bits are cleared. */
	EXPECT_EQ(htonl(0x0a010200), get_uint(r, 0, MIGPRIO_A_RULE_PEER_IPV4));
	EXPECT_EQ(24, get_uint(r, 0, MIGPRIO_A_RULE_PEER_PREFIXLEN));

	rmdir(CG_ROOT CG_TEST);
	ASSERT_EQ(0, mkdir(CG_ROOT CG_TEST, 0755));
	ASSERT_EQ(0, stat(CG_ROOT CG_TEST, &st));
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_ADD, 0, v6, r));
	ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
	id3 = get_uint(r, 0, MIGPRIO_A_RULE_ID);
	EXPECT_STREQ(CG_TEST, get_str(r, 0, MIGPRIO_A_RULE_CGROUP));
	EXPECT_EQ((uint64_t)st.st_ino, get_uint(r, 0, MIGPRIO_A_RULE_CGROUP_ID));
	EXPECT_EQ(128, get_uint(r, 0, MIGPRIO_A_RULE_PEER_PREFIXLEN));

	/* The dump lists them in id order. */
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_GET, NLM_F_DUMP, NULL, r));
	ASSERT_EQ(0, r->err);
	ASSERT_EQ(3, r->n);
	EXPECT_EQ(id1, get_uint(r, 0, MIGPRIO_A_RULE_ID));
	EXPECT_EQ(id2, get_uint(r, 1, MIGPRIO_A_RULE_ID));
	EXPECT_EQ(id3, get_uint(r, 2, MIGPRIO_A_RULE_ID));
	EXPECT_EQ(IPPROTO_UDP, get_uint(r, 1, MIGPRIO_A_RULE_PROTO));
	EXPECT_EQ(0, get_uint(r, 2, MIGPRIO_A_RULE_TX_PACKETS));

	/* The cgroup stays referenced by the rule (rmdir works, id kept). */
	EXPECT_EQ(0, rmdir(CG_ROOT CG_TEST));

	/* Delete by id; the id is not handed out again at once. */
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_DEL, 0,
			     (struct attr[]){ U32(MIGPRIO_A_RULE_ID, id2), { 0 } }, r));
	EXPECT_EQ(0, r->err);
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_DEL, 0,
			     (struct attr[]){ U32(MIGPRIO_A_RULE_ID, id2), { 0 } }, r));
	EXPECT_EQ(ENOENT, r->err);
	ASSERT_EQ(0, add_port_rule(&self->nl, r, 1, "again"));
	EXPECT_GT(get_uint(r, 0, MIGPRIO_A_RULE_ID), id3);
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_GET, NLM_F_DUMP, NULL, r));
	EXPECT_EQ(3, r->n);

	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_FLUSH, 0, NULL, r));
	EXPECT_EQ(0, r->err);
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_GET, NLM_F_DUMP, NULL, r));
	EXPECT_EQ(0, r->n);
}

TEST_F(mp, eexist_enospc)
{
	static char before[BUFSZ], after[BUFSZ];
	struct reply *r = &self->r;
	int i, max = max_rules();
	size_t nb;

	if (max < 1 || max > 64)
		SKIP(return, "module loaded with max_rules=%d, not %d", max, MAX_RULES);
	ASSERT_EQ(0, add_port_rule(&self->nl, r, 100, "a"));
	/* Same match fields, another name: identical. */
	nb = snapshot(&self->nl, before, sizeof(before));
	EXPECT_EQ(EEXIST, add_port_rule(&self->nl, r, 100, "b"));
	EXPECT_NE(NULL, strstr(r->msg, "identical rule"));
	EXPECT_EQ(nb, snapshot(&self->nl, after, sizeof(after)));
	EXPECT_EQ(0, memcmp(before, after, nb));

	for (i = 1; i < max; i++)
		ASSERT_EQ(0, add_port_rule(&self->nl, r, 100 + i, "n"));
	nb = snapshot(&self->nl, before, sizeof(before));
	EXPECT_EQ(ENOSPC, add_port_rule(&self->nl, r, 200, "full"));
	EXPECT_NE(NULL, strstr(r->msg, "limit"));
	EXPECT_EQ(nb, snapshot(&self->nl, after, sizeof(after)));
	EXPECT_EQ(0, memcmp(before, after, nb));

	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_STATS_GET, 0, NULL, r));
	ASSERT_EQ(0, r->err);
	EXPECT_EQ(max, get_uint(r, 0, MIGPRIO_A_STATS_RULES));
	EXPECT_EQ(max, get_uint(r, 0, MIGPRIO_A_STATS_RULES_MAX));
	EXPECT_EQ(0, get_uint(r, 0, MIGPRIO_A_STATS_FLOWS_ACTIVE));
	EXPECT_NE(~0ULL, get_uint(r, 0, MIGPRIO_A_STATS_FLOWS_MAX));
}

/* Offset in nl->req of the @i-th attribute of the request (0 first). */
static long attr_off(const struct nl *nl, int i)
{
	const struct nlmsghdr *nlh = (const void *)nl->req;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN)
		if (!i--)
			return (const char *)a - (const char *)nlh;
	return -1;
}

TEST_F(mp, rule_add_batch)
{
	static char before[BUFSZ], after[BUFSZ];
	static const struct attr p1[] = {
		U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 1001),
		STR(MIGPRIO_A_RULE_NAME, "b1"),
		{ 0 },
	};
	static const struct attr p2[] = {
		U8(MIGPRIO_A_RULE_PROTO, IPPROTO_UDP),
		U16(MIGPRIO_A_RULE_LPORT_MIN, 1002),
		{ 0 },
	};
	static const struct attr p3[] = {
		U32(MIGPRIO_A_RULE_PEER_IPV4, 0x0000000a),
		U8(MIGPRIO_A_RULE_PEER_PREFIXLEN, 8),
		{ 0 },
	};
	static const struct attr p1_other_name[] = {
		U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 1001),
		STR(MIGPRIO_A_RULE_NAME, "b1 again"),
		{ 0 },
	};
	static const struct attr ports[MAX_RULES + 1][2] = {
		{ U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 2000) },
		{ U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 2001) },
		{ U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 2002) },
		{ U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 2003) },
		{ U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 2004) },
		{ U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 2005) },
		{ U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 2006) },
		{ U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 2007) },
		{ U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 2008) },
	};
	struct attr three[] = {
		NEST(MIGPRIO_A_RULE_BATCH_RULE, p1),
		NEST(MIGPRIO_A_RULE_BATCH_RULE, p2),
		NEST(MIGPRIO_A_RULE_BATCH_RULE, p3),
		{ 0 },
	};
	struct attr rules[MAX_RULES + 2];
	struct reply *r = &self->r;
	uint32_t ids[3], first;
	const struct nlattr *a;
	int i, n = 0, max = max_rules();
	size_t nb;

	if (max < 3 || max > MAX_RULES)
		SKIP(return, "module loaded with max_rules=%d, not %d", max, MAX_RULES);
	ASSERT_EQ(0, add_port_rule(&self->nl, r, 1000, "single"));
	first = get_uint(r, 0, MIGPRIO_A_RULE_ID);

	/* three at once: ids in their order, after the rule there was */
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_ADD_BATCH, 0, three, r));
	ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
	ASSERT_EQ(1, r->n);
	mnl_attr_for_each(a, (const struct nlmsghdr *)(r->buf + r->off[0]),
			  GENL_HDRLEN) {
		ASSERT_EQ(MIGPRIO_A_RULE_BATCH_ID, mnl_attr_get_type(a));
		ASSERT_LT(n, 3);
		ids[n++] = mnl_attr_get_u32(a);
	}
	ASSERT_EQ(3, n);
	EXPECT_GT(ids[0], first);
	EXPECT_GT(ids[1], ids[0]);
	EXPECT_GT(ids[2], ids[1]);
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_GET, NLM_F_DUMP, NULL, r));
	ASSERT_EQ(4, r->n);
	EXPECT_EQ(ids[0], get_uint(r, 1, MIGPRIO_A_RULE_ID));
	EXPECT_STREQ("b1", get_str(r, 1, MIGPRIO_A_RULE_NAME));
	EXPECT_EQ(1001, get_uint(r, 1, MIGPRIO_A_RULE_SERVICE_PORT_MAX));
	EXPECT_EQ(ids[1], get_uint(r, 2, MIGPRIO_A_RULE_ID));
	EXPECT_EQ(IPPROTO_UDP, get_uint(r, 2, MIGPRIO_A_RULE_PROTO));
	EXPECT_EQ(ids[2], get_uint(r, 3, MIGPRIO_A_RULE_ID));
	EXPECT_EQ(8, get_uint(r, 3, MIGPRIO_A_RULE_PEER_PREFIXLEN));

	/* a duplicate of a rule before it in the request: none added */
	nb = snapshot(&self->nl, before, sizeof(before));
	ASSERT_NE(0, nb);
	three[0] = (struct attr)NEST(MIGPRIO_A_RULE_BATCH_RULE, batch_new);
	three[1] = (struct attr)NEST(MIGPRIO_A_RULE_BATCH_RULE, batch_bad_range + 1);
	three[2] = (struct attr)NEST(MIGPRIO_A_RULE_BATCH_RULE, batch_new);
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_ADD_BATCH, 0, three, r));
	EXPECT_EQ(EEXIST, r->err) TH_LOG("%s", r->msg);
	EXPECT_NE(NULL, strstr(r->msg, "identical rule"));
	EXPECT_EQ(attr_off(&self->nl, 2), r->bad_off);
	EXPECT_EQ(nb, snapshot(&self->nl, after, sizeof(after)));
	EXPECT_EQ(0, memcmp(before, after, nb));

	/* a duplicate of a rule there, by match (the name differs) */
	three[2] = (struct attr)NEST(MIGPRIO_A_RULE_BATCH_RULE, p1_other_name);
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_ADD_BATCH, 0, three, r));
	EXPECT_EQ(EEXIST, r->err) TH_LOG("%s", r->msg);
	EXPECT_EQ(attr_off(&self->nl, 2), r->bad_off);
	EXPECT_EQ(nb, snapshot(&self->nl, after, sizeof(after)));
	EXPECT_EQ(0, memcmp(before, after, nb));

	/* past max_rules: the first rule beyond the limit is at fault */
	for (i = 0; i < max - 4 + 1; i++)
		rules[i] = (struct attr)NEST(MIGPRIO_A_RULE_BATCH_RULE, ports[i]);
	rules[i] = (struct attr){ 0 };
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_ADD_BATCH, 0, rules, r));
	EXPECT_EQ(ENOSPC, r->err) TH_LOG("%s", r->msg);
	EXPECT_NE(NULL, strstr(r->msg, "limit"));
	EXPECT_EQ(attr_off(&self->nl, max - 4), r->bad_off);
	EXPECT_EQ(nb, snapshot(&self->nl, after, sizeof(after)));
	EXPECT_EQ(0, memcmp(before, after, nb));

	/* exactly up to the limit: fine */
	rules[max - 4] = (struct attr){ 0 };
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_ADD_BATCH, 0, rules, r));
	EXPECT_EQ(0, r->err) TH_LOG("%s", r->msg);
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_STATS_GET, 0, NULL, r));
	EXPECT_EQ(max, get_uint(r, 0, MIGPRIO_A_STATS_RULES));
}

/*
 * Rules with long cgroup paths take about 4.3 KiB each: with a small
 * receive buffer every part of the dump holds one, and a rule added after
 * the first part makes the next parts NLM_F_DUMP_INTR (a rename does not).
 */
static void make_long_cgroup(char *path, size_t size)
{
	char dir[8192];
	int i;

	snprintf(path, size, "%s", "");
	snprintf(dir, sizeof(dir), CG_ROOT);
	for (i = 0; i < 15; i++) {
		char comp[256];

		memset(comp, 'c', 250);
		snprintf(comp + 250, 6, "%02d", i);
		strncat(path, "/", size - strlen(path) - 1);
		strncat(path, comp, size - strlen(path) - 1);
		snprintf(dir, sizeof(dir), CG_ROOT "%s", path);
		mkdir(dir, 0755);
	}
}

static void remove_long_cgroup(const char *path)
{
	char dir[8192];
	char *slash;

	snprintf(dir, sizeof(dir), CG_ROOT "%s", path);
	while (strcmp(dir, CG_ROOT)) {
		rmdir(dir);
		slash = strrchr(dir, '/');
		*slash = '\0';
	}
}

/*
 * A rule dump over @small, which reads 8 KiB at a time (one rule per
 * part): after the first part, run @cmd, or else add a rule through @nl.
 * Returns the number of parts (-1 on error); *@intr: a part was flagged
 * NLM_F_DUMP_INTR.
 */
static int dump_paused(struct nl *small, const char *cmd, struct nl *nl,
		       struct reply *r, bool *intr)
{
	struct nlmsghdr *nlh;
	bool done = false;
	char buf[8192];
	int len, parts = 0;

	*intr = false;
	nlh = msg_start(small, small->family, MIGPRIO_CMD_RULE_GET,
			NLM_F_DUMP, 1);
	if (mnl_socket_sendto(small->sk, nlh, nlh->nlmsg_len) < 0)
		return -1;
	while (!done) {
		const struct nlmsghdr *m;

		len = mnl_socket_recvfrom(small->sk, buf, sizeof(buf));
		if (len <= 0)
			return -1;
		if (parts++ == 0 &&
		    (cmd ? run("%s", cmd) : add_port_rule(nl, r, 2999, "intr")))
			return -1;
		for (m = (void *)buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_flags & NLM_F_DUMP_INTR)
				*intr = true;
			if (m->nlmsg_type == NLMSG_ERROR ||
			    m->nlmsg_type == NLMSG_DONE)
				done = true;
		}
	}
	return parts;
}

TEST_F(mp, dump_intr)
{
	static char path[MIGPRIO_CGROUP_MAXLEN + 1];
	struct attr dev[] = {
		STR(MIGPRIO_A_DEV_IFNAME, self->veth),
		{ 0 },
	};
	struct reply *r = &self->r;
	struct nl small = { 0 };
	char cmd[256];
	bool intr;
	int i;

	make_long_cgroup(path, sizeof(path));
	for (i = 0; i < 4; i++) {
		struct attr a[] = {
			U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 3000 + i),
			STR(MIGPRIO_A_RULE_CGROUP, path),
			{ 0 },
		};

		ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_ADD, 0, a, r));
		ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
	}
	/*
	 * The kernel sizes dump parts after the largest read so far: a socket
	 * that never reads more than 8 KiB gets one rule per part.
	 */
	small.sk = mnl_socket_open(NETLINK_GENERIC);
	ASSERT_NE(NULL, small.sk);
	ASSERT_EQ(0, mnl_socket_bind(small.sk, 0, MNL_SOCKET_AUTOPID));
	small.family = self->nl.family;

	/* An undisturbed dump in small parts is not flagged. */
	msg_start(&small, small.family, MIGPRIO_CMD_RULE_GET, NLM_F_DUMP, 1);
	ASSERT_EQ(0, transact(&small, r, 8192));
	EXPECT_EQ(0, r->err);
	EXPECT_EQ(4, r->n);
	EXPECT_FALSE(r->intr);

	/*
	 * A rename of the designated interface changes no rule, so it keeps
	 * the generation: no NLM_F_DUMP_INTR (and live flows keep their
	 * classification).
	 */
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_SET, 0, dev, r));
	ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
	snprintf(cmd, sizeof(cmd), "%s link set %s name %sr", ip_bin(),
		 self->veth, self->veth);
	EXPECT_LT(1, dump_paused(&small, cmd, NULL, r, &intr));
	EXPECT_FALSE(intr);
	ASSERT_EQ(0, run("%s link set %sr name %s", ip_bin(), self->veth,
			 self->veth));

	/* A rule added after the first part interrupts it. */
	EXPECT_LT(1, dump_paused(&small, NULL, &self->nl, r, &intr));
	EXPECT_TRUE(intr);
	nl_close(&small);
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_RULE_FLUSH, 0, NULL, r));
	remove_long_cgroup(path);
}

/* UDP from a fresh socket (a new local port) to @port: one new flow. */
static int udp_flow(const char *dst, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), ret;

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, dst, &sin.sin_addr);
	ret = sendto(fd, "x", 1, 0, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	return ret == 1 ? 0 : -1;
}

/* What happens to the flow table between the parts of a flow dump. */
enum flow_race { FLOWS_ADDED, FLOWS_REMOVED };

struct flow_dump {
	int parts, flows;
	bool intr;		/* a part had NLM_F_DUMP_INTR */
};

/*
 * 200 UDP flows on @veth, dumped in parts of at most 8 KiB while flows are
 * added (5 after each of the first 3 parts) or removed (a dev clear, which
 * ends them all, after the first part).
 */
static void flow_dump_racing(struct __test_metadata *_metadata, struct nl *nl,
			     struct reply *r, const char *veth,
			     enum flow_race race, struct flow_dump *d)
{
	struct attr udp_rule[] = {
		U8(MIGPRIO_A_RULE_PROTO, IPPROTO_UDP),
		U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 49160),
		U16(MIGPRIO_A_RULE_SERVICE_PORT_MAX, 49161),
		{ 0 },
	};
	struct nl small = { 0 };
	struct nlmsghdr *nlh;
	char buf[8192];
	bool done = false;
	int i, len;

	memset(d, 0, sizeof(*d));
	ASSERT_EQ(0, run("%s addr add 10.201.0.1/24 dev %s && %s link set %s up && %s link set %sp up",
			 ip_bin(), veth, ip_bin(), veth, ip_bin(), veth));
	configure(_metadata, nl, r, veth);
	ASSERT_EQ(0, request(nl, MIGPRIO_CMD_RULE_ADD, 0, udp_rule, r));
	ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
	for (i = 0; i < 200; i++)
		ASSERT_EQ(0, udp_flow("10.201.0.2", 49160));
	small.sk = mnl_socket_open(NETLINK_GENERIC);
	ASSERT_NE(NULL, small.sk);
	ASSERT_EQ(0, mnl_socket_bind(small.sk, 0, MNL_SOCKET_AUTOPID));
	small.family = nl->family;
	nlh = msg_start(&small, small.family, MIGPRIO_CMD_FLOW_GET,
			NLM_F_DUMP, 1);
	ASSERT_LT(0, mnl_socket_sendto(small.sk, nlh, nlh->nlmsg_len));
	while (!done) {
		const struct nlmsghdr *m;

		len = mnl_socket_recvfrom(small.sk, buf, sizeof(buf));
		ASSERT_LT(0, len);
		/* Flows come or go between the parts, as on a busy host. */
		if (race == FLOWS_ADDED && d->parts < 3) {
			for (i = 0; i < 5; i++)
				ASSERT_EQ(0, udp_flow("10.201.0.2", 49161));
		} else if (race == FLOWS_REMOVED && !d->parts) {
			ASSERT_EQ(0, request(nl, MIGPRIO_CMD_DEV_CLEAR, 0,
					     NULL, r));
			ASSERT_EQ(0, r->err) TH_LOG("%s", r->msg);
		}
		d->parts++;
		for (m = (void *)buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_flags & NLM_F_DUMP_INTR)
				d->intr = true;
			if (m->nlmsg_type == NLMSG_ERROR ||
			    m->nlmsg_type == NLMSG_DONE)
				done = true;
			else
				d->flows++;
		}
	}
	nl_close(&small);
	ASSERT_EQ(0, request(nl, MIGPRIO_CMD_DEV_CLEAR, 0, NULL, r));
}

/*
 * A flow dump read in small parts while flows are added is not flagged
 * NLM_F_DUMP_INTR: new flows go to the tail, a resumed dump misses or
 * repeats nothing, and ends with them.
 */
TEST_F(mp, flow_dump_insert_not_intr)
{
	struct flow_dump d;

	flow_dump_racing(_metadata, &self->nl, &self->r, self->veth,
			 FLOWS_ADDED, &d);
	EXPECT_LT(3, d.parts);
	EXPECT_FALSE(d.intr);
	/* Every flow once: the 200, and those added before the end. */
	EXPECT_LE(200, d.flows);
	EXPECT_GE(215, d.flows);
}

/*
 * A flow dump read in small parts while flows are removed is flagged
 * NLM_F_DUMP_INTR, as a rule dump is on a change.
 */
TEST_F(mp, flow_dump_remove_intr)
{
	struct flow_dump d;

	flow_dump_racing(_metadata, &self->nl, &self->r, self->veth,
			 FLOWS_REMOVED, &d);
	EXPECT_LT(1, d.parts);
	EXPECT_TRUE(d.intr);
}

/* Every operation, expecting @want from each (0: success or ENODEV). */
static int all_ops(struct nl *nl, int want_read, int want_write)
{
	static const struct { uint8_t cmd; uint16_t flags; bool write; } ops[] = {
		{ MIGPRIO_CMD_DEV_GET, 0, false },
		{ MIGPRIO_CMD_DEV_SET, 0, true },
		{ MIGPRIO_CMD_DEV_CLEAR, 0, true },
		{ MIGPRIO_CMD_RULE_ADD, 0, true },
		{ MIGPRIO_CMD_RULE_DEL, 0, true },
		{ MIGPRIO_CMD_RULE_GET, NLM_F_DUMP, false },
		{ MIGPRIO_CMD_RULE_FLUSH, 0, true },
		{ MIGPRIO_CMD_FLOW_GET, NLM_F_DUMP, false },
		{ MIGPRIO_CMD_STATS_GET, 0, false },
		{ MIGPRIO_CMD_RULE_ADD_BATCH, 0, true },
	};
	static const struct attr rule8[] = {
		U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 8),
		{ 0 },
	};
	static struct reply r;
	int fails = 0, grp;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		struct attr a[] = {
			U32(ops[i].cmd == MIGPRIO_CMD_DEV_SET ? MIGPRIO_A_DEV_IFINDEX :
			    MIGPRIO_A_RULE_ID, 1),
			{ 0 },
		};
		bool with = ops[i].cmd == MIGPRIO_CMD_DEV_SET ||
			    ops[i].cmd == MIGPRIO_CMD_RULE_DEL;
		int want = ops[i].write ? want_write : want_read;

		if (ops[i].cmd == MIGPRIO_CMD_RULE_ADD)
			a[0] = (struct attr)U16(MIGPRIO_A_RULE_SERVICE_PORT_MIN, 7);
		if (ops[i].cmd == MIGPRIO_CMD_RULE_ADD_BATCH)
			a[0] = (struct attr)NEST(MIGPRIO_A_RULE_BATCH_RULE, rule8);
		with |= ops[i].cmd == MIGPRIO_CMD_RULE_ADD ||
			ops[i].cmd == MIGPRIO_CMD_RULE_ADD_BATCH;
		if (request(nl, ops[i].cmd, ops[i].flags, with ? a : NULL, &r)) {
			fprintf(stderr, "# cmd %d: no answer\n", ops[i].cmd);
			fails++;
		} else if (want ? r.err != want : (r.err && r.err != ENOENT)) {
			fprintf(stderr, "# cmd %d: errno %d, want %d\n",
				ops[i].cmd, r.err, want);
			fails++;
		}
	}
	/* Listening to "events" is a read. */
	grp = nl->events_grp;
	if (mnl_socket_setsockopt(nl->sk, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) ? errno != want_read : want_read) {
		fprintf(stderr, "# join events: errno %d, want %d\n",
			errno, want_read);
		fails++;
	}
	return fails;
}

static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * In a child as uid 65534 with no capabilities (in a new user namespace
 * and netns, as a container's root, when @userns): every op must return
 * @read_err (reads) or @write_err (writes). True when all did.
 */
static bool ops_as_nobody(bool userns, int read_err, int write_err)
{
	pid_t pid = fork();

	if (pid < 0)
		return false;
	if (!pid) {
		struct nl nl;

		/* All uids non-zero: every capability is dropped. */
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(100);
		if (userns && unshare(CLONE_NEWUSER | CLONE_NEWNET))
			_exit(102);
		if (nl_open(&nl))
			_exit(101);
		_exit(all_ops(&nl, read_err, write_err));
	}
	return wait_child(pid) == 0;
}

TEST_F(mp, unprivileged_eperm)
{
	configure(_metadata, &self->nl, &self->r, self->veth);
	EXPECT_TRUE(ops_as_nobody(false, EPERM, EPERM));
	/* Still configured. */
	ASSERT_EQ(0, request(&self->nl, MIGPRIO_CMD_DEV_GET, 0, NULL, &self->r));
	EXPECT_EQ(self->ifindex, get_uint(&self->r, 0, MIGPRIO_A_DEV_IFINDEX));
}

/* Root of a new user namespace (over its own netns) reads, never writes. */
TEST_F(mp, userns_root_reads_only)
{
	configure(_metadata, &self->nl, &self->r, self->veth);
	EXPECT_TRUE(ops_as_nobody(true, 0, EPERM));
}

/* Two netns configured differently; deleting one frees its state. */
TEST_F(mp, netns_isolation)
{
	static char before[BUFSZ], after[BUFSZ];
	int pipefd[2];
	size_t nb;
	pid_t pid;

	configure(_metadata, &self->nl, &self->r, self->veth);
	nb = snapshot(&self->nl, before, sizeof(before));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct attr dev_a[] = {
			STR(MIGPRIO_A_DEV_IFNAME, "lo"),
			U32(MIGPRIO_A_DEV_PRIORITY, 1),
			{ 0 },
		};
		struct reply *r = malloc(sizeof(*r));
		struct nl nl;
		int i;

		if (unshare(CLONE_NEWNET) || nl_open(&nl))
			_exit(100);
		run("%s link set lo up", ip_bin());
		/* Nothing from the parent's netns. */
		if (request(&nl, MIGPRIO_CMD_DEV_GET, 0, NULL, r) || r->err ||
		    get_attr(r, 0, MIGPRIO_A_DEV_IFINDEX))
			_exit(101);
		if (request(&nl, MIGPRIO_CMD_RULE_GET, NLM_F_DUMP, NULL, r) ||
		    r->err || r->n)
			_exit(102);
		/* Our own, different configuration, with live rules. */
		if (request(&nl, MIGPRIO_CMD_DEV_SET, 0, dev_a, r) || r->err)
			_exit(103);
		for (i = 0; i < 4; i++)
			if (add_port_rule(&nl, r, 5000 + i, "child"))
				_exit(104);
		if (request(&nl, MIGPRIO_CMD_DEV_GET, 0, NULL, r) ||
		    get_uint(r, 0, MIGPRIO_A_DEV_PRIORITY) != 1)
			_exit(105);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(106);
		/* Exiting drops the last reference: the netns is deleted. */
		_exit(0);
	}
	close(pipefd[1]);
	EXPECT_EQ(0, wait_child(pid));
	/* The child's configuration did not leak into ours. */
	EXPECT_EQ(nb, snapshot(&self->nl, after, sizeof(after)));
	EXPECT_EQ(0, memcmp(before, after, nb));
	close(pipefd[0]);
}

/*
 * Last (tests run in the order written): unload with configured state,
 * after the configured netns of netns_isolation was deleted.
 */
TEST_F(mp, zz_module_unload)
{
	configure(_metadata, &self->nl, &self->r, self->veth);
	nl_close(&self->nl);
	/* Netns cleanup is asynchronous; rmmod waits for it. */
	EXPECT_EQ(0, run("rmmod migprio"));
	EXPECT_FALSE(module_loaded());
}

TEST_HARNESS_MAIN
