// SPDX-License-Identifier: GPL-2.0
/*
 * The "migprio" generic netlink family (Documentation/netlink/specs/
 * migprio.yaml): strict per-operation policies, request parsing, and every
 * message the module sends: replies, dumps and notifications. Other files
 * call a notify function (mp_nl_dev_notify(), mp_nl_flow_notify()) and
 * never put attributes themselves.
 *
 * Changes need CAP_NET_ADMIN in the initial user namespace (the priority
 * lands on a shared NIC); reads and joining the "events" group need
 * CAP_NET_ADMIN over the netns (GENL_MCAST_CAP_NET_ADMIN, checked by
 * genetlink against the netns' user namespace). A
 * rejected request gets an errno and an extack message with the offending
 * attribute, and changes nothing: everything is parsed and checked before
 * config.c is asked to build and publish a new configuration.
 */
#include <linux/jiffies.h>
#include <linux/math64.h>
#include <linux/netdevice.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "compat.h"
#include "config.h"
#include "egress.h"
#include "flows.h"
#include "netlink-gen.h"

static struct genl_family mp_genl_family;

/* Cleared before the family goes away; see mp_genl_unregister(). */
static bool mp_genl_live;

/*
 * Value checks. The policies and the ops table are generated from the spec
 * (netlink-gen.c): types, lengths and plain ranges (NLA_POLICY_MAX) are
 * checked there. What no policy range expresses (a value or a range, a
 * class id) is checked here, not by policy validation functions: on 6.1, a
 * malformed attribute whose policy has a validation function makes
 * netlink_ack() WARN while it dumps the policy into the extack
 * (nla_get_range_unsigned() does not know that validation type).
 */

static int mp_check_priority(const struct nlattr *attr,
			     struct netlink_ext_ack *extack)
{
	u32 prio = nla_get_u32(attr);
	u32 major = TC_H_MAJ(prio) >> 16;

	if (prio <= MIGPRIO_PRIO_MAX)
		return 0;
	if (major >= 1 && major <= 0xfffe && TC_H_MIN(prio))
		return 0;
	NL_SET_ERR_MSG_ATTR(extack, attr,
			    "PRIORITY must be 0..15 or a class id MAJ:MIN (MAJ 1..fffe, MIN 1..ffff)");
	return -ERANGE;
}

static int mp_check_buf(const struct nlattr *attr,
			struct netlink_ext_ack *extack)
{
	u32 size = nla_get_u32(attr);

	switch (nla_type(attr)) {
	case MIGPRIO_A_DEV_NOTSENT:
		if (size == MIGPRIO_NOTSENT_AUTO || size == MIGPRIO_NOTSENT_OFF ||
		    (size >= MIGPRIO_NOTSENT_MIN && size <= MIGPRIO_NOTSENT_MAX))
			return 0;
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "NOTSENT must be 16 KiB..1 GiB, 0 (auto) or 0xffffffff (off)");
		break;
	default:
		if (size == MIGPRIO_BUF_AUTO ||
		    (size >= MIGPRIO_BUF_MIN && size <= MIGPRIO_BUF_MAX))
			return 0;
		if (nla_type(attr) == MIGPRIO_A_DEV_SNDBUF)
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "SNDBUF must be 64 KiB..1 GiB or 0 (auto)");
		else
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "RCVBUF must be 64 KiB..1 GiB or 0 (auto)");
		break;
	}
	return -ERANGE;
}

/* Check every dev-set value; the first bad one is reported. */
static int mp_nl_check_dev(struct genl_info *info)
{
	static const int bufs[] = {
		MIGPRIO_A_DEV_SNDBUF, MIGPRIO_A_DEV_RCVBUF, MIGPRIO_A_DEV_NOTSENT,
	};
	struct nlattr **tb = info->attrs;
	unsigned int i;
	int err = 0;

	if (tb[MIGPRIO_A_DEV_PRIORITY])
		err = mp_check_priority(tb[MIGPRIO_A_DEV_PRIORITY], info->extack);
	for (i = 0; !err && i < ARRAY_SIZE(bufs); i++)
		if (tb[bufs[i]])
			err = mp_check_buf(tb[bufs[i]], info->extack);
	return err;
}

static int mp_check_proto(const struct nlattr *attr,
			  struct netlink_ext_ack *extack)
{
	u8 proto = nla_get_u8(attr);

	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
		return 0;
	NL_SET_ERR_MSG_ATTR(extack, attr, "PROTO must be tcp (6) or udp (17)");
	return -EINVAL;
}

/* Messages */

static int mp_nl_put_dev_id(struct sk_buff *skb, const struct mp_config *cfg)
{
	if (nla_put_u32(skb, MIGPRIO_A_DEV_IFINDEX, cfg->ifindex) ||
	    nla_put_string(skb, MIGPRIO_A_DEV_IFNAME, cfg->ifname))
		return -EMSGSIZE;
	return 0;
}

