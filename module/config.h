/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control plane's view of config.c (building, publishing and retiring
 * configurations and rules) and dev.c (designation). Used by netlink.c,
 * pernet.c and dev.c only; the data path reads the published struct
 * mp_config (migprio.h) and nothing else.
 *
 * Functions that change the designated interface need RTNL (taken before
 * mn->lock) besides mn->lock (_locked, see migprio.h), so that a device
 * cannot go away between its lookup and its designation.
 */
#ifndef _MIGPRIO_CONFIG_H
#define _MIGPRIO_CONFIG_H

#include "migprio.h"

struct mp_egress_req;
struct netlink_ext_ack;

/* The designated interface's parameters when a request omits them. */
void mp_dev_params_default(struct mp_dev_params *p);

/* Rules: allocated and filled by the caller, then added or freed. */
struct mp_rule *mp_rule_alloc(void);
void mp_rule_free(struct mp_rule *r);
int mp_rule_set_cgroup(struct mp_rule *r, const char *path);
/* On success @r belongs to the config and has its id. */
int mp_rule_add_locked(struct mp_net *mn, struct mp_rule *r,
		       struct netlink_ext_ack *extack);
/*
 * @n rules, all or none; on an error *@bad is the index of the rule at
 * fault (@n: none is). On success they belong to the config.
 */
int mp_rules_add_locked(struct mp_net *mn, struct mp_rule **rules,
			unsigned int n, unsigned int *bad,
			struct netlink_ext_ack *extack);
int mp_rule_del_locked(struct mp_net *mn, u32 id);
int mp_rule_flush_locked(struct mp_net *mn);

/*
 * Publishing from dev.c: a copy of the current config sharing its rule set
 * (mp_config_free() it if unused), published by mp_config_publish(), which
 * returns the config it replaced for mp_config_retire().
 */
struct mp_config *mp_config_dup(struct mp_config *old);
struct mp_config *mp_config_dup_gfp(struct mp_config *old, gfp_t gfp);
void mp_config_free(struct mp_config *cfg);
struct mp_config *mp_config_publish(struct mp_net *mn, struct mp_config *cfg,
				    bool same_rules);
void mp_config_retire(struct mp_config *old, bool with_rules);

/*
 * dev.c, designation: RTNL and mn->lock held. @q: the queue devices
 * (egress.h), hooked all or nothing with the designation.
 */
u64 mp_dev_link_rate(struct net_device *dev);	/* RTNL only */
int mp_dev_set_locked(struct mp_net *mn, const struct net_device *dev,
		      const struct mp_dev_params *p, struct mp_egress_req *q);
int mp_dev_clear_locked(struct mp_net *mn, enum migprio_dev_change why);

/* dev.c: netns exit, before the devices go: stop the data path. */
void mp_dev_quiesce(struct mp_net *mn);

#endif /* _MIGPRIO_CONFIG_H */
