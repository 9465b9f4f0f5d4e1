// SPDX-License-Identifier: GPL-2.0
/*
 * migprioctl flow list: the migration flows the kernel tracks. The flow
 * parser and event printer are shared with monitor.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/migprio.h>

#include "migprioctl.h"
#include "print.h"

int flow_parse(const struct nlmsghdr *nlh, struct mp_flow *f)
{
	const struct nlattr *a;

	memset(f, 0, sizeof(*f));
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		int type = mnl_attr_get_type(a);
		size_t len = mnl_attr_get_payload_len(a);
		__u64 v;

		switch (type) {
		case MIGPRIO_A_FLOW_PROTO:
		case MIGPRIO_A_FLOW_DIR:
		case MIGPRIO_A_FLOW_END_REASON:
			if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
				break;
			if (type == MIGPRIO_A_FLOW_PROTO)
				f->proto = mnl_attr_get_u8(a);
			else if (type == MIGPRIO_A_FLOW_DIR)
				f->dir = mnl_attr_get_u8(a);
			else
				f->end_reason = mnl_attr_get_u8(a);
			break;
		case MIGPRIO_A_FLOW_LOCAL_IPV4:
		case MIGPRIO_A_FLOW_REMOTE_IPV4:
			if (len != 4)
				break;
			f->family = AF_INET;
			memcpy(type == MIGPRIO_A_FLOW_LOCAL_IPV4 ? f->laddr : f->raddr,
			       mnl_attr_get_payload(a), 4);
			break;
		case MIGPRIO_A_FLOW_LOCAL_IPV6:
		case MIGPRIO_A_FLOW_REMOTE_IPV6:
			if (len != 16)
				break;
			f->family = AF_INET6;
			memcpy(type == MIGPRIO_A_FLOW_LOCAL_IPV6 ? f->laddr : f->raddr,
			       mnl_attr_get_payload(a), 16);
			break;
		case MIGPRIO_A_FLOW_LPORT:
		case MIGPRIO_A_FLOW_RPORT:
			if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
				break;
			if (type == MIGPRIO_A_FLOW_LPORT)
				f->lport = mnl_attr_get_u16(a);
			else
				f->rport = mnl_attr_get_u16(a);
			break;
		case MIGPRIO_A_FLOW_RULE_ID:
			if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
				f->rule_id = mnl_attr_get_u32(a);
			break;
		case MIGPRIO_A_FLOW_TX_PACKETS ... MIGPRIO_A_FLOW_IDLE_MS:
		case MIGPRIO_A_FLOW_RATE:
			if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
				break;
			v = mnl_attr_get_u64(a);
			switch (type) {
			case MIGPRIO_A_FLOW_TX_PACKETS:
				f->tx_packets = v;
				break;
			case MIGPRIO_A_FLOW_TX_BYTES:
				f->tx_bytes = v;
				break;
			case MIGPRIO_A_FLOW_RX_PACKETS:
				f->rx_packets = v;
				break;
			case MIGPRIO_A_FLOW_RX_BYTES:
				f->rx_bytes = v;
				break;
			case MIGPRIO_A_FLOW_AGE_MS:
				f->age_ms = v;
				f->has_age = true;
				break;
			case MIGPRIO_A_FLOW_IDLE_MS:
				f->idle_ms = v;
				f->has_idle = true;
				break;
			default:
				f->rate = v;
				f->has_rate = true;
			}
			break;
		}
	}
	return 0;
}

static const char *dir_name(__u8 dir)
{
	switch (dir) {
	case MIGPRIO_FLOW_DIR_OUT:
		return "out";
	case MIGPRIO_FLOW_DIR_IN:
		return "in";
	default:
		return "?";
	}
}

static const char *end_name(__u8 reason)
{
	switch (reason) {
	case MIGPRIO_FLOW_END_FIN:
		return "fin";
	case MIGPRIO_FLOW_END_RST:
		return "rst";
	case MIGPRIO_FLOW_END_IDLE:
		return "idle";
	case MIGPRIO_FLOW_END_FLUSH:
		return "flush";
	default:
		return "?";
	}
}

/* JSON members shared by flow list and monitor: endpoints and rule. */
static void flow_json_ids(const struct mp_flow *f)
{
	char a[64];

	print_string(PRINT_JSON, "proto", NULL, proto_name(f->proto));
	print_string(PRINT_JSON, "family", NULL,
		     f->family == AF_INET6 ? "inet6" : "inet");
	open_json_object("local");
	inet_ntop(f->family, f->laddr, a, sizeof(a));
	print_string(PRINT_JSON, "addr", NULL, a);
	print_uint(PRINT_JSON, "port", NULL, f->lport);
	close_json_object();
	open_json_object("remote");
	inet_ntop(f->family, f->raddr, a, sizeof(a));
	print_string(PRINT_JSON, "addr", NULL, a);
	print_uint(PRINT_JSON, "port", NULL, f->rport);
	close_json_object();
	print_string(PRINT_JSON, "dir", NULL, dir_name(f->dir));
	print_uint(PRINT_JSON, "rule", NULL, f->rule_id);
}

