/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/migprio.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_MIGPRIO_GEN_H
#define _LINUX_MIGPRIO_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/migprio.h>

/* Common nested types */
extern const struct nla_policy migprio_queue_dev_nl_policy[MIGPRIO_A_QUEUE_DEV_IFINDEX + 1];
extern const struct nla_policy migprio_rule_new_nl_policy[MIGPRIO_A_RULE_SERVICE_PORT_MAX + 1];

/* Ops table for migprio */
extern const struct genl_split_ops migprio_nl_ops[10];

int mp_nl_rule_dump_start(struct netlink_callback *cb);

int migprio_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info);
int migprio_nl_dev_set_doit(struct sk_buff *skb, struct genl_info *info);
int migprio_nl_dev_clear_doit(struct sk_buff *skb, struct genl_info *info);
int migprio_nl_rule_add_doit(struct sk_buff *skb, struct genl_info *info);
int migprio_nl_rule_del_doit(struct sk_buff *skb, struct genl_info *info);
int migprio_nl_rule_get_dumpit(struct sk_buff *skb,
			       struct netlink_callback *cb);
int migprio_nl_rule_flush_doit(struct sk_buff *skb, struct genl_info *info);
int migprio_nl_flow_get_dumpit(struct sk_buff *skb,
			       struct netlink_callback *cb);
int migprio_nl_stats_get_doit(struct sk_buff *skb, struct genl_info *info);
int migprio_nl_rule_add_batch_doit(struct sk_buff *skb, struct genl_info *info);

enum {
	MIGPRIO_NLGRP_EVENTS,
};

#endif /* _LINUX_MIGPRIO_GEN_H */
