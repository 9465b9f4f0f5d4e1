// SPDX-License-Identifier: GPL-2.0
/*
 * /run/migprio/<netns inode>-<ifindex>: what migprioctl installed on an
 * interface (see state.h for the format).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "state.h"

static int netns_id(unsigned long long *ino)
{
	struct stat sb;

	if (stat("/proc/self/ns/net", &sb))
		return -errno;
	*ino = (unsigned long long)sb.st_ino;
	return 0;
}

int mp_state_netns_path(char *buf, size_t len, const char *what)
{
	unsigned long long ino = 0;
	int ret = netns_id(&ino);

	if (ret)
		return ret;
	snprintf(buf, len, "%s/%llu-%s", MP_RUNDIR, ino, what);
	return 0;
}

static int state_path(char *buf, size_t len, __u32 ifindex)
{
	char what[16];

	snprintf(what, sizeof(what), "%u", ifindex);
	return mp_state_netns_path(buf, len, what);
}

void mp_state_mkdir(void)
{
	if (mkdir(MP_RUNDIR, 0755) && errno == ENOENT && !mkdir("/run", 0755))
		mkdir(MP_RUNDIR, 0755);
}

/* "queue_dev IFINDEX IFNAME", "ring_dev IFINDEX IFNAME" */
static void read_dev(const char *line, const char *key, struct dev_state *st)
{
	bool queue = !strcmp(key, "queue_dev");
	unsigned int *n = queue ? &st->nqdev : &st->nrdev;
	struct mp_stack_dev *d = queue ? &st->qdev[*n] : &st->rdev[*n];
	char name[64];
	unsigned int idx;

	if (*n == MP_STACK_MAX ||
	    sscanf(line, "%*s %u %63s", &idx, name) != 2 || !idx ||
	    strlen(name) >= sizeof(d->ifname))
		return;
	d->ifindex = idx;
	strcpy(d->ifname, name);
	(*n)++;
}

static int state_read(const char *path, __u32 ifindex, struct dev_state *st)
{
	char line[128], key[32], val[64];
	FILE *fp = fopen(path, "r");
	__u32 v;

	memset(st, 0, sizeof(*st));
	st->dscp = -1;
	if (!fp)
		return -errno;
	st->ifindex = ifindex;
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%31s %63s", key, val) != 2 || key[0] == '#')
			continue;
		if (!strcmp(key, "ifname")) {
			if (strlen(val) < sizeof(st->ifname))
				strcpy(st->ifname, val);
		} else if (!strcmp(key, "qdisc")) {
			unsigned int maj;

			if (sscanf(val, "%x:", &maj) == 1 && maj && maj < 0xffff)
				st->qdisc_handle = maj << 16;
		} else if (!strcmp(key, "queue")) {
			if (!strcmp(val, "prio"))
				st->queue = MIGPRIO_QUEUE_PRIO;
			else if (!strcmp(val, "htb"))
				st->queue = MIGPRIO_QUEUE_HTB;
		} else if (!strcmp(key, "guard")) {
			if (!parse_u32(val, &v, 0, MIGPRIO_GUARD_MAX)) {
				st->guard = v;
				st->has_guard = true;
			}
		} else if (!strcmp(key, "rings")) {
			if (!strcmp(val, "max"))
				st->rings_mode = RINGS_MAX;
			else if (!parse_u32(val, &st->rings_n, 1, 1U << 20))
				st->rings_mode = RINGS_N;
		} else if (!strcmp(key, "uplink")) {
			if (strlen(val) < sizeof(st->uplink))
				strcpy(st->uplink, val);
		} else if (!strcmp(key, "per-slave")) {
			st->per_slave = !strcmp(val, "yes");
		} else if (!strcmp(key, "queue_dev") || !strcmp(key, "ring_dev")) {
			read_dev(line, key, st);
		} else if (!parse_u32(val, &v, 1, UINT32_MAX)) {
			if (!strcmp(key, "for"))
				st->owner = v;
			else if (!strcmp(key, "ring_rx"))
				st->ring_rx = v;
			else if (!strcmp(key, "ring_tx"))
				st->ring_tx = v;
			else if (!strcmp(key, "ring_rx_prev"))
				st->ring_rx_prev = v;
			else if (!strcmp(key, "ring_tx_prev"))
				st->ring_tx_prev = v;
		}
	}
	fclose(fp);
	st->has_rings = st->ring_rx && st->ring_tx && st->ring_rx_prev &&
			st->ring_tx_prev;
	/* a device below: what was changed there; designated: its arguments */
	if (!st->ifname[0] || (st->owner && !st->qdisc_handle && !st->has_rings))
		return -EINVAL;
	return 0;
}

