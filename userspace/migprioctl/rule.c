// SPDX-License-Identifier: GPL-2.0
/*
 * migprioctl rule add | del | list | flush: which connections are
 * migration traffic.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/migprio.h>

#include "migprioctl.h"
#include "print.h"
#include "reserve.h"

/* Requests per sendmsg: the answers must fit the socket receive buffer. */
#define RULE_BATCH	16

/*
 * A rule-add-batch request: at most RULE_BATCH_MAX rules (the reply's ids
 * fit the receive buffer) in at most RULE_BATCH_BYTES (below the socket's
 * default send buffer), each nest at most NLSOCK_MSG_SIZE (a cgroup path
 * and a name included).
 */
#define RULE_BATCH_MAX		4096
#define RULE_BATCH_BYTES	(160 * 1024)

/*
 * What each preset covers is listed in README.md ("Presets"). needs_peer:
 * the port is shared with other traffic, so the rule must name the peer.
 */
static const struct {
	const char *name;
	__u16 min, max;
	bool needs_peer;
} presets[] = {
	{ "qemu", 49152, 49215, false },	/* libvirt migration + NBD port pool */
	{ "proxmox", 60000, 60050, false },	/* unencrypted (type=insecure) */
	{ "nbd", 10809, 10809, false },
	/* Proxmox secure migration and storage migration: SSH tunnels */
	{ "ssh", 22, 22, true },
};

/* ---- rule add ---- */

bool rule_reserve_allowed;

static int parse_range(const char *kw, const char *val, __u16 r[2])
{
	if (parse_port_range(val, &r[0], &r[1]))
		return usage_err("invalid %s \"%s\" (a port P or a range P-Q, 0-65535)",
				 kw, val);
	return 0;
}

/*
 * The words of rule add into a. A preset names the rule after itself when
 * adding (name_preset), not when a rule del matches by it.
 */
static int rule_parse(int argc, char **argv, struct rule_add_args *a,
		      bool name_preset)
{
	static const char *const kws[] = {
		"proto", "port", "lport", "rport", "peer", "cgroup", "name",
		"preset", NULL,
	};
	const char *preset = NULL;
	bool preset_needs_peer = false;
	unsigned int seen = 0;
	int i, k, ret;

	a->proto = IPPROTO_TCP;
	for (i = 0; i < argc; i++) {
		const char *kw = argv[i], *val;

		/* a word without a value, and not the kernel's: reserve.c */
		if (!strcmp(kw, "reserve-ports")) {
			if (!rule_reserve_allowed)
				return usage_err("reserve-ports belongs in the configuration file: syncconf keeps net.ipv4.ip_local_reserved_ports in step with its rules");
			if (a->reserve_ports)
				return usage_err("reserve-ports given twice");
			a->reserve_ports = true;
			continue;
		}
		k = kw_lookup(kw, kws);
		/* a file spells it out too (kw_exact: -1, no other word's prefix) */
		if (k == -1 && kw_exact && kw[0] &&
		    !strncmp(kw, "reserve-ports", strlen(kw)))
			return usage_err("rule argument \"%s\" is abbreviated: a file spells keywords out (\"reserve-ports\")",
					 kw);
		if (k < 0)
			return kw_usage_err("rule argument", kw, kws, k);
		kw = kws[k];
		if (seen & (1U << k))
			return usage_err("%s given twice", kw);
		seen |= 1U << k;
		if (++i >= argc)
			return usage_err("%s needs a value", kw);
		val = argv[i];
		if (!strcmp(kw, "proto")) {
			if (!strcmp(val, "tcp"))
				a->proto = IPPROTO_TCP;
			else if (!strcmp(val, "udp"))
				a->proto = IPPROTO_UDP;
			else
				return usage_err("invalid proto \"%s\" (tcp or udp)", val);
		} else if (!strcmp(kw, "port")) {
			if (parse_range(kw, val, a->port))
				return -1;
			a->has_port = true;
		} else if (!strcmp(kw, "lport")) {
			if (parse_range(kw, val, a->lport))
				return -1;
			a->has_lport = true;
		} else if (!strcmp(kw, "rport")) {
			if (parse_range(kw, val, a->rport))
				return -1;
			a->has_rport = true;
		} else if (!strcmp(kw, "peer")) {
			ret = parse_prefix(val, &a->peer);
			if (ret == -2)
				return usage_err("peer %s has host bits set beyond the prefix length",
						 val);
			if (ret)
				return usage_err("invalid peer \"%s\" (ADDR or ADDR/LEN, IPv4 or IPv6)",
						 val);
			a->has_peer = true;
		} else if (!strcmp(kw, "cgroup")) {
			if (val[0] != '/')
				return usage_err("cgroup \"%s\" must be an absolute cgroup v2 path",
						 val);
			if (strlen(val) > MIGPRIO_CGROUP_MAXLEN)
				return usage_err("cgroup path longer than %d bytes",
						 MIGPRIO_CGROUP_MAXLEN);
			a->cgroup = val;
		} else if (!strcmp(kw, "name")) {
			const char *c;

			if (!*val || strlen(val) > MIGPRIO_NAME_MAXLEN)
				return usage_err("name must be 1-%d characters",
						 MIGPRIO_NAME_MAXLEN);
			for (c = val; *c; c++) {
				if (!isgraph((unsigned char)*c))
					return usage_err("name \"%s\": printable characters without spaces only",
							 val);
			}
			a->name = val;
		} else if (!strcmp(kw, "preset")) {
			size_t p;

			for (p = 0; p < ARRAY_SIZE(presets); p++) {
				if (!strcmp(val, presets[p].name))
					break;
			}
			if (p == ARRAY_SIZE(presets))
				return usage_err("unknown preset \"%s\" (qemu, proxmox, nbd or ssh)",
						 val);
			preset = presets[p].name;
			preset_needs_peer = presets[p].needs_peer;
			a->port[0] = presets[p].min;
			a->port[1] = presets[p].max;
			a->has_port = true;
		}
	}
	if (preset) {
		/* kws[0..3]: proto, port, lport, rport */
		if (seen & 0xf)
			return usage_err("preset %s sets proto and port itself; add peer, cgroup or name only",
					 preset);
		if (preset_needs_peer && !a->has_peer)
			return usage_err("preset %s needs a peer: every connection to port %u of a matching peer is prioritised",
					 preset, a->port[0]);
		if (!a->name && name_preset)
			a->name = preset;
	}
	if (!a->has_port && !a->has_lport && !a->has_rport && !a->has_peer &&
	    !a->cgroup)
		return usage_err("a rule needs at least one of port, lport, rport, peer, cgroup or preset");
	if (a->reserve_ports && !a->has_port && !a->has_lport)
		return usage_err("reserve-ports reserves the rule's port and lport ranges: this rule has neither");
	return 0;
}

