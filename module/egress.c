// SPDX-License-Identifier: GPL-2.0
/*
 * The egress guard: only this host's (and its designated namespaces')
 * sockets reach the migration layout's classes on the queue devices.
 *
 * htb and prio pick a class directly when skb->priority's major is their
 * handle, before any filter. migprioctl installs its layout (4d50:) on the
 * devices where the designated interface's traffic meets everything else:
 * a bridge's uplink port, a bond, the NIC. A container with its own
 * macvlan, ipvlan or VLAN device stacked on one of them (or on the bridge
 * above it) keeps the priority its sockets set, and its root may set any
 * (CAP_NET_ADMIN over its own netns allows SO_PRIORITY 4d50:10): its bulk
 * traffic would land in the migration class. A veth or tap resets the
 * priority and forwarding rewrites it; these devices do neither.
 *
 * So each queue device of a designation gets a netfilter egress hook
 * (NFPROTO_NETDEV, NF_NETDEV_EGRESS: in __dev_queue_xmit(), before the
 * qdisc, for every packet handed to that device, bridged, stacked or
 * local). A packet whose priority has the major of the designation's
 * priority (a class of the layout; 4d50 by default) keeps it only when its
 * socket (skb->sk: full, request or timewait, or TCP's control socket
 * while it sends a reset or ACK for a netns) belongs to a network
 * namespace with a designation: the host's, or a pod's that designated
 * its own interface (KubeVirt's virt-handler, whose migration0 macvlan
 * sits on the host's NIC). Any other such packet gets priority 0, the
 * layout's default class, and is counted (priority-reset). That includes
 * packets without a socket: bridged frames and routed packets never carry
 * a layout's priority (tap and veth reset it, forwarding rewrites it), so
 * one that does was set by something that is not a designated
 * namespace's socket (a container's own tc rule on its macvlan). The few
 * of migprio's own that have none (TCP resets and timewait ACKs of IPv6,
 * sent without a socket) go to the default class: control packets.
 * Designating needs CAP_NET_ADMIN in the initial user namespace, so a
 * container cannot make its own namespace one that keeps the priority.
 * Packets with any other priority cost the one comparison.
 *
 * The hook runs first (priority INT_MIN), so an administrator's nftables
 * egress chain and tc egress filters, which come after, still decide.
 * It exists only on queue devices and only while their netns has a
 * designation: dev-set lists the devices (migprioctl, after placing the
 * layout), dev-clear and the designated interface going away remove them
 * all, a queue device unregistered or moved to another netns is unhooked
 * by dev.c's notifier (whose unregistration at module unload replays
 * that for every device). The set changes under RTNL only.
 */
#include <linux/limits.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/percpu.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include "egress.h"
#include "migprio.h"

struct mp_egress_hook {
	struct nf_hook_ops ops;		/* ops.dev: the queue device */
	struct rcu_head rcu;
};

/* Per netns. The hooks array changes under RTNL; the hook reads none of it. */
struct mp_egress {
	unsigned int n;
	struct mp_egress_hook *hooks[MIGPRIO_QUEUE_DEVS_MAX];
	unsigned long __percpu *resets;	/* priority-reset */
};

static unsigned int mp_egress_id __read_mostly;

static struct mp_egress *mp_egress(const struct net *net)
{
	return net_generic(net, mp_egress_id);
}

/* Does the socket's netns have a designation? Under RCU. */
static bool mp_egress_sk_designated(const struct sock *sk)
{
	const struct mp_config *cfg = mp_config_rcu(mp_net(sock_net(sk)));

	return cfg && cfg->ifindex;
}

static unsigned int mp_egress_hook(void *priv, struct sk_buff *skb,
				   const struct nf_hook_state *state)
{
	const struct mp_config *cfg = mp_config_rcu(mp_net(state->net));
	u32 major = cfg ? TC_H_MAJ(cfg->dev.priority) : 0;
	struct mp_egress *eg = priv;

	/* a band priority (0..15) names no class of a layout */
	if (!major || TC_H_MAJ(skb->priority) != major)
		return NF_ACCEPT;
	if (skb->sk && mp_egress_sk_designated(skb->sk))
		return NF_ACCEPT;
	skb->priority = 0;
	this_cpu_inc(*eg->resets);
	return NF_ACCEPT;
}

static int mp_egress_find(const struct mp_egress *eg,
			  const struct net_device *dev)
{
	unsigned int i;

	for (i = 0; i < eg->n; i++)
		if (eg->hooks[i]->ops.dev == dev)
			return i;
	return -1;
}