static int mp_nl_put_dev_params(struct sk_buff *skb,
				const struct mp_dev_params *p)
{
	if (nla_put_u32(skb, MIGPRIO_A_DEV_PRIORITY, p->priority) ||
	    nla_put_u32(skb, MIGPRIO_A_DEV_SNDBUF, p->sndbuf) ||
	    nla_put_u32(skb, MIGPRIO_A_DEV_RCVBUF, p->rcvbuf) ||
	    (p->dscp >= 0 && nla_put_u8(skb, MIGPRIO_A_DEV_DSCP, p->dscp)) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_DEV_RATE, p->rate,
			      MIGPRIO_A_DEV_PAD) ||
	    nla_put_u32(skb, MIGPRIO_A_DEV_NOTSENT, p->notsent) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_DEV_LINK_RATE, p->link_rate,
			      MIGPRIO_A_DEV_PAD))
		return -EMSGSIZE;
	return 0;
}

/* Its master, if the designated interface was enslaved since. */
static int mp_nl_put_dev_master(struct sk_buff *skb, struct net *net,
				const struct mp_config *cfg)
{
	struct net_device *dev, *master;
	int err = 0;

	rcu_read_lock();
	dev = dev_get_by_index_rcu(net, cfg->ifindex);
	master = dev ? netdev_master_upper_dev_get_rcu(dev) : NULL;
	if (master)
		err = nla_put_string(skb, MIGPRIO_A_DEV_MASTER, master->name);
	rcu_read_unlock();
	return err;
}

/* The queue devices with the egress guard (egress.c); RTNL held. */
static int mp_nl_put_dev_queue(struct sk_buff *skb, struct net *net)
{
	int ifindex[MIGPRIO_QUEUE_DEVS_MAX];
	unsigned int i, n;
	struct nlattr *nest;

	n = mp_egress_devs(net, ifindex, ARRAY_SIZE(ifindex));
	if (!n)
		return 0;
	nest = nla_nest_start(skb, MIGPRIO_A_DEV_QUEUE_DEVS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++) {
		if (nla_put_u32(skb, MIGPRIO_A_QUEUE_DEV_IFINDEX, ifindex[i])) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * The designated interface, its parameters and queue devices; nothing when
 * there is none. RTNL held: the designation and queue devices agree.
 */
static int mp_nl_put_dev(struct sk_buff *skb, struct net *net,
			 const struct mp_config *cfg)
{
	ASSERT_RTNL();
	if (!cfg->ifindex)
		return 0;
	if (mp_nl_put_dev_id(skb, cfg) ||
	    mp_nl_put_dev_master(skb, net, cfg) ||
	    mp_nl_put_dev_queue(skb, net))
		return -EMSGSIZE;
	return mp_nl_put_dev_params(skb, &cfg->dev);
}

/* A port range; nothing for any port. */
static int mp_nl_put_range(struct sk_buff *skb, int type_min,
			   struct mp_ports p)
{
	if (mp_ports_any(p))
		return 0;
	if (nla_put_u16(skb, type_min, p.min) ||
	    nla_put_u16(skb, type_min + 1, p.max))
		return -EMSGSIZE;
	return 0;
}

/* An address of @family (4 or 6) as its IPv4 or IPv6 attribute. */
static int mp_nl_put_addr(struct sk_buff *skb, int type_v4, int type_v6,
			  u8 family, const u8 *addr)
{
	if (family == 4)
		return nla_put_in_addr(skb, type_v4, *(const __be32 *)addr);
	return nla_put(skb, type_v6, 16, addr);
}

static int mp_nl_put_peer(struct sk_buff *skb, const struct mp_rule_spec *s)
{
	if (!s->family)
		return 0;
	if (mp_nl_put_addr(skb, MIGPRIO_A_RULE_PEER_IPV4,
			   MIGPRIO_A_RULE_PEER_IPV6, s->family, s->peer) ||
	    nla_put_u8(skb, MIGPRIO_A_RULE_PEER_PREFIXLEN, s->plen))
		return -EMSGSIZE;
	return 0;
}

static int mp_nl_put_rule_stats(struct sk_buff *skb, const struct mp_rule *r)
{
	struct mp_counters_sum sum;

	mp_counters_sum(r->ctr, &sum);
	if (nla_put_u64_64bit(skb, MIGPRIO_A_RULE_TX_PACKETS, sum.tx_packets,
			      MIGPRIO_A_RULE_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_RULE_TX_BYTES, sum.tx_bytes,
			      MIGPRIO_A_RULE_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_RULE_RX_PACKETS, sum.rx_packets,
			      MIGPRIO_A_RULE_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_RULE_RX_BYTES, sum.rx_bytes,
			      MIGPRIO_A_RULE_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_RULE_FLOWS,
			      atomic64_read(&r->flows), MIGPRIO_A_RULE_PAD))
		return -EMSGSIZE;
	return 0;
}

static int mp_nl_put_rule(struct sk_buff *skb, const struct mp_rule *r)
{
	const struct mp_rule_spec *s = &r->spec;

	if (nla_put_u32(skb, MIGPRIO_A_RULE_ID, s->id) ||
	    nla_put_u8(skb, MIGPRIO_A_RULE_PROTO, s->proto) ||
	    mp_nl_put_range(skb, MIGPRIO_A_RULE_SERVICE_PORT_MIN, s->port) ||
	    mp_nl_put_range(skb, MIGPRIO_A_RULE_LPORT_MIN, s->lport) ||
	    mp_nl_put_range(skb, MIGPRIO_A_RULE_RPORT_MIN, s->rport) ||
	    mp_nl_put_peer(skb, s) ||
	    (r->cgroup_path &&
	     (nla_put_string(skb, MIGPRIO_A_RULE_CGROUP, r->cgroup_path) ||
	      nla_put_u64_64bit(skb, MIGPRIO_A_RULE_CGROUP_ID,
				READ_ONCE(r->cg.id), MIGPRIO_A_RULE_PAD))) ||
	    (r->name[0] && nla_put_string(skb, MIGPRIO_A_RULE_NAME, r->name)))
		return -EMSGSIZE;
	return mp_nl_put_rule_stats(skb, r);
}

/* Upper bound of a rule message, whatever its strings. */
static size_t mp_nl_rule_size(void)
{
	return genlmsg_total_size(512 + nla_total_size(MIGPRIO_CGROUP_MAXLEN + 1));
}

/* A flow; @end (enum migprio_flow_end) adds the reason and the rate. */
static int mp_nl_put_flow(struct sk_buff *skb, const struct mp_flow *f,
			  int end)
{
	const struct mp_flow_key *k = &f->key;
	unsigned long now = jiffies, last = READ_ONCE(f->last);
	u64 tx = atomic64_read(&f->tx_bytes), rx = atomic64_read(&f->rx_bytes);
	u64 age_ms;

	/* End: the duration, first to last packet. Otherwise the age. */
	age_ms = jiffies_to_msecs((end ? last : now) - f->start);
	if (nla_put_u8(skb, MIGPRIO_A_FLOW_PROTO, k->proto) ||
	    mp_nl_put_addr(skb, MIGPRIO_A_FLOW_LOCAL_IPV4,
			   MIGPRIO_A_FLOW_LOCAL_IPV6, k->family, k->laddr) ||
	    mp_nl_put_addr(skb, MIGPRIO_A_FLOW_REMOTE_IPV4,
			   MIGPRIO_A_FLOW_REMOTE_IPV6, k->family, k->raddr) ||
	    nla_put_u16(skb, MIGPRIO_A_FLOW_LPORT, k->lport) ||
	    nla_put_u16(skb, MIGPRIO_A_FLOW_RPORT, k->rport) ||
	    nla_put_u8(skb, MIGPRIO_A_FLOW_DIR, f->dir) ||
	    nla_put_u32(skb, MIGPRIO_A_FLOW_RULE_ID, READ_ONCE(f->rule_id)) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_FLOW_TX_PACKETS,
			      atomic64_read(&f->tx_packets), MIGPRIO_A_FLOW_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_FLOW_TX_BYTES, tx,
			      MIGPRIO_A_FLOW_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_FLOW_RX_PACKETS,
			      atomic64_read(&f->rx_packets), MIGPRIO_A_FLOW_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_FLOW_RX_BYTES, rx,
			      MIGPRIO_A_FLOW_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_FLOW_AGE_MS, age_ms,
			      MIGPRIO_A_FLOW_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_FLOW_IDLE_MS,
			      jiffies_to_msecs(now - last), MIGPRIO_A_FLOW_PAD))
		return -EMSGSIZE;
	if (!end)
		return 0;
	if (nla_put_u8(skb, MIGPRIO_A_FLOW_END_REASON, end) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_FLOW_RATE,
			      div64_u64((tx + rx) * 1000, max_t(u64, age_ms, 1)),
			      MIGPRIO_A_FLOW_PAD))
		return -EMSGSIZE;
	return 0;
}

