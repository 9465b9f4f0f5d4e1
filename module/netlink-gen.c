// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/migprio.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "netlink-gen.h"

#include <uapi/linux/migprio.h>

/* Common nested types */
const struct nla_policy migprio_queue_dev_nl_policy[MIGPRIO_A_QUEUE_DEV_IFINDEX + 1] = {
	[MIGPRIO_A_QUEUE_DEV_IFINDEX] = { .type = NLA_U32, },
};

const struct nla_policy migprio_rule_new_nl_policy[MIGPRIO_A_RULE_SERVICE_PORT_MAX + 1] = {
	[MIGPRIO_A_RULE_PROTO] = { .type = NLA_U8, },
	[MIGPRIO_A_RULE_SERVICE_PORT_MIN] = { .type = NLA_U16, },
	[MIGPRIO_A_RULE_SERVICE_PORT_MAX] = { .type = NLA_U16, },
	[MIGPRIO_A_RULE_LPORT_MIN] = { .type = NLA_U16, },
	[MIGPRIO_A_RULE_LPORT_MAX] = { .type = NLA_U16, },
	[MIGPRIO_A_RULE_RPORT_MIN] = { .type = NLA_U16, },
	[MIGPRIO_A_RULE_RPORT_MAX] = { .type = NLA_U16, },
	[MIGPRIO_A_RULE_PEER_IPV4] = { .type = NLA_U32, },
	[MIGPRIO_A_RULE_PEER_IPV6] = NLA_POLICY_EXACT_LEN(16),
	[MIGPRIO_A_RULE_PEER_PREFIXLEN] = NLA_POLICY_MAX(NLA_U8, 128),
	[MIGPRIO_A_RULE_CGROUP] = { .type = NLA_NUL_STRING, .len = MIGPRIO_CGROUP_MAXLEN, },
	[MIGPRIO_A_RULE_NAME] = { .type = NLA_NUL_STRING, .len = MIGPRIO_NAME_MAXLEN, },
};

/* MIGPRIO_CMD_DEV_SET - do */
static const struct nla_policy migprio_dev_set_nl_policy[MIGPRIO_A_DEV_QUEUE_DEVS + 1] = {
	[MIGPRIO_A_DEV_IFINDEX] = { .type = NLA_U32, },
	[MIGPRIO_A_DEV_IFNAME] = { .type = NLA_NUL_STRING, .len = 15, },
	[MIGPRIO_A_DEV_PRIORITY] = { .type = NLA_U32, },
	[MIGPRIO_A_DEV_SNDBUF] = { .type = NLA_U32, },
	[MIGPRIO_A_DEV_RCVBUF] = { .type = NLA_U32, },
	[MIGPRIO_A_DEV_DSCP] = NLA_POLICY_MAX(NLA_U8, 63),
	[MIGPRIO_A_DEV_RATE] = { .type = NLA_U64, },
	[MIGPRIO_A_DEV_NOTSENT] = { .type = NLA_U32, },
	[MIGPRIO_A_DEV_QUEUE_DEVS] = NLA_POLICY_NESTED(migprio_queue_dev_nl_policy),
};

/* MIGPRIO_CMD_RULE_ADD - do */
static const struct nla_policy migprio_rule_add_nl_policy[MIGPRIO_A_RULE_SERVICE_PORT_MAX + 1] = {
	[MIGPRIO_A_RULE_PROTO] = { .type = NLA_U8, },
	[MIGPRIO_A_RULE_SERVICE_PORT_MIN] = { .type = NLA_U16, },
	[MIGPRIO_A_RULE_SERVICE_PORT_MAX] = { .type = NLA_U16, },
	[MIGPRIO_A_RULE_LPORT_MIN] = { .type = NLA_U16, },
	[MIGPRIO_A_RULE_LPORT_MAX] = { .type = NLA_U16, },
	[MIGPRIO_A_RULE_RPORT_MIN] = { .type = NLA_U16, },
	[MIGPRIO_A_RULE_RPORT_MAX] = { .type = NLA_U16, },
	[MIGPRIO_A_RULE_PEER_IPV4] = { .type = NLA_U32, },
	[MIGPRIO_A_RULE_PEER_IPV6] = NLA_POLICY_EXACT_LEN(16),
	[MIGPRIO_A_RULE_PEER_PREFIXLEN] = NLA_POLICY_MAX(NLA_U8, 128),
	[MIGPRIO_A_RULE_CGROUP] = { .type = NLA_NUL_STRING, .len = MIGPRIO_CGROUP_MAXLEN, },
	[MIGPRIO_A_RULE_NAME] = { .type = NLA_NUL_STRING, .len = MIGPRIO_NAME_MAXLEN, },
};

/* MIGPRIO_CMD_RULE_DEL - do */
static const struct nla_policy migprio_rule_del_nl_policy[MIGPRIO_A_RULE_ID + 1] = {
	[MIGPRIO_A_RULE_ID] = { .type = NLA_U32, },
};

/* MIGPRIO_CMD_RULE_ADD_BATCH - do */
static const struct nla_policy migprio_rule_add_batch_nl_policy[MIGPRIO_A_RULE_BATCH_RULE + 1] = {
	[MIGPRIO_A_RULE_BATCH_RULE] = NLA_POLICY_NESTED(migprio_rule_new_nl_policy),
};

/* Ops table for migprio */
const struct genl_split_ops migprio_nl_ops[10] = {
	{
		.cmd	= MIGPRIO_CMD_DEV_GET,
		.doit	= migprio_nl_dev_get_doit,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= MIGPRIO_CMD_DEV_SET,
		.doit		= migprio_nl_dev_set_doit,
		.policy		= migprio_dev_set_nl_policy,
		.maxattr	= MIGPRIO_A_DEV_QUEUE_DEVS,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= MIGPRIO_CMD_DEV_CLEAR,
		.doit	= migprio_nl_dev_clear_doit,
		.flags	= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= MIGPRIO_CMD_RULE_ADD,
		.doit		= migprio_nl_rule_add_doit,
		.policy		= migprio_rule_add_nl_policy,
		.maxattr	= MIGPRIO_A_RULE_SERVICE_PORT_MAX,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= MIGPRIO_CMD_RULE_DEL,
		.doit		= migprio_nl_rule_del_doit,
		.policy		= migprio_rule_del_nl_policy,
		.maxattr	= MIGPRIO_A_RULE_ID,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= MIGPRIO_CMD_RULE_GET,
		.start	= mp_nl_rule_dump_start,
		.dumpit	= migprio_nl_rule_get_dumpit,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
	{
		.cmd	= MIGPRIO_CMD_RULE_FLUSH,
		.doit	= migprio_nl_rule_flush_doit,
		.flags	= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= MIGPRIO_CMD_FLOW_GET,
		.dumpit	= migprio_nl_flow_get_dumpit,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
	{
		.cmd	= MIGPRIO_CMD_STATS_GET,
		.doit	= migprio_nl_stats_get_doit,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= MIGPRIO_CMD_RULE_ADD_BATCH,
		.doit		= migprio_nl_rule_add_batch_doit,
		.policy		= migprio_rule_add_batch_nl_policy,
		.maxattr	= MIGPRIO_A_RULE_BATCH_RULE,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
};

static const struct genl_multicast_group migprio_nl_mcgrps[] = {
	[MIGPRIO_NLGRP_EVENTS] = { "events", },
};
