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
	[MIGPRIO_A_DEV_NOTSENT] = "notsent",
	[MIGPRIO_A_DEV_LINK_RATE] = "link-rate",
	[MIGPRIO_A_DEV_MASTER] = "master",
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

struct nl_pending {
	uint32_t seq;
	const struct nlmsghdr *req;
	void *data;
	struct mp_nl_err *err;
	bool done, intr;
};

/* The ACK, error or end of dump that answers p. */
static void handle_ack(const struct nlmsghdr *nlh, struct nl_pending *p)
{
	struct mp_nl_err e;

	mp_nl_parse_err(nlh, p->req, &e);
	if (!e.code && p->err->code)
		return;		/* the reply callback failed: keep that */
	*p->err = e;
	if (!e.code && e.msg[0] && nlh->nlmsg_type == NLMSG_ERROR) {
		pr_warn("%s", e.msg);	/* a warning on success */
		p->err->msg[0] = '\0';
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
			case NLMSG_DONE:
				handle_ack(nlh, q);
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

/* A request of type in buf (MP_NL_REQ_SIZE bytes). */
static struct nlmsghdr *nl_msg(struct mp_nl *nl, void *buf, uint16_t type,
			       uint16_t flags)
{
	/* libmnl leaves attribute padding as it finds it: send no stale bytes */
	memset(buf, 0, MP_NL_REQ_SIZE);
	return mp_nl_hdr(buf, type, flags, ++nl->seq);
}

struct nlmsghdr *mp_nl_req(struct mp_nl *nl, void *buf, uint8_t cmd,
			   uint16_t flags)
{
	struct nlmsghdr *nlh = nl_msg(nl, buf, nl->family, flags);
	struct genlmsghdr *genl;

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

	mp_nl_err_clear(&nl->err);
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

		mp_nl_err_clear(&nl->err);
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

struct nlmsghdr *mp_nl_batch_req(struct mp_nl *nl, struct mp_nl_batch *b,
				 uint8_t cmd)
{
	if (b->n >= b->max || b->size - b->len < MP_NL_REQ_SIZE)
		return NULL;
	return mp_nl_req(nl, b->buf + b->len, cmd, 0);
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
		mp_nl_err_clear(&errs[i]);
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

int mp_nl_open(struct mp_nl *nl)
{
	char buf[MP_NL_REQ_SIZE];
	struct mp_genl_family fi = { .grp = MIGPRIO_MCGRP_EVENTS };
	struct nlmsghdr *req;
	int rcvbuf = 1 << 20, ret;

	memset(nl, 0, sizeof(*nl));
	mp_nl_err_clear(&nl->err);
	nl->rlen = MP_NL_RBUF_SIZE;
	nl->rbuf = malloc(nl->rlen);
	if (!nl->rbuf)
		return -ENOMEM;
	nl->sk = mp_nl_socket(NETLINK_GENERIC, &nl->portid);
	if (!nl->sk) {
		ret = -errno;
		mp_nl_close(nl);
		return ret;
	}
	/* room for the answers of a batch (capped by net.core.rmem_max) */
	setsockopt(mnl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		   sizeof(rcvbuf));
	nl->seq = 0;

	req = nl_msg(nl, buf, GENL_ID_CTRL, 0);
	mp_genl_family_put(req, MIGPRIO_FAMILY_NAME);
	ret = mp_nl_do(nl, req, mp_genl_family_cb, &fi);
	if (!ret && !fi.id)
		ret = -ENOENT;
	if (ret) {
		mp_nl_close(nl);
		return ret;
	}
	nl->family = fi.id;
	nl->events_grp = fi.grp_id;
	return 0;
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