static int rule_add_parse(int argc, char **argv, union mp_args *u)
{
	return rule_parse(argc, argv, &u->rule_add, true);
}

int rule_build_add(struct nlmsghdr *nlh, const struct rule_add_args *a)
{
	mnl_attr_put_u8(nlh, MIGPRIO_A_RULE_PROTO, a->proto);
	if (a->has_port) {
		mnl_attr_put_u16(nlh, MIGPRIO_A_RULE_SERVICE_PORT_MIN, a->port[0]);
		mnl_attr_put_u16(nlh, MIGPRIO_A_RULE_SERVICE_PORT_MAX, a->port[1]);
	}
	if (a->has_lport) {
		mnl_attr_put_u16(nlh, MIGPRIO_A_RULE_LPORT_MIN, a->lport[0]);
		mnl_attr_put_u16(nlh, MIGPRIO_A_RULE_LPORT_MAX, a->lport[1]);
	}
	if (a->has_rport) {
		mnl_attr_put_u16(nlh, MIGPRIO_A_RULE_RPORT_MIN, a->rport[0]);
		mnl_attr_put_u16(nlh, MIGPRIO_A_RULE_RPORT_MAX, a->rport[1]);
	}
	if (a->has_peer) {
		if (a->peer.family == AF_INET)
			mnl_attr_put(nlh, MIGPRIO_A_RULE_PEER_IPV4, 4,
				     &a->peer.addr.v4);
		else
			mnl_attr_put(nlh, MIGPRIO_A_RULE_PEER_IPV6, 16,
				     &a->peer.addr.v6);
		mnl_attr_put_u8(nlh, MIGPRIO_A_RULE_PEER_PREFIXLEN, a->peer.plen);
	}
	if (a->cgroup)
		mnl_attr_put_strz(nlh, MIGPRIO_A_RULE_CGROUP, a->cgroup);
	if (a->name)
		mnl_attr_put_strz(nlh, MIGPRIO_A_RULE_NAME, a->name);
	return 0;
}

static int rule_id_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) == MIGPRIO_A_RULE_ID &&
		    mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			*(__u32 *)data = mnl_attr_get_u32(a);
	}
	return 0;
}

static int rule_add_run(struct mp_ctx *ctx, const union mp_args *u)
{
	char buf[MP_NL_REQ_SIZE];
	struct nlmsghdr *req;
	__u32 id = 0;

	req = mp_nl_req(&ctx->nl, buf, MIGPRIO_CMD_RULE_ADD, 0);
	rule_build_add(req, &u->rule_add);
	if (mp_nl_do(&ctx->nl, req, rule_id_cb, &id)) {
		mp_kernel_err(ctx, MIGPRIO_CMD_RULE_ADD);
		return 1;
	}
	if (ctx->quiet)
		return 0;
	open_json_object(NULL);
	print_uint(PRINT_ANY, "id", "rule %u\n", id);
	close_json_object();
	return 0;
}