/* Notifications */

static bool mp_nl_has_listeners(struct net *net)
{
	return READ_ONCE(mp_genl_live) &&
	       genl_has_listeners(&mp_genl_family, net, MIGPRIO_NLGRP_EVENTS);
}

/*
 * A notification: check mp_nl_has_listeners() first, then mp_nl_ntf_new()
 * (NULL when out of memory or the family is gone), put the attributes
 * (nlmsg_free() on -EMSGSIZE), and mp_nl_ntf_send(), which always consumes
 * @skb and may be called from any context (multicast with GFP_ATOMIC).
 */
static struct sk_buff *mp_nl_ntf_new(u8 cmd, void **hdr, gfp_t gfp)
{
	struct sk_buff *skb;

	if (!READ_ONCE(mp_genl_live))
		return NULL;
	skb = genlmsg_new(NLMSG_GOODSIZE, gfp);
	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &mp_genl_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static void mp_nl_ntf_send(struct net *net, struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
	rcu_read_lock();
	if (READ_ONCE(mp_genl_live))
		genlmsg_multicast_netns(&mp_genl_family, net, skb, 0,
					MIGPRIO_NLGRP_EVENTS, GFP_ATOMIC);
	else
		nlmsg_free(skb);
	rcu_read_unlock();
}

void mp_nl_dev_notify(struct net *net, const struct mp_config *cfg,
		      enum migprio_dev_change change)
{
	struct sk_buff *skb;
	void *hdr;
	int err;

