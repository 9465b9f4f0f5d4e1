// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink plumbing for migprioctl (see nl.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/migprio.h>

#include "nl.h"
#include "utils.h"

#define MP_NL_RBUF_SIZE		65536	/* > the kernel's largest dump skb */
#define MP_NL_DUMP_RETRIES	5

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK		11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK		10
#endif

/* Attribute names as in Documentation/netlink/specs/migprio.yaml. */
static const char *const dev_attrs[] = {
	[MIGPRIO_A_DEV_IFINDEX] = "ifindex",
	[MIGPRIO_A_DEV_IFNAME] = "ifname",
	[MIGPRIO_A_DEV_PRIORITY] = "priority",
	[MIGPRIO_A_DEV_SNDBUF] = "sndbuf",
	[MIGPRIO_A_DEV_RCVBUF] = "rcvbuf",
	[MIGPRIO_A_DEV_DSCP] = "dscp",
	[MIGPRIO_A_DEV_QUEUE] = "queue",
	[MIGPRIO_A_DEV_RATE] = "rate",
	[MIGPRIO_A_DEV_GUARD] = "guard",
	[MIGPRIO_A_DEV_QDISC_HANDLE] = "qdisc-handle",
	[MIGPRIO_A_DEV_RING_RX] = "ring-rx",
	[MIGPRIO_A_DEV_RING_TX] = "ring-tx",
	[MIGPRIO_A_DEV_RING_RX_PREV] = "ring-rx-prev",
	[MIGPRIO_A_DEV_RING_TX_PREV] = "ring-tx-prev",
	[MIGPRIO_A_DEV_CHANGE] = "change",
};

static const char *const rule_attrs[] = {
	[MIGPRIO_A_RULE_ID] = "id",
	[MIGPRIO_A_RULE_PROTO] = "proto",
	[MIGPRIO_A_RULE_PORT_MIN] = "port-min",
	[MIGPRIO_A_RULE_PORT_MAX] = "port-max",
	[MIGPRIO_A_RULE_LPORT_MIN] = "lport-min",
	[MIGPRIO_A_RULE_LPORT_MAX] = "lport-max",
	[MIGPRIO_A_RULE_RPORT_MIN] = "rport-min",
	[MIGPRIO_A_RULE_RPORT_MAX] = "rport-max",
	[MIGPRIO_A_RULE_PEER_IPV4] = "peer-ipv4",
	[MIGPRIO_A_RULE_PEER_IPV6] = "peer-ipv6",
	[MIGPRIO_A_RULE_PEER_PREFIXLEN] = "peer-prefixlen",
	[MIGPRIO_A_RULE_CGROUP] = "cgroup",
	[MIGPRIO_A_RULE_CGROUP_ID] = "cgroup-id",
	[MIGPRIO_A_RULE_NAME] = "name",
	[MIGPRIO_A_RULE_TX_PACKETS] = "tx-packets",
	[MIGPRIO_A_RULE_TX_BYTES] = "tx-bytes",
	[MIGPRIO_A_RULE_RX_PACKETS] = "rx-packets",
	[MIGPRIO_A_RULE_RX_BYTES] = "rx-bytes",
	[MIGPRIO_A_RULE_FLOWS] = "flows",
};

const char *mp_attr_name(uint8_t cmd, int type)
{
	const char *const *names;
	size_t n;

	switch (cmd) {
	case MIGPRIO_CMD_DEV_GET:
	case MIGPRIO_CMD_DEV_SET:
	case MIGPRIO_CMD_DEV_CLEAR:
		names = dev_attrs;
		n = ARRAY_SIZE(dev_attrs);
		break;
	case MIGPRIO_CMD_RULE_ADD:
	case MIGPRIO_CMD_RULE_DEL:
	case MIGPRIO_CMD_RULE_GET:
	case MIGPRIO_CMD_RULE_FLUSH:
		names = rule_attrs;
		n = ARRAY_SIZE(rule_attrs);
		break;
	default:
		return NULL;
	}
	if (type < 0 || (size_t)type >= n)
		return NULL;
	return names[type];
}

