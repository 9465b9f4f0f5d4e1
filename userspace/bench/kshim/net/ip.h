/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: IPv4 headers of a packet and its control block. */
#ifndef _KSHIM_NET_IP_H
#define _KSHIM_NET_IP_H

#include <linux/ip.h>
#include <linux/in.h>
#include <linux/skbuff.h>

#define IP_CE		0x8000
#define IP_DF		0x4000
#define IP_MF		0x2000
#define IP_OFFSET	0x1FFF

struct inet_skb_parm {
	int iif;
	u16 flags;
};

#define IPSKB_FORWARDED	BIT(0)
#define IPCB(skb)	((struct inet_skb_parm *)((skb)->cb))

static inline struct iphdr *ip_hdr(const struct sk_buff *skb)
{
	return (struct iphdr *)skb_network_header(skb);
}

#endif /* _KSHIM_NET_IP_H */
