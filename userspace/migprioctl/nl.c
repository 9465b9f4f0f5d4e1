// SPDX-License-Identifier: GPL-2.0
/*
 * The migprio generic netlink family (see nl.h).
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

/* Attribute names as in Documentation/netlink/specs/migprio.yaml. */
static const char *const dev_attrs[] = {
	[MIGPRIO_A_DEV_IFINDEX] = "ifindex",
	[MIGPRIO_A_DEV_IFNAME] = "ifname",
	[MIGPRIO_A_DEV_PRIORITY] = "priority",
	[MIGPRIO_A_DEV_SNDBUF] = "sndbuf",
	[MIGPRIO_A_DEV_RCVBUF] = "rcvbuf",
	[MIGPRIO_A_DEV_DSCP] = "dscp",
	[MIGPRIO_A_DEV_RATE] = "rate",
	[MIGPRIO_A_DEV_CHANGE] = "change",
	[MIGPRIO_A_DEV_NOTSENT] = "notsent",
	[MIGPRIO_A_DEV_LINK_RATE] = "link-rate",
	[MIGPRIO_A_DEV_MASTER] = "master",
	[MIGPRIO_A_DEV_QUEUE_DEVS] = "queue-devs",
};

static const char *const rule_attrs[] = {
	[MIGPRIO_A_RULE_ID] = "id",
	[MIGPRIO_A_RULE_PROTO] = "proto",
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
	[MIGPRIO_A_RULE_SERVICE_PORT_MIN] = "service-port-min",
	[MIGPRIO_A_RULE_SERVICE_PORT_MAX] = "service-port-max",
};

static const char *const rule_batch_attrs[] = {
	[MIGPRIO_A_RULE_BATCH_RULE] = "rule",
	[MIGPRIO_A_RULE_BATCH_ID] = "id",
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
	case MIGPRIO_CMD_RULE_ADD_BATCH:
		names = rule_batch_attrs;
		n = ARRAY_SIZE(rule_batch_attrs);
		break;
	default:
		return NULL;
	}
	if (type < 0 || (size_t)type >= n)
		return NULL;
	return names[type];
}

void mp_nl_strerror(char *buf, size_t len, const struct nlsock_err *e,
		    uint8_t cmd)
{
	const char *name;
	size_t n;

	n = snprintf(buf, len, "%s", nlsock_errstr(e));
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

void mp_nl_perror(const struct nlsock_err *e, uint8_t cmd)
{
	char buf[512];

	mp_nl_strerror(buf, sizeof(buf), e, cmd);
	pr_err("%s", buf);
}

struct nlmsghdr *mp_nl_req(struct mp_nl *nl, void *buf, uint8_t cmd,
			   uint16_t flags)
{
	return nlsock_genl_msg(&nl->sock, buf, nl->family, cmd,
			       MIGPRIO_FAMILY_VERSION, flags);
}

int mp_nl_do(struct mp_nl *nl, struct nlmsghdr *req, nlsock_cb cb, void *data)
{
	req->nlmsg_flags |= NLM_F_ACK;
	return nlsock_talk(&nl->sock, req, cb, data);
}

int mp_nl_dump(struct mp_nl *nl, uint8_t cmd, nlsock_cb cb,
	       void (*reset)(void *data), void *data)
{
	char buf[MP_NL_REQ_SIZE];

	return nlsock_dump(&nl->sock, mp_nl_req(nl, buf, cmd, NLM_F_DUMP), cb,
			   reset, data);
}

struct nlmsghdr *mp_nl_batch_req(struct mp_nl *nl, struct nlsock_batch *b,
				 uint8_t cmd)
{
	void *buf = nlsock_batch_buf(b);

	return buf ? mp_nl_req(nl, buf, cmd, 0) : NULL;
}

int mp_nl_open(struct mp_nl *nl)
{
	struct nlsock_family fi = { .grp = MIGPRIO_MCGRP_EVENTS };
	int rcvbuf = 1 << 20, ret;

	memset(nl, 0, sizeof(*nl));
	ret = nlsock_open(&nl->sock, NETLINK_GENERIC);
	if (ret)
		return ret;
	/* the family's warnings on success are shown */
	nl->sock.warn = true;
	/* room for the answers of a batch (capped by net.core.rmem_max) */
	setsockopt(mnl_socket_get_fd(nl->sock.sk), SOL_SOCKET, SO_RCVBUF,
		   &rcvbuf, sizeof(rcvbuf));
	ret = nlsock_genl_family(&nl->sock, MIGPRIO_FAMILY_NAME, &fi);
	if (!ret && !fi.id)
		ret = -ENOENT;
	if (ret) {
		mp_nl_close(nl);
		return ret;
	}
	nl->family = fi.id;
	nl->events_grp = fi.grp_id;
	nl->version = fi.version;
	/*
	 * An upgrade that did not reload the module. Version 1 matched a
	 * rule's port on either end and has no service port attributes;
	 * version 2 has no queue devices (dev set leaves them out: no
	 * egress guard).
	 */
	if (fi.version && fi.version < 2)
		pr_warn("the loaded migprio module is older than migprioctl (family version %u, not %u): rules with a port are refused or shown without it; reload it (systemctl stop migprio; modprobe -r migprio; modprobe migprio; systemctl start migprio)",
			fi.version, MIGPRIO_FAMILY_VERSION);
	else if (fi.version && fi.version < MIGPRIO_FAMILY_VERSION)
		pr_warn("the loaded migprio module is older than migprioctl (family version %u, not %u): its queue devices keep no guard against foreign priorities; reload it (systemctl stop migprio; modprobe -r migprio; modprobe migprio; systemctl start migprio)",
			fi.version, MIGPRIO_FAMILY_VERSION);
	return 0;
}

void mp_nl_close(struct mp_nl *nl)
{
	nlsock_close(&nl->sock);
}

int mp_nl_join_events(struct mp_nl *nl)
{
	if (!nl->events_grp)
		return -ENOENT;
	return nlsock_join(&nl->sock, nl->events_grp);
}
