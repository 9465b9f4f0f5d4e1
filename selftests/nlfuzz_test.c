// SPDX-License-Identifier: GPL-2.0
/*
 * nlfuzz_test: generic netlink fuzzer for the "migprio" family.
 *
 * Sends random and mutated requests for every command of enum migprio_cmd:
 * random attribute types and lengths, wrong-sized values, nested garbage,
 * truncated and over-long headers, wrong flags, batches of several
 * messages, dumps abandoned mid-way, concurrent senders (threads and a
 * second network namespace, plus namespaces created and destroyed while
 * configured), as root, as uid 65534 without capabilities, and as root of
 * an unprivileged user namespace.
 *
 * Every request carries NLM_F_ACK, so every request that the kernel parses
 * has a terminating reply (NLMSG_ERROR or NLMSG_DONE); requests the netlink
 * core silently drops (bad nlmsg_len) are always the last of a send and are
 * followed by a well-formed one.  Each reply is checked: well-formed
 * netlink, our sequence numbers, attributes that parse, extack TLVs that
 * point inside the request.  A missing reply within the receive timeout is
 * a hang and fails the test.  Afterwards dev get, rule dump and stats get
 * must still parse, and the module must unload.
 *
 *   nlfuzz_test [--long] [--seed N]   (the harness options -r/-f/... too)
 *
 * Environment: NLFUZZ_MSGS (messages sent with privileges, default 100000:
 * 85% single-threaded, 15% concurrent; uid 65534 sends as many again and
 * the userns root a quarter), NLFUZZ_SECS (time budget of the whole run,
 * default 80: a test stops at its share even if its count is not reached,
 * and says so), NLFUZZ_SEED.  --long multiplies both by 10.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <grp.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include "../uapi/linux/migprio.h"
#include "kselftest_harness.h"

#define BUFSZ		(256 * 1024)
#define RCV_TIMEOUT_S	20	/* a reply later than this is a hang */
#define MAX_OUTSTANDING	16

enum mode {
	MODE_ROOT,	/* anything goes; errors of any kind are fine */
	MODE_UNPRIV,	/* uid 65534, no caps: every op EPERM */
	MODE_USERNS,	/* root in own userns + netns: reads ok, writes EPERM */
};

static unsigned long opt_msgs = 100000;
static unsigned int opt_secs = 80;
static unsigned int opt_seed;
static bool opt_long;

struct stats {
	unsigned long sent;		/* netlink messages sent */
	unsigned long sends;		/* sendto() calls */
	unsigned long replies;		/* messages received */
	unsigned long acks;		/* NLMSG_ERROR with error 0 */
	unsigned long errors;		/* NLMSG_ERROR with error < 0 */
	unsigned long data;		/* genl replies and dump parts */
	unsigned long dumps_done;
	unsigned long dump_intr;	/* parts flagged NLM_F_DUMP_INTR */
	unsigned long extack_msgs;
	unsigned long errno_hist[136];
};

struct fuzzer {
	struct mnl_socket *nl;
	int fd;
	unsigned int portid;
	uint16_t family;
	uint32_t seq;
	enum mode mode;
	unsigned int rnd;
	char *buf;		/* request */
	char *rbuf;		/* replies */
	struct stats st;
	uint32_t rule_ids[64];	/* ids seen in replies, for del */
	unsigned int nr_rule_ids;
	int ifindex;		/* a veth that exists, or 1 */
	char fail[256];		/* first failure, empty if none */
	/* outstanding requests: seq and whether it is a dump */
	uint32_t out_seq[MAX_OUTSTANDING];
	uint32_t out_len[MAX_OUTSTANDING];
	bool out_hdr_ok[MAX_OUTSTANDING];	/* genl header intact */
	uint8_t out_cmd[MAX_OUTSTANDING];
	bool out_dump[MAX_OUTSTANDING];
	uint32_t out_off[MAX_OUTSTANDING];	/* offset in buf, for dumps of it */
	unsigned int nr_out;
};

/* ------------------------------------------------------------ random */

static unsigned int rnd(struct fuzzer *f)
{
	/* xorshift32: reproducible from the seed, per fuzzer */
	unsigned int x = f->rnd;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	f->rnd = x;
	return x;
}

static unsigned int rndn(struct fuzzer *f, unsigned int n)
{
	return n ? rnd(f) % n : 0;
}

static bool chance(struct fuzzer *f, unsigned int pct)
{
	return rndn(f, 100) < pct;
}

