// SPDX-License-Identifier: GPL-2.0
/*
 * The netlink layer of migprioctl (see nlsock.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "nlsock.h"
#include "utils.h"

#define NLSOCK_RBUF_SIZE	65536	/* > the kernel's largest dump skb */
#define NLSOCK_DUMP_RETRIES	5

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK		11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK		10
#endif

void nlsock_err_clear(struct nlsock_err *e)
{
	e->code = 0;
	e->attr = -1;
	e->attr_off = -1;
	e->missing = -1;
	e->msg[0] = '\0';
}

const char *nlsock_errstr(const struct nlsock_err *e)
{
	return e->msg[0] ? e->msg : strerror(-e->code);
}

int nlsock_open(struct nlsock *s, int bus)
{
	int one = 1, ret;

	memset(s, 0, sizeof(*s));
	nlsock_err_clear(&s->err);
	s->rlen = NLSOCK_RBUF_SIZE;
	s->rbuf = malloc(s->rlen);
	if (!s->rbuf)
		return -ENOMEM;
	s->sk = mnl_socket_open(bus);
	if (!s->sk)
		goto err;
	/* Best effort: older kernels lack these; errors then lose detail. */
	mnl_socket_setsockopt(s->sk, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s->sk, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(s->sk, 0, MNL_SOCKET_AUTOPID) < 0)
		goto err;
	s->portid = mnl_socket_get_portid(s->sk);
	s->seq = (uint32_t)time(NULL);
	return 0;
err:
	ret = -errno;
	nlsock_close(s);
	return ret;
}

int nlsock_join(struct nlsock *s, unsigned int grp)
{
	if (mnl_socket_setsockopt(s->sk, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0)
		return -errno;
	return 0;
}

void nlsock_close(struct nlsock *s)
{
	if (s->sk)
		mnl_socket_close(s->sk);
	s->sk = NULL;
	free(s->rbuf);
	s->rbuf = NULL;
}

struct nlmsghdr *nlsock_msg(struct nlsock *s, void *buf, uint16_t type,
			    uint16_t flags)
{
	struct nlmsghdr *nlh;

	/* libmnl leaves attribute padding as it finds it: send no stale bytes */
	memset(buf, 0, NLSOCK_MSG_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++s->seq;
	return nlh;
}

struct nlmsghdr *nlsock_genl_msg(struct nlsock *s, void *buf, uint16_t family,
				 uint8_t cmd, uint8_t version, uint16_t flags)
{
	struct nlmsghdr *nlh = nlsock_msg(s, buf, family, flags);
	struct genlmsghdr *genl;

	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

/* Extended ack TLVs from offset off of an NLMSG_ERROR or NLMSG_DONE. */
static void parse_extack(const struct nlmsghdr *nlh, unsigned int off,
			 const struct nlmsghdr *req, struct nlsock_err *e)
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
			snprintf(e->msg, sizeof(e->msg), "%s",
				 mnl_attr_get_str(a));
			break;
		case NLMSGERR_ATTR_OFFS:
			if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
				break;
			aoff = mnl_attr_get_u32(a);
			if (req && aoff >= MNL_NLMSG_HDRLEN &&
			    aoff + sizeof(struct nlattr) <= req->nlmsg_len) {
				const struct nlattr *bad = (const void *)
					((const char *)req + aoff);

				e->attr = bad->nla_type & NLA_TYPE_MASK;
				e->attr_off = aoff;
			}
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
				break;
			e->missing = mnl_attr_get_u32(a);
			break;
		}
	}
}

/*
 * The outcome an NLMSG_ERROR (0: an ACK) or NLMSG_DONE message carries,
 * into e: code and extended ack; the offending attribute is looked up in
 * req.
 */
static void parse_err(const struct nlmsghdr *nlh, const struct nlmsghdr *req,
		      struct nlsock_err *e)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	unsigned int off;

	nlsock_err_clear(e);
	if (nlh->nlmsg_type == NLMSG_DONE) {
		/* the end of a dump: an error when it failed half-way */
		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
			memcpy(&e->code, mnl_nlmsg_get_payload(nlh),
			       sizeof(e->code));
		off = sizeof(int);
	} else {
		if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
			e->code = -EBADMSG;
			return;
		}
		e->code = err->error;
		off = sizeof(*err);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += MNL_ALIGN(err->msg.nlmsg_len) - sizeof(err->msg);
	}
	parse_extack(nlh, off, req, e);
}

struct pending {
	uint32_t seq;
	const struct nlmsghdr *req;
	void *data;
	struct nlsock_err *err;
	bool done, intr;
};

/* The ACK, error or end of dump that answers p. */
static void handle_ack(struct nlsock *s, const struct nlmsghdr *nlh,
		       struct pending *p)
{
	struct nlsock_err e;

	parse_err(nlh, p->req, &e);
	if (!e.code && p->err->code)
		return;		/* the reply callback failed: keep that */
	*p->err = e;
	if (!e.code && e.msg[0]) {
		/* a warning on success */
		if (s->warn && nlh->nlmsg_type == NLMSG_ERROR)
			pr_warn("%s", e.msg);
		p->err->msg[0] = '\0';
	}
}

/*
 * Receive until every pending request is answered (ack, error or end of
 * dump). Per-request outcomes go to p[i].err; returns 0 or a socket -errno.
 */