static int rule_del_ids(struct mp_ctx *ctx, const __u32 *ids, unsigned int n)
{
	struct nlsock_err errs[RULE_BATCH];
	struct nlsock_batch b;
	unsigned int i, j;
	int rc = 0;

	if (nlsock_batch_init(&b, RULE_BATCH))
		return -ENOMEM;
	for (i = 0; i < n; i += b.n) {
		nlsock_batch_reset(&b);
		for (j = i; j < n; j++) {
			struct nlmsghdr *req;

			req = mp_nl_batch_req(&ctx->nl, &b, MIGPRIO_CMD_RULE_DEL);
			if (!req)
				break;
			mnl_attr_put_u32(req, MIGPRIO_A_RULE_ID, ids[j]);
			nlsock_batch_add(&b, req);
		}
		rc = nlsock_batch_run(&ctx->nl.sock, &b, NULL, NULL, errs);
		if (rc)
			break;
		for (j = 0; j < b.n; j++) {
			if (errs[j].code) {
				pr_warn("could not delete rule %u again", ids[i + j]);
				rc = errs[j].code;
			}
		}
	}
	nlsock_batch_free(&b);
	return rc;
}

/* Without rule-add-batch (an older module): requests of one rule each. */
static int rule_add_each(struct mp_ctx *ctx, const struct rule_add_args *const *a,
			 unsigned int n, struct nlsock_err *err)
{
	struct nlsock_err errs[RULE_BATCH];
	__u32 ids[RULE_BATCH], undo[RULE_BATCH];
	void *data[RULE_BATCH];
	struct nlsock_batch b;
	unsigned int i, j, nundo;
	int ret, failed = -1;

	if (nlsock_batch_init(&b, RULE_BATCH)) {
		nlsock_err_clear(err);
		err->code = -ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return 0;
	}
	for (i = 0; i < RULE_BATCH; i++)
		data[i] = &ids[i];
	for (i = 0; i < n && failed < 0; i += b.n) {
		nlsock_batch_reset(&b);
		for (j = i; j < n; j++) {
			struct nlmsghdr *req;

			req = mp_nl_batch_req(&ctx->nl, &b, MIGPRIO_CMD_RULE_ADD);
			if (!req)
				break;
			rule_build_add(req, a[j]);
			nlsock_batch_add(&b, req);
		}
		memset(ids, 0, sizeof(ids));
		ret = nlsock_batch_run(&ctx->nl.sock, &b, rule_id_cb, data, errs);
		if (ret) {
			/* lost track of the answers: report at the batch start */
			nlsock_err_clear(err);
			err->code = ret;
			failed = i;
			break;
		}
		nundo = 0;
		for (j = 0; j < b.n; j++) {
			if (failed < 0 && errs[j].code) {
				failed = i + j;
				*err = errs[j];
			} else if (failed >= 0 && !errs[j].code && ids[j]) {
				undo[nundo++] = ids[j];
			}
		}
		/* the kernel went on after the failure: take those back */
		if (nundo)
			rule_del_ids(ctx, undo, nundo);
	}
	nlsock_batch_free(&b);
	return failed;
}

/*
 * Index, among the rules of batch request req, of the one the kernel's
 * error points into (err->attr_off), or -1; err->attr is then the
 * offending field in it (as rule-add names it), or -1 for the whole rule.
 */
static int rule_batch_culprit(const struct nlmsghdr *req,
			      struct nlsock_err *err)
{
	const struct nlattr *a;
	int i = 0;

	if (err->attr_off < 0)
		return -1;
	mnl_attr_for_each(a, req, GENL_HDRLEN) {
		long start = (const char *)a - (const char *)req;

		if (err->attr_off >= start &&
		    err->attr_off < start + (long)mnl_attr_get_len(a)) {
			if (err->attr_off == start)
				err->attr = -1;
			return i;
		}
		i++;
	}
	return -1;
}

struct rule_ids {
	__u32 *ids;
	unsigned int n, max;
};

static int rule_ids_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rule_ids *r = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) == MIGPRIO_A_RULE_BATCH_ID &&
		    mnl_attr_validate(a, MNL_TYPE_U32) >= 0 && r->n < r->max)
			r->ids[r->n++] = mnl_attr_get_u32(a);
	}
	return 0;
}

/*
 * One rule-add-batch request of a[0..n), as many as fit (*sent): all of
 * them are added, or none. 0, or -errno with err (*bad: the rule at
 * fault, 0 when none is).
 */