static void rnd_bytes(struct fuzzer *f, void *p, size_t n)
{
	unsigned char *c = p;

	while (n--)
		*c++ = rnd(f);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void failf(struct fuzzer *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void failf(struct fuzzer *f, const char *fmt, ...)
{
	va_list ap;

	if (f->fail[0])
		return;
	va_start(ap, fmt);
	vsnprintf(f->fail, sizeof(f->fail), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ setup */

static int fuzzer_open(struct fuzzer *f, enum mode mode, unsigned int seed)
{
	struct timeval tv = { .tv_sec = RCV_TIMEOUT_S };
	int one = 1, sz = 4 << 20;

	memset(f, 0, sizeof(*f));
	f->mode = mode;
	f->rnd = seed ? seed : 0x9e3779b9;
	f->buf = calloc(1, BUFSZ);
	f->rbuf = calloc(1, BUFSZ);
	if (!f->buf || !f->rbuf)
		return -ENOMEM;
	f->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!f->nl)
		return -errno;
	if (mnl_socket_bind(f->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	f->fd = mnl_socket_get_fd(f->nl);
	f->portid = mnl_socket_get_portid(f->nl);
	setsockopt(f->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	/* extack on: exercises the module's error messages and offsets */
	mnl_socket_setsockopt(f->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	f->seq = rnd(f) & 0xffffff;
	f->ifindex = 1;
	return 0;
}

static void fuzzer_close(struct fuzzer *f)
{
	if (f->nl)
		mnl_socket_close(f->nl);
	free(f->buf);
	free(f->rbuf);
	f->nl = NULL;
	f->buf = f->rbuf = NULL;
}

struct family_res {
	uint16_t id;
	uint32_t mcgrp;
};

static int family_attr_cb(const struct nlattr *a, void *data)
{
	struct family_res *r = data;
	const struct nlattr *grp, *x;

	switch (mnl_attr_get_type(a)) {
	case CTRL_ATTR_FAMILY_ID:
		r->id = mnl_attr_get_u16(a);
		break;
	case CTRL_ATTR_MCAST_GROUPS:
		mnl_attr_for_each_nested(grp, a) {
			uint32_t id = 0;
			const char *name = NULL;

			mnl_attr_for_each_nested(x, grp) {
				if (mnl_attr_get_type(x) == CTRL_ATTR_MCAST_GRP_ID)
					id = mnl_attr_get_u32(x);
				else if (mnl_attr_get_type(x) == CTRL_ATTR_MCAST_GRP_NAME)
					name = mnl_attr_get_str(x);
			}
			if (name && !strcmp(name, MIGPRIO_MCGRP_EVENTS))
				r->mcgrp = id;
		}
		break;
	}
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, GENL_HDRLEN, family_attr_cb, data);
}

/* Resolve the family id (0 if absent) through nlctrl. */
static int resolve_family(struct family_res *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 2];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	unsigned int portid;
	int n, ret;

	memset(r, 0, sizeof(*r));
	nl = mnl_socket_open(NETLINK_GENERIC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -1;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, MIGPRIO_FAMILY_NAME);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		mnl_socket_close(nl);
		return -1;
	}
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n <= 0)
			break;
		ret = mnl_cb_run(buf, n, 1, portid, family_cb, r);
	} while (ret > 0);
	mnl_socket_close(nl);
	return r->id ? 0 : -1;
}

static bool module_loaded(void)
{
	struct family_res r;

	return resolve_family(&r) == 0;
}

static int run(const char *cmd)
{
	int ret = system(cmd);

	return WIFEXITED(ret) ? WEXITSTATUS(ret) : 128;
}

/* ------------------------------------------------------------ messages */

/* attribute kinds, for generating plausible values */
enum kind { K_U8, K_U16, K_U32, K_U64, K_STR, K_BIN16, K_BIN };

struct attr_desc {
	uint16_t type;
	enum kind kind;
};

static const struct attr_desc dev_attrs[] = {
	{ MIGPRIO_A_DEV_PAD, K_BIN },
	{ MIGPRIO_A_DEV_IFINDEX, K_U32 },
	{ MIGPRIO_A_DEV_IFNAME, K_STR },
	{ MIGPRIO_A_DEV_PRIORITY, K_U32 },
	{ MIGPRIO_A_DEV_SNDBUF, K_U32 },
	{ MIGPRIO_A_DEV_RCVBUF, K_U32 },
	{ MIGPRIO_A_DEV_DSCP, K_U8 },
	{ MIGPRIO_A_DEV_RATE, K_U64 },
	{ MIGPRIO_A_DEV_CHANGE, K_U8 },
};

static const struct attr_desc rule_attrs[] = {
	{ MIGPRIO_A_RULE_PAD, K_BIN },
	{ MIGPRIO_A_RULE_ID, K_U32 },
	{ MIGPRIO_A_RULE_PROTO, K_U8 },
	{ 4, K_U16 },	/* the retired either-port range */
	{ 5, K_U16 },
	{ MIGPRIO_A_RULE_SERVICE_PORT_MIN, K_U16 },
	{ MIGPRIO_A_RULE_SERVICE_PORT_MAX, K_U16 },
	{ MIGPRIO_A_RULE_LPORT_MIN, K_U16 },
	{ MIGPRIO_A_RULE_LPORT_MAX, K_U16 },
	{ MIGPRIO_A_RULE_RPORT_MIN, K_U16 },
	{ MIGPRIO_A_RULE_RPORT_MAX, K_U16 },
	{ MIGPRIO_A_RULE_PEER_IPV4, K_U32 },
	{ MIGPRIO_A_RULE_PEER_IPV6, K_BIN16 },
	{ MIGPRIO_A_RULE_PEER_PREFIXLEN, K_U8 },
	{ MIGPRIO_A_RULE_CGROUP, K_STR },
	{ MIGPRIO_A_RULE_CGROUP_ID, K_U64 },
	{ MIGPRIO_A_RULE_NAME, K_STR },
	{ MIGPRIO_A_RULE_TX_PACKETS, K_U64 },
	{ MIGPRIO_A_RULE_TX_BYTES, K_U64 },
	{ MIGPRIO_A_RULE_RX_PACKETS, K_U64 },
	{ MIGPRIO_A_RULE_RX_BYTES, K_U64 },
	{ MIGPRIO_A_RULE_FLOWS, K_U64 },
};

static const struct attr_desc flow_attrs[] = {
	{ MIGPRIO_A_FLOW_PROTO, K_U8 },
	{ MIGPRIO_A_FLOW_LOCAL_IPV4, K_U32 },
	{ MIGPRIO_A_FLOW_REMOTE_IPV4, K_U32 },
	{ MIGPRIO_A_FLOW_LOCAL_IPV6, K_BIN16 },
	{ MIGPRIO_A_FLOW_REMOTE_IPV6, K_BIN16 },
	{ MIGPRIO_A_FLOW_LPORT, K_U16 },
	{ MIGPRIO_A_FLOW_RPORT, K_U16 },
	{ MIGPRIO_A_FLOW_DIR, K_U8 },
	{ MIGPRIO_A_FLOW_RULE_ID, K_U32 },
	{ MIGPRIO_A_FLOW_TX_BYTES, K_U64 },
	{ MIGPRIO_A_FLOW_AGE_MS, K_U64 },
	{ MIGPRIO_A_FLOW_END_REASON, K_U8 },
};

static const struct attr_desc rule_batch_attrs[] = {
	{ MIGPRIO_A_RULE_BATCH_RULE, K_BIN },	/* a nest: see put_good_batch() */
	{ MIGPRIO_A_RULE_BATCH_ID, K_U32 },
};

static const struct attr_desc stats_attrs[] = {
	{ MIGPRIO_A_STATS_TX_PACKETS, K_U64 },
	{ MIGPRIO_A_STATS_FLOWS_ACTIVE, K_U32 },
	{ MIGPRIO_A_STATS_RULES, K_U32 },
	{ MIGPRIO_A_STATS_RULES_MAX, K_U32 },
};

#define DESC(a) { a, sizeof(a) / sizeof(a[0]) }
struct attr_set {
	const struct attr_desc *d;
	unsigned int n;
	unsigned int max;	/* highest attribute type of the set */
};

static struct attr_set set_for_cmd(uint8_t cmd)
{
	static const struct attr_set dev = { dev_attrs, ARRAY_SIZE(dev_attrs),
						MIGPRIO_A_DEV_MAX };
	static const struct attr_set rule = { rule_attrs, 20, MIGPRIO_A_RULE_MAX };
	static const struct attr_set flow = { flow_attrs, 12, MIGPRIO_A_FLOW_MAX };
	static const struct attr_set stats = { stats_attrs, 4, MIGPRIO_A_STATS_MAX };
	static const struct attr_set batch = { rule_batch_attrs, 2,
					       MIGPRIO_A_RULE_BATCH_MAX };

	switch (cmd) {
	case MIGPRIO_CMD_DEV_GET:
	case MIGPRIO_CMD_DEV_SET:
	case MIGPRIO_CMD_DEV_CLEAR:
	case MIGPRIO_CMD_DEV_CHANGE_NTF:
		return dev;
	case MIGPRIO_CMD_RULE_ADD:
	case MIGPRIO_CMD_RULE_DEL:
	case MIGPRIO_CMD_RULE_GET:
	case MIGPRIO_CMD_RULE_FLUSH:
		return rule;
	case MIGPRIO_CMD_FLOW_GET:
	case MIGPRIO_CMD_FLOW_START_NTF:
	case MIGPRIO_CMD_FLOW_END_NTF:
		return flow;
	case MIGPRIO_CMD_RULE_ADD_BATCH:
		return batch;
	default:
		return stats;
	}
}

static bool cmd_is_write(uint8_t cmd)
{
	return cmd == MIGPRIO_CMD_DEV_SET || cmd == MIGPRIO_CMD_DEV_CLEAR ||
	       cmd == MIGPRIO_CMD_RULE_ADD || cmd == MIGPRIO_CMD_RULE_DEL ||
	       cmd == MIGPRIO_CMD_RULE_FLUSH ||
	       cmd == MIGPRIO_CMD_RULE_ADD_BATCH;
}

static bool cmd_is_op(uint8_t cmd)
{
	return (cmd >= MIGPRIO_CMD_DEV_GET && cmd <= MIGPRIO_CMD_STATS_GET) ||
	       cmd == MIGPRIO_CMD_RULE_ADD_BATCH;
}

static bool cmd_is_dump(uint8_t cmd)
{
	return cmd == MIGPRIO_CMD_RULE_GET || cmd == MIGPRIO_CMD_FLOW_GET;
}

static uint32_t interesting_u32(struct fuzzer *f)
{
	static const uint32_t v[] = {
		0, 1, 7, 15, 16, 63, 64, 100, 101, 255, 256, 0xffff, 0x10000,
		0x10001, 0x10007, 0xffff0000, MIGPRIO_BUF_MIN - 1, MIGPRIO_BUF_MIN,
		MIGPRIO_NOTSENT_MIN, MIGPRIO_BUF_MAX, MIGPRIO_BUF_MAX + 1,
		0x7fffffff, 0x80000000, 0xffffffff, 4096, 4097,
	};

	if (chance(f, 30))
		return rnd(f);
	return v[rndn(f, sizeof(v) / sizeof(v[0]))];
}

static const char *const strs[] = {
	"lo", "eth0", "mpfz0", "mpfz1", "", "/", "/nonexistent", "/migfz",
	"/sys/fs/cgroup", "..", "/../..", "a", "qemu-migration",
	"0123456789abcdef0123456789abcde",	/* 31: max name */
	"0123456789abcdef0123456789abcdef",	/* 32: one too long */
	"0123456789abcde",			/* 15: max ifname */
	"0123456789abcdef",			/* 16: ifname too long */
	"%s%s%n", "\xff\xfe",
};

/* Put a plausible (often valid, sometimes edge or wrong-sized) value. */
static void put_value(struct fuzzer *f, struct nlmsghdr *nlh,
		      const struct attr_desc *d, uint8_t cmd)
{
	uint16_t type = d->type;
	char s[4200];
	size_t len;

	/* 8%: right type, wrong size */
	if (chance(f, 8)) {
		len = rndn(f, 20);
		rnd_bytes(f, s, len);
		mnl_attr_put(nlh, type, len, s);
		return;
	}
	switch (d->kind) {
	case K_U8:
		if (type == MIGPRIO_A_RULE_PROTO && chance(f, 70))
			mnl_attr_put_u8(nlh, type, chance(f, 70) ? 6 : 17);
		else
			mnl_attr_put_u8(nlh, type, chance(f, 50) ? rndn(f, 70) : rnd(f));
		break;
	case K_U16:
		if (chance(f, 50))
			mnl_attr_put_u16(nlh, type, 49152 + rndn(f, 80));
		else
			mnl_attr_put_u16(nlh, type, chance(f, 20) ? 0 : rnd(f));
		break;
	case K_U32:
		if ((type == MIGPRIO_A_DEV_IFINDEX) && chance(f, 60))
			mnl_attr_put_u32(nlh, type, chance(f, 70) ? f->ifindex : 1);
		else if (type == MIGPRIO_A_RULE_ID && f->nr_rule_ids && chance(f, 70))
			mnl_attr_put_u32(nlh, type,
					 f->rule_ids[rndn(f, f->nr_rule_ids)]);
		else
			mnl_attr_put_u32(nlh, type, interesting_u32(f));
		break;
	case K_U64:
		mnl_attr_put_u64(nlh, type, chance(f, 50) ? interesting_u32(f) :
				 ((uint64_t)rnd(f) << 32) | rnd(f));
		break;
	case K_BIN16:
		rnd_bytes(f, s, 16);
		if (chance(f, 30))
			memset(s, 0, 16);
		mnl_attr_put(nlh, type, 16, s);
		break;
	case K_STR:
		if (chance(f, 3)) {
			/* oversized: longer than any limit */
			len = MIGPRIO_CGROUP_MAXLEN + rndn(f, 60);
			memset(s, 'a' + rndn(f, 26), len);
			s[0] = '/';
			s[len] = 0;
			mnl_attr_put_strz(nlh, type, s);
		} else if (chance(f, 10)) {
			/* not NUL-terminated */
			len = 1 + rndn(f, 40);
			rnd_bytes(f, s, len);
			mnl_attr_put(nlh, type, len, s);
		} else if (type == MIGPRIO_A_RULE_NAME && chance(f, 50)) {
			snprintf(s, sizeof(s), "fz%u", rndn(f, 1000));
			mnl_attr_put_strz(nlh, type, s);
		} else {
			mnl_attr_put_strz(nlh, type,
					  strs[rndn(f, sizeof(strs) / sizeof(strs[0]))]);
		}
		break;
	case K_BIN:
	default:
		len = rndn(f, 24);
		rnd_bytes(f, s, len);
		mnl_attr_put(nlh, type, len, s);
		break;
	}
	(void)cmd;
}

static void put_garbage_attr(struct fuzzer *f, struct nlmsghdr *nlh, int depth)
{
	char s[128];
	uint16_t type = rndn(f, 40);
	size_t len = rndn(f, 64);

	if (chance(f, 15))
		type |= NLA_F_NET_BYTEORDER;
	if (depth < 3 && chance(f, 20)) {
		struct nlattr *nest = mnl_attr_nest_start(nlh, type);
		int i, n = rndn(f, 5);

		for (i = 0; i < n; i++)
			put_garbage_attr(f, nlh, depth + 1);
		mnl_attr_nest_end(nlh, nest);
		if (chance(f, 50))
			nest->nla_type &= ~NLA_F_NESTED;
		return;
	}
	if (chance(f, 15))
		type |= NLA_F_NESTED;
	rnd_bytes(f, s, len);
	mnl_attr_put(nlh, type, len, s);
}

/* A well-formed rule add, likely to succeed (fills the table). */
static void put_good_rule(struct fuzzer *f, struct nlmsghdr *nlh)
{
	uint16_t lo = 1024 + rndn(f, 60000);

	mnl_attr_put_u8(nlh, MIGPRIO_A_RULE_PROTO, chance(f, 80) ? 6 : 17);
	switch (rndn(f, 3)) {
	case 0:
		mnl_attr_put_u16(nlh, MIGPRIO_A_RULE_SERVICE_PORT_MIN, lo);
		mnl_attr_put_u16(nlh, MIGPRIO_A_RULE_SERVICE_PORT_MAX, lo + rndn(f, 64));
		break;
	case 1:
		mnl_attr_put_u16(nlh, MIGPRIO_A_RULE_LPORT_MIN, lo);
		mnl_attr_put_u16(nlh, MIGPRIO_A_RULE_LPORT_MAX, lo);
		break;
	default:
		mnl_attr_put_u16(nlh, MIGPRIO_A_RULE_RPORT_MIN, lo);
		mnl_attr_put_u16(nlh, MIGPRIO_A_RULE_RPORT_MAX, lo + 1);
		break;
	}
	if (chance(f, 40)) {
		mnl_attr_put_u32(nlh, MIGPRIO_A_RULE_PEER_IPV4, htonl(0x0a000000 | (rnd(f) & 0xffff00)));
		mnl_attr_put_u8(nlh, MIGPRIO_A_RULE_PEER_PREFIXLEN, 24);
	} else if (chance(f, 30)) {
		unsigned char a[16] = { 0xfd, 0x00, 0x6d, 0x69 };

		a[15] = rnd(f);
		mnl_attr_put(nlh, MIGPRIO_A_RULE_PEER_IPV6, 16, a);
		mnl_attr_put_u8(nlh, MIGPRIO_A_RULE_PEER_PREFIXLEN, 64 + rndn(f, 65));
	}
	if (chance(f, 10))
		mnl_attr_put_strz(nlh, MIGPRIO_A_RULE_CGROUP, "/");
	if (chance(f, 50)) {
		char name[32];

		snprintf(name, sizeof(name), "fz%u", rnd(f));
		mnl_attr_put_strz(nlh, MIGPRIO_A_RULE_NAME, name);
	}
}

/*
 * A rule-add-batch of well-formed rules, now and then one of them broken
 * (a field garbled, a garbage attribute): all added or none.
 */
static void put_good_batch(struct fuzzer *f, struct nlmsghdr *nlh)
{
	int i, n = 1 + rndn(f, 12);

	for (i = 0; i < n; i++) {
		struct nlattr *nest = mnl_attr_nest_start(nlh,
						MIGPRIO_A_RULE_BATCH_RULE);

		put_good_rule(f, nlh);
		if (chance(f, 5))
			put_value(f, nlh, &rule_attrs[rndn(f, ARRAY_SIZE(rule_attrs))],
				  MIGPRIO_CMD_RULE_ADD);
		if (chance(f, 3))
			put_garbage_attr(f, nlh, 1);
		mnl_attr_nest_end(nlh, nest);
	}
}

struct built {
	uint32_t len;		/* bytes to send for this message */
	bool reply;		/* the kernel will answer it */
	bool hdr_ok;		/* genl header complete and unmodified */
	bool dump;
	uint8_t cmd;
};

/*
 * Build one request at @p (room for @room bytes).  @last: the message may
 * carry an nlmsg_len the netlink core drops silently (only allowed as the
 * last message of a send).
 */
static struct built build_msg(struct fuzzer *f, char *p, size_t room, bool last)
{
	struct built b = { .reply = true, .hdr_ok = true };
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	struct attr_set set;
	unsigned int i, n;
	uint8_t cmd;

	memset(p, 0, MNL_SOCKET_BUFFER_SIZE);
	nlh = mnl_nlmsg_put_header(p);
	nlh->nlmsg_type = f->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++f->seq;
	if (chance(f, 10))
		nlh->nlmsg_pid = rnd(f);	/* the kernel ignores it */
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	if (chance(f, 6))
		cmd = rnd(f);				/* any byte */
	else
		cmd = 1 + rndn(f, MIGPRIO_CMD_MAX);	/* incl. ntf ids */
	g->cmd = cmd;
	g->version = chance(f, 5) ? rnd(f) : MIGPRIO_FAMILY_VERSION;
	/*
	 * genl_header_check() rejects a reserved byte or unknown flags with
	 * EINVAL before the permission check: not "header ok" any more.
	 */
	if (chance(f, 3)) {
		g->reserved = rnd(f);
		b.hdr_ok = !g->reserved;
	}
	b.cmd = cmd;

	/* flags: dumps for the dump commands, wrong flags sometimes */
	if (cmd_is_dump(cmd) ? chance(f, 85) : chance(f, 5))
		nlh->nlmsg_flags |= NLM_F_DUMP;
	if (chance(f, 8)) {
		uint16_t x = rnd(f) & 0xff00;		/* REPLACE/EXCL/... */

		nlh->nlmsg_flags |= x;
	}
	if (chance(f, 5))
		nlh->nlmsg_flags |= NLM_F_ECHO;
	if (chance(f, 2)) {
		nlh->nlmsg_flags &= ~NLM_F_REQUEST;	/* core acks it */
		b.hdr_ok = false;
	}
	b.dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP &&
		 (nlh->nlmsg_flags & NLM_F_REQUEST);
	{
		uint16_t fl = nlh->nlmsg_flags;

		if ((fl & NLM_F_DUMP) == NLM_F_DUMP)
			fl &= ~NLM_F_DUMP;
		if (fl & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO))
			b.hdr_ok = false;
	}

	set = set_for_cmd(cmd);
	if (cmd == MIGPRIO_CMD_RULE_ADD && chance(f, 40)) {
		put_good_rule(f, nlh);
	} else if (cmd == MIGPRIO_CMD_RULE_ADD_BATCH && chance(f, 60)) {
		put_good_batch(f, nlh);
	} else {
		n = rndn(f, 8);
		for (i = 0; i < n; i++) {
			if (chance(f, 75))
				put_value(f, nlh, &set.d[rndn(f, set.n)], cmd);
			else
				put_garbage_attr(f, nlh, 0);
		}
	}
	/* occasionally a duplicate of the first attribute */
	if (chance(f, 3) && nlh->nlmsg_len > MNL_NLMSG_HDRLEN + GENL_HDRLEN + 4) {
		struct nlattr *a = (void *)((char *)nlh + MNL_NLMSG_HDRLEN + GENL_HDRLEN);
		uint16_t alen = MNL_ALIGN(a->nla_len);

		if (a->nla_len >= 4 && nlh->nlmsg_len + alen < room &&
		    MNL_NLMSG_HDRLEN + GENL_HDRLEN + alen <= nlh->nlmsg_len) {
			memcpy((char *)nlh + nlh->nlmsg_len, a, alen);
			nlh->nlmsg_len += alen;
		}
	}
	b.len = nlh->nlmsg_len;

	/* mutations of the framing */
	n = rndn(f, 100);
	if (n < 4 && nlh->nlmsg_len > MNL_NLMSG_HDRLEN + GENL_HDRLEN) {
		/* corrupt one attribute's nla_len */
		struct nlattr *a = (void *)((char *)nlh + MNL_NLMSG_HDRLEN + GENL_HDRLEN);

		a->nla_len = rnd(f);
	} else if (n < 9) {
		/* truncate: cut the message anywhere after the nlmsghdr */
		uint32_t cut = MNL_NLMSG_HDRLEN + rndn(f, nlh->nlmsg_len - MNL_NLMSG_HDRLEN + 1);

		nlh->nlmsg_len = cut;
		b.len = MNL_ALIGN(cut);
		if (cut < MNL_NLMSG_HDRLEN + GENL_HDRLEN)
			b.hdr_ok = false;
	} else if (last && n < 11) {
		/* nlmsg_len beyond the datagram: dropped without reply */
		nlh->nlmsg_len += 4 + rndn(f, 64);
		b.reply = false;
		b.hdr_ok = false;
	} else if (last && n < 12) {
		/* nlmsg_len below the netlink header: dropped */
		nlh->nlmsg_len = rndn(f, MNL_NLMSG_HDRLEN);
		b.reply = false;
		b.hdr_ok = false;
	}
	return b;
}

/* ------------------------------------------------------------ replies */

static int out_find(struct fuzzer *f, uint32_t seq)
{
	unsigned int i;

	for (i = 0; i < f->nr_out; i++)
		if (f->out_seq[i] == seq)
			return i;
	return -1;
}

static void out_del(struct fuzzer *f, int i)
{
	f->nr_out--;
	f->out_seq[i] = f->out_seq[f->nr_out];
	f->out_len[i] = f->out_len[f->nr_out];
	f->out_hdr_ok[i] = f->out_hdr_ok[f->nr_out];
	f->out_cmd[i] = f->out_cmd[f->nr_out];
	f->out_dump[i] = f->out_dump[f->nr_out];
	f->out_off[i] = f->out_off[f->nr_out];
}

/* hex of the start of the request @oi, appended to the failure message */
static void fail_hex(struct fuzzer *f, int oi)
{
	size_t n = strlen(f->fail), i;
	const unsigned char *p = (unsigned char *)f->buf + f->out_off[oi];

	if (n + 8 >= sizeof(f->fail))
		return;
	n += snprintf(f->fail + n, sizeof(f->fail) - n, "; request:");
	for (i = 0; i < f->out_len[oi] && i < 48 && n + 4 < sizeof(f->fail); i++)
		n += snprintf(f->fail + n, sizeof(f->fail) - n, " %02x", p[i]);
}

struct attr_check {
	struct fuzzer *f;
	unsigned int max;
	uint8_t cmd;
};

static int check_attr_cb(const struct nlattr *a, void *data)
{
	struct attr_check *c = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type > c->max) {
		failf(c->f, "reply cmd %u carries attribute %u > max %u",
		      c->cmd, type, c->max);
		return MNL_CB_ERROR;
	}
	if (c->cmd == MIGPRIO_CMD_RULE_ADD && type == MIGPRIO_A_RULE_ID &&
	    mnl_attr_get_payload_len(a) == 4 && c->f->nr_rule_ids < 64)
		c->f->rule_ids[c->f->nr_rule_ids++] = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

/* Validate NLMSG_ERROR; returns the error (<= 0). */
static int check_error(struct fuzzer *f, const struct nlmsghdr *nlh, int oi)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off;

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*e)) {
		failf(f, "short NLMSG_ERROR (%u bytes)", nlh->nlmsg_len);
		return -EIO;
	}
	if (e->error > 0 || e->error < -4095) {
		failf(f, "NLMSG_ERROR with error %d", e->error);
		return -EIO;
	}
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return e->error;
	off = MNL_NLMSG_HDRLEN + sizeof(e->error);
	if (nlh->nlmsg_flags & NLM_F_CAPPED)
		off += sizeof(struct nlmsghdr);
	else
		off += MNL_ALIGN(e->msg.nlmsg_len);
	if (off > nlh->nlmsg_len) {
		failf(f, "extack TLVs start past the message end");
		return -EIO;
	}
	while (off + sizeof(struct nlattr) <= nlh->nlmsg_len) {
		const struct nlattr *a = (void *)((char *)nlh + off);
		uint16_t len = a->nla_len;

		if (len < sizeof(*a) || off + len > nlh->nlmsg_len) {
			failf(f, "malformed extack TLV (len %u)", len);
			return -EIO;
		}
		switch (a->nla_type & NLA_TYPE_MASK) {
		case NLMSGERR_ATTR_MSG:
			if (len == sizeof(*a) ||
			    ((const char *)a)[len - 1] != 0) {
				failf(f, "extack message not NUL-terminated");
				return -EIO;
			}
			f->st.extack_msgs++;
			break;
		case NLMSGERR_ATTR_OFFS:
			if (len != sizeof(*a) + 4) {
				failf(f, "extack offset of size %u", len);
				return -EIO;
			}
			if (oi >= 0 && mnl_attr_get_u32(a) >= f->out_len[oi]) {
				failf(f, "extack offset %u beyond request of %u bytes (cmd %u)",
				      mnl_attr_get_u32(a), f->out_len[oi], f->out_cmd[oi]);
				return -EIO;
			}
			break;
		}
		off += MNL_ALIGN(len);
	}
	return e->error;
}

