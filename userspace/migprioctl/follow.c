// SPDX-License-Identifier: GPL-2.0
/*
 * migprioctl syncconf --follow FILE: the migprio unit's main process.
 *
 * It makes the running configuration equal to FILE (conf.c), then follows
 * the network stack so that the layout stays where the file put it:
 *
 *   - rtnetlink link events (a device created or deleted, a port enslaved
 *     or released, a slave added or removed) schedule a check, 300 ms
 *     after the last of a burst (ifreload re-creates many devices at once);
 *   - the check: while an interface is designated, is its layout where the
 *     walk down the stack puts it now (place.h)? If not, the designation's
 *     own "dev set" line (as showconf prints it) is run again: the queue
 *     moves to the new uplink, rings are sized on a new slave, and what is
 *     no longer below is released. When the walk finds no place (the
 *     bridge lost its uplink port), what is no longer below is released
 *     (its layout, and the kernel's priority reset there: dev set with the
 *     queue devices left) and the follower waits for the next change;
 *   - the designated device unregistered (the module's dev-change "gone"
 *     event, or nothing designated at a check): the file's "dev set" line
 *     runs again as soon as its device exists;
 *   - the module unloaded and loaded again (nlctrl family events): the
 *     whole file is synced again (rules included; the qdiscs left behind
 *     are adopted);
 *   - "dev clear" by hand (a dev-change "clear" event this process did not
 *     cause): it stops following until SIGHUP (systemctl reload);
 *   - SIGHUP: FILE is read again and synced; a bad file is reported and
 *     the previous one kept;
 *   - SIGTERM, SIGINT: it exits, leaving the configuration in place
 *     (systemctl stop and restart never disturb a migration; undo is
 *     "migprioctl dev clear" and "rule flush").
 *
 * One line on stdout per thing it does (the journal under systemd), and
 * the unit's status line (sd_notify STATUS=) says what it follows. With
 * Type=notify, READY=1 is sent after the first sync (or when it gave up
 * waiting for the interface).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/genetlink.h>
#include <linux/rtnetlink.h>

#include "apply.h"
#include "place.h"
#include "state.h"

#define DEBOUNCE_MS	300	/* after the last event of a burst */
#define DEBOUNCE_MAX_MS	2000	/* but no later than this after the first */
#define MAX_WORDS	32

struct follower {
	struct mp_ctx *ctx;
	struct apply_prog *prog;
	struct nlsock rt;		/* RTNLGRP_LINK */
	struct mp_nl ev;		/* migprio events, its own socket */
	struct nlsock ctrl;		/* nlctrl notify: family (un)registered */
	int sfd;			/* signalfd: HUP, TERM, INT */
	bool loaded;			/* the migprio family is there */
	bool paused;			/* dev clear by hand: not following */
	bool full;			/* the next check syncs the whole file */
	double due, first;		/* a check is due; the burst began */
	char said[1024];		/* the last "cannot" line, not repeated */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* The same "cannot" line once, until something else was said. */
static void say_once(struct follower *f, const char *msg)
{
	if (!strcmp(f->said, msg))
		return;
	snprintf(f->said, sizeof(f->said), "%s", msg);
	say("%s", msg);
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void notify(const char *fmt, ...)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	char msg[512];
	va_list ap;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sa.sun_path))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract namespace */
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   len) < 0)
		pr_warn("sd_notify: %s", strerror(errno));
	close(fd);
}

static void schedule(struct follower *f)
{
	double t = now();

	if (!f->due)
		f->first = t;
	f->due = t + DEBOUNCE_MS / 1000.0;
	if (f->due > f->first + DEBOUNCE_MAX_MS / 1000.0)
		f->due = f->first + DEBOUNCE_MAX_MS / 1000.0;
}

/* ---- sockets ---- */

/* The migprio family and its events: after start and each reload. */
static int open_family(struct follower *f)
{
	int ret;

	mp_nl_close(&f->ctx->nl);
	ret = mp_nl_open(&f->ctx->nl);
	if (!ret) {
		mp_nl_close(&f->ev);
		ret = mp_nl_open(&f->ev);
	}
	if (!ret)
		ret = mp_nl_join_events(&f->ev);
	if (ret)
		pr_err("cannot listen to %s events: %s", MIGPRIO_FAMILY_NAME,
		       strerror(-ret));
	f->loaded = !ret;
	return ret;
}

