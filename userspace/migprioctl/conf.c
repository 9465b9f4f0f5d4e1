// SPDX-License-Identifier: GPL-2.0
/*
 * migprioctl showconf | syncconf: the running configuration as an apply
 * file, and making the running configuration equal to one.
 *
 * showconf prints one "dev set" line (options at their default left out)
 * and one "rule add" line per rule, in id order, so that
 *   migprioctl showconf > f; migprioctl syncconf f
 * changes nothing. syncconf reads and validates the whole file first
 * (nothing changes if a line is bad), waits for the interface it names,
 * then compares line by line and changes only what differs, in an order
 * that never leaves migration traffic unclassified on the way:
 *   1. add the rules the file has and the kernel does not,
 *   2. dev set (or dev clear) when the dev line differs,
 *   3. rename: a rule whose match stays but whose name changes is deleted
 *      and added again (the kernel refuses two rules with one match),
 *   4. delete the rules the file does not have.
 * A failure in 1 or 2 deletes the rules 1 added: nothing has changed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>

#include "apply.h"
#include "print.h"

#define WAIT_DEFAULT	30	/* seconds for the interface to appear */
#define WAIT_MAX	3600

/* ---- showconf ---- */

static int showconf_run(struct mp_ctx *ctx, const union mp_args *u)
{
	struct rule_conf *rules;
	struct dev_state st;
	unsigned int n, i;
	char line[512];

	(void)u;
	if (dev_running(ctx, &st) || rule_conf_dump(ctx, &rules, &n))
		return 1;
	if (is_json()) {
		open_json_array(NULL);
		if (st.set)
			print_string(PRINT_JSON, NULL, NULL,
				     dev_conf_line(&st, line, sizeof(line)));
		for (i = 0; i < n; i++)
			print_string(PRINT_JSON, NULL, NULL, rules[i].line);
		close_json_array();
	} else {
		printf("# migprioctl showconf: the running configuration, for migprioctl syncconf\n");
		if (st.set)
			printf("%s\n", dev_conf_line(&st, line, sizeof(line)));
		for (i = 0; i < n; i++)
			printf("%s\n", rules[i].line);
	}
	free(rules);
	return 0;
}

static const struct mp_cmd showconf_cmds[] = {
	{ NULL, parse_noargs, showconf_run, 0, NULL, NULL },
};

const struct mp_object showconf_object = {
	.name = "showconf",
	.cmds = showconf_cmds,
	.usage = "showconf\n"
		 "          the running configuration in the apply format\n",
};

/* ---- syncconf ---- */