static void check_reply(struct fuzzer *f, const struct nlmsghdr *nlh)
{
	int oi = out_find(f, nlh->nlmsg_seq);
	const struct genlmsghdr *g;
	struct attr_check c;
	int err;

	f->st.replies++;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		if (oi < 0) {
			failf(f, "NLMSG_ERROR for unknown seq %u", nlh->nlmsg_seq);
			return;
		}
		err = check_error(f, nlh, oi);
		if (err == 0) {
			f->st.acks++;
		} else {
			f->st.errors++;
			if (-err < 136)
				f->st.errno_hist[-err]++;
		}
		if (f->out_hdr_ok[oi] && cmd_is_op(f->out_cmd[oi])) {
			bool w = cmd_is_write(f->out_cmd[oi]);

			/*
			 * unpriv: every op is refused. A do request for a
			 * dump-only command (or the reverse) is no op at all:
			 * 6.12's split ops reject it with EOPNOTSUPP before
			 * the permission check.
			 */
			bool no_op = err == -EOPNOTSUPP &&
				     f->out_dump[oi] != cmd_is_dump(f->out_cmd[oi]);

			if (f->mode == MODE_UNPRIV && err != -EPERM && !no_op)
				failf(f, "unprivileged cmd %u%s got %d, want EPERM",
				      f->out_cmd[oi], f->out_dump[oi] ? " (dump)" : "", err);
			if (f->mode == MODE_USERNS && w && err != -EPERM &&
			    !no_op)
				failf(f, "userns root: write cmd %u got %d, want EPERM",
				      f->out_cmd[oi], err);
			if (f->mode == MODE_USERNS && !w && err == -EPERM)
				failf(f, "userns root: read cmd %u refused (EPERM)",
				      f->out_cmd[oi]);
			if (f->fail[0])
				fail_hex(f, oi);
		}
		out_del(f, oi);
		return;
	}
	if (nlh->nlmsg_type == NLMSG_DONE) {
		if (oi < 0 || !f->out_dump[oi]) {
			failf(f, "NLMSG_DONE for seq %u that is no dump", nlh->nlmsg_seq);
			return;
		}
		if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(int)) {
			failf(f, "short NLMSG_DONE");
			return;
		}
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			f->st.dump_intr++;
		f->st.dumps_done++;
		out_del(f, oi);
		return;
	}
	if (nlh->nlmsg_type != f->family) {
		failf(f, "reply of type %u", nlh->nlmsg_type);
		return;
	}
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + GENL_HDRLEN) {
		failf(f, "genl reply without genl header");
		return;
	}
	g = mnl_nlmsg_get_payload(nlh);
	if (g->cmd < MIGPRIO_CMD_DEV_GET || g->cmd > MIGPRIO_CMD_MAX) {
		failf(f, "reply with cmd %u", g->cmd);
		return;
	}
	/* notifications echoed by NLM_F_ECHO may carry any seq */
	if (oi < 0 && g->cmd < MIGPRIO_CMD_FLOW_START_NTF) {
		failf(f, "reply cmd %u for unknown seq %u", g->cmd, nlh->nlmsg_seq);
		return;
	}
	if (oi >= 0 && f->mode == MODE_UNPRIV) {
		failf(f, "unprivileged cmd %u answered with data", f->out_cmd[oi]);
		return;
	}
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		f->st.dump_intr++;
	c.f = f;
	c.cmd = g->cmd;
	c.max = set_for_cmd(g->cmd).max;
	if (mnl_attr_parse(nlh, GENL_HDRLEN, check_attr_cb, &c) < 0)
		failf(f, "reply cmd %u: attributes do not parse", g->cmd);
	f->st.data++;
}