static int open_sockets(struct follower *f)
{
	struct nlsock_family ctrl = { .grp = "notify" };
	int ret;

	ret = nlsock_open(&f->rt, NETLINK_ROUTE);
	if (!ret)
		ret = nlsock_join(&f->rt, RTNLGRP_LINK);
	if (!ret)
		ret = nlsock_open(&f->ctrl, NETLINK_GENERIC);
	if (!ret)
		ret = nlsock_genl_family(&f->ctrl, "nlctrl", &ctrl);
	if (!ret)
		ret = ctrl.grp_id ? nlsock_join(&f->ctrl, ctrl.grp_id) : -ENOENT;
	if (ret) {
		pr_err("cannot listen to rtnetlink and nlctrl events: %s",
		       strerror(-ret));
		return ret;
	}
	return open_family(f);
}

/* Read what is queued on a socket without waiting; cb per message. */
static void drain(struct nlsock *s, struct follower *f,
		  void (*cb)(struct follower *f, const struct nlmsghdr *nlh))
{
	const struct nlmsghdr *nlh;
	ssize_t len;
	int n;

	for (;;) {
		len = recv(mnl_socket_get_fd(s->sk), s->rbuf, s->rlen,
			   MSG_DONTWAIT);
		if (len < 0) {
			if (errno == ENOBUFS) {
				/* events were lost: look at everything again */
				schedule(f);
				continue;
			}
			return;
		}
		n = len;
		for (nlh = (const void *)s->rbuf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			if (cb)
				cb(f, nlh);
		}
	}
}

static void on_link(struct follower *f, const struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK)
		schedule(f);
}

static void on_event(struct follower *f, const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *genl;
	struct dev_state st;

	if (nlh->nlmsg_type != f->ev.family ||
	    mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN)
		return;
	genl = mnl_nlmsg_get_payload(nlh);
	if (genl->cmd != MIGPRIO_CMD_DEV_CHANGE_NTF)
		return;
	dev_state_parse(nlh, &st);
	if (st.change == MIGPRIO_DEV_CHANGE_GONE) {
		say("%s (ifindex %u) is gone: the module dropped its designation; it is designated again when %s exists",
		    st.ifname, st.ifindex, st.ifname);
		notify("STATUS=%s gone, waiting for it", st.ifname);
		schedule(f);
	} else if (st.change == MIGPRIO_DEV_CHANGE_CLEAR) {
		say("%s cleared by hand (dev clear): not following until reload (SIGHUP)",
		    st.ifname);
		notify("STATUS=cleared by hand, not following until reload");
		f->paused = true;
	}
}

static void on_ctrl(struct follower *f, const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *genl;
	const struct nlattr *a;
	bool ours = false;

	if (nlh->nlmsg_type != GENL_ID_CTRL ||
	    mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN)
		return;
	genl = mnl_nlmsg_get_payload(nlh);
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_NAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0 &&
		    !strcmp(mnl_attr_get_str(a), MIGPRIO_FAMILY_NAME))
			ours = true;
	}
	if (!ours)
		return;
	if (genl->cmd == CTRL_CMD_DELFAMILY && f->loaded) {
		say("the migprio module was unloaded: its designation and rules are gone; they are set again when it is loaded");
		notify("STATUS=module unloaded, waiting for it");
		f->loaded = false;
	} else if (genl->cmd == CTRL_CMD_NEWFAMILY && !f->loaded) {
		if (open_family(f))
			return;
		say("the migprio module was loaded: syncing %s", f->prog->path);
		f->full = true;
		schedule(f);
	}
}

/* ---- acting ---- */