void mp_nl_strerror(char *buf, size_t len, const struct mp_nl_err *e,
		    uint8_t cmd)
{
	const char *name;
	size_t n;

	if (e->msg[0])
		n = snprintf(buf, len, "%s", e->msg);
	else
		n = snprintf(buf, len, "%s", strerror(-e->code));
	if (n >= len)
		return;
	if (e->attr >= 0) {
		name = mp_attr_name(cmd, e->attr);
		if (name)
			snprintf(buf + n, len - n, " (attribute %s)", name);
		else
			snprintf(buf + n, len - n, " (attribute %d)", e->attr);
	} else if (e->missing >= 0) {
		name = mp_attr_name(cmd, e->missing);
		if (name)
			snprintf(buf + n, len - n, " (missing attribute %s)", name);
		else
			snprintf(buf + n, len - n, " (missing attribute %d)",
				 e->missing);
	}
}

void mp_nl_perror(const struct mp_nl_err *e, uint8_t cmd)
{
	char buf[512];

	mp_nl_strerror(buf, sizeof(buf), e, cmd);
	pr_err("%s", buf);
}

static void err_clear(struct mp_nl_err *e)
{
	e->code = 0;
	e->attr = -1;
	e->missing = -1;
	e->msg[0] = '\0';
}

struct nl_pending {
	uint32_t seq;
	const struct nlmsghdr *req;
	void *data;
	struct mp_nl_err *err;
	bool done, intr;
};

/* Extended ack TLVs of an NLMSG_ERROR or NLMSG_DONE message. */
static void parse_extack(const struct nlmsghdr *nlh, unsigned int off,
			 struct nl_pending *p)
{
	const struct nlattr *a;
	uint32_t aoff;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	mnl_attr_for_each(a, nlh, off) {
		switch (mnl_attr_get_type(a)) {
		case NLMSGERR_ATTR_MSG:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
				break;
			snprintf(p->err->msg, sizeof(p->err->msg), "%s",
				 mnl_attr_get_str(a));
			break;
		case NLMSGERR_ATTR_OFFS:
			if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
				break;
			aoff = mnl_attr_get_u32(a);
			if (p->req && aoff >= MNL_NLMSG_HDRLEN &&
			    aoff + sizeof(struct nlattr) <= p->req->nlmsg_len) {
				const struct nlattr *bad = (const void *)
					((const char *)p->req + aoff);

				p->err->attr = bad->nla_type & NLA_TYPE_MASK;
			}
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
				break;
			p->err->missing = mnl_attr_get_u32(a);
			break;
		}
	}
}

static void handle_error(const struct nlmsghdr *nlh, struct nl_pending *p)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	unsigned int off = sizeof(*e);

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*e)) {
		p->err->code = -EBADMSG;
		return;
	}
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += MNL_ALIGN(e->msg.nlmsg_len) - sizeof(e->msg);
	if (e->error || !p->err->code) {
		p->err->code = e->error;
		parse_extack(nlh, off, p);
		if (!e->error && p->err->msg[0]) {
			pr_warn("%s", p->err->msg);
			p->err->msg[0] = '\0';
		}
	}
}

static void handle_done(const struct nlmsghdr *nlh, struct nl_pending *p)
{
	int code = 0;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
		memcpy(&code, mnl_nlmsg_get_payload(nlh), sizeof(code));
	if (code || !p->err->code) {
		p->err->code = code;
		parse_extack(nlh, sizeof(int), p);
	}
}

/*
 * Receive until every pending request is answered (ack, error or end of
 * dump). Per-request outcomes go to p[i].err; returns 0 or a socket -errno.
 */
static int nl_wait(struct mp_nl *nl, struct nl_pending *p, unsigned int n,
		   mp_nl_cb cb)
{
	unsigned int left = n;

	while (left) {
		const struct nlmsghdr *nlh;
		ssize_t ret;
		int len;

		ret = mnl_socket_recvfrom(nl->sk, nl->rbuf, nl->rlen);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len = ret;
		nlh = (const struct nlmsghdr *)nl->rbuf;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			uint32_t idx = nlh->nlmsg_seq - p[0].seq;
			struct nl_pending *q;

			if (nlh->nlmsg_pid != nl->portid || idx >= n)
				continue;	/* not an answer to us */
			q = &p[idx];
			if (q->done || q->seq != nlh->nlmsg_seq)
				continue;
			switch (nlh->nlmsg_type) {
			case NLMSG_NOOP:
			case NLMSG_OVERRUN:
				continue;
			case NLMSG_ERROR:
				handle_error(nlh, q);
				break;
			case NLMSG_DONE:
				handle_done(nlh, q);
				break;
			default:
				if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
					q->intr = true;
				if (cb && !q->err->code) {
					int err = cb(nlh, q->data);

					if (err < 0)
						q->err->code = err;
				}
				/* a do without NLM_F_ACK ends with its reply */
				if (!(nlh->nlmsg_flags & NLM_F_MULTI) &&
				    !(q->req->nlmsg_flags & NLM_F_ACK))
					break;
				continue;
			}
			q->done = true;
			left--;
		}
	}
	return 0;
}

