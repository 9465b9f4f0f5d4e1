/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: socket buffers. A packet is linear (headers and payload in one
 * buffer at data); skb_shinfo() describes a GSO packet's segments.
 */
#ifndef _KSHIM_LINUX_SKBUFF_H
#define _KSHIM_LINUX_SKBUFF_H

#include "../kshim.h"

struct sock;

struct skb_shared_info {
	u16 gso_size;
	u16 gso_segs;
	unsigned int gso_type;
};

struct sk_buff {
	struct sock *sk;
	unsigned char *head, *data;
	unsigned int len;		/* bytes from data on, all linear */
	u32 priority;
	u32 mark;
	int skb_iif;			/* the interface it came in on, 0: made here */
	u16 network_header;		/* offset from head */
	u16 transport_header;
	bool nf_bridge;			/* br_netfilter's info attached */
	char cb[48] __attribute__((aligned(8)));
	struct skb_shared_info shinfo;
};

static inline struct skb_shared_info *skb_shinfo(const struct sk_buff *skb)
{
	return (struct skb_shared_info *)&skb->shinfo;
}

static inline bool skb_is_gso(const struct sk_buff *skb)
{
	return skb_shinfo(skb)->gso_size;
}

static inline unsigned char *skb_network_header(const struct sk_buff *skb)
{
	return skb->head + skb->network_header;
}

static inline int skb_network_offset(const struct sk_buff *skb)
{
	return skb_network_header(skb) - skb->data;
}

static inline unsigned int skb_headlen(const struct sk_buff *skb)
{
	return skb->len;
}

/* All linear here: the header is in place or beyond the packet. */
static inline void *skb_header_pointer(const struct sk_buff *skb, int offset,
				       int len, void *buffer)
{
	(void)buffer;
	if (offset < 0 || (unsigned int)offset + len > skb_headlen(skb))
		return NULL;
	return skb->data + offset;
}

static inline int skb_ensure_writable(struct sk_buff *skb,
				      unsigned int write_len)
{
	return write_len <= skb->len ? 0 : -ENOMEM;
}

#endif /* _KSHIM_LINUX_SKBUFF_H */