int mp_state_load(__u32 ifindex, struct dev_state *st)
{
	char path[128];
	int ret = state_path(path, sizeof(path), ifindex);

	if (ret)
		return ret;
	return state_read(path, ifindex, st);
}

bool mp_state_needed(const struct dev_state *st)
{
	if (st->qdisc_handle || st->has_rings)
		return true;
	return !st->owner && (st->queue != MIGPRIO_QUEUE_NONE ||
			      st->rings_mode != RINGS_KEEP || st->uplink[0] ||
			      st->per_slave);
}

int mp_state_save(const struct dev_state *st)
{
	char path[128], tmp[160];
	unsigned int i;
	FILE *fp;
	int ret;

	if (!mp_state_needed(st)) {
		mp_state_remove(st->ifindex);
		return 0;
	}
	ret = state_path(path, sizeof(path), st->ifindex);
	if (ret)
		return ret;
	mp_state_mkdir();
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	fp = fopen(tmp, "w");
	if (!fp)
		return -errno;
	fprintf(fp, "# written by migprioctl dev set; read by dev set, show and clear\n");
	fprintf(fp, "ifname %s\n", st->ifname);
	if (st->owner) {
		fprintf(fp, "for %u\n", st->owner);
	} else {
		fprintf(fp, "queue %s\n", queue_name(st->queue));
		if (st->has_guard)
			fprintf(fp, "guard %u\n", st->guard);
		if (st->rings_mode == RINGS_MAX)
			fprintf(fp, "rings max\n");
		else if (st->rings_mode == RINGS_N)
			fprintf(fp, "rings %u\n", st->rings_n);
		else
			fprintf(fp, "rings keep\n");
		if (st->uplink[0])
			fprintf(fp, "uplink %s\n", st->uplink);
		if (st->per_slave)
			fprintf(fp, "per-slave yes\n");
		for (i = 0; i < st->nqdev; i++)
			fprintf(fp, "queue_dev %u %s\n", st->qdev[i].ifindex,
				st->qdev[i].ifname);
		for (i = 0; i < st->nrdev; i++)
			fprintf(fp, "ring_dev %u %s\n", st->rdev[i].ifindex,
				st->rdev[i].ifname);
	}
	if (st->qdisc_handle)
		fprintf(fp, "qdisc %x:\n", st->qdisc_handle >> 16);
	if (st->has_rings)
		fprintf(fp, "ring_rx %u\nring_tx %u\nring_rx_prev %u\nring_tx_prev %u\n",
			st->ring_rx, st->ring_tx, st->ring_rx_prev,
			st->ring_tx_prev);
	if (fclose(fp) || rename(tmp, path)) {
		ret = -errno;
		unlink(tmp);
		return ret;
	}
	return 0;
}

void mp_state_remove(__u32 ifindex)
{
	char path[128];

	if (!state_path(path, sizeof(path), ifindex))
		unlink(path);
}

void mp_state_each(void (*fn)(const struct dev_state *st, void *data),
		   void *data)
{
	unsigned long long ino = 0, fino;
	char path[sizeof(MP_RUNDIR) + 300];
	struct dev_state st;
	struct dirent *de;
	unsigned int idx;
	char end;
	DIR *d;

	if (netns_id(&ino))
		return;
	d = opendir(MP_RUNDIR);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "%llu-%u%c", &fino, &idx, &end) != 2 ||
		    fino != ino || !idx)
			continue;
		snprintf(path, sizeof(path), "%s/%s", MP_RUNDIR, de->d_name);
		if (!state_read(path, idx, &st))
			fn(&st, data);
	}
	closedir(d);
}

static int lock_fd = -1;
static unsigned int lock_depth;

void mp_state_lock(void)
{
	unsigned long long ino = 0;
	char path[128];

	if (lock_depth++)
		return;
	mp_state_mkdir();
	/*
	 * this netns' (-n NETNS: the one entered), as its records are; not
	 * one of them (NETNS-*)
	 */
	if (netns_id(&ino))
		snprintf(path, sizeof(path), "%s/lock", MP_RUNDIR);
	else
		snprintf(path, sizeof(path), "%s/%llu.lock", MP_RUNDIR, ino);
	/* not root (the kernel will say EPERM), no /run: without a lock */
	lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd >= 0 && flock(lock_fd, LOCK_EX)) {
		close(lock_fd);
		lock_fd = -1;
	}
}

void mp_state_unlock(void)
{
	if (!lock_depth || --lock_depth)
		return;
	if (lock_fd >= 0)
		close(lock_fd);
	lock_fd = -1;
}
