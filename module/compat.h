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
 * from_timer, get_random_u32_below, struct nf_hook_ops.
 *
 * Known differences, avoided rather than shimmed:
 * - dump attributes: genl_dumpit_info(cb)->attrs (6.1) became
 *   genl_info_dump(cb)->attrs (6.6+); no dump of ours takes attributes.
 * - NL_SET_ERR_MSG_ATTR_FMT and GENL_SET_ERR_MSG_FMT exist from 6.3 only:
 *   extack messages here are constant strings.
 * - family pre_doit/post_doit take struct genl_split_ops from 6.2 on:
 *   not used.
 *
 * Note for the data path: mp_genl_dump_put() is not a shim (both kernels
 * spell genlmsg_put() the same); it lives in netlink.c, declared in
 * migprio.h, because it needs the family.
 */
#ifndef _MIGPRIO_COMPAT_H
#define _MIGPRIO_COMPAT_H

#include <linux/version.h>

#endif /* _MIGPRIO_COMPAT_H */
