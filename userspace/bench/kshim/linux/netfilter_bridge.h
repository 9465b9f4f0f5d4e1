/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: does a packet carry br_netfilter's info (bridged frame)? */
#ifndef _KSHIM_LINUX_NETFILTER_BRIDGE_H
#define _KSHIM_LINUX_NETFILTER_BRIDGE_H

#include <linux/skbuff.h>

static inline bool nf_bridge_info_exists(const struct sk_buff *skb)
{
	return skb->nf_bridge;
}

#endif /* _KSHIM_LINUX_NETFILTER_BRIDGE_H */