static int nl_send(struct mp_nl *nl, const void *buf, size_t len)
{
	if (mnl_socket_sendto(nl->sk, buf, len) < 0)
		return -errno;
	return 0;
}

struct nlmsghdr *mp_nl_req(struct mp_nl *nl, void *buf, uint8_t cmd,
			   uint16_t flags)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *genl;

	/* libmnl leaves attribute padding as it finds it: send no stale bytes */
	memset(buf, 0, MP_NL_REQ_SIZE);
	nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = nl->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = MIGPRIO_FAMILY_VERSION;
	return nlh;
}

int mp_nl_do(struct mp_nl *nl, struct nlmsghdr *req, mp_nl_cb cb, void *data)
{
	struct nl_pending p = {
		.seq = req->nlmsg_seq, .req = req, .data = data, .err = &nl->err,
	};
	int ret;

	err_clear(&nl->err);
	req->nlmsg_flags |= NLM_F_ACK;
	ret = nl_send(nl, req, req->nlmsg_len);
	if (!ret)
		ret = nl_wait(nl, &p, 1, cb);
	if (ret)
		nl->err.code = ret;
	return nl->err.code;
}

int mp_nl_dump(struct mp_nl *nl, uint8_t cmd, mp_nl_cb cb,
	       void (*reset)(void *data), void *data)
{
	char buf[MP_NL_REQ_SIZE];
	int attempt, ret;

	for (attempt = 0; attempt < MP_NL_DUMP_RETRIES; attempt++) {
		struct nlmsghdr *req = mp_nl_req(nl, buf, cmd, NLM_F_DUMP);
		struct nl_pending p = {
			.seq = req->nlmsg_seq, .req = req, .data = data,
			.err = &nl->err,
		};

		err_clear(&nl->err);
		if (attempt && reset)
			reset(data);
		ret = nl_send(nl, req, req->nlmsg_len);
		if (!ret)
			ret = nl_wait(nl, &p, 1, cb);
		if (ret) {
			nl->err.code = ret;
			return ret;
		}
		if (nl->err.code || !p.intr)
			return nl->err.code;
	}
	snprintf(nl->err.msg, sizeof(nl->err.msg),
		 "dump kept changing under us (NLM_F_DUMP_INTR), try again");
	nl->err.code = -EAGAIN;
	return nl->err.code;
}

int mp_nl_batch_init(struct mp_nl_batch *b, unsigned int max)
{
	memset(b, 0, sizeof(*b));
	b->size = 8 * MP_NL_REQ_SIZE;
	b->buf = malloc(b->size);
	b->reqs = calloc(max, sizeof(*b->reqs));
	b->max = max;
	if (!b->buf || !b->reqs) {
		mp_nl_batch_free(b);
		return -ENOMEM;
	}
	return 0;
}

void mp_nl_batch_free(struct mp_nl_batch *b)
{
	free(b->buf);
	free(b->reqs);
	memset(b, 0, sizeof(*b));
}

void mp_nl_batch_reset(struct mp_nl_batch *b)
{
	b->len = 0;
	b->n = 0;
}

void *mp_nl_batch_room(struct mp_nl_batch *b)
{
	if (b->n >= b->max || b->size - b->len < MP_NL_REQ_SIZE)
		return NULL;
	return b->buf + b->len;
}

void mp_nl_batch_add(struct mp_nl_batch *b, struct nlmsghdr *nlh)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	b->reqs[b->n++] = nlh;
	b->len += MNL_ALIGN(nlh->nlmsg_len);
}

