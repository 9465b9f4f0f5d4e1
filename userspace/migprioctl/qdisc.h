/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Root qdisc setup on the migration interface over rtnetlink.
 * Implemented in qdisc.c; used by dev.c (migprioctl dev set / dev clear).
 */
#ifndef MIGPRIOCTL_QDISC_H
#define MIGPRIOCTL_QDISC_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/*
 * The queue setup and the guard: the tool's own business, recorded in its
 * state file (state.h), not in the kernel.
 */
enum mp_queue {
	MIGPRIO_QUEUE_NONE,	/* migprio does not touch qdiscs */
	MIGPRIO_QUEUE_PRIO,	/* strict priority root qdisc */
	MIGPRIO_QUEUE_HTB,	/* shaped, strict priority with a floor */
	MIGPRIO_QUEUE_MAX = MIGPRIO_QUEUE_HTB
};

#define MIGPRIO_GUARD_MAX	100	/* percent of the rate kept for others */

/* The root handle of every layout migprio installs: 4d50: ("MP"). */
#define MP_QDISC_HANDLE		0x4d500000U

struct mp_qdisc_req {
	int ifindex;
	const char *ifname;
	int mode;		/* enum migprio_queue */
	__u64 rate;		/* bytes/s (htb) */
	unsigned int guard;	/* percent of rate kept for other traffic (htb) */
	bool force;		/* replace a foreign root qdisc */
};

struct mp_qdisc_state {
	__u32 handle;		/* root handle installed, 0 none */
	__u32 priority;		/* skb->priority migration must use for this layout */
};

/*
 * Install the root qdisc layout for req->mode. prev_handle is the root
 * handle migprio installed before on this ifindex (0 none): it may be
 * replaced without force. Returns 0 or -errno; on error err holds a message
 * for the user.
 */
int mp_qdisc_setup(const struct mp_qdisc_req *req, __u32 prev_handle,
		   struct mp_qdisc_state *out, char *err, size_t errlen);

/*
 * Delete the root qdisc of ifindex only if its handle equals handle,
 * leaving the kernel's default qdisc. Returns 0 or -errno.
 */
int mp_qdisc_teardown(int ifindex, __u32 handle, char *err, size_t errlen);

/*
 * Is the root qdisc of ifindex a layout migprio builds: handle 4d50: and
 * the kinds, bands and leaves of its prio or htb layout (a leftover of a
 * designation the reloaded module forgot)? 1 yes, 0 no, or -errno.
 */
int mp_qdisc_ours(int ifindex, char *err, size_t errlen);

/* skb->priority that selects the migration class of a layout. */
__u32 mp_qdisc_priority(int mode);

#endif /* MIGPRIOCTL_QDISC_H */