/* Receive until every outstanding request has its terminator. */
static int drain(struct fuzzer *f)
{
	while (f->nr_out && !f->fail[0]) {
		struct nlmsghdr *nlh;
		ssize_t n;
		int len;

		n = recv(f->fd, f->rbuf, BUFSZ, MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				failf(f, "no reply within %d s for seq %u (cmd %u): hang",
				      RCV_TIMEOUT_S, f->out_seq[0], f->out_cmd[0]);
			else
				failf(f, "recv: %s", strerror(errno));
			return -1;
		}
		if (n > BUFSZ) {
			failf(f, "reply of %zd bytes truncated", n);
			return -1;
		}
		len = n;
		nlh = (struct nlmsghdr *)f->rbuf;
		while (mnl_nlmsg_ok(nlh, len)) {
			check_reply(f, nlh);
			nlh = mnl_nlmsg_next(nlh, &len);
		}
		if (len != 0)
			failf(f, "%d trailing bytes in a reply datagram", len);
	}
	return f->fail[0] ? -1 : 0;
}

/* One send: 1-4 messages (batch), then wait for all replies. */
static int request(struct fuzzer *f, uint8_t cmd, bool dump,
		   void (*fill)(struct fuzzer *, struct nlmsghdr *, void *),
		   void *arg, int *err_out);

