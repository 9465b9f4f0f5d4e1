/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What migprioctl changed on an interface, kept under /run/migprio/ so that
 * dev show, dev clear and showconf know it, also after the module was
 * reloaded: the queue setup, where the walk down the stack (stack.h) put
 * it, the root qdiscs it installed and the ring sizes before. The kernel
 * keeps none of this (it never uses it); it keeps what it acts on, rate
 * included.
 *
 * One file per network namespace and interface:
 *   /run/migprio/<netns inode>-<ifindex>
 * holding "key value" lines. The designated interface's file:
 *   ifname vmbr0           name when written (a reused ifindex is ignored)
 *   queue htb              queue argument of dev set: none, prio or htb
 *   guard 10               guard argument of dev set (queue htb only)
 *   rings max|keep|N       the rings argument of dev set
 *   uplink bond0           the uplink argument of dev set, absent: found
 *   per-slave yes          the per-slave argument, absent: no
 *   queue_dev 7 bond0      where the layout went (one line per device)
 *   ring_dev 3 eno1        whose rings were sized (one line per device)
 * and the file of every interface something was changed on (the
 * designated one's too, when it holds the queue itself):
 *   ifname bond0
 *   for 5                  the designated ifindex (not in its own file)
 *   qdisc 4d50:            root qdisc handle installed, absent for none
 *   ring_rx 1024           ring sizes set, and the sizes found before;
 *   ring_tx 256            absent when rings were left alone
 *   ring_rx_prev 256
 *   ring_tx_prev 256
 * Files written before the walk existed hold the designated interface's
 * lines and its own qdisc and rings: read the same way.
 * /run is a tmpfs: a reboot forgets what a reboot undid anyway.
 */
#ifndef MIGPRIOCTL_STATE_H
#define MIGPRIOCTL_STATE_H

#include "migprioctl.h"

#define MP_RUNDIR	"/run/migprio"

/* Fill st from the file of ifindex in this netns: 0, or -errno (-ENOENT). */
int mp_state_load(__u32 ifindex, struct dev_state *st);
/* Is there anything to record (else the file goes)? */
bool mp_state_needed(const struct dev_state *st);
/* Write (replace) the file of st->ifindex, or remove it: 0 or -errno. */
int mp_state_save(const struct dev_state *st);
void mp_state_remove(__u32 ifindex);
/* Call fn for every interface with a file in this netns. */
void mp_state_each(void (*fn)(const struct dev_state *st, void *data),
		   void *data);

/*
 * Commands that change what is recorded here (dev set, dev clear,
 * syncconf, the follower's re-apply) run one at a time in a network
 * namespace: an exclusive flock on /run/migprio/<netns inode>.lock (the
 * namespace of -n NETNS once entered), taken once per process (calls nest).
 */
void mp_state_lock(void);
void mp_state_unlock(void);

/*
 * /run/migprio/<netns inode>-WHAT, for the other records of this netns
 * (reserve.c: "reserved-ports"): 0 or -errno.
 */
int mp_state_netns_path(char *buf, size_t len, const char *what);
/* Create /run/migprio if it is missing. */
void mp_state_mkdir(void);

#endif /* MIGPRIOCTL_STATE_H */
