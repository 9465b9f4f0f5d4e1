// SPDX-License-Identifier: GPL-2.0
/*
 * migprioctl monitor: print flow start/end and dev change events from the
 * "events" multicast group, one per line, until SIGINT or SIGTERM; and,
 * from rtnetlink link events and the state files, a device holding the
 * designation's queue layout deleted (the kernel does not know it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/migprio.h>

#include <linux/rtnetlink.h>

#include "migprioctl.h"
#include "print.h"
#include "state.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char *change_name(__u8 change)
{
	switch (change) {
	case MIGPRIO_DEV_CHANGE_SET:
		return "set";
	case MIGPRIO_DEV_CHANGE_CLEAR:
		return "clear";
	case MIGPRIO_DEV_CHANGE_GONE:
		return "gone";
	case MIGPRIO_DEV_CHANGE_MASTER:
		return "master";
	default:
		return "?";
	}
}

static void dev_event_print(const struct nlmsghdr *nlh)
{
	struct dev_state st;
	char b[32];

	dev_state_parse(nlh, &st);
	if (st.change == MIGPRIO_DEV_CHANGE_SET)
		dev_state_merge(&st);
	open_json_object(NULL);
	print_string(PRINT_ANY, "event", "%s", "dev-change");
	print_string(PRINT_ANY, "change", " %s", change_name(st.change));
	print_string(PRINT_ANY, "ifname", " %s", st.ifname);
	print_uint(PRINT_ANY, "ifindex", " (ifindex %u)", st.ifindex);
	if (st.change == MIGPRIO_DEV_CHANGE_MASTER) {
		if (st.master[0])
			print_string(PRINT_ANY, "master", " slave of %s",
				     st.master);
		else
			print_null(PRINT_ANY, "master", " %s", "released");
	}
	if (st.change == MIGPRIO_DEV_CHANGE_SET) {
		print_uint(PRINT_JSON, "priority", NULL, st.priority);
		print_string(PRINT_FP, NULL, " priority %s",
			     fmt_priority(b, sizeof(b), st.priority));
		print_string(PRINT_ANY, "queue", " queue %s",
			     queue_name(st.queue));
	}
	print_nl();
	close_json_object();
}

static void handle(struct mp_nl *nl, const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *genl;
	struct mp_flow f;

	if (nlh->nlmsg_type != nl->family ||
	    mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN)
		return;
	genl = mnl_nlmsg_get_payload(nlh);
	switch (genl->cmd) {
	case MIGPRIO_CMD_FLOW_START_NTF:
	case MIGPRIO_CMD_FLOW_END_NTF:
		flow_parse(nlh, &f);
		flow_print_event(&f, genl->cmd == MIGPRIO_CMD_FLOW_END_NTF);
		break;
	case MIGPRIO_CMD_DEV_CHANGE_NTF:
		dev_event_print(nlh);
		break;
	default:
		return;
	}
	print_flush();
}

/*
 * A device deleted: was it below the designation, holding its layout? Its
 * state file says so until the layout is placed again.
 */
static void link_event(const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct dev_state rec, owner;

	if (nlh->nlmsg_type != RTM_DELLINK ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)) ||
	    mp_state_load(ifi->ifi_index, &rec) || !rec.owner ||
	    !rec.qdisc_handle)
		return;
	open_json_object(NULL);
	print_string(PRINT_ANY, "event", "%s", "dev-change");
	print_string(PRINT_ANY, "change", " %s", "queue-gone");
	print_string(PRINT_ANY, "ifname", " %s", rec.ifname);
	print_uint(PRINT_ANY, "ifindex", " (ifindex %u)", rec.ifindex);
	if (mp_state_load(rec.owner, &owner))
		snprintf(owner.ifname, sizeof(owner.ifname), "ifindex %u",
			 rec.owner);
	print_string(PRINT_ANY, "dev", " below %s", owner.ifname);
	print_nl();
	close_json_object();
	print_flush();
}

static void on_genl(const struct nlmsghdr *nlh, void *data)
{
	handle(data, nlh);
}

static void on_rtnl(const struct nlmsghdr *nlh, void *data)
{
	(void)data;
	link_event(nlh);
}

/*
 * Receive what is queued on s: 0, or 1 after reporting a receive error
 * (a receive queue overflow is only a warning).
 */
static int read_events(struct nlsock *s,
		       void (*cb)(const struct nlmsghdr *nlh, void *data),
		       void *data)
{
	ssize_t len = recv(mnl_socket_get_fd(s->sk), s->rbuf, s->rlen,
			   MSG_DONTWAIT);

	const struct nlmsghdr *nlh;
	int n = len;

	if (len >= 0) {
		for (nlh = (const void *)s->rbuf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n))
			cb(nlh, data);
		return 0;
	}
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	if (errno == ENOBUFS) {
		pr_warn("receive queue overflow: events were lost");
		return 0;
	}
	pr_err("receive: %s", strerror(errno));
	return 1;
}

static int monitor_run(struct mp_ctx *ctx, const union mp_args *u)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd pfd[2] = { { .events = POLLIN }, { .events = POLLIN } };
	struct nlsock rt = { 0 };
	sigset_t block, orig;
	int ret, rc = 0;
	bool rt_ok;

	(void)u;
	ret = mp_nl_join_events(&ctx->nl);
	if (ret) {
		pr_err("cannot listen to %s events: %s", MIGPRIO_FAMILY_NAME,
		       ret == -ENOENT ? "the family has no events group" :
		       strerror(-ret));
		return 1;
	}
	/* signals only interrupt ppoll(): no event is lost half-printed */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* best effort: without it, only the module's events */
	rt_ok = !nlsock_open(&rt, NETLINK_ROUTE) &&
		!nlsock_join(&rt, RTNLGRP_LINK);
	pfd[0].fd = mnl_socket_get_fd(ctx->nl.sock.sk);
	pfd[1].fd = rt_ok ? mnl_socket_get_fd(rt.sk) : -1;
	while (!stop && !rc) {
		if (ppoll(pfd, 2, NULL, &orig) < 0) {
			if (errno == EINTR)
				continue;
			pr_err("poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		if (pfd[0].revents)
			rc = read_events(&ctx->nl.sock, on_genl, &ctx->nl);
		if (!rc && rt_ok && pfd[1].revents)
			rc = read_events(&rt, on_rtnl, NULL);
	}
	if (rt.sk)
		nlsock_close(&rt);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return rc;
}

static const struct mp_cmd monitor_cmds[] = {
	{ NULL, parse_noargs, monitor_run, 0, NULL, NULL },
};

const struct mp_object monitor_object = {
	.name = "monitor",
	.cmds = monitor_cmds,
	.usage = "monitor\n",
};
