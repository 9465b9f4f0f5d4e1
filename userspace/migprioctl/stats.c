// SPDX-License-Identifier: GPL-2.0
/*
 * migprioctl stats: the per-netns counters.
 */
#include <stdio.h>
#include <string.h>
#include <linux/migprio.h>

#include "migprioctl.h"
#include "print.h"

/* JSON keys, in attribute order; all are integers. */
static const char *const stats_keys[] = {
	[MIGPRIO_A_STATS_TX_PACKETS] = "tx_packets",
	[MIGPRIO_A_STATS_TX_BYTES] = "tx_bytes",
	[MIGPRIO_A_STATS_RX_PACKETS] = "rx_packets",
	[MIGPRIO_A_STATS_RX_BYTES] = "rx_bytes",
	[MIGPRIO_A_STATS_DSCP_REWRITTEN] = "dscp_rewritten",
	[MIGPRIO_A_STATS_FLOWS_STARTED] = "flows_started",
	[MIGPRIO_A_STATS_FLOWS_ENDED] = "flows_ended",
	[MIGPRIO_A_STATS_FLOWS_UNTRACKED] = "flows_untracked",
	[MIGPRIO_A_STATS_FLOWS_ACTIVE] = "flows_active",
	[MIGPRIO_A_STATS_FLOWS_MAX] = "flows_max",
	[MIGPRIO_A_STATS_SOCKS_TUNED] = "socks_tuned",
	[MIGPRIO_A_STATS_RULES] = "rules",
	[MIGPRIO_A_STATS_RULES_MAX] = "rules_max",
	[MIGPRIO_A_STATS_PRIORITY_RESET] = "priority_reset",
};

struct stats {
	__u64 v[MIGPRIO_A_STATS_MAX + 1];
	bool has[MIGPRIO_A_STATS_MAX + 1];
};

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	struct stats *s = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		unsigned int type = mnl_attr_get_type(a);

		if (type > MIGPRIO_A_STATS_MAX || !stats_keys[type])
			continue;
		if (mnl_attr_get_payload_len(a) == 8)
			s->v[type] = mnl_attr_get_u64(a);
		else if (mnl_attr_get_payload_len(a) == 4)
			s->v[type] = mnl_attr_get_u32(a);
		else
			continue;
		s->has[type] = true;
	}
	return 0;
}

static void stat(const struct stats *s, int type, const char *fmt)
{
	print_u64(PRINT_ANY, stats_keys[type], fmt, s->v[type]);
}

static int stats_run(struct mp_ctx *ctx, const union mp_args *u)
{
	char buf[MP_NL_REQ_SIZE], b[32];
	struct nlmsghdr *req;
	struct stats s;
	int i;

	(void)u;
	memset(&s, 0, sizeof(s));
	req = mp_nl_req(&ctx->nl, buf, MIGPRIO_CMD_STATS_GET, 0);
	if (mp_nl_do(&ctx->nl, req, stats_cb, &s)) {
		mp_kernel_err(ctx, MIGPRIO_CMD_STATS_GET);
		return 1;
	}
	if (is_json()) {
		open_json_object(NULL);
		for (i = 0; i <= MIGPRIO_A_STATS_MAX; i++) {
			if (stats_keys[i])
				stat(&s, i, NULL);
		}
		close_json_object();
		return 0;
	}
	stat(&s, MIGPRIO_A_STATS_TX_PACKETS, "tx              %llu packets");
	print_string(PRINT_FP, NULL, ", %s bytes\n",
		     fmt_bytes(b, sizeof(b), s.v[MIGPRIO_A_STATS_TX_BYTES]));
	stat(&s, MIGPRIO_A_STATS_RX_PACKETS, "rx              %llu packets");
	print_string(PRINT_FP, NULL, ", %s bytes\n",
		     fmt_bytes(b, sizeof(b), s.v[MIGPRIO_A_STATS_RX_BYTES]));
	stat(&s, MIGPRIO_A_STATS_DSCP_REWRITTEN, "dscp rewritten  %llu\n");
	stat(&s, MIGPRIO_A_STATS_FLOWS_ACTIVE, "flows           %llu active");
	stat(&s, MIGPRIO_A_STATS_FLOWS_MAX, " (max %llu),");
	stat(&s, MIGPRIO_A_STATS_FLOWS_STARTED, " %llu started,");
	stat(&s, MIGPRIO_A_STATS_FLOWS_ENDED, " %llu ended,");
	stat(&s, MIGPRIO_A_STATS_FLOWS_UNTRACKED, " %llu untracked (table full)\n");
	stat(&s, MIGPRIO_A_STATS_SOCKS_TUNED, "sockets tuned   %llu\n");
	stat(&s, MIGPRIO_A_STATS_RULES, "rules           %llu");
	stat(&s, MIGPRIO_A_STATS_RULES_MAX, " (max %llu)\n");
	stat(&s, MIGPRIO_A_STATS_PRIORITY_RESET,
	     "priority reset  %llu (foreign packets in the layout's classes, on the queue devices)\n");
	return 0;
}

static const struct mp_cmd stats_cmds[] = {
	{ NULL, parse_noargs, stats_run, 0, NULL, NULL },
};

const struct mp_object stats_object = {
	.name = "stats",
	.cmds = stats_cmds,
	.usage = "stats\n",
};