/* Run one command line ("dev set vmbr0 ..."); 0 or 1 (reported). */
static int run_line(struct mp_ctx *ctx, const char *line)
{
	const struct mp_object *obj = NULL;
	const struct mp_cmd *cmd;
	char buf[512], *argv[MAX_WORDS], *w, *save = NULL;
	union mp_args args;
	int argc = 0, used, rc = 1;

	snprintf(buf, sizeof(buf), "%s", line);
	for (w = strtok_r(buf, " ", &save); w && argc < MAX_WORDS;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	memset(&args, 0, sizeof(args));
	if (mp_resolve(argc, argv, &obj, &cmd, &used))
		return 1;
	if (!cmd->parse(argc - used, argv + used, &args))
		rc = cmd->run(ctx, &args);
	if (cmd->cleanup)
		cmd->cleanup(&args);
	return rc;
}

/* After our own changes: their events are not news. */
static void quiet_events(struct follower *f)
{
	if (f->loaded)
		drain(&f->ev.sock, f, NULL);
}

static int sync_file(struct follower *f, const char *why)
{
	struct conf_changes ch = { 0 };
	bool quiet = f->ctx->quiet;
	int rc;

	f->ctx->quiet = true;
	rc = conf_sync(f->ctx, f->prog, &ch);
	f->ctx->quiet = quiet;
	quiet_events(f);
	if (rc) {
		say("%s: syncing %s failed (see above); trying again when the stack changes",
		    why, f->prog->path);
		return rc;
	}
	f->said[0] = '\0';
	/* syncconf's summary line: what differed is all that changed */
	if (ch.changed)
		say("%s: synced %s: %s", why, f->prog->path, ch.summary);
	else
		say("%s: %s is in place, nothing changed", why, f->prog->path);
	return 0;
}

static void status(struct follower *f)
{
	struct dev_state st;
	unsigned int i;
	char b[256];
	size_t n = 0;

	if (!f->loaded || dev_running(f->ctx, &st) || !st.set) {
		notify("STATUS=following %s, nothing designated", f->prog->path);
		return;
	}
	b[0] = '\0';
	for (i = 0; i < st.nqdev && n < sizeof(b); i++)
		n += snprintf(b + n, sizeof(b) - n, " %s", st.qdev[i].ifname);
	notify("STATUS=following %s: %s designated, queue on%s", f->prog->path,
	       st.ifname, st.nqdev ? b : " none");
}

static void check_locked(struct follower *f)
{
	const struct apply_line *dev = f->prog->dev;
	struct mp_place_check pc;
	struct dev_state cur;
	char line[512], msg[1024];
	int n;

	f->due = 0;
	if (!f->loaded || f->paused)
		return;
	/* the file's interface is not there (yet): nothing to do */
	if (dev && !if_nametoindex(dev->args.dev_set.ifname))
		return;
	if (f->full) {
		if (!sync_file(f, "module loaded"))
			f->full = false;
		status(f);
		return;
	}
	if (dev_running(f->ctx, &cur))
		return;
	if (!cur.set) {
		if (!dev)
			return;
		/* can it be placed? If not, say why once and wait */
		dev_args_state(&dev->args.dev_set, &cur);
		cur.ifindex = if_nametoindex(cur.ifname);
		mp_place_check(&cur, &pc);
		if (pc.ret < 0) {
			snprintf(msg, sizeof(msg), "%s; waiting for the stack to change",
				 pc.why);
			say_once(f, msg);
			return;
		}
		dev_conf_line(&cur, line, sizeof(line));
		f->ctx->quiet = true;
		n = dev->cmd->run(f->ctx, &dev->args);
		f->ctx->quiet = false;
		quiet_events(f);
		f->said[0] = '\0';
		say("%s exists: %s (%s)", dev->args.dev_set.ifname,
		    n ? "designating it failed, see above" : "designated again as the file says",
		    line);
		status(f);
		return;
	}
	mp_place_check(&cur, &pc);
	if (!pc.ret) {
		f->said[0] = '\0';
		return;
	}
	if (pc.ret < 0) {
		n = mp_place_release_unreachable(&cur);
		/* and the kernel resets priorities there no more */
		if (n && dev_requeue(f->ctx))
			say("%s: telling the kernel its queue devices failed, see above",
			    cur.ifname);
		quiet_events(f);
		snprintf(msg, sizeof(msg), "%s; waiting for the stack to change%s",
			 pc.why, n ? " (released the devices no longer below it)" : "");
		say_once(f, msg);
		status(f);
		return;
	}
	/* the same parameters, placed again */
	dev_conf_line(&cur, line, sizeof(line));
	snprintf(msg, sizeof(msg), "%s: %s: running again: %s", cur.ifname,
		 pc.why, line);
	if (!strcmp(f->said, msg))
		return;		/* did not help last time: wait for news */
	say_once(f, msg);
	f->ctx->quiet = true;
	if (run_line(f->ctx, line))
		say("%s: placing the layout again failed, see above", cur.ifname);
	f->ctx->quiet = false;
	quiet_events(f);
	status(f);
}

static void check(struct follower *f)
{
	mp_state_lock();
	check_locked(f);
	mp_state_unlock();
}

/* SIGHUP: the file again. */
static void reload(struct follower *f)
{
	struct apply_prog *p, tmp;

	p = calloc(1, sizeof(*p));
	if (!p) {
		pr_err("out of memory");
		return;
	}
	/* as syncconf reads it: reserve-ports and all */
	if (conf_load(p, f->prog->path)) {
		say("%s has errors (above); still following the previous one",
		    f->prog->path);
		apply_free(&(union mp_args){ .prog = p });
		return;
	}
	/*
	 * The caller frees the prog it gave us: it gets the new contents,
	 * the old ones go (their pointers lead to heap memory, not into
	 * the struct).
	 */
	tmp = *f->prog;
	*f->prog = *p;
	*p = tmp;
	apply_free(&(union mp_args){ .prog = p });
	f->paused = false;
	if (f->loaded)
		sync_file(f, "reload");
	else
		f->full = true;
	status(f);
}

static int signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	if (sigprocmask(SIG_BLOCK, set, NULL))
		return -1;
	return signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int conf_follow(struct mp_ctx *ctx, struct apply_prog *p)
{
	struct follower f = { .ctx = ctx, .prog = p, .loaded = true };
	struct pollfd pfd[4];
	struct signalfd_siginfo si;
	bool stop = false;
	sigset_t set;
	int rc = 1, ms;

	setvbuf(stdout, NULL, _IOLBF, 0);
	f.sfd = signals(&set);
	if (f.sfd < 0) {
		pr_err("signalfd: %s", strerror(errno));
		return 1;
	}
	/* listening first: nothing that happens during the first sync is missed */
	if (open_sockets(&f))
		goto out;
	if (sync_file(&f, "start"))
		f.full = true;
	p->wait = 0;		/* later syncs: the device is there or not */
	notify("READY=1");
	status(&f);

	while (!stop) {
		ms = -1;
		if (f.due)
			ms = f.due > now() ? (int)((f.due - now()) * 1000) + 1 : 0;
		pfd[0] = (struct pollfd){ mnl_socket_get_fd(f.rt.sk), POLLIN, 0 };
		pfd[1] = (struct pollfd){ mnl_socket_get_fd(f.ctrl.sk), POLLIN, 0 };
		pfd[2] = (struct pollfd){ f.sfd, POLLIN, 0 };
		pfd[3] = (struct pollfd){ f.loaded ? mnl_socket_get_fd(f.ev.sock.sk) : -1,
					  POLLIN, 0 };
		if (poll(pfd, 4, ms) < 0 && errno != EINTR) {
			pr_err("poll: %s", strerror(errno));
			goto out;
		}
		drain(&f.ctrl, &f, on_ctrl);
		drain(&f.rt, &f, on_link);
		if (f.loaded)
			drain(&f.ev.sock, &f, on_event);
		while (read(f.sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				say("reload: reading %s again", f.prog->path);
				reload(&f);
			} else {
				stop = true;
			}
		}
		if (!stop && f.due && now() >= f.due)
			check(&f);
	}
	say("stopping: the configuration stays in place (undo: migprioctl dev clear; migprioctl rule flush)");
	notify("STOPPING=1");
	rc = 0;
out:
	nlsock_close(&f.rt);
	nlsock_close(&f.ctrl);
	mp_nl_close(&f.ev);
	close(f.sfd);
	return rc;
}