int mp_nl_batch_run(struct mp_nl *nl, struct mp_nl_batch *b, mp_nl_cb cb,
		    void **data, struct mp_nl_err *errs)
{
	struct nl_pending *p;
	unsigned int i;
	int ret;

	if (!b->n)
		return 0;
	p = calloc(b->n, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (i = 0; i < b->n; i++) {
		err_clear(&errs[i]);
		p[i].seq = b->reqs[i]->nlmsg_seq;
		p[i].req = b->reqs[i];
		p[i].data = data ? data[i] : NULL;
		p[i].err = &errs[i];
	}
	ret = nl_send(nl, b->buf, b->len);
	if (!ret)
		ret = nl_wait(nl, p, b->n, cb);
	free(p);
	return ret;
}

struct family_info {
	uint16_t id;
	uint32_t grp;
};

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct family_info *fi = data;
	const struct nlattr *a, *g, *x;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		switch (mnl_attr_get_type(a)) {
		case CTRL_ATTR_FAMILY_ID:
			if (mnl_attr_validate(a, MNL_TYPE_U16) >= 0)
				fi->id = mnl_attr_get_u16(a);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			mnl_attr_for_each_nested(g, a) {
				const char *name = NULL;
				uint32_t id = 0;

				mnl_attr_for_each_nested(x, g) {
					if (mnl_attr_get_type(x) == CTRL_ATTR_MCAST_GRP_NAME &&
					    mnl_attr_validate(x, MNL_TYPE_NUL_STRING) >= 0)
						name = mnl_attr_get_str(x);
					else if (mnl_attr_get_type(x) == CTRL_ATTR_MCAST_GRP_ID &&
						 mnl_attr_validate(x, MNL_TYPE_U32) >= 0)
						id = mnl_attr_get_u32(x);
				}
				if (name && !strcmp(name, MIGPRIO_MCGRP_EVENTS))
					fi->grp = id;
			}
			break;
		}
	}
	return 0;
}

int mp_nl_open(struct mp_nl *nl)
{
	char buf[MP_NL_REQ_SIZE];
	struct family_info fi = { 0 };
	struct nlmsghdr *req;
	int one = 1, rcvbuf = 1 << 20, ret;

	memset(nl, 0, sizeof(*nl));
	err_clear(&nl->err);
	nl->rlen = MP_NL_RBUF_SIZE;
	nl->rbuf = malloc(nl->rlen);
	if (!nl->rbuf)
		return -ENOMEM;
	nl->sk = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sk)
		goto fail;
	if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	nl->portid = mnl_socket_get_portid(nl->sk);
	/* best effort: older kernels lack them, replies still work */
	mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sk, NETLINK_CAP_ACK, &one, sizeof(one));
	/* room for the answers of a batch (capped by net.core.rmem_max) */
	setsockopt(mnl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		   sizeof(rcvbuf));
	nl->seq = 0;

	nl->family = GENL_ID_CTRL;
	req = mp_nl_req(nl, buf, CTRL_CMD_GETFAMILY, 0);
	((struct genlmsghdr *)mnl_nlmsg_get_payload(req))->version = 1;
	mnl_attr_put_strz(req, CTRL_ATTR_FAMILY_NAME, MIGPRIO_FAMILY_NAME);
	ret = mp_nl_do(nl, req, family_cb, &fi);
	if (!ret && !fi.id)
		ret = -ENOENT;
	if (ret) {
		mp_nl_close(nl);
		return ret;
	}
	nl->family = fi.id;
	nl->events_grp = fi.grp;
	return 0;
fail:
	ret = -errno;
	mp_nl_close(nl);
	return ret;
}

void mp_nl_close(struct mp_nl *nl)
{
	if (nl->sk)
		mnl_socket_close(nl->sk);
	nl->sk = NULL;
	free(nl->rbuf);
	nl->rbuf = NULL;
}

int mp_nl_join_events(struct mp_nl *nl)
{
	if (!nl->events_grp)
		return -ENOENT;
	if (mnl_socket_setsockopt(nl->sk, NETLINK_ADD_MEMBERSHIP,
				  &nl->events_grp, sizeof(nl->events_grp)) < 0)
		return -errno;
	return 0;
}
