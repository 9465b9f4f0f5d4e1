/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: netfilter hook registration. The uapi header gives the verdicts,
 * hook numbers and families; kshim_nf_hook() runs a namespace's hooks of
 * one point in priority order, as the stack does for a packet.
 */
#ifndef _KSHIM_LINUX_NETFILTER_H
#define _KSHIM_LINUX_NETFILTER_H

#include_next <linux/netfilter.h>
#include "../kshim.h"
#include <linux/skbuff.h>

struct sock;

struct nf_hook_state {
	u8 hook;
	u8 pf;
	struct net_device *in;
	struct net_device *out;
	struct sock *sk;
	struct net *net;
};

typedef unsigned int nf_hookfn(void *priv, struct sk_buff *skb,
			       const struct nf_hook_state *state);

struct nf_hook_ops {
	nf_hookfn *hook;
	struct net_device *dev;
	void *priv;
	u8 pf;
	unsigned int hooknum;
	int priority;
};

int nf_register_net_hooks(const struct net *net, const struct nf_hook_ops *reg,
			  unsigned int n);
void nf_unregister_net_hooks(const struct net *net,
			     const struct nf_hook_ops *reg, unsigned int n);

/* Run @net's hooks at (@state->pf, @state->hook): the first verdict that is not NF_ACCEPT. */
unsigned int kshim_nf_hook(struct sk_buff *skb,
			   const struct nf_hook_state *state);
/* How many hooks @net has registered (all points). */
unsigned int kshim_nf_hooks(const struct net *net);

#endif /* _KSHIM_LINUX_NETFILTER_H */
