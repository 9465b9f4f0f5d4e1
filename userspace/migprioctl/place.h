/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The queue layout and ring sizes on the devices below the designated
 * interface, where the walk (stack.h) puts them: installed all or nothing,
 * recorded (state.h), undone, released when no longer below, and checked
 * for still being in place. Implemented in place.c; used by dev.c.
 */
#ifndef MIGPRIOCTL_PLACE_H
#define MIGPRIOCTL_PLACE_H

#include "migprioctl.h"

struct mp_place;

/*
 * dev set, before the kernel is asked: walk down from ifindex, install the
 * layout on each queue device and size the rings, refusing foreign
 * qdiscs. old: the designation before (its record merged). 0 with *out
 * (the priority of the layout's migration class in *priority), or 1 after
 * reporting, with everything as it was.
 */
int mp_place_apply(const struct dev_set_args *a, __u32 ifindex,
		   const struct dev_state *old, struct mp_place **out,
		   __u32 *priority);
/*
 * The devices that got the layout, for the kernel's egress guard (dev-set
 * queue-devs): at most max ifindexes into ifindex; how many.
 */
unsigned int mp_place_qdevs(const struct mp_place *p, __u32 *ifindex,
			    unsigned int max);
/* Write the records of what was done, before the kernel announces it. */
void mp_place_record(struct mp_place *p);
/* The kernel refused: put every device and record back. */
void mp_place_undo(struct mp_place *p);
/*
 * The kernel took it: release what the previous designation (or one a
 * reloaded module forgot) left on devices that are not in the plan.
 * Frees p.
 */
void mp_place_commit(struct mp_place *p);

/* dev clear: release every device with a record in this netns; 0 or 1. */
int mp_place_release_all(void);

/* Is the layout of a designation where the walk puts it now? */
struct mp_place_check {
	int ret;		/* 0 in place, 1 not (why), -1 cannot place (why) */
	char why[384];
	char path[384];		/* the walk now, "" when it failed */
};

void mp_place_check(const struct dev_state *st, struct mp_place_check *pc);

/*
 * The designated device is set, but the walk fails (no uplink port now):
 * release what migprio changed on devices no longer below it, so no stale
 * layout stays. Returns how many devices were released.
 */
int mp_place_release_unreachable(const struct dev_state *st);

/* One queue device's record for dev show: installed, gone, replaced. */
const char *mp_place_qdev_state(const struct mp_stack_dev *d, __u32 *handle);
/* The record of a device below (or the designated one's own). */
int mp_place_dev_rec(const struct dev_state *st, const struct mp_stack_dev *d,
		     struct dev_state *rec);

#endif /* MIGPRIOCTL_PLACE_H */