	if (!mp_nl_has_listeners(net))
		return;
	skb = mp_nl_ntf_new(MIGPRIO_CMD_DEV_CHANGE_NTF, &hdr, GFP_KERNEL);
	if (!skb)
		return;
	if (change == MIGPRIO_DEV_CHANGE_SET ||
	    change == MIGPRIO_DEV_CHANGE_MASTER)
		err = mp_nl_put_dev(skb, net, cfg);
	else
		err = mp_nl_put_dev_id(skb, cfg);
	if (err || nla_put_u8(skb, MIGPRIO_A_DEV_CHANGE, change)) {
		nlmsg_free(skb);
		return;
	}
	mp_nl_ntf_send(net, skb, hdr);
}

void mp_nl_flow_notify(const struct mp_flow *f, u8 cmd)
{
	int end = cmd == MIGPRIO_CMD_FLOW_END_NTF ? READ_ONCE(f->end) : 0;
	struct net *net = f->mn->net;
	struct sk_buff *skb;
	void *hdr;

	if (!mp_nl_has_listeners(net))
		return;
	skb = mp_nl_ntf_new(cmd, &hdr, GFP_KERNEL);
	if (!skb)
		return;
	if (mp_nl_put_flow(skb, f, end)) {
		nlmsg_free(skb);
		return;
	}
	mp_nl_ntf_send(net, skb, hdr);
}

/*
 * Dumps. Each part sets cb->seq to the generation of what it walks (the
 * config for rules, the flow table for flows) before the first message,
 * and every message goes through mp_nl_dump_put(): a change between two
 * parts sets NLM_F_DUMP_INTR.
 */
static void *mp_nl_dump_put(struct sk_buff *skb, struct netlink_callback *cb,
			    u8 cmd)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &mp_genl_family, NLM_F_MULTI, cmd);
	if (hdr)
		genl_dump_check_consistent(cb, hdr);
	return hdr;
}

/* dev-* */

static struct mp_net *mp_nl_net(struct genl_info *info)
{
	return mp_net(genl_info_net(info));
}

int migprio_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &mp_genl_family, 0,
				MIGPRIO_CMD_DEV_GET);
	if (!hdr) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	/* the designation changes under RTNL, the queue devices too */
	rtnl_lock();
	rcu_read_lock();
	err = mp_nl_put_dev(msg, genl_info_net(info),
			    mp_config_rcu(mp_nl_net(info)));
	rcu_read_unlock();
	rtnl_unlock();
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static u32 mp_nl_get_u32(struct nlattr **tb, int type, u32 def)
{
	return tb[type] ? nla_get_u32(tb[type]) : def;
}

static u8 mp_nl_get_u8(struct nlattr **tb, int type, u8 def)
{
	return tb[type] ? nla_get_u8(tb[type]) : def;
}

/* Omitted parameters take their defaults: dev-set replaces, not merges. */
static void mp_nl_parse_dev_params(struct nlattr **tb, struct mp_dev_params *p)
{
	mp_dev_params_default(p);
	p->priority = mp_nl_get_u32(tb, MIGPRIO_A_DEV_PRIORITY, p->priority);
	p->sndbuf = mp_nl_get_u32(tb, MIGPRIO_A_DEV_SNDBUF, p->sndbuf);
	p->rcvbuf = mp_nl_get_u32(tb, MIGPRIO_A_DEV_RCVBUF, p->rcvbuf);
	p->notsent = mp_nl_get_u32(tb, MIGPRIO_A_DEV_NOTSENT, p->notsent);
	if (tb[MIGPRIO_A_DEV_DSCP])
		p->dscp = nla_get_u8(tb[MIGPRIO_A_DEV_DSCP]);
	if (tb[MIGPRIO_A_DEV_RATE])
		p->rate = nla_get_u64(tb[MIGPRIO_A_DEV_RATE]);
}

/* The interface named by IFINDEX and/or IFNAME in the caller's netns. */
static struct net_device *mp_nl_dev_lookup(struct genl_info *info)
{
	struct nlattr *idx = info->attrs[MIGPRIO_A_DEV_IFINDEX];
	struct nlattr *name = info->attrs[MIGPRIO_A_DEV_IFNAME];
	struct net *net = genl_info_net(info);
	struct net_device *dev;

	ASSERT_RTNL();
	if (!idx) {
		dev = __dev_get_by_name(net, nla_data(name));
		if (dev)
			return dev;
		NL_SET_ERR_MSG_ATTR(info->extack, name,
				    "IFNAME: no such interface in this network namespace");
		return ERR_PTR(-ENODEV);
	}
	dev = __dev_get_by_index(net, nla_get_u32(idx));
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(info->extack, idx,
				    "IFINDEX: no such interface in this network namespace");
		return ERR_PTR(-ENODEV);
	}
	if (name && nla_strcmp(name, dev->name)) {
		NL_SET_ERR_MSG_ATTR(info->extack, name,
				    "IFNAME and IFINDEX name different interfaces");
		return ERR_PTR(-EINVAL);
	}
	return dev;
}

/*
 * A bond, team, bridge or VRF port: its traffic passes the IP hooks as the
 * master's, so nothing of it would ever match. Name the master instead.
 */
static int mp_nl_check_master(struct genl_info *info, struct net_device *dev)
{
	struct nlattr *attr = info->attrs[MIGPRIO_A_DEV_IFNAME] ? :
			      info->attrs[MIGPRIO_A_DEV_IFINDEX];
	struct net_device *master = netdev_master_upper_dev_get(dev);

	if (!master)
		return 0;
	mp_set_err_msg_fmt(info->extack, attr,
			   "the interface has a master (bond, team, bridge or VRF port): designate the master",
			   "%s is a slave of %s; designate %s",
			   dev->name, master->name, master->name);
	return -EBUSY;
}

