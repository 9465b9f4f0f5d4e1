/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels migprio supports (Debian's 6.1 and 6.12
 * cloud kernels), and nothing else: one shim per difference, each saying
 * from which kernel version the API exists, so that the sources use one
 * spelling and carry no version tests. Included by the files that use a
 * shim. The APIs checked identical on both kernels, and the differences
 * avoided rather than shimmed, are listed in Documentation/migprio.rst
 * ("Kernel versions").
 */
#ifndef _MIGPRIO_COMPAT_H
#define _MIGPRIO_COMPAT_H

#include <linux/version.h>
#include <net/genetlink.h>
#include <net/netlink.h>

/*
 * An extack message with arguments: NL_SET_ERR_MSG_ATTR_FMT exists from
 * 6.3 on. 6.1 has no buffer in the extack for it (the message is a
 * pointer, sent after the handler returned): it gets the constant @msg.
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
 * genl_split_ops, which exists from 6.2 on; 6.1 has struct genl_ops only,
 * with the members the generated initialisers use (cmd, doit, start,
 * dumpit, policy, maxattr, flags; every command is do or dump, never both,
 * and the GENL_CMD_CAP_* bits are uapi there too). The table is a
 * genl_ops table on 6.12 as well, registered as .ops: genetlink gives a
 * full op without a policy (dev-get, rule-get...) its reject-all policy,
 * a split op none (attributes would be ignored instead of refused), and
 * one spelling needs no version test. Kbuild force-includes this file into
 * the generated netlink-gen.c; net/genetlink.h is included above so that
 * the kernel's own struct genl_split_ops keeps its name.
 */
#define genl_split_ops genl_ops

#endif /* _MIGPRIO_COMPAT_H */
