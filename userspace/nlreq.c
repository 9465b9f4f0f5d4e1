// SPDX-License-Identifier: GPL-2.0
/*
 * One request/reply exchange over netlink with extended ACKs, for the
 * rtnetlink (qdisc.c) and ethtool generic netlink (rings.c) helpers.
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

int mp_nlreq_open(struct mp_nlreq *r, int bus, char *err, size_t errlen)
{
	int one = 1;

	memset(r, 0, sizeof(*r));
	r->buflen = MP_NLREQ_BUFLEN;
	r->buf = malloc(r->buflen);
	if (!r->buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->nl = mnl_socket_open(bus);
	if (!r->nl)
		goto fail;
	/* Best effort: older kernels lack these; errors then lose detail. */
	mnl_socket_setsockopt(r->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(r->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = (unsigned int)time(NULL);
	return 0;

fail:
	snprintf(err, errlen, "cannot open netlink socket: %s", strerror(errno));
	one = -errno;
	mp_nlreq_close(r);
	return one;
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
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++r->seq;
	return nlh;
}

struct talk_ctx {
	mnl_cb_t cb;
	void *data;
	int error;
	char msg[256];
};

static int talk_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk_ctx *ctx = data;

	return ctx->cb ? ctx->cb(nlh, ctx->data) : MNL_CB_OK;
}

static int extack_attr_cb(const struct nlattr *attr, void *data)
{
	struct talk_ctx *ctx = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		snprintf(ctx->msg, sizeof(ctx->msg), "%s",
			 mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int talk_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct talk_ctx *ctx = data;
	unsigned int off = sizeof(*e);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		ctx->error = -EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    mnl_nlmsg_size(off) <= nlh->nlmsg_len)
		mnl_attr_parse(nlh, off, extack_attr_cb, ctx);
	if (e->error < 0) {
		ctx->error = e->error;
		return MNL_CB_ERROR;
	}
	ctx->msg[0] = '\0';	/* a warning on success is not an error */
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
			ctx->error = error;
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
		if (!ctx.error)
			ctx.error = errno ? -errno : -EPROTO;
		if (ctx.msg[0])
			snprintf(err, errlen, "%s: %s", what, ctx.msg);
		else
			snprintf(err, errlen, "%s: %s", what,
				 strerror(-ctx.error));
		return ctx.error;
	}
	return 0;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
		    mnl_attr_validate(attr, MNL_TYPE_U16) >= 0)
			*(__u16 *)data = mnl_attr_get_u16(attr);
	}
	return MNL_CB_OK;
}

int mp_nlreq_genl_family(struct mp_nlreq *r, const char *name, __u16 *id,
			 char *err, size_t errlen)
{
	struct nlmsghdr *nlh = mp_nlreq_msg(r, GENL_ID_CTRL, NLM_F_ACK);
	struct genlmsghdr *g;
	char what[64];
	int ret;

	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
	*id = 0;
	snprintf(what, sizeof(what), "generic netlink family %s", name);
	ret = mp_nlreq_talk(r, nlh, family_cb, id, what, err, errlen);
	if (ret == -ENOENT)
		snprintf(err, errlen, "%s is not available in this kernel",
			 what);
	if (!ret && !*id) {
		snprintf(err, errlen, "%s: no id in reply", what);
		ret = -EPROTO;
	}
	return ret;
}