/*
 * The queue devices (QUEUE-DEVS, egress.c): each an interface of the
 * caller's netns, each once, at most MIGPRIO_QUEUE_DEVS_MAX. RTNL held.
 */
static int mp_nl_parse_queue_devs(struct genl_info *info,
				  struct mp_egress_req *q)
{
	struct nlattr *nest = info->attrs[MIGPRIO_A_DEV_QUEUE_DEVS], *a;
	struct net *net = genl_info_net(info);
	struct net_device *dev;
	unsigned int i;
	int rem;

	ASSERT_RTNL();
	q->n = 0;
	if (!nest)
		return 0;
	nla_for_each_nested(a, nest, rem) {
		if (q->n++ == ARRAY_SIZE(q->dev)) {
			NL_SET_ERR_MSG_ATTR(info->extack, a,
					    "QUEUE-DEVS: at most 16 interfaces");
			return -E2BIG;
		}
	}
	q->n = 0;
	nla_for_each_nested(a, nest, rem) {
		dev = __dev_get_by_index(net, nla_get_u32(a));
		if (!dev) {
			NL_SET_ERR_MSG_ATTR(info->extack, a,
					    "QUEUE-DEVS: no such interface in this network namespace");
			return -ENODEV;
		}
		for (i = 0; i < q->n; i++) {
			if (q->dev[i] == dev) {
				NL_SET_ERR_MSG_ATTR(info->extack, a,
						    "QUEUE-DEVS: interface listed twice");
				return -EINVAL;
			}
		}
		q->dev[q->n++] = dev;
	}
	return 0;
}

int migprio_nl_dev_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct mp_net *mn = mp_nl_net(info);
	struct mp_egress_req q;
	struct mp_dev_params p;
	struct net_device *dev;
	int err;

	if (!info->attrs[MIGPRIO_A_DEV_IFINDEX] &&
	    GENL_REQ_ATTR_CHECK(info, MIGPRIO_A_DEV_IFNAME)) {
		GENL_SET_ERR_MSG(info, "IFINDEX or IFNAME required");
		return -EINVAL;
	}
	err = mp_nl_check_dev(info);
	if (err)
		return err;
	mp_nl_parse_dev_params(info->attrs, &p);
	rtnl_lock();
	dev = mp_nl_dev_lookup(info);
	err = IS_ERR(dev) ? PTR_ERR(dev) : mp_nl_check_master(info, dev);
	if (!err)
		err = mp_nl_parse_queue_devs(info, &q);
	if (!err) {
		p.link_rate = mp_dev_link_rate(dev);
		mutex_lock(&mn->lock);
		err = mp_dev_set_locked(mn, dev, &p, &q);
		mutex_unlock(&mn->lock);
	}
	rtnl_unlock();
	return err;
}

int migprio_nl_dev_clear_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct mp_net *mn = mp_nl_net(info);
	int err;

	rtnl_lock();
	mutex_lock(&mn->lock);
	err = mp_dev_clear_locked(mn, MIGPRIO_DEV_CHANGE_CLEAR);
	mutex_unlock(&mn->lock);
	rtnl_unlock();
	return err;
}

/* rule-* */

static int mp_nl_bad_range(struct netlink_ext_ack *extack,
			   const struct nlattr *max)
{
	switch (nla_type(max)) {
	case MIGPRIO_A_RULE_SERVICE_PORT_MAX:
		NL_SET_ERR_MSG_ATTR(extack, max,
				    "SERVICE_PORT_MAX is below SERVICE_PORT_MIN");
		break;
	case MIGPRIO_A_RULE_LPORT_MAX:
		NL_SET_ERR_MSG_ATTR(extack, max, "LPORT_MAX is below LPORT_MIN");
		break;
	default:
		NL_SET_ERR_MSG_ATTR(extack, max, "RPORT_MAX is below RPORT_MIN");
		break;
	}
	return -EINVAL;
}

/*
 * A port range: MIN alone is a single port, MAX alone a range from 0,
 * neither is any port.
 */
static int mp_nl_parse_range(struct nlattr **tb, int type_min,
			     struct mp_ports *p, struct netlink_ext_ack *extack)
{
	struct nlattr *amin = tb[type_min];
	struct nlattr *amax = tb[type_min + 1];

	*p = MP_PORTS_ANY;
	if (amin)
		p->min = nla_get_u16(amin);
	if (amax)
		p->max = nla_get_u16(amax);
	else if (amin)
		p->max = p->min;
	if (p->min > p->max)
		return mp_nl_bad_range(extack, amax);
	return 0;
}

static void mp_prefix_mask(u8 *addr, unsigned int width, unsigned int plen)
{
	unsigned int i;

	for (i = plen; i < width; i++)
		addr[i / 8] &= ~(0x80 >> (i % 8));
}

