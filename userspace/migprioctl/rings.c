// SPDX-License-Identifier: GPL-2.0
/*
 * NIC ring sizes over ethtool generic netlink (ETHTOOL_MSG_RINGS_GET/SET),
 * the same requests `ethtool -g` / `ethtool -G` send.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>

#include "nlsock.h"
#include "rings.h"

struct rings_sock {
	struct nlsock sock;
	char buf[NLSOCK_MSG_SIZE];	/* the request */
	__u16 family;
};

/* One request; on error err says "what: <kernel message or strerror>". */
static int rings_talk(struct rings_sock *s, struct nlmsghdr *nlh,
		      nlsock_cb cb, void *data, const char *what, char *err,
		      size_t errlen)
{
	int ret = nlsock_talk(&s->sock, nlh, cb, data);

	if (ret)
		snprintf(err, errlen, "%s: %s", what,
			 nlsock_errstr(&s->sock.err));
	return ret;
}

static int rings_open(struct rings_sock *s, char *err, size_t errlen)
{
	struct nlsock_family f = { 0 };
	const char *what = "generic netlink family " ETHTOOL_GENL_NAME;
	int ret = nlsock_open(&s->sock, NETLINK_GENERIC);

	if (ret) {
		snprintf(err, errlen, "cannot open netlink socket: %s",
			 strerror(-ret));
		return ret;
	}
	ret = nlsock_genl_family(&s->sock, ETHTOOL_GENL_NAME, &f);
	if (ret == -ENOENT)
		snprintf(err, errlen, "%s is not available in this kernel",
			 what);
	else if (ret)
		snprintf(err, errlen, "%s: %s", what,
			 nlsock_errstr(&s->sock.err));
	else if (!f.id) {
		snprintf(err, errlen, "%s: no id in reply", what);
		ret = -EPROTO;
	}
	if (ret)
		nlsock_close(&s->sock);
	s->family = f.id;
	return ret;
}

static struct nlmsghdr *rings_msg(struct rings_sock *s, __u8 cmd,
				  const char *ifname)
{
	struct nlmsghdr *nlh;
	struct nlattr *hdr;

	nlh = nlsock_genl_msg(&s->sock, s->buf, s->family, cmd,
			      ETHTOOL_GENL_VERSION, NLM_F_ACK);
	hdr = mnl_attr_nest_start(nlh, ETHTOOL_A_RINGS_HEADER);
	mnl_attr_put_strz(nlh, ETHTOOL_A_HEADER_DEV_NAME, ifname);
	mnl_attr_nest_end(nlh, hdr);
	return nlh;
}

static int rings_get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct mp_rings *cur = data;
	struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, GENL_HDRLEN) {
		__u32 *dst;

		switch (mnl_attr_get_type(attr)) {
		case ETHTOOL_A_RINGS_RX:
			dst = &cur->rx;
			break;
		case ETHTOOL_A_RINGS_TX:
			dst = &cur->tx;
			break;
		case ETHTOOL_A_RINGS_RX_MAX:
			dst = &cur->rx_max;
			break;
		case ETHTOOL_A_RINGS_TX_MAX:
			dst = &cur->tx_max;
			break;
		default:
			continue;
		}
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return -errno;
		*dst = mnl_attr_get_u32(attr);
	}
	return 0;
}

/* The kernel's message is kept; the unsupported case gets a plain one. */
static void rings_explain(int ret, const char *ifname, char *err,
			  size_t errlen)
{
	if (ret == -EOPNOTSUPP)
		snprintf(err, errlen,
			 "%s: the driver cannot change its ring sizes",
			 ifname);
	else if (ret == -ENODEV)
		snprintf(err, errlen, "%s: no such interface", ifname);
}

int mp_rings_get(const char *ifname, struct mp_rings *cur, char *err,
		 size_t errlen)
{
	struct rings_sock s;
	struct nlmsghdr *nlh;
	char what[64];
	int ret;

	memset(cur, 0, sizeof(*cur));
	ret = rings_open(&s, err, errlen);
	if (ret)
		return ret;
	nlh = rings_msg(&s, ETHTOOL_MSG_RINGS_GET, ifname);
	snprintf(what, sizeof(what), "%s: reading ring sizes", ifname);
	ret = rings_talk(&s, nlh, rings_get_cb, cur, what, err, errlen);
	nlsock_close(&s.sock);
	rings_explain(ret, ifname, err, errlen);
	return ret;
}

int mp_rings_set(const char *ifname, __u32 rx, __u32 tx, char *err,
		 size_t errlen)
{
	struct rings_sock s;
	struct nlmsghdr *nlh;
	char what[64];
	int ret;

	if (!rx && !tx)
		return 0;	/* 0 keeps a ring as it is */
	ret = rings_open(&s, err, errlen);
	if (ret)
		return ret;
	nlh = rings_msg(&s, ETHTOOL_MSG_RINGS_SET, ifname);
	if (rx)
		mnl_attr_put_u32(nlh, ETHTOOL_A_RINGS_RX, rx);
	if (tx)
		mnl_attr_put_u32(nlh, ETHTOOL_A_RINGS_TX, tx);
	snprintf(what, sizeof(what), "%s: setting ring sizes", ifname);
	ret = rings_talk(&s, nlh, NULL, NULL, what, err, errlen);
	nlsock_close(&s.sock);
	rings_explain(ret, ifname, err, errlen);
	return ret;
}
