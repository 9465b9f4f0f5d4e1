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
#include <net/inet_hashtables.h>
#include <net/inet6_hashtables.h>
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
static inline struct sock *
mp_inet_lookup_established(struct net *net, __be32 saddr, __be16 sport,
			   __be32 daddr, u16 hnum, int dif, int sdif)
{
	return __inet_lookup_established(net, net->ipv4.tcp_death_row.hashinfo,
					 saddr, sport, daddr, hnum, dif, sdif);
}

static inline struct sock *
mp_inet_lookup_listener(struct net *net, struct sk_buff *skb, int doff,
			__be32 saddr, __be16 sport, __be32 daddr,
			unsigned short hnum, int dif, int sdif)
{
	return __inet_lookup_listener(net, net->ipv4.tcp_death_row.hashinfo,
				      skb, doff, saddr, sport, daddr, hnum,
				      dif, sdif);
}

static inline struct sock *
mp_inet6_lookup_established(struct net *net, const struct in6_addr *saddr,
			    __be16 sport, const struct in6_addr *daddr,
			    u16 hnum, int dif, int sdif)
{
	return __inet6_lookup_established(net,
					  net->ipv4.tcp_death_row.hashinfo,
					  saddr, sport, daddr, hnum, dif, sdif);
}

static inline struct sock *
mp_inet6_lookup_listener(struct net *net, struct sk_buff *skb, int doff,
			 const struct in6_addr *saddr, __be16 sport,
			 const struct in6_addr *daddr, unsigned short hnum,
			 int dif, int sdif)
{
	return inet6_lookup_listener(net, net->ipv4.tcp_death_row.hashinfo,
				     skb, doff, saddr, sport, daddr, hnum,
				     dif, sdif);
}
#endif

#endif /* _MIGPRIO_COMPAT_H */
