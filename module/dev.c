// SPDX-License-Identifier: GPL-2.0
/*
 * Designation: which interface of a netns migprio classifies on, its
 * parameters and queue devices (egress.c), and following them through the
 * netdevice notifier (renamed, enslaved, unregistered or moved to another
 * netns). Each change publishes a new config through config.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/string.h>
#include <net/net_namespace.h>

#include "config.h"
#include "egress.h"

/* The link speed in bytes per second, 0 when the driver does not say. */
u64 mp_dev_link_rate(struct net_device *dev)
{
	struct ethtool_link_ksettings ks;

	ASSERT_RTNL();
	if (__ethtool_get_link_ksettings(dev, &ks) ||
	    ks.base.speed == SPEED_UNKNOWN || !ks.base.speed)
		return 0;
	return (u64)ks.base.speed * 125000;	/* Mbit/s */
}

/* Would a socket tuned for @a be tuned the same for @b? */
static bool mp_dev_tuning_same(const struct mp_dev_params *a,
			       const struct mp_dev_params *b)
{
	return a->priority == b->priority && a->sndbuf == b->sndbuf &&
	       a->rcvbuf == b->rcvbuf && a->notsent == b->notsent &&
	       a->rate == b->rate && a->link_rate == b->link_rate;
}

int mp_dev_set_locked(struct mp_net *mn, const struct net_device *dev,
		      const struct mp_dev_params *p, struct mp_egress_req *q)
{
	struct mp_config *old = mp_config_locked(mn);
	bool moved = old->ifindex && old->ifindex != dev->ifindex;
	struct mp_config *cfg;
	int err;

	ASSERT_RTNL();
	cfg = mp_config_dup(old);
	if (!cfg)
		return -ENOMEM;
	cfg->ifindex = dev->ifindex;
	strscpy(cfg->ifname, dev->name, sizeof(cfg->ifname));
	cfg->dev = *p;
	if (moved || !mp_dev_tuning_same(&old->dev, p))
		cfg->tune_gen++;
	err = mp_egress_prepare(mn->net, q);
	if (err)
		goto err_free;
	err = mp_hooks_register(mn);
	if (err) {
		mp_egress_abort(mn->net, q);
		goto err_free;
	}
	mp_config_retire(mp_config_publish(mn, cfg, true), false);
	mp_egress_commit(mn->net, q);
	if (moved)
		mp_flows_flush(mn, MIGPRIO_FLOW_END_FLUSH);
	mp_nl_dev_notify(mn->net, cfg, MIGPRIO_DEV_CHANGE_SET);
	pr_info_ratelimited("netns %u: designated %s (ifindex %d)\n",
			    mn->net->ns.inum, cfg->ifname, cfg->ifindex);
	return 0;

err_free:
	mp_config_free(cfg);
	return err;
}

/*
 * Clear the designation, all or nothing: the new config is allocated
 * before anything changes. A request (MIGPRIO_DEV_CHANGE_CLEAR) fails with
 * -ENOMEM and leaves everything as it was; the interface going away must
 * not fail (its ifindex would stay published, free for reuse), so it
 * waits for the small allocation instead.
 */
int mp_dev_clear_locked(struct mp_net *mn, enum migprio_dev_change why)
{
	struct mp_config *old = mp_config_locked(mn);
	struct mp_config gone, *cfg;

	if (!old->ifindex)
		return 0;
	gone = *old;
	cfg = mp_config_dup_gfp(old, why == MIGPRIO_DEV_CHANGE_CLEAR ?
				GFP_KERNEL : GFP_KERNEL | __GFP_NOFAIL);
	if (!cfg)
		return -ENOMEM;
	cfg->ifindex = 0;
	cfg->ifname[0] = '\0';
	mp_dev_params_default(&cfg->dev);
	cfg->tune_gen++;
	mp_config_retire(mp_config_publish(mn, cfg, true), false);
	mp_hooks_unregister(mn);
	mp_egress_commit(mn->net, NULL);
	mp_flows_flush(mn, MIGPRIO_FLOW_END_FLUSH);
	mp_nl_dev_notify(mn->net, &gone, why);
	if (why == MIGPRIO_DEV_CHANGE_CLEAR)
		pr_info_ratelimited("netns %u: cleared %s (ifindex %d)\n",
				    mn->net->ns.inum, gone.ifname, gone.ifindex);
	else if (READ_ONCE(mp_unloading))
		pr_info_ratelimited("netns %u: released %s (ifindex %d): module unloaded\n",
				    mn->net->ns.inum, gone.ifname, gone.ifindex);
	else
		pr_info_ratelimited("netns %u: lost %s (ifindex %d): unregistered or moved to another netns\n",
				    mn->net->ns.inum, gone.ifname, gone.ifindex);
	return 0;
}