static int fuzz_step(struct fuzzer *f)
{
	unsigned int nmsg = chance(f, 10) ? 2 + rndn(f, 3) : 1;
	size_t off = 0;
	bool silent = false;
	unsigned int i;

	for (i = 0; i < nmsg; i++) {
		struct built b;

		if (off + MNL_SOCKET_BUFFER_SIZE > BUFSZ)
			break;
		b = build_msg(f, f->buf + off, BUFSZ - off, i == nmsg - 1);
		if (b.reply) {
			unsigned int k = f->nr_out++;

			f->out_seq[k] = f->seq;
			f->out_len[k] = b.len;
			f->out_hdr_ok[k] = b.hdr_ok;
			f->out_cmd[k] = b.cmd;
			f->out_dump[k] = b.dump;
			f->out_off[k] = off;
		} else {
			silent = true;
		}
		off += MNL_ALIGN(b.len);
		f->st.sent++;
	}
	if (send(f->fd, f->buf, off, 0) < 0) {
		failf(f, "send: %s", strerror(errno));
		return -1;
	}
	f->st.sends++;
	if (drain(f))
		return -1;
	/* the dropped message must not have left anything behind */
	if (silent)
		return request(f, MIGPRIO_CMD_STATS_GET, false, NULL, NULL, NULL);
	return 0;
}