static int rule_add_batch(struct mp_ctx *ctx, char *buf,
			  const struct rule_add_args *const *a, unsigned int n,
			  unsigned int *sent, unsigned int *bad,
			  struct nlsock_err *err)
{
	__u32 ids[RULE_BATCH_MAX];
	struct rule_ids r = { .ids = ids, .max = RULE_BATCH_MAX };
	struct nlmsghdr *req;
	unsigned int j;
	int ret, k;

	memset(buf, 0, RULE_BATCH_BYTES);
	req = mp_nl_req(&ctx->nl, buf, MIGPRIO_CMD_RULE_ADD_BATCH, 0);
	for (j = 0; j < n && j < RULE_BATCH_MAX &&
	     req->nlmsg_len + NLSOCK_MSG_SIZE <= RULE_BATCH_BYTES; j++) {
		struct nlattr *nest;

		nest = mnl_attr_nest_start(req, MIGPRIO_A_RULE_BATCH_RULE);
		rule_build_add(req, a[j]);
		mnl_attr_nest_end(req, nest);
	}
	*sent = j;
	*bad = 0;
	ret = mp_nl_do(&ctx->nl, req, rule_ids_cb, &r);
	if (!ret && r.n != j) {
		nlsock_err_clear(err);
		err->code = -EPROTO;
		snprintf(err->msg, sizeof(err->msg),
			 "the kernel answered %u ids for %u rules", r.n, j);
		return err->code;
	}
	if (!ret)
		return 0;
	*err = ctx->nl.sock.err;
	k = rule_batch_culprit(req, err);
	*bad = k < 0 ? 0 : k;
	return ret;
}

/*
 * Add n rules, as few requests as fit, each all or nothing. Returns -1
 * when all were added, else the index of the first failure (err filled),
 * the rules before it added, none after it.
 */
int rule_add_many(struct mp_ctx *ctx, const struct rule_add_args *const *a,
		  unsigned int n, struct nlsock_err *err)
{
	unsigned int i = 0, sent, bad, resent, bad2;
	char *buf = malloc(RULE_BATCH_BYTES);
	int ret;

	if (!buf) {
		nlsock_err_clear(err);
		err->code = -ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return 0;
	}
	while (i < n) {
		ret = rule_add_batch(ctx, buf, a + i, n - i, &sent, &bad, err);
		if (ret == -EOPNOTSUPP && !i) {
			free(buf);
			return rule_add_each(ctx, a, n, err);
		}
		if (!ret) {
			i += sent;
			continue;
		}
		/* none of that request was added: those before the culprit again */
		if (bad) {
			struct nlsock_err err2;

			ret = rule_add_batch(ctx, buf, a + i, bad, &resent,
					     &bad2, &err2);
			if (ret) {
				*err = err2;
				bad = bad2;
			}
		}
		free(buf);
		return i + bad;
	}
	free(buf);
	return -1;
}

/* ---- rule del, flush ---- */

/* rule del ID, or rule del MATCH: the rule add words of one rule */
static int rule_del_parse(int argc, char **argv, union mp_args *u)
{
	struct rule_del_args *a = &u->rule_del;

	if (argc < 1)
		return usage_err("rule del needs a rule id or the match of a rule");
	if (!isdigit((unsigned char)argv[0][0]))
		return rule_parse(argc, argv, &a->match, false);
	if (argc > 1)
		return usage_err("unexpected argument \"%s\"", argv[1]);
	if (parse_u32(argv[0], &a->id, 1, UINT32_MAX))
		return usage_err("invalid rule id \"%s\"", argv[0]);
	return 0;
}

/*
 * The id of the rule whose match is a->match (and whose name is its name,
 * when given): the kernel keeps one rule per match. 0 after reporting.
 */
static __u32 rule_find(struct mp_ctx *ctx, const struct rule_del_args *a)
{
	char want[sizeof(((struct rule_conf *)0)->line)];
	struct rule_conf *rules;
	unsigned int n, i;
	size_t keylen;
	__u32 id = 0;

	if (rule_conf_dump(ctx, &rules, &n))
		return 0;
	keylen = rule_conf_line(&a->match, want, sizeof(want));
	for (i = 0; i < n && !id; i++) {
		if (rules[i].keylen == keylen &&
		    !strncmp(rules[i].line, want, keylen))
			id = rules[i].id;
	}
	if (!id) {
		pr_err("no rule matches \"%s\"", want + strlen("rule add "));
	} else if (a->match.name && strcmp(rules[i - 1].line, want)) {
		pr_err("rule %u matches \"%.*s\" but is not named %s", id,
		       (int)(keylen - strlen("rule add ")),
		       want + strlen("rule add "), a->match.name);
		id = 0;
	}
	free(rules);
	return id;
}

