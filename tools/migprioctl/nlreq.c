// SPDX-License-Identifier: GPL-2.0
/*
 * Netlink helpers shared by nl.c (the migprio family) and, as one
 * request/reply exchange with extended ACKs, by the rtnetlink (qdisc.c) and
 * ethtool generic netlink (rings.c) helpers (see nlreq.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "nlreq.h"

/* Large enough for any one message of a dump (the kernel caps at 32 KiB). */
#define MP_NLREQ_BUFLEN	32768

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK		11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK		10
#endif

struct mnl_socket *mp_nl_socket(int bus, unsigned int *portid)
{
	struct mnl_socket *sk = mnl_socket_open(bus);
	int one = 1, err;

	if (!sk)
		return NULL;
	/* Best effort: older kernels lack these; errors then lose detail. */
	mnl_socket_setsockopt(sk, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(sk, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = errno;
		mnl_socket_close(sk);
		errno = err;
		return NULL;
	}
	*portid = mnl_socket_get_portid(sk);
	return sk;
}

struct nlmsghdr *mp_nl_hdr(void *buf, __u16 type, __u16 flags, __u32 seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	return nlh;
}

/* Extended ack TLVs from offset off of an NLMSG_ERROR or NLMSG_DONE. */
static void parse_extack(const struct nlmsghdr *nlh, unsigned int off,
			 const struct nlmsghdr *req, struct mp_nl_err *e)
{
	const struct nlattr *a;
	__u32 aoff;

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

void mp_nl_err_clear(struct mp_nl_err *e)
{
	e->code = 0;
	e->attr = -1;
	e->missing = -1;
	e->msg[0] = '\0';
}

void mp_nl_parse_err(const struct nlmsghdr *nlh, const struct nlmsghdr *req,
		     struct mp_nl_err *e)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	unsigned int off;

	mp_nl_err_clear(e);
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

void mp_genl_family_put(struct nlmsghdr *nlh, const char *name)
{
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
}

/* The id of the multicast group named name in a CTRL_ATTR_MCAST_GROUPS. */
static __u32 mcast_grp_id(const struct nlattr *groups, const char *name)
{
	const struct nlattr *g, *x;

	mnl_attr_for_each_nested(g, groups) {
		const char *gname = NULL;
		__u32 id = 0;

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

int mp_genl_family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct mp_genl_family *f = data;
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
	return MNL_CB_OK;
}

int mp_nlreq_open(struct mp_nlreq *r, int bus, char *err, size_t errlen)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->buflen = MP_NLREQ_BUFLEN;
	r->buf = malloc(r->buflen);
	if (!r->buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->nl = mp_nl_socket(bus, &r->portid);
	if (!r->nl) {
		snprintf(err, errlen, "cannot open netlink socket: %s",
			 strerror(errno));
		ret = -errno;
		mp_nlreq_close(r);
		return ret;
	}
	r->seq = (unsigned int)time(NULL);
	return 0;
}

void mp_nlreq_close(struct mp_nlreq *r)
{
	if (r->nl)
		mnl_socket_close(r->nl);
	free(r->buf);
	r->nl = NULL;
	r->buf = NULL;
}

struct nlmsghdr *mp_nlreq_msg(struct mp_nlreq *r, __u16 type, __u16 flags)
{
	return mp_nl_hdr(r->buf, type, flags, ++r->seq);
}

struct talk_ctx {
	mnl_cb_t cb;
	void *data;
	struct mp_nl_err err;
};

static int talk_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk_ctx *ctx = data;

	return ctx->cb ? ctx->cb(nlh, ctx->data) : MNL_CB_OK;
}

static int talk_error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk_ctx *ctx = data;

	mp_nl_parse_err(nlh, NULL, &ctx->err);
	if (ctx->err.code < 0)
		return MNL_CB_ERROR;
	ctx->err.msg[0] = '\0';	/* a warning on success is not an error */
	return MNL_CB_STOP;
}

/* The end of a dump; it carries an error when the dump failed half-way. */
static int talk_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk_ctx *ctx = data;
	int error;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(error)) {
		memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
		if (error < 0) {
			ctx->err.code = error;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

static int talk_noop_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

int mp_nlreq_talk(struct mp_nlreq *r, struct nlmsghdr *nlh, mnl_cb_t cb,
		  void *data, const char *what, char *err, size_t errlen)
{
	/* libmnl runs no default for a type within this array. */
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_NOOP] = talk_noop_cb,
		[NLMSG_ERROR] = talk_error_cb,
		[NLMSG_DONE] = talk_done_cb,
	};
	struct talk_ctx ctx = { .cb = cb, .data = data };
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", what, strerror(errno));
		return ret;
	}
	do {
		n = mnl_socket_recvfrom(r->nl, r->buf, r->buflen);
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", what, strerror(errno));
			return ret;
		}
		errno = 0;
		ret = mnl_cb_run2(r->buf, n, seq, r->portid, talk_data_cb,
				  &ctx, ctl, NLMSG_MIN_TYPE);
	} while (ret > MNL_CB_STOP);

	if (ret == MNL_CB_ERROR) {
		if (!ctx.err.code)
			ctx.err.code = errno ? -errno : -EPROTO;
		if (ctx.err.msg[0])
			snprintf(err, errlen, "%s: %s", what, ctx.err.msg);
		else
			snprintf(err, errlen, "%s: %s", what,
				 strerror(-ctx.err.code));
		return ctx.err.code;
	}
	return 0;
}

int mp_nlreq_genl_family(struct mp_nlreq *r, const char *name, __u16 *id,
			 char *err, size_t errlen)
{
	struct nlmsghdr *nlh = mp_nlreq_msg(r, GENL_ID_CTRL, NLM_F_ACK);
	struct mp_genl_family f = { 0 };
	char what[64];
	int ret;

	mp_genl_family_put(nlh, name);
	snprintf(what, sizeof(what), "generic netlink family %s", name);
	ret = mp_nlreq_talk(r, nlh, mp_genl_family_cb, &f, what, err, errlen);
	*id = f.id;
	if (ret == -ENOENT)
		snprintf(err, errlen, "%s is not available in this kernel",
			 what);
	if (!ret && !*id) {
		snprintf(err, errlen, "%s: no id in reply", what);
		ret = -EPROTO;
	}
	return ret;
}
