// SPDX-License-Identifier: GPL-2.0
/*
 * migprio: prioritise live-migration traffic on a designated interface.
 *
 * Module parameters and the init/exit ladder: per-netns state, the egress
 * guard's per-netns state, the netdevice notifier, the generic netlink
 * family. The family is registered last and unregistered first, so no
 * request arrives while the per-netns state is half set up or half torn
 * down.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <net/genetlink.h>

#include "egress.h"
#include "migprio.h"

unsigned int mp_max_rules = 4096;
module_param_named(max_rules, mp_max_rules, uint, 0444);
MODULE_PARM_DESC(max_rules, "Maximum number of rules per network namespace");

unsigned int mp_max_flows = 65536;
module_param_named(max_flows, mp_max_flows, uint, 0444);
MODULE_PARM_DESC(max_flows, "Maximum number of tracked flows per network namespace");

unsigned int mp_flow_idle_secs = 30;
module_param_named(flow_idle_secs, mp_flow_idle_secs, uint, 0444);
MODULE_PARM_DESC(flow_idle_secs, "Seconds without packets after which a flow ends");

unsigned int mp_build_delay_ms = 100;
module_param_named(build_delay_ms, mp_build_delay_ms, uint, 0644);
MODULE_PARM_DESC(build_delay_ms,
		 "Milliseconds after a rule change before the classifier is rebuilt (0-10000)");

bool mp_unloading;

static int __init mp_init(void)
{
	int err;

	err = mp_flow_cache_create();
	if (err)
		goto err_flow_cache;
	err = mp_listener_cache_create();
	if (err)
		goto err_listener_cache;
	err = mp_pernet_init();
	if (err)
		goto err_pernet;
	err = mp_egress_init();
	if (err)
		goto err_egress;
	err = mp_netdev_notifier_register();
	if (err)
		goto err_notifier;
	err = mp_genl_register();
	if (err)
		goto err_genl;
	pr_debug("loaded, max_rules %u max_flows %u\n",
		 mp_max_rules, mp_max_flows);
	return 0;

err_genl:
	mp_netdev_notifier_unregister();
err_notifier:
	mp_egress_exit();
err_egress:
	mp_pernet_exit();
err_pernet:
	rcu_barrier();
	mp_listener_cache_destroy();
err_listener_cache:
	mp_flow_cache_destroy();
err_flow_cache:
	return err;
}

static void __exit mp_exit(void)
{
	mp_genl_unregister();
	/*
	 * Replays NETDEV_UNREGISTER: designations and egress hooks go, and
	 * the log says "released".
	 */
	WRITE_ONCE(mp_unloading, true);
	mp_netdev_notifier_unregister();
	mp_egress_exit();
	mp_pernet_exit();
	/*
	 * Configs, rules and listener records are freed by RCU callbacks
	 * living in this module, the records into its cache.
	 */
	rcu_barrier();
	mp_listener_cache_destroy();
	mp_flow_cache_destroy();
}

module_init(mp_init);
module_exit(mp_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("migprio developers");
MODULE_DESCRIPTION("Prioritise live-migration traffic on a designated interface");
MODULE_VERSION(MIGPRIO_VERSION);
MODULE_ALIAS_GENL_FAMILY(MIGPRIO_FAMILY_NAME);