static int rule_del_run(struct mp_ctx *ctx, const union mp_args *u)
{
	char buf[MP_NL_REQ_SIZE];
	struct nlmsghdr *req;
	__u32 id = u->rule_del.id;

	if (!id)
		id = rule_find(ctx, &u->rule_del);
	if (!id)
		return 1;
	req = mp_nl_req(&ctx->nl, buf, MIGPRIO_CMD_RULE_DEL, 0);
	mnl_attr_put_u32(req, MIGPRIO_A_RULE_ID, id);
	if (mp_nl_do(&ctx->nl, req, NULL, NULL)) {
		mp_kernel_err(ctx, MIGPRIO_CMD_RULE_DEL);
		return 1;
	}
	print_done(ctx);
	return 0;
}

static int rule_flush_run(struct mp_ctx *ctx, const union mp_args *u)
{
	char buf[MP_NL_REQ_SIZE];
	struct nlmsghdr *req;

	(void)u;
	req = mp_nl_req(&ctx->nl, buf, MIGPRIO_CMD_RULE_FLUSH, 0);
	if (mp_nl_do(&ctx->nl, req, NULL, NULL)) {
		mp_kernel_err(ctx, MIGPRIO_CMD_RULE_FLUSH);
		return 1;
	}
	print_done(ctx);
	return 0;
}

/* ---- rule list ---- */

struct rule_row;
static size_t rule_row_line(const struct rule_row *r, char *buf, size_t len);

struct rule_row {
	__u32 id;
	__u8 proto;
	bool has_port, has_lport, has_rport;
	__u16 port[2], lport[2], rport[2];
	int family;
	__u8 peer[16], plen;
	bool has_plen;
	char *cgroup;
	__u64 cgroup_id;
	char name[MIGPRIO_NAME_MAXLEN + 1];
	__u64 tx_packets, tx_bytes, rx_packets, rx_bytes, flows;
	bool reserve_ports;	/* syncconf reserved its ports (reserve.h) */
	char match[64 + MIGPRIO_CGROUP_MAXLEN];
};

struct rule_list {
	struct rule_row *rows;
	unsigned int n, size;
};

static void rule_list_reset(void *data)
{
	struct rule_list *l = data;
	unsigned int i;

	for (i = 0; i < l->n; i++)
		free(l->rows[i].cgroup);
	l->n = 0;
}

/* One end (0: min, 1: max) of a port range attribute. */
static void rule_row_port(const struct nlattr *a, unsigned int end,
			  __u16 range[2], bool *has)
{
	if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
		return;
	range[end] = mnl_attr_get_u16(a);
	*has = true;
}

static int rule_row_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rule_list *l = data;
	const struct nlattr *a;
	/* built here, added to the list once complete */
	struct rule_row row = { 0 }, *r = &row;

	if (l->n == l->size) {
		unsigned int size = l->size ? 2 * l->size : 64;
		struct rule_row *rows = realloc(l->rows, size * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		l->rows = rows;
		l->size = size;
	}
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		int type = mnl_attr_get_type(a);

		switch (type) {
		case MIGPRIO_A_RULE_ID:
			if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
				r->id = mnl_attr_get_u32(a);
			break;
		case MIGPRIO_A_RULE_PROTO:
			if (mnl_attr_validate(a, MNL_TYPE_U8) >= 0)
				r->proto = mnl_attr_get_u8(a);
			break;
		case MIGPRIO_A_RULE_PEER_PREFIXLEN:
			if (mnl_attr_validate(a, MNL_TYPE_U8) >= 0) {
				r->plen = mnl_attr_get_u8(a);
				r->has_plen = true;
			}
			break;
		case MIGPRIO_A_RULE_SERVICE_PORT_MIN:
		case MIGPRIO_A_RULE_SERVICE_PORT_MAX:
			rule_row_port(a, type - MIGPRIO_A_RULE_SERVICE_PORT_MIN,
				      r->port, &r->has_port);
			break;
		case MIGPRIO_A_RULE_LPORT_MIN:
		case MIGPRIO_A_RULE_LPORT_MAX:
			rule_row_port(a, type - MIGPRIO_A_RULE_LPORT_MIN,
				      r->lport, &r->has_lport);
			break;
		case MIGPRIO_A_RULE_RPORT_MIN:
		case MIGPRIO_A_RULE_RPORT_MAX:
			rule_row_port(a, type - MIGPRIO_A_RULE_RPORT_MIN,
				      r->rport, &r->has_rport);
			break;
		case MIGPRIO_A_RULE_PEER_IPV4:
			if (mnl_attr_get_payload_len(a) == 4) {
				r->family = AF_INET;
				memcpy(r->peer, mnl_attr_get_payload(a), 4);
			}
			break;
		case MIGPRIO_A_RULE_PEER_IPV6:
			if (mnl_attr_get_payload_len(a) == 16) {
				r->family = AF_INET6;
				memcpy(r->peer, mnl_attr_get_payload(a), 16);
			}
			break;
		case MIGPRIO_A_RULE_CGROUP:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0 &&
			    !r->cgroup) {
				r->cgroup = strdup(mnl_attr_get_str(a));
				if (!r->cgroup)
					return -ENOMEM;
			}
			break;
		case MIGPRIO_A_RULE_NAME:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				snprintf(r->name, sizeof(r->name), "%s",
					 mnl_attr_get_str(a));
			break;
		case MIGPRIO_A_RULE_CGROUP_ID:
		case MIGPRIO_A_RULE_TX_PACKETS ... MIGPRIO_A_RULE_FLOWS: {
			__u64 v;

			if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
				break;
			v = mnl_attr_get_u64(a);
			if (type == MIGPRIO_A_RULE_CGROUP_ID)
				r->cgroup_id = v;
			else if (type == MIGPRIO_A_RULE_TX_PACKETS)
				r->tx_packets = v;
			else if (type == MIGPRIO_A_RULE_TX_BYTES)
				r->tx_bytes = v;
			else if (type == MIGPRIO_A_RULE_RX_PACKETS)
				r->rx_packets = v;
			else if (type == MIGPRIO_A_RULE_RX_BYTES)
				r->rx_bytes = v;
			else
				r->flows = v;
			break;
		}
		}
	}
	l->rows[l->n++] = row;
	return 0;
}