static void flow_json_counters(const struct mp_flow *f)
{
	print_u64(PRINT_JSON, "tx_bytes", NULL, f->tx_bytes);
	print_u64(PRINT_JSON, "tx_packets", NULL, f->tx_packets);
	print_u64(PRINT_JSON, "rx_bytes", NULL, f->rx_bytes);
	print_u64(PRINT_JSON, "rx_packets", NULL, f->rx_packets);
	if (f->has_age)
		print_u64(PRINT_JSON, "age_ms", NULL, f->age_ms);
	if (f->has_idle)
		print_u64(PRINT_JSON, "idle_ms", NULL, f->idle_ms);
}

/* One line per event (monitor). */
void flow_print_event(const struct mp_flow *f, bool end)
{
	char l[64], r[64], b[32], c[32];

	open_json_object(NULL);
	print_string(PRINT_ANY, "event", "%s ", end ? "flow-end" : "flow-start");
	flow_json_ids(f);
	print_string(PRINT_FP, NULL, "%s ", proto_name(f->proto));
	print_string(PRINT_FP, NULL, "%s ",
		     fmt_addr_port(l, sizeof(l), f->family, f->laddr, f->lport));
	print_string(PRINT_FP, NULL, "%s ", f->dir == MIGPRIO_FLOW_DIR_IN ?
		     "<-" : "->");
	print_string(PRINT_FP, NULL, "%s ",
		     fmt_addr_port(r, sizeof(r), f->family, f->raddr, f->rport));
	print_uint(PRINT_FP, NULL, "rule %u", f->rule_id);
	if (end) {
		flow_json_counters(f);
		print_string(PRINT_ANY, "reason", " reason %s",
			     end_name(f->end_reason));
		print_string(PRINT_FP, NULL, " tx %s",
			     fmt_bytes(b, sizeof(b), f->tx_bytes));
		print_u64(PRINT_FP, NULL, "/%llu pkts", f->tx_packets);
		print_string(PRINT_FP, NULL, " rx %s",
			     fmt_bytes(c, sizeof(c), f->rx_bytes));
		print_u64(PRINT_FP, NULL, "/%llu pkts", f->rx_packets);
		if (f->has_age)
			print_string(PRINT_FP, NULL, " age %s",
				     fmt_ms(b, sizeof(b), f->age_ms));
		if (f->has_rate) {
			print_u64(PRINT_JSON, "rate", NULL, f->rate);
			print_string(PRINT_FP, NULL, " rate %s",
				     fmt_rate(c, sizeof(c), f->rate));
		}
	}
	print_nl();
	close_json_object();
}

/* ---- flow list ---- */

struct flow_list {
	struct mp_flow *f;
	unsigned int n, size;
};

static void flow_list_reset(void *data)
{
	((struct flow_list *)data)->n = 0;
}

