/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: IPv6 headers of a packet, its extension headers, control block. */
#ifndef _KSHIM_NET_IPV6_H
#define _KSHIM_NET_IPV6_H

#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/skbuff.h>

#define IP6_MF		0x0001
#define IP6_OFFSET	0xFFF8

struct inet6_skb_parm {
	int iif;
	u16 flags;
};

#define IP6SKB_FORWARDED	BIT(1)
#define IP6CB(skb)	((struct inet6_skb_parm *)((skb)->cb))

static inline struct ipv6hdr *ipv6_hdr(const struct sk_buff *skb)
{
	return (struct ipv6hdr *)skb_network_header(skb);
}

/*
 * Offset of the upper-layer header after the IPv6 header at @start - 40,
 * its protocol in *@nexthdrp, the fragment offset field in *@frag_offp:
 * -1 when the chain ends without one (no next header, truncated).
 */
int ipv6_skip_exthdr(const struct sk_buff *skb, int start, u8 *nexthdrp,
		     __be16 *frag_offp);

#endif /* _KSHIM_NET_IPV6_H */