static char *fmt_range(char *buf, size_t len, const __u16 r[2])
{
	if (r[0] == r[1])
		snprintf(buf, len, "%u", r[0]);
	else
		snprintf(buf, len, "%u-%u", r[0], r[1]);
	return buf;
}

static char *fmt_peer(char *buf, size_t len, const struct rule_row *r)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(r->family, r->peer, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a,
		 r->has_plen ? r->plen : r->family == AF_INET ? 32 : 128);
	return buf;
}

/* The text MATCH column. */
static void rule_match_text(struct rule_row *r)
{
	char b[64], p[64];
	size_t n = 0, len = sizeof(r->match);

	r->match[0] = '\0';
	if (r->has_port)
		n += snprintf(r->match + n, len - n, " port %s",
			      fmt_range(b, sizeof(b), r->port));
	if (r->has_lport)
		n += snprintf(r->match + n, len - n, " lport %s",
			      fmt_range(b, sizeof(b), r->lport));
	if (r->has_rport)
		n += snprintf(r->match + n, len - n, " rport %s",
			      fmt_range(b, sizeof(b), r->rport));
	if (r->family)
		n += snprintf(r->match + n, len - n, " peer %s",
			      fmt_peer(p, sizeof(p), r));
	if (r->cgroup)
		n += snprintf(r->match + n, len - n, " cgroup %s", r->cgroup);
	if (r->reserve_ports && n < len)
		snprintf(r->match + n, len - n, " reserve-ports");
	if (!r->match[0])
		snprintf(r->match, len, " any");
	memmove(r->match, r->match + 1, strlen(r->match));
}

static void print_range(const char *key, bool has, const __u16 r[2])
{
	if (!has) {
		print_null(PRINT_JSON, key, NULL, NULL);
		return;
	}
	open_json_object(key);
	print_uint(PRINT_JSON, "min", NULL, r[0]);
	print_uint(PRINT_JSON, "max", NULL, r[1]);
	close_json_object();
}

enum { C_ID, C_NAME, C_PROTO, C_MATCH, C_TXP, C_TXB, C_RXP, C_RXB, C_FLOWS, C_N };