static int mp_nl_parse_peer(struct nlattr **tb, struct mp_rule_spec *s,
			    struct netlink_ext_ack *extack)
{
	struct nlattr *v4 = tb[MIGPRIO_A_RULE_PEER_IPV4];
	struct nlattr *v6 = tb[MIGPRIO_A_RULE_PEER_IPV6];
	struct nlattr *plen = tb[MIGPRIO_A_RULE_PEER_PREFIXLEN];
	unsigned int width = v4 ? 32 : 128;

	if (v4 && v6) {
		NL_SET_ERR_MSG_ATTR(extack, v6,
				    "PEER_IPV4 and PEER_IPV6 are exclusive");
		return -EINVAL;
	}
	if (!v4 && !v6) {
		if (!plen)
			return 0;
		NL_SET_ERR_MSG_ATTR(extack, plen,
				    "PEER_PREFIXLEN without PEER_IPV4 or PEER_IPV6");
		return -EINVAL;
	}
	/* at most 128: the policy */
	s->plen = plen ? nla_get_u8(plen) : width;
	if (s->plen > width) {
		NL_SET_ERR_MSG_ATTR(extack, plen,
				    "PEER_PREFIXLEN is longer than the address");
		return -EINVAL;
	}
	s->family = v4 ? 4 : 6;
	nla_memcpy(s->peer, v4 ? v4 : v6, width / 8);
	mp_prefix_mask(s->peer, width, s->plen);
	return 0;
}

static int mp_nl_parse_cgroup(struct nlattr **tb, struct mp_rule *r,
			      struct netlink_ext_ack *extack)
{
	struct nlattr *attr = tb[MIGPRIO_A_RULE_CGROUP];
	const char *path;
	int err;

	if (!attr)
		return 0;
	path = nla_data(attr);
	if (path[0] != '/') {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "CGROUP must be an absolute cgroup v2 path");
		return -EINVAL;
	}
	/* it may not exist yet: it is resolved again when it appears */
	err = mp_rule_set_cgroup(r, path);
	if (err && err != -ENOMEM)
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "CGROUP: no cgroup v2 hierarchy");
	return err;
}

/* The rule in @tb (rule-add's attributes, or one rule of a batch). */
static int mp_nl_parse_rule(struct nlattr **tb, struct mp_rule *r,
			    struct netlink_ext_ack *extack)
{
	struct mp_rule_spec *s = &r->spec;
	int err;

	if (tb[MIGPRIO_A_RULE_PROTO]) {
		err = mp_check_proto(tb[MIGPRIO_A_RULE_PROTO], extack);
		if (err)
			return err;
	}
	s->proto = mp_nl_get_u8(tb, MIGPRIO_A_RULE_PROTO, IPPROTO_TCP);
	err = mp_nl_parse_range(tb, MIGPRIO_A_RULE_SERVICE_PORT_MIN, &s->port,
				extack);
	if (!err)
		err = mp_nl_parse_range(tb, MIGPRIO_A_RULE_LPORT_MIN, &s->lport,
					extack);
	if (!err)
		err = mp_nl_parse_range(tb, MIGPRIO_A_RULE_RPORT_MIN, &s->rport,
					extack);
	if (!err)
		err = mp_nl_parse_peer(tb, s, extack);
	if (err)
		return err;
	if (tb[MIGPRIO_A_RULE_NAME])
		nla_strscpy(r->name, tb[MIGPRIO_A_RULE_NAME], sizeof(r->name));
	/* Last: it takes a reference. */
	return mp_nl_parse_cgroup(tb, r, extack);
}

int migprio_nl_rule_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct mp_net *mn = mp_nl_net(info);
	struct sk_buff *msg;
	struct mp_rule *r;
	void *hdr;
	int err;

	r = mp_rule_alloc();
	if (!r)
		return -ENOMEM;
	err = mp_nl_parse_rule(info->attrs, r, info->extack);
	if (err)
		goto err_rule;
	err = -ENOMEM;
	msg = genlmsg_new(mp_nl_rule_size(), GFP_KERNEL);
	if (!msg)
		goto err_rule;
	hdr = genlmsg_put_reply(msg, info, &mp_genl_family, 0,
				MIGPRIO_CMD_RULE_ADD);
	if (!hdr)
		goto err_msg;
	mutex_lock(&mn->lock);
	err = mp_rule_add_locked(mn, r, info->extack);
	/* Sized for any rule: cannot fail. Under the lock: @r is published. */
	if (!err)
		WARN_ON_ONCE(mp_nl_put_rule(msg, r));
	mutex_unlock(&mn->lock);
	if (err)
		goto err_msg;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_msg:
	nlmsg_free(msg);
err_rule:
	mp_rule_free(r);
	return err;
}

/*
 * The rule nests of a rule-add-batch request, each parsed into a rule:
 * *nests and *rules arrays of *n (kvfree() both, mp_rule_free() the rules).
 */
static int mp_nl_parse_batch(struct genl_info *info,
			     const struct nlattr ***nests,
			     struct mp_rule ***rules, unsigned int *n)
{
	struct nlattr *tb[MIGPRIO_A_RULE_SERVICE_PORT_MAX + 1];
	unsigned int max = READ_ONCE(mp_max_rules), i = 0;
	const struct nlattr *a;
	int rem, err;