static int flow_row_cb(const struct nlmsghdr *nlh, void *data)
{
	struct flow_list *l = data;

	if (l->n == l->size) {
		unsigned int size = l->size ? 2 * l->size : 64;
		struct mp_flow *f = realloc(l->f, size * sizeof(*f));

		if (!f)
			return -ENOMEM;
		l->f = f;
		l->size = size;
	}
	return flow_parse(nlh, &l->f[l->n++]);
}

enum {
	F_PROTO, F_LOCAL, F_REMOTE, F_DIR, F_RULE, F_TXB, F_TXP, F_RXB,
	F_RXP, F_AGE, F_IDLE, F_N
};

static void flow_cells(const struct mp_flow *f, char c[F_N][64])
{
	snprintf(c[F_PROTO], 64, "%s", proto_name(f->proto));
	fmt_addr_port(c[F_LOCAL], 64, f->family, f->laddr, f->lport);
	fmt_addr_port(c[F_REMOTE], 64, f->family, f->raddr, f->rport);
	snprintf(c[F_DIR], 64, "%s", dir_name(f->dir));
	snprintf(c[F_RULE], 64, "%u", f->rule_id);
	fmt_bytes(c[F_TXB], 64, f->tx_bytes);
	snprintf(c[F_TXP], 64, "%llu", (unsigned long long)f->tx_packets);
	fmt_bytes(c[F_RXB], 64, f->rx_bytes);
	snprintf(c[F_RXP], 64, "%llu", (unsigned long long)f->rx_packets);
	if (f->has_age)
		fmt_ms(c[F_AGE], 64, f->age_ms);
	else
		snprintf(c[F_AGE], 64, "-");
	if (f->has_idle)
		fmt_ms(c[F_IDLE], 64, f->idle_ms);
	else
		snprintf(c[F_IDLE], 64, "-");
}

static int flow_list_run(struct mp_ctx *ctx, const union mp_args *u)
{
	static const char *const head[F_N] = {
		"PROTO", "LOCAL", "REMOTE", "DIR", "RULE", "TX-BYTES",
		"TX-PKTS", "RX-BYTES", "RX-PKTS", "AGE", "IDLE",
	};
	/* left-aligned text columns; the others are numbers */
	static const bool left[F_N] = { true, true, true, true };
	struct flow_list l = { 0 };
	char c[F_N][64];
	int w[F_N], i;
	unsigned int r;

	(void)u;
	if (mp_nl_dump(&ctx->nl, MIGPRIO_CMD_FLOW_GET, flow_row_cb,
		       flow_list_reset, &l)) {
		mp_kernel_err(ctx, MIGPRIO_CMD_FLOW_GET);
		free(l.f);
		return 1;
	}
	for (i = 0; i < F_N; i++)
		w[i] = strlen(head[i]);
	for (r = 0; r < l.n; r++) {
		flow_cells(&l.f[r], c);
		for (i = 0; i < F_N; i++)
			if ((int)strlen(c[i]) > w[i])
				w[i] = strlen(c[i]);
	}
	if (l.n) {
		for (i = 0; i < F_N; i++)
			print_cell(PRINT_FP, NULL, left[i] ? w[i] : -w[i], head[i]);
		print_nl();
	}
	open_json_array(NULL);
	for (r = 0; r < l.n; r++) {
		flow_cells(&l.f[r], c);
		open_json_object(NULL);
		flow_json_ids(&l.f[r]);
		flow_json_counters(&l.f[r]);
		for (i = 0; i < F_N; i++)
			print_cell(PRINT_FP, NULL, left[i] ? w[i] : -w[i], c[i]);
		print_nl();
		close_json_object();
	}
	close_json_array();
	free(l.f);
	return 0;
}

static const struct mp_cmd flow_cmds[] = {
	{ "list", parse_noargs, flow_list_run, 0, NULL, "show" },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};

const struct mp_object flow_object = {
	.name = "flow",
	.cmds = flow_cmds,
	.dflt = "list",
	.usage = "flow list | show\n",
};