static void rule_print(const struct rule_row *r, const int *w)
{
	char b[C_N][32], p[64];

	snprintf(b[C_ID], sizeof(b[0]), "%u", r->id);
	snprintf(b[C_TXP], sizeof(b[0]), "%llu", (unsigned long long)r->tx_packets);
	fmt_bytes(b[C_TXB], sizeof(b[0]), r->tx_bytes);
	snprintf(b[C_RXP], sizeof(b[0]), "%llu", (unsigned long long)r->rx_packets);
	fmt_bytes(b[C_RXB], sizeof(b[0]), r->rx_bytes);
	snprintf(b[C_FLOWS], sizeof(b[0]), "%llu", (unsigned long long)r->flows);

	open_json_object(NULL);
	print_uint(PRINT_JSON, "id", NULL, r->id);
	print_cell(PRINT_FP, NULL, -w[C_ID], b[C_ID]);
	if (r->name[0])
		print_string(PRINT_JSON, "name", NULL, r->name);
	else
		print_null(PRINT_JSON, "name", NULL, NULL);
	print_cell(PRINT_FP, NULL, w[C_NAME], r->name[0] ? r->name : "-");
	print_cell(PRINT_ANY, "proto", w[C_PROTO], proto_name(r->proto));
	print_cell(PRINT_FP, NULL, w[C_MATCH], r->match);
	print_range("port", r->has_port, r->port);
	print_range("lport", r->has_lport, r->lport);
	print_range("rport", r->has_rport, r->rport);
	if (r->family)
		print_string(PRINT_JSON, "peer", NULL, fmt_peer(p, sizeof(p), r));
	else
		print_null(PRINT_JSON, "peer", NULL, NULL);
	if (r->cgroup) {
		print_string(PRINT_JSON, "cgroup", NULL, r->cgroup);
		print_u64(PRINT_JSON, "cgroup_id", NULL, r->cgroup_id);
	} else {
		print_null(PRINT_JSON, "cgroup", NULL, NULL);
		print_null(PRINT_JSON, "cgroup_id", NULL, NULL);
	}
	print_bool(PRINT_JSON, "reserve_ports", NULL, r->reserve_ports);
	print_u64(PRINT_JSON, "tx_packets", NULL, r->tx_packets);
	print_cell(PRINT_FP, NULL, -w[C_TXP], b[C_TXP]);
	print_u64(PRINT_JSON, "tx_bytes", NULL, r->tx_bytes);
	print_cell(PRINT_FP, NULL, -w[C_TXB], b[C_TXB]);
	print_u64(PRINT_JSON, "rx_packets", NULL, r->rx_packets);
	print_cell(PRINT_FP, NULL, -w[C_RXP], b[C_RXP]);
	print_u64(PRINT_JSON, "rx_bytes", NULL, r->rx_bytes);
	print_cell(PRINT_FP, NULL, -w[C_RXB], b[C_RXB]);
	print_u64(PRINT_JSON, "flows", NULL, r->flows);
	print_cell(PRINT_FP, NULL, -w[C_FLOWS], b[C_FLOWS]);
	print_nl();
	close_json_object();
}

static int rule_list_run(struct mp_ctx *ctx, const union mp_args *u)
{
	static const char *const head[C_N] = {
		"ID", "NAME", "PROTO", "MATCH", "TX-PKTS", "TX-BYTES",
		"RX-PKTS", "RX-BYTES", "FLOWS",
	};
	struct reserve_rules reserved;
	struct rule_list l = { 0 };
	char b[32], line[sizeof(((struct rule_conf *)0)->line)];
	int w[C_N], i, rc = 0;
	unsigned int r;
	size_t keylen;

	(void)u;
	if (mp_nl_dump(&ctx->nl, MIGPRIO_CMD_RULE_GET, rule_row_cb,
		       rule_list_reset, &l)) {
		mp_kernel_err(ctx, MIGPRIO_CMD_RULE_GET);
		rc = 1;
		goto out;
	}
	if (reserve_rules_load(&reserved))
		pr_warn("cannot read the record of the reserved ports");
	for (r = 0; r < l.n; r++) {
		keylen = rule_row_line(&l.rows[r], line, sizeof(line));
		l.rows[r].reserve_ports = reserve_rules_has(&reserved, line,
							    keylen);
	}
	reserve_rules_free(&reserved);
	for (i = 0; i < C_N; i++)
		w[i] = strlen(head[i]);
	for (r = 0; r < l.n; r++) {
		const struct rule_row *x = &l.rows[r];
		int len[C_N] = {
			snprintf(b, sizeof(b), "%u", x->id),
			x->name[0] ? (int)strlen(x->name) : 1,
			3, 0,
			snprintf(b, sizeof(b), "%llu", (unsigned long long)x->tx_packets),
			(int)strlen(fmt_bytes(b, sizeof(b), x->tx_bytes)),
			snprintf(b, sizeof(b), "%llu", (unsigned long long)x->rx_packets),
			(int)strlen(fmt_bytes(b, sizeof(b), x->rx_bytes)),
			snprintf(b, sizeof(b), "%llu", (unsigned long long)x->flows),
		};

		rule_match_text(&l.rows[r]);
		len[C_MATCH] = strlen(x->match);
		for (i = 0; i < C_N; i++)
			if (len[i] > w[i])
				w[i] = len[i];
	}
	open_json_array(NULL);
	if (l.n) {
		for (i = 0; i < C_N; i++)
			print_cell(PRINT_FP, NULL, i == C_ID || i >= C_TXP ?
				   -w[i] : w[i], head[i]);
		print_nl();
	}
	for (r = 0; r < l.n; r++)
		rule_print(&l.rows[r], w);
	close_json_array();
out:
	rule_list_reset(&l);
	free(l.rows);
	return rc;
}

/* ---- the configuration lines: showconf, syncconf ---- */

static const char *conf_word(const char *s, char *buf, size_t len)
{
	if (!*s || strpbrk(s, " \t\r#"))
		snprintf(buf, len, "\"%s\"", s);
	else
		snprintf(buf, len, "%s", s);
	return buf;
}