/* Send one well-formed request and collect its replies. */
static int request(struct fuzzer *f, uint8_t cmd, bool dump,
		   void (*fill)(struct fuzzer *, struct nlmsghdr *, void *),
		   void *arg, int *err_out)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(f->buf);
	struct genlmsghdr *g;
	unsigned long errs = f->st.errors;
	unsigned long hist[136];

	memcpy(hist, f->st.errno_hist, sizeof(hist));
	nlh->nlmsg_type = f->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (dump ? NLM_F_DUMP : 0);
	nlh->nlmsg_seq = ++f->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = MIGPRIO_FAMILY_VERSION;
	if (fill)
		fill(f, nlh, arg);
	f->out_seq[0] = f->seq;
	f->out_len[0] = nlh->nlmsg_len;
	f->out_hdr_ok[0] = true;
	f->out_cmd[0] = cmd;
	f->out_dump[0] = dump;
	f->out_off[0] = 0;
	f->nr_out = 1;
	if (send(f->fd, f->buf, nlh->nlmsg_len, 0) < 0) {
		failf(f, "send: %s", strerror(errno));
		return -1;
	}
	f->st.sent++;
	f->st.sends++;
	if (drain(f))
		return -1;
	if (err_out) {
		int e;

		*err_out = 0;
		if (f->st.errors != errs)
			for (e = 1; e < 136; e++)
				if (f->st.errno_hist[e] != hist[e])
					*err_out = -e;
	}
	return 0;
}

static void fill_good_rule(struct fuzzer *f, struct nlmsghdr *nlh, void *arg)
{
	uint16_t port = *(uint16_t *)arg;

	mnl_attr_put_u8(nlh, MIGPRIO_A_RULE_PROTO, 6);
	mnl_attr_put_u16(nlh, MIGPRIO_A_RULE_LPORT_MIN, port);
	mnl_attr_put_u16(nlh, MIGPRIO_A_RULE_LPORT_MAX, port);
	(void)f;
}

static void fill_dev_lo(struct fuzzer *f, struct nlmsghdr *nlh, void *arg)
{
	mnl_attr_put_strz(nlh, MIGPRIO_A_DEV_IFNAME, "lo");
	mnl_attr_put_u32(nlh, MIGPRIO_A_DEV_PRIORITY, rndn(f, 16));
	(void)arg;
}

static void print_stats(const char *what, struct stats *s, double secs)
{
	char hist[512] = "";
	size_t off = 0;
	int e;

	for (e = 1; e < 136; e++)
		if (s->errno_hist[e] && off < sizeof(hist) - 32)
			off += snprintf(hist + off, sizeof(hist) - off, " %s=%lu",
					strerrorname_np(e) ?: "?", s->errno_hist[e]);
	printf("# %s: %lu messages in %lu sends, %.1f s (%.0f msg/s); replies %lu: acks %lu, errors %lu, data %lu, dumps %lu (intr %lu), extack msgs %lu\n",
	       what, s->sent, s->sends, secs, secs > 0 ? s->sent / secs : 0.0,
	       s->replies, s->acks, s->errors, s->data, s->dumps_done,
	       s->dump_intr, s->extack_msgs);
	printf("# %s errnos:%s\n", what, hist);
	fflush(stdout);
}

static void stats_add(struct stats *a, const struct stats *b)
{
	unsigned long *x = (unsigned long *)a;
	const unsigned long *y = (const unsigned long *)b;
	size_t i;

	for (i = 0; i < sizeof(*a) / sizeof(unsigned long); i++)
		x[i] += y[i];
}

/* Random requests until @msgs are sent or @deadline passes. */
static int fuzz_loop(struct fuzzer *f, unsigned long msgs, double deadline)
{
	unsigned long i = 0;

	while (f->st.sent < msgs && !f->fail[0]) {
		if ((i++ & 63) == 0 && now() > deadline)
			break;
		if (f->mode == MODE_ROOT && (i & 1023) == 0) {
			/* keep the table from filling up for good */
			request(f, MIGPRIO_CMD_RULE_FLUSH, false, NULL, NULL, NULL);
			f->nr_rule_ids = 0;
		}
		if (fuzz_step(f))
			break;
	}
	return f->fail[0] ? -1 : 0;
}

/* ------------------------------------------------------------ consistency */

static int final_check(struct fuzzer *f)
{
	int err;

	if (request(f, MIGPRIO_CMD_DEV_GET, false, NULL, NULL, &err))
		return -1;
	if (request(f, MIGPRIO_CMD_RULE_GET, true, NULL, NULL, &err) || err) {
		failf(f, "rule dump after fuzzing: %d", err);
		return -1;
	}
	if (request(f, MIGPRIO_CMD_FLOW_GET, true, NULL, NULL, &err) || err) {
		failf(f, "flow dump after fuzzing: %d", err);
		return -1;
	}
	if (request(f, MIGPRIO_CMD_STATS_GET, false, NULL, NULL, &err) || err) {
		failf(f, "stats get after fuzzing: %d", err);
		return -1;
	}
	if (request(f, MIGPRIO_CMD_RULE_FLUSH, false, NULL, NULL, &err) || err) {
		failf(f, "rule flush after fuzzing: %d", err);
		return -1;
	}
	request(f, MIGPRIO_CMD_DEV_CLEAR, false, NULL, NULL, &err);
	return 0;
}

/* ------------------------------------------------------------ threads */

struct worker {
	pthread_t th;
	struct fuzzer f;
	unsigned long msgs;
	double deadline;
	double secs;
	int kind;		/* 0 fuzz, 1 rule churn + dumps */
};

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	double t0 = now();
	uint16_t port = 20000;
	int err;

	if (w->kind == 0) {
		fuzz_loop(&w->f, w->msgs, w->deadline);
	} else {
		while (w->f.st.sent < w->msgs && !w->f.fail[0] && now() < w->deadline) {
			int i;

			for (i = 0; i < 20; i++) {
				port = 20000 + rndn(&w->f, 200);
				request(&w->f, MIGPRIO_CMD_RULE_ADD, false,
					fill_good_rule, &port, &err);
			}
			request(&w->f, MIGPRIO_CMD_RULE_GET, true, NULL, NULL, &err);
			if (!w->f.fail[0] && err)
				failf(&w->f, "rule dump under churn: %d", err);
			if (rndn(&w->f, 4) == 0)
				request(&w->f, MIGPRIO_CMD_RULE_FLUSH, false, NULL, NULL, &err);
		}
	}
	w->secs = now() - t0;
	return NULL;
}

/* events listener: parses every notification until told to stop */
struct listener {
	pthread_t th;
	struct mnl_socket *nl;
	atomic_bool stop;
	unsigned long events;
	unsigned long overruns;
	char fail[160];
};

static int ntf_attr_cb(const struct nlattr *a, void *data)
{
	(void)data;
	return mnl_attr_get_type(a) > MIGPRIO_A_FLOW_MAX + MIGPRIO_A_DEV_MAX ?
		MNL_CB_ERROR : MNL_CB_OK;
}