	*n = 0;
	nlmsg_for_each_attr(a, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(a) != MIGPRIO_A_RULE_BATCH_RULE)
			continue;
		if (++*n > max) {
			NL_SET_ERR_MSG_ATTR(info->extack, a,
					    "More rules than max_rules");
			return -ENOSPC;
		}
	}
	*nests = kvcalloc(*n, sizeof(**nests), GFP_KERNEL);
	*rules = kvcalloc(*n, sizeof(**rules), GFP_KERNEL);
	if (!*nests || !*rules)
		return -ENOMEM;
	nlmsg_for_each_attr(a, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(a) != MIGPRIO_A_RULE_BATCH_RULE)
			continue;
		(*nests)[i] = a;
		(*rules)[i] = mp_rule_alloc();
		if (!(*rules)[i])
			return -ENOMEM;
		/* validated with the request: this only fills tb */
		err = nla_parse_nested(tb, MIGPRIO_A_RULE_SERVICE_PORT_MAX, a,
				       migprio_rule_new_nl_policy, info->extack);
		if (!err)
			err = mp_nl_parse_rule(tb, (*rules)[i], info->extack);
		if (err)
			return err;
		i++;
	}
	return 0;
}

int migprio_nl_rule_add_batch_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct mp_net *mn = mp_nl_net(info);
	const struct nlattr **nests = NULL;
	struct mp_rule **rules = NULL;
	struct sk_buff *msg = NULL;
	unsigned int n, i, bad;
	void *hdr;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, MIGPRIO_A_RULE_BATCH_RULE)) {
		GENL_SET_ERR_MSG(info, "RULE required");
		return -EINVAL;
	}
	err = mp_nl_parse_batch(info, &nests, &rules, &n);
	if (err)
		goto out;
	err = -ENOMEM;
	msg = genlmsg_new(n * nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!msg)
		goto out;
	hdr = genlmsg_put_reply(msg, info, &mp_genl_family, 0,
				MIGPRIO_CMD_RULE_ADD_BATCH);
	if (!hdr)
		goto out;
	mutex_lock(&mn->lock);
	err = mp_rules_add_locked(mn, rules, n, &bad, info->extack);
	/* Sized for n ids: cannot fail. Under the lock: the rules are published. */
	for (i = 0; !err && i < n; i++)
		WARN_ON_ONCE(nla_put_u32(msg, MIGPRIO_A_RULE_BATCH_ID,
					 rules[i]->spec.id));
	mutex_unlock(&mn->lock);
	if (err) {
		if (bad < n)
			NL_SET_BAD_ATTR(info->extack, nests[bad]);
		goto out;
	}
	kvfree(rules);
	kvfree(nests);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

out:
	nlmsg_free(msg);
	for (i = 0; rules && i < n; i++)
		if (rules[i])
			mp_rule_free(rules[i]);
	kvfree(rules);
	kvfree(nests);
	return err;
}

int migprio_nl_rule_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct mp_net *mn = mp_nl_net(info);
	struct nlattr *id = info->attrs[MIGPRIO_A_RULE_ID];
	int err;

	if (GENL_REQ_ATTR_CHECK(info, MIGPRIO_A_RULE_ID)) {
		GENL_SET_ERR_MSG(info, "ID required");
		return -EINVAL;
	}
	mutex_lock(&mn->lock);
	err = mp_rule_del_locked(mn, nla_get_u32(id));
	mutex_unlock(&mn->lock);
	if (err == -ENOENT)
		NL_SET_ERR_MSG_ATTR(info->extack, id, "ID: no such rule");
	return err;
}

int migprio_nl_rule_flush_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct mp_net *mn = mp_nl_net(info);
	int err;

	mutex_lock(&mn->lock);
	err = mp_rule_flush_locked(mn);
	mutex_unlock(&mn->lock);
	return err;
}

int mp_nl_rule_dump_start(struct netlink_callback *cb)
{
	cb->min_dump_alloc = mp_nl_rule_size();
	return 0;
}