static void mp_dev_rename_locked(struct mp_net *mn, const char *name)
{
	struct mp_config *cfg;

	cfg = mp_config_dup(mp_config_locked(mn));
	if (!cfg) {
		pr_warn("out of memory renaming interface to %s\n", name);
		return;
	}
	strscpy(cfg->ifname, name, sizeof(cfg->ifname));
	mp_config_retire(mp_config_publish(mn, cfg, true), false);
	mp_nl_dev_notify(mn->net, cfg, MIGPRIO_DEV_CHANGE_SET);
}

/*
 * The designated interface got or lost a master (bond, team, bridge, VRF):
 * once enslaved, its traffic passes the hooks as the master's and nothing
 * matches any more. Say so; the designation stays (it applies again when
 * the interface is released).
 */
static void mp_dev_upper_locked(struct mp_net *mn, struct net_device *dev,
				const struct netdev_notifier_changeupper_info *info)
{
	if (!info->master)
		return;
	mp_nl_dev_notify(mn->net, mp_config_locked(mn),
			 MIGPRIO_DEV_CHANGE_MASTER);
	if (info->linking)
		pr_info_ratelimited("netns %u: designated %s (ifindex %d) is now a slave of %s: its traffic passes %s, designate %s\n",
				    mn->net->ns.inum, dev->name, dev->ifindex,
				    info->upper_dev->name,
				    info->upper_dev->name,
				    info->upper_dev->name);
	else
		pr_info_ratelimited("netns %u: designated %s (ifindex %d) released by %s\n",
				    mn->net->ns.inum, dev->name, dev->ifindex,
				    info->upper_dev->name);
}

void mp_dev_quiesce(struct mp_net *mn)
{
	mutex_lock(&mn->lock);
	mp_hooks_unregister(mn);
	mutex_unlock(&mn->lock);
}

/* Netdevice notifier: follow the designated interface and queue devices. */

static bool mp_is_designated(struct mp_net *mn, const struct net_device *dev)
{
	const struct mp_config *cfg;
	bool ret;

	rcu_read_lock();
	cfg = mp_config_rcu(mn);
	ret = cfg && cfg->ifindex == dev->ifindex;
	rcu_read_unlock();
	return ret;
}

static int mp_netdev_event(struct notifier_block *nb, unsigned long event,
			   void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct mp_net *mn;

	if (event != NETDEV_UNREGISTER && event != NETDEV_CHANGENAME &&
	    event != NETDEV_CHANGEUPPER)
		return NOTIFY_DONE;
	if (event == NETDEV_UNREGISTER)
		mp_egress_netdev_unregister(dev);
	mn = mp_net(dev_net(dev));
	/* Designation changes under RTNL, which we hold: no race here. */
	if (!mp_is_designated(mn, dev))
		return NOTIFY_DONE;
	mutex_lock(&mn->lock);
	if (event == NETDEV_UNREGISTER)
		mp_dev_clear_locked(mn, MIGPRIO_DEV_CHANGE_GONE);
	else if (event == NETDEV_CHANGENAME)
		mp_dev_rename_locked(mn, dev->name);
	else
		mp_dev_upper_locked(mn, dev, ptr);
	mutex_unlock(&mn->lock);
	return NOTIFY_DONE;
}

static struct notifier_block mp_netdev_nb = {
	.notifier_call = mp_netdev_event,
};

int mp_netdev_notifier_register(void)
{
	return register_netdevice_notifier(&mp_netdev_nb);
}

void mp_netdev_notifier_unregister(void)
{
	unregister_netdevice_notifier(&mp_netdev_nb);
}
