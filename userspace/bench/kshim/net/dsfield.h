/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: the DS field of IPv4 and IPv6 headers; IPv4's checksum is
 * updated incrementally (RFC 1624).
 */
#ifndef _KSHIM_NET_DSFIELD_H
#define _KSHIM_NET_DSFIELD_H

#include <net/ip.h>
#include <net/ipv6.h>

static inline u8 ipv4_get_dsfield(const struct iphdr *iph)
{
	return iph->tos;
}

static inline void ipv4_change_dsfield(struct iphdr *iph, u8 mask, u8 value)
{
	u16 old = ntohs(*(const __be16 *)iph), new;
	u32 sum;

	iph->tos = (iph->tos & mask) | value;
	new = ntohs(*(const __be16 *)iph);
	sum = (u16)~ntohs(iph->check) + (u16)~old + new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	iph->check = htons((u16)~sum);
}

static inline u8 ipv6_get_dsfield(const struct ipv6hdr *ip6h)
{
	return ntohs(*(const __be16 *)ip6h) >> 4;
}

static inline void ipv6_change_dsfield(struct ipv6hdr *ip6h, u8 mask,
				       u8 value)
{
	__be16 *p = (__be16 *)ip6h;
	u16 v = ntohs(*p);

	*p = htons((v & (((u16)mask << 4) | 0xf00f)) | ((u16)value << 4));
}

#endif /* _KSHIM_NET_DSFIELD_H */
