/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NIC ring sizes over ethtool netlink. Implemented in rings.c; used by
 * dev.c (migprioctl dev set ... rings, dev clear, dev show).
 */
#ifndef MIGPRIOCTL_RINGS_H
#define MIGPRIOCTL_RINGS_H

#include <stddef.h>
#include <linux/types.h>

struct mp_rings {
	__u32 rx, tx, rx_max, tx_max;
};

/* Read current and maximum ring sizes. Returns 0 or -errno. */
int mp_rings_get(const char *ifname, struct mp_rings *cur, char *err,
		 size_t errlen);

/*
 * Set RX/TX ring sizes. Returns 0 or -errno; -EOPNOTSUPP when the driver
 * cannot change them.
 */
int mp_rings_set(const char *ifname, __u32 rx, __u32 tx, char *err,
		 size_t errlen);

#endif /* MIGPRIOCTL_RINGS_H */