static void *listener_fn(void *arg)
{
	struct listener *l = arg;
	char *buf = malloc(BUFSZ);
	int fd = mnl_socket_get_fd(l->nl);
	struct timeval tv = { .tv_usec = 200000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (buf && !atomic_load(&l->stop)) {
		struct nlmsghdr *nlh;
		int len = recv(fd, buf, BUFSZ, 0);

		if (len < 0) {
			if (errno == ENOBUFS)
				l->overruns++;
			continue;
		}
		nlh = (struct nlmsghdr *)buf;
		while (mnl_nlmsg_ok(nlh, len)) {
			const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + GENL_HDRLEN ||
			    g->cmd < MIGPRIO_CMD_FLOW_START_NTF ||
			    g->cmd > MIGPRIO_CMD_MAX ||
			    mnl_attr_parse(nlh, GENL_HDRLEN, ntf_attr_cb, NULL) < 0) {
				snprintf(l->fail, sizeof(l->fail),
					 "bad notification (len %u cmd %u)",
					 nlh->nlmsg_len, g->cmd);
			}
			l->events++;
			nlh = mnl_nlmsg_next(nlh, &len);
		}
	}
	free(buf);
	return NULL;
}

static int listener_start(struct listener *l)
{
	struct family_res r;
	unsigned int grp;

	memset(l, 0, sizeof(*l));
	if (resolve_family(&r) || !r.mcgrp)
		return -1;
	grp = r.mcgrp;
	l->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!l->nl || mnl_socket_bind(l->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -1;
	if (mnl_socket_setsockopt(l->nl, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0)
		return -1;
	return pthread_create(&l->th, NULL, listener_fn, l);
}

static void listener_stop(struct listener *l)
{
	if (!l->nl)
		return;
	atomic_store(&l->stop, true);
	pthread_join(l->th, NULL);
	mnl_socket_close(l->nl);
	printf("# events listener: %lu notifications, %lu overruns\n",
	       l->events, l->overruns);
}

/* ------------------------------------------------------------ fixture */

static const char *ip_bin(void)
{
	return access("/usr/sbin/ip", X_OK) == 0 ? "/usr/sbin/ip" : "/sbin/ip";
}

FIXTURE(nlfuzz) {
	uint16_t family;
	int ifindex;
	double deadline;
	unsigned int seed;
};

FIXTURE_SETUP(nlfuzz)
{
	struct family_res r;
	char cmd[256];

	if (!module_loaded()) {
		if (run("modprobe migprio 2>/dev/null") && getenv("MIGPRIO_KO")) {
			snprintf(cmd, sizeof(cmd), "insmod %s", getenv("MIGPRIO_KO"));
			run(cmd);
		}
	}
	if (resolve_family(&r))
		SKIP(return, "migprio module not available");
	self->family = r.id;
	snprintf(cmd, sizeof(cmd),
		 "%s link add mpfz0 type veth peer name mpfz1 2>/dev/null; %s link set mpfz0 up 2>/dev/null",
		 ip_bin(), ip_bin());
	run(cmd);
	self->ifindex = if_nametoindex("mpfz0") ?: 1;
	/* share of the time budget */
	if (!strcmp(_metadata->name, "root"))
		self->deadline = now() + opt_secs * 0.50;
	else if (!strcmp(_metadata->name, "dump_interrupted"))
		self->deadline = now() + opt_secs * 0.08;
	else if (!strcmp(_metadata->name, "concurrent"))
		self->deadline = now() + opt_secs * 0.27;
	else
		self->deadline = now() + opt_secs * 0.15;
	self->seed = opt_seed ? opt_seed : (unsigned int)time(NULL) ^ getpid();
	printf("# seed %u (rerun with NLFUZZ_SEED=%u)\n", self->seed, self->seed);
}

FIXTURE_TEARDOWN(nlfuzz)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "%s link del mpfz0 2>/dev/null", ip_bin());
	run(cmd);
}

/* After the test: state parses, and the module unloads cleanly. */
static void unload_check(struct __test_metadata *_metadata)
{
	int ret = run("rmmod migprio");

	ASSERT_EQ(0, ret) TH_LOG("rmmod migprio failed after fuzzing");
	/* not through nlctrl: a family lookup autoloads the module */
	ASSERT_NE(0, access("/sys/module/migprio", F_OK))
		TH_LOG("migprio still loaded after rmmod");
}

/* 6.1's harness runs the body even when the setup skipped */
#define REQUIRE_MODULE() do { \
	if (!self->family) \
		SKIP(return, "migprio module not available"); \
} while (0)

static void setup_fuzzer(struct __test_metadata *_metadata, struct fuzzer *f,
			 enum mode mode, FIXTURE_DATA(nlfuzz) *self, unsigned int salt)
{
	ASSERT_EQ(0, fuzzer_open(f, mode, self->seed * 2654435761u + salt));
	f->family = self->family;
	f->ifindex = self->ifindex;
}

TEST_F_TIMEOUT(nlfuzz, root, 600)
{
	struct listener l;
	struct fuzzer f;
	double t0 = now();
	bool have_listener;

	REQUIRE_MODULE();

	setup_fuzzer(_metadata, &f, MODE_ROOT, self, 1);
	have_listener = listener_start(&l) == 0;
	fuzz_loop(&f, opt_msgs * 85 / 100, self->deadline);
	print_stats("root", &f.st, now() - t0);
	if (f.st.sent < opt_msgs * 85 / 100)
		printf("# root: time budget reached before %lu messages\n",
		       opt_msgs * 85 / 100);
	if (have_listener) {
		listener_stop(&l);
		EXPECT_EQ(0, l.fail[0]) TH_LOG("%s", l.fail);
	}
	ASSERT_EQ(0, f.fail[0]) TH_LOG("seed %u: %s", self->seed, f.fail);
	final_check(&f);
	ASSERT_EQ(0, f.fail[0]) TH_LOG("%s", f.fail);
	fuzzer_close(&f);
	unload_check(_metadata);
}

/* Dumps abandoned after the first part, on a table big enough for several. */
TEST_F_TIMEOUT(nlfuzz, dump_interrupted, 600)
{
	struct fuzzer f;
	double t0 = now();
	unsigned long opened = 0, parts = 0;
	uint16_t port;
	int err, i;

	REQUIRE_MODULE();

	setup_fuzzer(_metadata, &f, MODE_ROOT, self, 2);
	/* ~25 rules fit the first 4 KiB part: 200 make a dump of several */
	for (port = 1; port <= 200 && !f.fail[0]; port++)
		request(&f, MIGPRIO_CMD_RULE_ADD, false, fill_good_rule, &port, &err);
	ASSERT_EQ(0, f.fail[0]) TH_LOG("%s", f.fail);
	self->deadline = now() + opt_secs * 0.08;

	while (now() < self->deadline && opened < opt_msgs / 50) {
		struct fuzzer d;
		struct nlmsghdr *nlh;
		struct genlmsghdr *g;
		char *buf;
		int n;

		ASSERT_EQ(0, fuzzer_open(&d, MODE_ROOT, opened + 1));
		buf = d.buf;
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = self->family;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK;
		nlh->nlmsg_seq = 1;
		g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
		g->cmd = opened % 3 ? MIGPRIO_CMD_RULE_GET : MIGPRIO_CMD_FLOW_GET;
		g->version = 1;
		ASSERT_LT(0, send(d.fd, buf, nlh->nlmsg_len, 0));
		f.st.sent++;
		/* read zero or one part, then walk away */
		if (opened & 1) {
			n = recv(d.fd, d.rbuf, 4096, MSG_TRUNC);
			ASSERT_LT(0, n) TH_LOG("no first dump part: %s", strerror(errno));
			parts++;
		}
		/* sometimes churn the table while the dump is parked */
		if ((opened & 7) == 3) {
			port = 1 + opened % 200;
			request(&f, MIGPRIO_CMD_RULE_DEL, false, NULL, NULL, &err);
			request(&f, MIGPRIO_CMD_RULE_ADD, false, fill_good_rule, &port, &err);
		}
		fuzzer_close(&d);
		opened++;
	}
	/* a complete dump afterwards; interrupted markers are fine */
	for (i = 0; i < 5; i++)
		request(&f, MIGPRIO_CMD_RULE_GET, true, NULL, NULL, &err);
	printf("# dump_interrupted: %lu dumps abandoned (%lu after one part) in %.1f s, %lu complete dumps, %lu marked DUMP_INTR\n",
	       opened, parts, now() - t0, f.st.dumps_done, f.st.dump_intr);
	ASSERT_EQ(0, f.fail[0]) TH_LOG("%s", f.fail);
	final_check(&f);
	ASSERT_EQ(0, f.fail[0]) TH_LOG("%s", f.fail);
	fuzzer_close(&f);
	unload_check(_metadata);
}

