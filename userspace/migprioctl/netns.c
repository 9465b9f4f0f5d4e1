// SPDX-License-Identifier: GPL-2.0
/*
 * migprioctl -n NETNS: work in another network namespace, as ip -n does.
 *
 * NETNS is the name `ip netns add` gave (a file under /run/netns) or, an
 * extension of ip's option, a path to a namespace file such as
 * /proc/PID/ns/net (a container's, virt-handler's). Like iproute2, the
 * process also gets a private mount namespace with a sysfs of the new
 * network namespace on /sys, so that /sys/class/net names its interfaces.
 * Everything else follows the network namespace by itself: the netlink
 * sockets, ethtool, and the state files (keyed by /proc/self/ns/net).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include "migprioctl.h"

#define NETNS_RUN_DIR	"/run/netns"

int mp_netns_enter(const char *netns)
{
	unsigned long flags = 0;
	char path[PATH_MAX];
	struct statvfs sv;
	int fd;

	if (!strchr(netns, '/') &&
	    (!*netns || !strcmp(netns, ".") || !strcmp(netns, ".."))) {
		pr_err("invalid network namespace name \"%s\"", netns);
		return -1;
	}
	if (strchr(netns, '/'))
		snprintf(path, sizeof(path), "%s", netns);
	else
		snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_err("cannot open network namespace \"%s\": %s", netns,
		       strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET)) {
		pr_err("cannot enter network namespace \"%s\": %s", netns,
		       strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);

	/* a /sys of this network namespace, seen by this process only */
	if (unshare(CLONE_NEWNS) ||
	    mount("", "/", "none", MS_SLAVE | MS_REC, NULL)) {
		pr_err("cannot make a mount namespace for \"%s\": %s", netns,
		       strerror(errno));
		return -1;
	}
	if (umount2("/sys", MNT_DETACH) && !statvfs("/sys", &sv) &&
	    (sv.f_flag & ST_RDONLY))
		flags = MS_RDONLY;	/* shadow a read-only one read-only */
	if (mount("sysfs", "/sys", "sysfs", flags, NULL)) {
		pr_err("cannot mount /sys for \"%s\": %s", netns,
		       strerror(errno));
		return -1;
	}
	return 0;
}
