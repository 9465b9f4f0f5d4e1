// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state: each netns has its own designated interface,
 * parameters, rules, flows and counters, created with the netns (or at
 * module load) and freed with it (or at module unload).
 */
#include <linux/percpu.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "config.h"

static unsigned int mp_net_id __read_mostly;

struct mp_net *mp_net(const struct net *net)
{
	return net_generic(net, mp_net_id);
}

static int __net_init mp_net_init(struct net *net)
{
	struct mp_net *mn = mp_net(net);
	int err;

	mn->net = net;
	mutex_init(&mn->lock);
	mn->ctr = mp_counters_alloc();
	if (!mn->ctr)
		return -ENOMEM;
	err = mp_config_init(mn);
	if (err)
		goto err_config;
	err = mp_listeners_init(mn);
	if (err)
		goto err_listeners;
	err = mp_flows_init(mn);
	if (err)
		goto err_flows;
	return 0;

err_flows:
	mp_listeners_destroy(mn);
err_listeners:
	mp_config_destroy(mn);
err_config:
	free_percpu(mn->ctr);
	return err;
}

/*
 * Before the devices of the netns go away: stop classifying packets. The
 * designated device's NETDEV_UNREGISTER then clears the designation and
 * ends the flows, as for any interface removal.
 */
static void __net_exit mp_net_pre_exit(struct net *net)
{
	mp_dev_quiesce(mp_net(net));
}

static void __net_exit mp_net_exit(struct net *net)
{
	struct mp_net *mn = mp_net(net);

	/*
	 * First what publishes configs on its own (the deferred classifier
	 * build, cgroup paths resolved again): a publication revalidates the
	 * listener registry and re-tunes flows, which go below.
	 */
	mp_config_quiesce(mn);
	/* Ends the remaining flows (module unload), which uses the config. */
	mp_flows_destroy(mn);
	/* After the flows: their works may have tuned listeners. */
	mp_listeners_destroy(mn);
	mp_config_destroy(mn);
	/* The RCU callbacks of the config do not touch the counters. */
	free_percpu(mn->ctr);
	mutex_destroy(&mn->lock);
}

static struct pernet_operations mp_net_ops = {
	.init = mp_net_init,
	.pre_exit = mp_net_pre_exit,
	.exit = mp_net_exit,
	.id = &mp_net_id,
	.size = sizeof(struct mp_net),
};

int mp_pernet_init(void)
{
	return register_pernet_subsys(&mp_net_ops);
}

void mp_pernet_exit(void)
{
	unregister_pernet_subsys(&mp_net_ops);
}
