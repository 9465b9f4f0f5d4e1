/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels migprio supports (6.1 to 7.3: see
 * Documentation/kernels.rst), and nothing else: one shim per difference,
 * each saying
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

/*
 * TCP's socket lookups take no struct inet_hashinfo from 6.18 on (net-next
 * "tcp: Don't pass hashinfo to socket lookup helpers", after DCCP, the
 * other user of those tables, was removed): they find TCP's own. The
 * mp_inet*_lookup_*() spellings take the arguments of 6.18's functions;
 * before it they pass TCP's table, the one 6.18 looks in.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
#define mp_inet_lookup_established	__inet_lookup_established
#define mp_inet_lookup_listener		__inet_lookup_listener
#define mp_inet6_lookup_established	__inet6_lookup_established
#define mp_inet6_lookup_listener	inet6_lookup_listener
#else
#define mp_tcp_hashinfo(net)		((net)->ipv4.tcp_death_row.hashinfo)
#define mp_inet_lookup_established(net, ...) \
	__inet_lookup_established(net, mp_tcp_hashinfo(net), __VA_ARGS__)
#define mp_inet_lookup_listener(net, ...) \
	__inet_lookup_listener(net, mp_tcp_hashinfo(net), __VA_ARGS__)
#define mp_inet6_lookup_established(net, ...) \
	__inet6_lookup_established(net, mp_tcp_hashinfo(net), __VA_ARGS__)
#define mp_inet6_lookup_listener(net, ...) \
	inet6_lookup_listener(net, mp_tcp_hashinfo(net), __VA_ARGS__)
#endif

#endif /* _MIGPRIO_COMPAT_H */
