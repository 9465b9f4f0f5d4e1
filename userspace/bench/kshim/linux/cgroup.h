/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: cgroup v2 ancestry of a socket. */
#ifndef _KSHIM_LINUX_CGROUP_H
#define _KSHIM_LINUX_CGROUP_H

#include "../kshim.h"

struct cgroup {
	u64 id;
	int level;			/* the root is 0 */
	struct cgroup *parent;
};

struct sock_cgroup_data {
	struct cgroup *cgroup;
};

static inline struct cgroup *
sock_cgroup_ptr(const struct sock_cgroup_data *skcd)
{
	return skcd->cgroup;
}

static inline struct cgroup *cgroup_ancestor(struct cgroup *cgrp,
					     int ancestor_level)
{
	if (!cgrp || ancestor_level < 0 || ancestor_level > cgrp->level)
		return NULL;
	while (cgrp->level > ancestor_level)
		cgrp = cgrp->parent;
	return cgrp;
}

static inline u64 cgroup_id(const struct cgroup *cgrp)
{
	return cgrp->id;
}

#endif /* _KSHIM_LINUX_CGROUP_H */