static int wait_answers(struct nlsock *s, struct pending *p, unsigned int n,
			nlsock_cb cb)
{
	unsigned int left = n;

	while (left) {
		const struct nlmsghdr *nlh;
		ssize_t ret;
		int len;

		ret = mnl_socket_recvfrom(s->sk, s->rbuf, s->rlen);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len = ret;
		nlh = (const struct nlmsghdr *)s->rbuf;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			uint32_t idx = nlh->nlmsg_seq - p[0].seq;
			struct pending *q;

			if (nlh->nlmsg_pid != s->portid || idx >= n)
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
				handle_ack(s, nlh, q);
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

static int send_buf(struct nlsock *s, const void *buf, size_t len)
{
	if (mnl_socket_sendto(s->sk, buf, len) < 0)
		return -errno;
	return 0;
}

/* One exchange; *intr: the kernel flagged the dump inconsistent. */
static int talk(struct nlsock *s, struct nlmsghdr *req, nlsock_cb cb,
		void *data, bool *intr)
{
	struct pending p = {
		.seq = req->nlmsg_seq, .req = req, .data = data, .err = &s->err,
	};
	int ret;

	nlsock_err_clear(&s->err);
	ret = send_buf(s, req, req->nlmsg_len);
	if (!ret)
		ret = wait_answers(s, &p, 1, cb);
	if (ret)
		s->err.code = ret;
	*intr = p.intr;
	return s->err.code;
}

int nlsock_talk(struct nlsock *s, struct nlmsghdr *req, nlsock_cb cb,
		void *data)
{
	bool intr;

	return talk(s, req, cb, data, &intr);
}

int nlsock_dump(struct nlsock *s, struct nlmsghdr *req, nlsock_cb cb,
		void (*reset)(void *data), void *data)
{
	int attempt, ret;
	bool intr;

	for (attempt = 0; attempt < NLSOCK_DUMP_RETRIES; attempt++) {
		if (attempt) {
			req->nlmsg_seq = ++s->seq;
			if (reset)
				reset(data);
		}
		ret = talk(s, req, cb, data, &intr);
		if (ret || !intr)
			return ret;
	}
	snprintf(s->err.msg, sizeof(s->err.msg),
		 "dump kept changing under us (NLM_F_DUMP_INTR), try again");
	s->err.code = -EAGAIN;
	return s->err.code;
}

int nlsock_batch_init(struct nlsock_batch *b, unsigned int max)
{
	memset(b, 0, sizeof(*b));
	b->size = 8 * NLSOCK_MSG_SIZE;
	b->buf = malloc(b->size);
	b->reqs = calloc(max, sizeof(*b->reqs));
	b->max = max;
	if (!b->buf || !b->reqs) {
		nlsock_batch_free(b);
		return -ENOMEM;
	}
	return 0;
}

void nlsock_batch_free(struct nlsock_batch *b)
{
	free(b->buf);
	free(b->reqs);
	memset(b, 0, sizeof(*b));
}

void nlsock_batch_reset(struct nlsock_batch *b)
{
	b->len = 0;
	b->n = 0;
}

void *nlsock_batch_buf(struct nlsock_batch *b)
{
	if (b->n >= b->max || b->size - b->len < NLSOCK_MSG_SIZE)
		return NULL;
	return b->buf + b->len;
}

void nlsock_batch_add(struct nlsock_batch *b, struct nlmsghdr *nlh)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	b->reqs[b->n++] = nlh;
	b->len += MNL_ALIGN(nlh->nlmsg_len);
}

int nlsock_batch_run(struct nlsock *s, struct nlsock_batch *b, nlsock_cb cb,
		     void **data, struct nlsock_err *errs)
{
	struct pending *p;
	unsigned int i;
	int ret;

	if (!b->n)
		return 0;
	p = calloc(b->n, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (i = 0; i < b->n; i++) {
		nlsock_err_clear(&errs[i]);
		p[i].seq = b->reqs[i]->nlmsg_seq;
		p[i].req = b->reqs[i];
		p[i].data = data ? data[i] : NULL;
		p[i].err = &errs[i];
	}
	ret = send_buf(s, b->buf, b->len);
	if (!ret)
		ret = wait_answers(s, p, b->n, cb);
	free(p);
	return ret;
}

/* The id of the multicast group named name in a CTRL_ATTR_MCAST_GROUPS. */
static uint32_t mcast_grp_id(const struct nlattr *groups, const char *name)
{
	const struct nlattr *g, *x;

	mnl_attr_for_each_nested(g, groups) {
		const char *gname = NULL;
		uint32_t id = 0;

		mnl_attr_for_each_nested(x, g) {
			if (mnl_attr_get_type(x) == CTRL_ATTR_MCAST_GRP_NAME &&
			    mnl_attr_validate(x, MNL_TYPE_NUL_STRING) >= 0)
				gname = mnl_attr_get_str(x);
			else if (mnl_attr_get_type(x) == CTRL_ATTR_MCAST_GRP_ID &&
				 mnl_attr_validate(x, MNL_TYPE_U32) >= 0)
				id = mnl_attr_get_u32(x);
		}
		if (gname && !strcmp(gname, name))
			return id;
	}
	return 0;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlsock_family *f = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		switch (mnl_attr_get_type(a)) {
		case CTRL_ATTR_FAMILY_ID:
			if (mnl_attr_validate(a, MNL_TYPE_U16) >= 0)
				f->id = mnl_attr_get_u16(a);
			break;
		case CTRL_ATTR_VERSION:
			if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
				f->version = mnl_attr_get_u32(a);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			if (f->grp)
				f->grp_id = mcast_grp_id(a, f->grp);
			break;
		}
	}
	return 0;
}

int nlsock_genl_family(struct nlsock *s, const char *name,
		       struct nlsock_family *f)
{
	char buf[NLSOCK_MSG_SIZE];
	struct nlmsghdr *req;

	req = nlsock_genl_msg(s, buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1,
			      NLM_F_ACK);
	mnl_attr_put_strz(req, CTRL_ATTR_FAMILY_NAME, name);
	return nlsock_talk(s, req, family_cb, f);
}