/* A fuzzer in a child that first enters a new network namespace. */
static pid_t netns_child(FIXTURE_DATA(nlfuzz) *self, unsigned long msgs,
			 unsigned int salt, int cycles)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	for (int c = 0; c < cycles; c++) {
		pid_t p = fork();

		if (p == 0) {
			struct fuzzer f;
			double t0 = now();
			uint16_t port;
			int err;

			if (unshare(CLONE_NEWNET))
				_exit(4);
			run("/usr/sbin/ip link set lo up 2>/dev/null");
			if (fuzzer_open(&f, MODE_ROOT, self->seed + salt + c))
				_exit(3);
			f.family = self->family;
			f.ifindex = 1;
			/* configure, so netns exit has state to free */
			request(&f, MIGPRIO_CMD_DEV_SET, false, fill_dev_lo, NULL, &err);
			port = 49152 + c;
			request(&f, MIGPRIO_CMD_RULE_ADD, false, fill_good_rule, &port, &err);
			fuzz_loop(&f, msgs / cycles, self->deadline);
			if (c == 0)
				print_stats("netns", &f.st, now() - t0);
			if (f.fail[0]) {
				printf("# netns child: %s\n", f.fail);
				_exit(1);
			}
			_exit(0);	/* the netns dies with its state */
		}
		int st;

		waitpid(p, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 2);
	}
	_exit(0);
}

TEST_F_TIMEOUT(nlfuzz, concurrent, 600)
{
	struct worker w[5];
	struct stats total = { 0 };
	double t0 = now();
	unsigned long each = opt_msgs * 15 / 100 / 6;
	pid_t child;
	int i, st;

	REQUIRE_MODULE();

	child = netns_child(self, each, 100, 4);
	ASSERT_LT(0, child);
	for (i = 0; i < 5; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		setup_fuzzer(_metadata, &w[i].f, MODE_ROOT, self, 10 + i);
		w[i].msgs = each;
		w[i].deadline = self->deadline;
		w[i].kind = i == 4;
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, worker_fn, &w[i]));
	}
	for (i = 0; i < 5; i++) {
		pthread_join(w[i].th, NULL);
		stats_add(&total, &w[i].f.st);
	}
	ASSERT_EQ(child, waitpid(child, &st, 0));
	print_stats("concurrent (5 threads, init netns)", &total, now() - t0);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(0, w[i].f.fail[0]) TH_LOG("thread %d: %s", i, w[i].f.fail);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("netns child failed (status %#x)", st);
	final_check(&w[0].f);
	ASSERT_EQ(0, w[0].f.fail[0]) TH_LOG("%s", w[0].f.fail);
	for (i = 0; i < 5; i++)
		fuzzer_close(&w[i].f);
	unload_check(_metadata);
}

static int drop_privileges(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return -1;
	/* a uid change clears "dumpable": /proc/self/uid_map would be root's */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	if (syscall(SYS_capget, &h, d))
		return -1;
	return (d[0].effective | d[1].effective | d[0].permitted) ? -1 : 0;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

/* child: fuzz in @mode; exit 0 pass, 1 fail, 4 setup impossible */
static void unpriv_child(FIXTURE_DATA(nlfuzz) *self, enum mode mode,
			 unsigned long msgs, double deadline)
{
	struct fuzzer f;
	double t0;

	if (drop_privileges())
		_exit(4);
	if (mode == MODE_USERNS) {
		if (unshare(CLONE_NEWUSER))
			_exit(4);
		if (write_file("/proc/self/setgroups", "deny") ||
		    write_file("/proc/self/uid_map", "0 65534 1") ||
		    write_file("/proc/self/gid_map", "0 65534 1"))
			_exit(4);
		if (unshare(CLONE_NEWNET))
			_exit(4);
	}
	if (fuzzer_open(&f, mode, self->seed + mode))
		_exit(4);
	f.family = self->family;
	f.ifindex = self->ifindex;
	t0 = now();
	fuzz_loop(&f, msgs, deadline);
	print_stats(mode == MODE_UNPRIV ? "uid 65534" : "userns root", &f.st, now() - t0);
	if (f.fail[0]) {
		printf("# %s\n", f.fail);
		fflush(stdout);
		_exit(1);
	}
	_exit(0);
}

TEST_F_TIMEOUT(nlfuzz, unprivileged, 600)
{
	double mid = now() + (self->deadline - now()) * 0.7;
	struct fuzzer f;
	pid_t pid;
	int st;

	REQUIRE_MODULE();

	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		unpriv_child(self, MODE_UNPRIV, opt_msgs, mid);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("uid 65534 child died (%#x)", st);
	ASSERT_EQ(0, WEXITSTATUS(st)) TH_LOG("uid 65534 fuzzing failed");

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		unpriv_child(self, MODE_USERNS, opt_msgs / 4, self->deadline);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("userns child died (%#x)", st);
	if (WEXITSTATUS(st) == 4)
		printf("# user namespaces unavailable: userns part skipped\n");
	else
		ASSERT_EQ(0, WEXITSTATUS(st)) TH_LOG("userns root fuzzing failed");

	setup_fuzzer(_metadata, &f, MODE_ROOT, self, 3);
	final_check(&f);
	ASSERT_EQ(0, f.fail[0]) TH_LOG("%s", f.fail);
	fuzzer_close(&f);
	unload_check(_metadata);
}

static void __attribute__((constructor)) __constructor_order_last(void)
{
	if (!__constructor_order)
		__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD;
}

int main(int argc, char **argv)
{
	struct __fixture_metadata *fm;
	struct __test_metadata *t;
	const char *e;
	int i, j = 1;

	if ((e = getenv("NLFUZZ_MSGS")))
		opt_msgs = strtoul(e, NULL, 0);
	if ((e = getenv("NLFUZZ_SECS")))
		opt_secs = strtoul(e, NULL, 0);
	if ((e = getenv("NLFUZZ_SEED")))
		opt_seed = strtoul(e, NULL, 0);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--long")) {
			opt_long = true;
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			opt_seed = strtoul(argv[++i], NULL, 0);
		} else {
			argv[j++] = argv[i];
		}
	}
	argv[j] = NULL;
	if (opt_long) {
		opt_msgs *= 10;
		opt_secs *= 10;
	}
	/* the harness kills a test at its timeout: keep it above the budget */
	for (fm = __fixture_list; fm; fm = fm->next)
		for (t = fm->tests; t; t = t->next)
			if (t->timeout < (int)opt_secs + 120)
				t->timeout = opt_secs + 120;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	return test_harness_run(j, argv);
}