static int mp_nl_rule_dump_one(struct sk_buff *skb, struct netlink_callback *cb,
			       const struct mp_rule *r)
{
	void *hdr;

	hdr = mp_nl_dump_put(skb, cb, MIGPRIO_CMD_RULE_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (mp_nl_put_rule(skb, r)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* cb->args[0]: the lowest rule id not dumped yet. */
int migprio_nl_rule_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct mp_net *mn = mp_net(sock_net(skb->sk));
	unsigned long next = cb->args[0];
	const struct mp_config *cfg;
	unsigned int i;
	int err = 0;

	/* the rules' counters, with what sockets counted since */
	if (!next)
		mp_flows_fold(mn);
	rcu_read_lock();
	cfg = mp_config_rcu(mn);
	cb->seq = cfg->gen;
	for (i = 0; i < cfg->nrules; i++) {
		const struct mp_rule *r = cfg->rules[i];

		if (r->spec.id < next)
			continue;
		err = mp_nl_rule_dump_one(skb, cb, r);
		if (err)
			break;
		next = (unsigned long)r->spec.id + 1;
	}
	rcu_read_unlock();
	cb->args[0] = next;
	/* A full message per part; an error only if not even one fit. */
	return err && !skb->len ? err : skb->len;
}

/* flow-get */

/*
 * cb->args[0]: the number of flows already sent. New flows are appended
 * at the tail and come in a later part; a removal bumps the generation.
 */
int migprio_nl_flow_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct mp_net *mn = mp_net(sock_net(skb->sk));
	long idx = 0, start = cb->args[0];
	struct mp_flow *f = NULL;
	int err = 0;
	void *hdr;

	rcu_read_lock();
	cb->seq = mp_flows_gen(mn);
	while ((f = mp_flows_next(mn, f))) {
		if (idx < start) {
			idx++;
			continue;
		}
		hdr = mp_nl_dump_put(skb, cb, MIGPRIO_CMD_FLOW_GET);
		if (!hdr) {
			err = -EMSGSIZE;
			break;
		}
		mp_sock_fold(f);
		if (mp_nl_put_flow(skb, f, 0)) {
			genlmsg_cancel(skb, hdr);
			err = -EMSGSIZE;
			break;
		}
		genlmsg_end(skb, hdr);
		idx++;
	}
	rcu_read_unlock();
	cb->args[0] = idx;
	/* A full message per part; an error only if not even one fit. */
	return err && !skb->len ? err : skb->len;
}

/* stats-get */

static int mp_nl_put_stats(struct sk_buff *skb, struct mp_net *mn)
{
	struct mp_events_stats *ev = &mn->ev;
	struct mp_counters_sum sum;
	unsigned int nrules;

	mp_flows_fold(mn);
	mp_counters_sum(mn->ctr, &sum);
	rcu_read_lock();
	nrules = mp_config_rcu(mn)->nrules;
	rcu_read_unlock();
	if (nla_put_u64_64bit(skb, MIGPRIO_A_STATS_TX_PACKETS, sum.tx_packets,
			      MIGPRIO_A_STATS_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_STATS_TX_BYTES, sum.tx_bytes,
			      MIGPRIO_A_STATS_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_STATS_RX_PACKETS, sum.rx_packets,
			      MIGPRIO_A_STATS_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_STATS_RX_BYTES, sum.rx_bytes,
			      MIGPRIO_A_STATS_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_STATS_DSCP_REWRITTEN,
			      atomic64_read(&ev->dscp_rewritten),
			      MIGPRIO_A_STATS_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_STATS_FLOWS_STARTED,
			      atomic64_read(&ev->flows_started),
			      MIGPRIO_A_STATS_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_STATS_FLOWS_ENDED,
			      atomic64_read(&ev->flows_ended),
			      MIGPRIO_A_STATS_PAD) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_STATS_FLOWS_UNTRACKED,
			      atomic64_read(&ev->flows_untracked),
			      MIGPRIO_A_STATS_PAD) ||
	    nla_put_u32(skb, MIGPRIO_A_STATS_FLOWS_ACTIVE, mp_flows_active(mn)) ||
	    nla_put_u32(skb, MIGPRIO_A_STATS_FLOWS_MAX, mp_max_flows) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_STATS_SOCKS_TUNED,
			      atomic64_read(&ev->socks_tuned),
			      MIGPRIO_A_STATS_PAD) ||
	    nla_put_u32(skb, MIGPRIO_A_STATS_RULES, nrules) ||
	    nla_put_u32(skb, MIGPRIO_A_STATS_RULES_MAX, mp_max_rules) ||
	    nla_put_u64_64bit(skb, MIGPRIO_A_STATS_PRIORITY_RESET,
			      mp_egress_resets(mn->net), MIGPRIO_A_STATS_PAD))
		return -EMSGSIZE;
	return 0;
}

int migprio_nl_stats_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &mp_genl_family, 0,
				MIGPRIO_CMD_STATS_GET);
	if (!hdr || mp_nl_put_stats(msg, mp_nl_net(info))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/*
 * The family. The ops table is generated (netlink-gen.c; a genl_ops table,
 * see compat.h); the multicast group is not: the generator of 6.12 cannot
 * give it GENL_MCAST_CAP_NET_ADMIN.
 */

static const struct genl_multicast_group mp_mcgrps[] = {
	/* Events carry addresses, ports and counters: as private as reads. */
	[MIGPRIO_NLGRP_EVENTS] = { .name = MIGPRIO_MCGRP_EVENTS,
			      .flags = GENL_MCAST_CAP_NET_ADMIN },
};

static struct genl_family mp_genl_family __ro_after_init = {
	.name = MIGPRIO_FAMILY_NAME,
	.version = MIGPRIO_FAMILY_VERSION,
	.netnsok = true,
	/* Own locking: RTNL and mp_net.lock for changes, RCU for reads. */
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = migprio_nl_ops,
	.n_ops = ARRAY_SIZE(migprio_nl_ops),
	.mcgrps = mp_mcgrps,
	.n_mcgrps = ARRAY_SIZE(mp_mcgrps),
};

int __init mp_genl_register(void)
{
	int err;

	err = genl_register_family(&mp_genl_family);
	if (!err)
		WRITE_ONCE(mp_genl_live, true);
	return err;
}

/*
 * Notifications can still be sent (flows ending by timer, pernet exit)
 * after the family is gone: stop them first and wait for the senders.
 */
void mp_genl_unregister(void)
{
	WRITE_ONCE(mp_genl_live, false);
	synchronize_rcu();
	genl_unregister_family(&mp_genl_family);
}