size_t rule_conf_line(const struct rule_add_args *a, char *buf, size_t len)
{
	char b[MIGPRIO_CGROUP_MAXLEN + 3], addr[INET6_ADDRSTRLEN];
	size_t n;

	n = snprintf(buf, len, "rule add");
	if (a->proto != IPPROTO_TCP && n < len)
		n += snprintf(buf + n, len - n, " proto %s", proto_name(a->proto));
	if (a->has_port && n < len)
		n += snprintf(buf + n, len - n, " port %s",
			      fmt_range(b, sizeof(b), a->port));
	if (a->has_lport && n < len)
		n += snprintf(buf + n, len - n, " lport %s",
			      fmt_range(b, sizeof(b), a->lport));
	if (a->has_rport && n < len)
		n += snprintf(buf + n, len - n, " rport %s",
			      fmt_range(b, sizeof(b), a->rport));
	if (a->has_peer && n < len) {
		if (!inet_ntop(a->peer.family, &a->peer.addr, addr, sizeof(addr)))
			snprintf(addr, sizeof(addr), "?");
		n += snprintf(buf + n, len - n, " peer %s/%u", addr, a->peer.plen);
	}
	if (a->cgroup && n < len)
		n += snprintf(buf + n, len - n, " cgroup %s",
			      conf_word(a->cgroup, b, sizeof(b)));
	if (n >= len)
		n = len - 1;
	if (a->name)
		snprintf(buf + n, len - n, " name %s",
			 conf_word(a->name, b, sizeof(b)));
	return n;
}

/* The "rule add" line of a dumped rule; returns its match's length. */
static size_t rule_row_line(const struct rule_row *r, char *buf, size_t len)
{
	struct rule_add_args a = {
		.proto = r->proto,
		.has_port = r->has_port,
		.has_lport = r->has_lport,
		.has_rport = r->has_rport,
		.has_peer = r->family != 0,
		.cgroup = r->cgroup,
		.name = r->name[0] ? r->name : NULL,
	};

	memcpy(a.port, r->port, sizeof(a.port));
	memcpy(a.lport, r->lport, sizeof(a.lport));
	memcpy(a.rport, r->rport, sizeof(a.rport));
	if (a.has_peer) {
		a.peer.family = r->family;
		a.peer.plen = r->has_plen ? r->plen :
			      r->family == AF_INET ? 32 : 128;
		memcpy(&a.peer.addr, r->peer, r->family == AF_INET ? 4 : 16);
	}
	return rule_conf_line(&a, buf, len);
}

int rule_conf_dump(struct mp_ctx *ctx, struct rule_conf **out, unsigned int *n)
{
	struct rule_list l = { 0 };
	struct rule_conf *rc;
	unsigned int i;
	int ret = 0;

	*out = NULL;
	*n = 0;
	if (mp_nl_dump(&ctx->nl, MIGPRIO_CMD_RULE_GET, rule_row_cb,
		       rule_list_reset, &l)) {
		mp_kernel_err(ctx, MIGPRIO_CMD_RULE_GET);
		ret = 1;
		goto out;
	}
	rc = calloc(l.n ? l.n : 1, sizeof(*rc));
	if (!rc) {
		pr_err("out of memory");
		ret = 1;
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		rc[i].id = l.rows[i].id;
		rc[i].keylen = rule_row_line(&l.rows[i], rc[i].line,
					     sizeof(rc[i].line));
	}
	*out = rc;
	*n = l.n;
out:
	rule_list_reset(&l);
	free(l.rows);
	return ret;
}

int rule_del_many(struct mp_ctx *ctx, const __u32 *ids, unsigned int n)
{
	return rule_del_ids(ctx, ids, n);
}

static const struct mp_cmd rule_cmds[] = {
	{ "add", rule_add_parse, rule_add_run,
	  CMD_APPLY | CMD_RULE_ADD | CMD_CONF, NULL, NULL },
	{ "del", rule_del_parse, rule_del_run, CMD_APPLY, NULL, "delete" },
	{ "list", parse_noargs, rule_list_run, 0, NULL, "show" },
	{ "flush", parse_noargs, rule_flush_run, CMD_APPLY, NULL, NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};

const struct mp_object rule_object = {
	.name = "rule",
	.cmds = rule_cmds,
	.dflt = "list",
	.usage =
	"rule add [proto tcp|udp] [port P[-Q]] [lport P[-Q]] [rport P[-Q]]\n"
	"          [peer PREFIX] [cgroup PATH] [name NAME]\n"
	"          port: the service port, of the end that listens; lport, rport:\n"
	"          this host's and the peer's port\n"
	"rule add preset qemu|proxmox|nbd [peer PREFIX] [cgroup PATH] [name NAME]\n"
	"rule add preset ssh peer PREFIX [cgroup PATH] [name NAME]\n"
	"rule del | delete ID\n"
	"rule del | delete MATCH\n"
	"          MATCH: the rule add words of the rule (name only to check it)\n"
	"rule list | show\n"
	"rule flush\n",
};