static int syncconf_parse(int argc, char **argv, union mp_args *u)
{
	struct apply_prog *p;
	unsigned int wait = WAIT_DEFAULT;
	int ret;

	if (argc >= 2 && !strcmp(argv[0], "--wait")) {
		if (parse_u32(argv[1], &wait, 0, WAIT_MAX))
			return usage_err("invalid --wait \"%s\" (seconds, 0-%d)",
					 argv[1], WAIT_MAX);
		argc -= 2;
		argv += 2;
	}
	if (argc < 1)
		return usage_err("syncconf needs a file (or - for standard input)");
	if (argc > 1)
		return usage_err("unexpected argument \"%s\"", argv[1]);
	p = calloc(1, sizeof(*p));
	if (!p)
		return usage_err("out of memory");
	p->conf = true;
	p->wait = wait;
	dev_lookup_deferred = true;	/* waited for in run */
	ret = apply_load(p, argv[0]);
	dev_lookup_deferred = false;
	u->prog = p;
	return ret;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Poll for the interface (cheap: one ioctl per 100 ms); 0 or 1 (reported). */
static int wait_for_dev(const char *ifname, unsigned int wait)
{
	const struct timespec tick = { 0, 100 * 1000 * 1000 };
	double end = now() + wait;

	while (!if_nametoindex(ifname)) {
		if (now() >= end) {
			pr_err("device \"%s\" did not appear within %u s; nothing changed",
			       ifname, wait);
			return 1;
		}
		nanosleep(&tick, NULL);
	}
	return 0;
}

struct want {
	const struct rule_add_args *args;
	size_t keylen;
	char line[sizeof(((struct rule_conf *)0)->line)];
	int have;		/* index of the running rule kept, -1 none */
	unsigned int lineno;
};

/* Delete the rules that were not there before (ids not in have[]). */
static void undo_adds(struct mp_ctx *ctx, const struct rule_conf *have,
		      unsigned int nhave)
{
	struct rule_conf *now_rules;
	unsigned int n, i, j, ndel = 0;
	__u32 *del;

	if (rule_conf_dump(ctx, &now_rules, &n))
		return;
	del = calloc(n ? n : 1, sizeof(*del));
	for (i = 0; del && i < n; i++) {
		for (j = 0; j < nhave && have[j].id != now_rules[i].id; j++)
			;
		if (j == nhave)
			del[ndel++] = now_rules[i].id;
	}
	if (del && ndel && rule_del_many(ctx, del, ndel))
		pr_err("could not take back every rule added");
	free(del);
	free(now_rules);
}

static int syncconf_run(struct mp_ctx *ctx, const union mp_args *u)
{
	const struct apply_prog *p = u->prog;
	const struct rule_add_args **add = NULL;
	struct rule_conf *have = NULL;
	struct want *want = NULL;
	struct nlsock_err err;
	struct dev_state cur, dst;
	char cur_line[512] = "", want_line[512] = "";
	unsigned int nhave, nwant = 0, nadd = 0, ndel = 0, nren = 0, i, j;
	bool *kept = NULL, dev_changed = false;
	__u32 *del = NULL;
	int failed, rc = 1;

	if (p->dev && wait_for_dev(p->dev->args.dev_set.ifname, p->wait))
		return 1;
	if (dev_running(ctx, &cur) || rule_conf_dump(ctx, &have, &nhave))
		return 1;

	want = calloc(p->n ? p->n : 1, sizeof(*want));
	add = calloc(p->n ? p->n : 1, sizeof(*add));
	kept = calloc(nhave ? nhave : 1, sizeof(*kept));
	del = calloc(nhave ? nhave : 1, sizeof(*del));
	if (!want || !add || !kept || !del) {
		pr_err("out of memory");
		goto out;
	}

	/* the rules: exact matches stay */
	for (i = 0; i < p->n; i++) {
		const struct apply_line *l = &p->lines[i];
		struct want *w = &want[nwant];

		if (!(l->cmd->flags & CMD_RULE_ADD))
			continue;
		w->args = &l->args.rule_add;
		w->keylen = rule_conf_line(w->args, w->line, sizeof(w->line));
		w->have = -1;
		w->lineno = l->lineno;
		for (j = 0; j < nwant; j++) {
			if (!strncmp(want[j].line, w->line, w->keylen) &&
			    want[j].keylen == w->keylen) {
				pr_err("%s:%u: the same match as line %u; nothing changed",
				       p->name, l->lineno, want[j].lineno);
				goto out;
			}
		}
		for (j = 0; j < nhave; j++) {
			if (!kept[j] && !strcmp(have[j].line, w->line)) {
				kept[j] = true;
				w->have = j;
				break;
			}
		}
		nwant++;
	}
	/* renames: the same match under another name */
	for (i = 0; i < nwant; i++) {
		struct want *w = &want[i];

		if (w->have >= 0)
			continue;
		for (j = 0; j < nhave; j++) {
			if (!kept[j] && have[j].keylen == w->keylen &&
			    !strncmp(have[j].line, w->line, w->keylen)) {
				kept[j] = true;
				w->have = j;
				nren++;
				break;
			}
		}
		if (w->have < 0)
			add[nadd++] = w->args;
	}

	/* 1. new rules */
	if (nadd) {
		failed = rule_add_many(ctx, add, nadd, &err);
		if (failed >= 0) {
			mp_nl_perror(&err, MIGPRIO_CMD_RULE_ADD);
			rule_conf_line(add[failed], want_line, sizeof(want_line));
			pr_err("adding \"%s\" failed; nothing changed",
			       want_line);
			undo_adds(ctx, have, nhave);
			goto out;
		}
	}

	/* 2. the interface */
	if (cur.set)
		dev_conf_line(&cur, cur_line, sizeof(cur_line));
	if (p->dev) {
		dev_args_state(&p->dev->args.dev_set, &dst);
		dev_conf_line(&dst, want_line, sizeof(want_line));
	}
	if (strcmp(cur_line, want_line)) {
		bool quiet = ctx->quiet;

		ctx->quiet = true;
		if (p->dev)
			rc = p->dev->cmd->run(ctx, &p->dev->args);
		else
			rc = dev_clear(ctx);
		ctx->quiet = quiet;
		if (rc) {
			undo_adds(ctx, have, nhave);
			pr_err("the rules added were taken back; nothing changed");
			rc = 1;
			goto out;
		}
		dev_changed = true;
	}
	rc = 1;

	/* 3. renames, one by one: delete, then add under the new name */
	for (i = 0; i < nwant; i++) {
		struct want *w = &want[i];

		if (w->have < 0 || !strcmp(have[w->have].line, w->line))
			continue;
		if (rule_del_many(ctx, &have[w->have].id, 1))
			goto out;
		if (rule_add_many(ctx, &w->args, 1, &err) >= 0) {
			mp_nl_perror(&err, MIGPRIO_CMD_RULE_ADD);
			pr_err("renaming rule %u failed", have[w->have].id);
			goto out;
		}
	}

	/* 4. rules the file does not have */
	for (j = 0; j < nhave; j++) {
		if (!kept[j])
			del[ndel++] = have[j].id;
	}
	if (ndel && rule_del_many(ctx, del, ndel)) {
		pr_err("could not delete every rule the file does not have");
		goto out;
	}
	rc = 0;
	if (is_json()) {
		open_json_object(NULL);
		print_uint(PRINT_JSON, "added", NULL, nadd);
		print_uint(PRINT_JSON, "renamed", NULL, nren);
		print_uint(PRINT_JSON, "deleted", NULL, ndel);
		print_bool(PRINT_JSON, "dev_changed", NULL, dev_changed);
		close_json_object();
	}
out:
	free(del);
	free(kept);
	free(add);
	free(want);
	free(have);
	return rc;
}

static const struct mp_cmd syncconf_cmds[] = {
	{ NULL, syncconf_parse, syncconf_run, 0, apply_free, NULL },
};

const struct mp_object syncconf_object = {
	.name = "syncconf",
	.cmds = syncconf_cmds,
	.usage = "syncconf [--wait SECONDS] FILE\n"
		 "          make the running configuration equal to FILE (dev set and\n"
		 "          rule add lines); waits up to SECONDS (30) for its interface\n",
};