static bool mp_egress_req_has(const struct mp_egress_req *req,
			      const struct net_device *dev)
{
	unsigned int i;

	for (i = 0; req && i < req->n; i++)
		if (req->dev[i] == dev)
			return true;
	return false;
}

static void mp_egress_unhook(struct net *net, struct mp_egress_hook *h)
{
	nf_unregister_net_hook(net, &h->ops);
	/* nfnetlink_hook may still read the ops under RCU */
	kfree_rcu(h, rcu);
}

int mp_egress_prepare(struct net *net, struct mp_egress_req *req)
{
	struct mp_egress *eg = mp_egress(net);
	struct mp_egress_hook *h;
	unsigned int i;
	int err;

	ASSERT_RTNL();
	req->nadded = 0;
	for (i = 0; i < req->n; i++) {
		if (mp_egress_find(eg, req->dev[i]) >= 0)
			continue;
		h = kzalloc(sizeof(*h), GFP_KERNEL);
		if (!h) {
			err = -ENOMEM;
			goto err;
		}
		h->ops.hook = mp_egress_hook;
		h->ops.priv = eg;
		h->ops.pf = NFPROTO_NETDEV;
		h->ops.hooknum = NF_NETDEV_EGRESS;
		h->ops.priority = INT_MIN;	/* before any nftables chain */
		h->ops.dev = req->dev[i];
		err = nf_register_net_hook(net, &h->ops);
		if (err) {
			kfree(h);
			goto err;
		}
		req->added[req->nadded++] = h;
	}
	return 0;

err:
	mp_egress_abort(net, req);
	return err;
}

void mp_egress_abort(struct net *net, struct mp_egress_req *req)
{
	ASSERT_RTNL();
	while (req->nadded)
		mp_egress_unhook(net, req->added[--req->nadded]);
}

void mp_egress_commit(struct net *net, const struct mp_egress_req *req)
{
	struct mp_egress *eg = mp_egress(net);
	unsigned int i, k = 0;

	ASSERT_RTNL();
	for (i = 0; i < eg->n; i++) {
		if (mp_egress_req_has(req, eg->hooks[i]->ops.dev))
			eg->hooks[k++] = eg->hooks[i];
		else
			mp_egress_unhook(net, eg->hooks[i]);
	}
	/* room: every device kept or added is one of req's, each once */
	for (i = 0; req && i < req->nadded; i++)
		eg->hooks[k++] = req->added[i];
	eg->n = k;
}

void mp_egress_netdev_unregister(struct net_device *dev)
{
	struct net *net = dev_net(dev);
	struct mp_egress *eg = mp_egress(net);
	int i;

	ASSERT_RTNL();
	i = mp_egress_find(eg, dev);
	if (i < 0)
		return;
	mp_egress_unhook(net, eg->hooks[i]);
	eg->hooks[i] = eg->hooks[--eg->n];
}

unsigned int mp_egress_devs(struct net *net, int *ifindex, unsigned int max)
{
	struct mp_egress *eg = mp_egress(net);
	unsigned int i;

	ASSERT_RTNL();
	for (i = 0; i < eg->n && i < max; i++)
		ifindex[i] = eg->hooks[i]->ops.dev->ifindex;
	return i;
}

u64 mp_egress_resets(struct net *net)
{
	struct mp_egress *eg = mp_egress(net);
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(eg->resets, cpu);
	return sum;
}

static int __net_init mp_egress_net_init(struct net *net)
{
	struct mp_egress *eg = mp_egress(net);

	eg->resets = alloc_percpu(unsigned long);
	return eg->resets ? 0 : -ENOMEM;
}

/*
 * The devices of a dying netns were unregistered (or moved away) first,
 * and module unload unregisters the notifier first: no hook is left.
 */
static void __net_exit mp_egress_net_exit(struct net *net)
{
	struct mp_egress *eg = mp_egress(net);

	WARN_ON_ONCE(eg->n);
	free_percpu(eg->resets);
}

static struct pernet_operations mp_egress_net_ops = {
	.init = mp_egress_net_init,
	.exit = mp_egress_net_exit,
	.id = &mp_egress_id,
	.size = sizeof(struct mp_egress),
};

int mp_egress_init(void)
{
	return register_pernet_subsys(&mp_egress_net_ops);
}

void mp_egress_exit(void)
{
	unregister_pernet_subsys(&mp_egress_net_ops);
}
