/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels migprio supports (Debian's 6.1 and 6.12
 * cloud kernels), in one place. Kbuild force-includes this file ahead of
 * every source, so the sources use one spelling of each API and carry no
 * version tests. Add a shim here, with a comment saying which kernels need
 * it, rather than an #if in a .c file; test features (macros), versions
 * only where no macro tells.
 *
 * This file comes before any kernel header: include nothing heavier than
 * linux/version.h (a header pulling in printk.h would define pr_fmt before
 * the sources do) and write shims as macros, resolved where they are used.
 *
 * Checked identical on 6.1 and 6.12, so no shim: struct genl_ops with
 * per-op .policy/.maxattr, GENL_REQ_ATTR_CHECK, genl_dump_check_consistent,
 * genl_has_listeners, nla_strscpy, NLA_POLICY_VALIDATE_FN/EXACT_LEN,
 * cgroup_get_from_path (ERR_PTR), cgroup_id, u64_stats_t and
 * u64_stats_fetch_begin, netdev_hold/netdev_put, timer_delete_sync,
 * from_timer, get_random_u32_below, struct nf_hook_ops,
 * GENL_MCAST_CAP_NET_ADMIN (backported to Debian's 6.1), nf_bridge_info_exists,
 * netdev_master_upper_dev_get(_rcu), struct netdev_notifier_changeupper_info.
 *
 * Known differences, avoided rather than shimmed:
 * - dump attributes: genl_dumpit_info(cb)->attrs (6.1) became
 *   genl_info_dump(cb)->attrs (6.6+); no dump of ours takes attributes.
 * - NL_SET_ERR_MSG_ATTR_FMT and GENL_SET_ERR_MSG_FMT exist from 6.3 only:
 *   extack messages here are constant strings, but for
 *   mp_set_err_msg_fmt() below.
 * - family pre_doit/post_doit take struct genl_split_ops from 6.2 on:
 *   not used.
 * - struct genl_split_ops (6.2 on), shimmed below.
 *
 * Note for the data path: mp_genl_dump_put() is not a shim (both kernels
 * spell genlmsg_put() the same); it lives in netlink.c, declared in
 * migprio.h, because it needs the family.
 */
#ifndef _MIGPRIO_COMPAT_H
#define _MIGPRIO_COMPAT_H

#include <linux/version.h>

/*
 * An extack message with arguments: NL_SET_ERR_MSG_ATTR_FMT from 6.3 on.
 * 6.1 has no buffer in the extack for it (the message is a pointer, sent
 * after the handler returned): it gets the constant @msg instead.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define mp_set_err_msg_fmt(extack, attr, msg, fmt, args...) \
	NL_SET_ERR_MSG_ATTR_FMT(extack, attr, fmt, ##args)
#else
#define mp_set_err_msg_fmt(extack, attr, msg, fmt, args...) \
	NL_SET_ERR_MSG_ATTR(extack, attr, msg)
#endif

/*
 * The ops table ynl-gen-c generates (netlink-gen.c) is of struct
 * genl_split_ops, from 6.2 on. 6.1 has struct genl_ops only, with the same
 * members the generated initialisers use (cmd, doit, start, dumpit, policy,
 * maxattr, flags; every command is do or dump, never both, and the
 * GENL_CMD_CAP_* bits are uapi there too): there the table is a genl_ops
 * table, registered as .ops instead of .split_ops.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define MP_GENL_FAMILY_OPS \
	.split_ops = migprio_nl_ops, .n_split_ops = ARRAY_SIZE(migprio_nl_ops)
#else
#define genl_split_ops genl_ops
#define MP_GENL_FAMILY_OPS \
	.ops = migprio_nl_ops, .n_ops = ARRAY_SIZE(migprio_nl_ops)
#endif

#endif /* _MIGPRIO_COMPAT_H */
