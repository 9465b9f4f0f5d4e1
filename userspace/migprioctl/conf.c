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
#include <syslog.h>
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
	bool dry_run = false;
	int ret;

	while (argc >= 1 && argv[0][0] == '-' && argv[0][1]) {
		if (!strcmp(argv[0], "--dry-run")) {
			dry_run = true;
			argc--;
			argv++;
		} else if (!strcmp(argv[0], "--wait")) {
			if (argc < 2)
				return usage_err("--wait needs SECONDS");
			if (parse_u32(argv[1], &wait, 0, WAIT_MAX))
				return usage_err("invalid --wait \"%s\" (seconds, 0-%d)",
						 argv[1], WAIT_MAX);
			argc -= 2;
			argv += 2;
		} else {
			return usage_err("unknown option \"%s\"", argv[0]);
		}
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
	p->dry_run = dry_run;
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
	const char *file;
	unsigned int lineno;
};

/* What differs between the running dev set line and the file's. */
#define DEV_KERNEL	0x1	/* priority, buffers, dscp: the kernel only */
#define DEV_QUEUE	0x2	/* queue, rate, guard: the root qdisc */
#define DEV_RINGS	0x4	/* rings: may reset the NIC */
#define DEV_OTHER	0x8	/* another interface, or none */

/* What syncconf changes, worked out before anything is: also --dry-run's. */
struct plan {
	const struct apply_prog *p;
	struct rule_conf *have;
	unsigned int nhave;
	struct want *want;
	unsigned int nwant;
	const struct rule_add_args **add;
	unsigned int nadd;
	bool *kept;
	__u32 *del;
	unsigned int ndel, nren;
	unsigned int dev;	/* DEV_*, 0: the dev line stays */
	char dev_words[96];	/* the dev set options that differ */
	char cur_line[512], want_line[512];
};

static void dev_word(struct plan *pl, unsigned int part, const char *word)
{
	size_t n = strlen(pl->dev_words);

	pl->dev |= part;
	snprintf(pl->dev_words + n, sizeof(pl->dev_words) - n, "%s%s",
		 n ? " " : "", word);
}

/* Which parts of the designation the file changes, and their words. */
static void plan_dev(struct plan *pl, const struct dev_state *cur,
		     const struct dev_state *dst)
{
	if (!strcmp(pl->cur_line, pl->want_line))
		return;
	if (!cur->set || !pl->p->dev || strcmp(cur->ifname, dst->ifname)) {
		pl->dev = DEV_OTHER;
		if (cur->has_rings)	/* the interface left gets its sizes back */
			pl->dev |= DEV_RINGS;
		if (pl->p->dev && dst->rings_mode != RINGS_KEEP)
			pl->dev |= DEV_RINGS;
		return;
	}
	if (cur->priority != dst->priority)
		dev_word(pl, DEV_KERNEL, "priority");
	if (cur->sndbuf != dst->sndbuf)
		dev_word(pl, DEV_KERNEL, "sndbuf");
	if (cur->rcvbuf != dst->rcvbuf)
		dev_word(pl, DEV_KERNEL, "rcvbuf");
	if (cur->notsent != dst->notsent)
		dev_word(pl, DEV_KERNEL, "notsent");
	if (cur->dscp != dst->dscp)
		dev_word(pl, DEV_KERNEL, "dscp");
	if (cur->queue != dst->queue)
		dev_word(pl, DEV_QUEUE, "queue");
	if (dst->queue == MIGPRIO_QUEUE_HTB && cur->queue == dst->queue) {
		if (cur->rate != dst->rate)
			dev_word(pl, DEV_QUEUE, "rate");
		if (cur->guard != dst->guard)
			dev_word(pl, DEV_QUEUE, "guard");
	}
	if (cur->rings_mode != dst->rings_mode ||
	    (dst->rings_mode == RINGS_N && cur->rings_n != dst->rings_n))
		dev_word(pl, DEV_RINGS, "rings");
	if (!pl->dev)		/* the lines differ in a way not listed here */
		pl->dev = DEV_KERNEL | DEV_QUEUE | DEV_RINGS;
}

static void plan_free(struct plan *pl)
{
	free(pl->del);
	free(pl->kept);
	free(pl->add);
	free(pl->want);
	free(pl->have);
}

/* Compare the file with the running configuration; 0, or 1 (reported). */
static int plan_make(struct mp_ctx *ctx, const struct apply_prog *p,
		     struct plan *pl)
{
	struct dev_state cur, dst = { 0 };
	unsigned int i, j;

	memset(pl, 0, sizeof(*pl));
	pl->p = p;
	if (dev_running(ctx, &cur) || rule_conf_dump(ctx, &pl->have, &pl->nhave))
		return 1;
	pl->want = calloc(p->n ? p->n : 1, sizeof(*pl->want));
	pl->add = calloc(p->n ? p->n : 1, sizeof(*pl->add));
	pl->kept = calloc(pl->nhave ? pl->nhave : 1, sizeof(*pl->kept));
	pl->del = calloc(pl->nhave ? pl->nhave : 1, sizeof(*pl->del));
	if (!pl->want || !pl->add || !pl->kept || !pl->del) {
		pr_err("out of memory");
		return 1;
	}

	/* the rules: exact matches stay */
	for (i = 0; i < p->n; i++) {
		const struct apply_line *l = &p->lines[i];
		struct want *w = &pl->want[pl->nwant];

		if (!(l->cmd->flags & CMD_RULE_ADD))
			continue;
		w->args = &l->args.rule_add;
		w->keylen = rule_conf_line(w->args, w->line, sizeof(w->line));
		w->have = -1;
		w->file = l->file;
		w->lineno = l->lineno;
		for (j = 0; j < pl->nwant; j++) {
			if (!strncmp(pl->want[j].line, w->line, w->keylen) &&
			    pl->want[j].keylen == w->keylen) {
				pr_err("%s:%u: the same match as %s:%u; nothing changed",
				       l->file, l->lineno, pl->want[j].file,
				       pl->want[j].lineno);
				return 1;
			}
		}
		for (j = 0; j < pl->nhave; j++) {
			if (!pl->kept[j] && !strcmp(pl->have[j].line, w->line)) {
				pl->kept[j] = true;
				w->have = j;
				break;
			}
		}
		pl->nwant++;
	}
	/* renames: the same match under another name */
	for (i = 0; i < pl->nwant; i++) {
		struct want *w = &pl->want[i];

		if (w->have >= 0)
			continue;
		for (j = 0; j < pl->nhave; j++) {
			if (!pl->kept[j] && pl->have[j].keylen == w->keylen &&
			    !strncmp(pl->have[j].line, w->line, w->keylen)) {
				pl->kept[j] = true;
				w->have = j;
				pl->nren++;
				break;
			}
		}
		if (w->have < 0)
			pl->add[pl->nadd++] = w->args;
	}
	/* rules the file does not have */
	for (j = 0; j < pl->nhave; j++) {
		if (!pl->kept[j])
			pl->del[pl->ndel++] = pl->have[j].id;
	}

	/* the interface */
	if (cur.set)
		dev_conf_line(&cur, pl->cur_line, sizeof(pl->cur_line));
	if (p->dev) {
		dev_args_state(&p->dev->args.dev_set, &dst);
		dev_conf_line(&dst, pl->want_line, sizeof(pl->want_line));
	}
	plan_dev(pl, &cur, &dst);
	return 0;
}

static bool plan_empty(const struct plan *pl)
{
	return !pl->nadd && !pl->nren && !pl->ndel && !pl->dev;
}

static void change(const char *sign, const char *line)
{
	char b[sizeof(((struct rule_conf *)0)->line) + 2];

	snprintf(b, sizeof(b), "%s%s", sign, line);
	if (is_json())
		print_string(PRINT_JSON, NULL, NULL, b);
	else
		printf("%s\n", b);
}

/*
 * The changes as a diff of showconf's lines: "-" a running line that goes,
 * "+" a line of the file that comes, in the order syncconf makes them.
 */
static void plan_print(const struct plan *pl)
{
	char line[sizeof(((struct rule_conf *)0)->line)];
	unsigned int i, j;

	open_json_array("changes");
	for (i = 0; i < pl->nadd; i++) {
		rule_conf_line(pl->add[i], line, sizeof(line));
		change("+", line);
	}
	if (pl->dev) {
		if (pl->cur_line[0])
			change("-", pl->cur_line);
		if (pl->want_line[0])
			change("+", pl->want_line);
	}
	for (i = 0; i < pl->nwant; i++) {
		const struct want *w = &pl->want[i];

		if (w->have >= 0 && strcmp(pl->have[w->have].line, w->line)) {
			change("-", pl->have[w->have].line);
			change("+", w->line);
		}
	}
	for (j = 0; j < pl->nhave; j++) {
		if (!pl->kept[j])
			change("-", pl->have[j].line);
	}
	close_json_array();
}

/* One line for the journal and for -j: what a run changed. */
static void plan_summary(const struct plan *pl, char *buf, size_t len)
{
	size_t n;

	if (plan_empty(pl)) {
		snprintf(buf, len, "nothing changed");
		return;
	}
	n = snprintf(buf, len, "%u rule%s added, %u renamed, %u deleted",
		     pl->nadd, pl->nadd == 1 ? "" : "s", pl->nren, pl->ndel);
	if (!pl->dev || n >= len)
		return;
	if (!pl->want_line[0])
		snprintf(buf + n, len - n, "; dev clear");
	else if (pl->dev & DEV_OTHER)
		snprintf(buf + n, len - n, "; %s", pl->want_line);
	else
		snprintf(buf + n, len - n, "; dev %s: %s",
			 pl->p->dev->args.dev_set.ifname, pl->dev_words);
}

static void plan_json(const struct plan *pl, bool dry_run)
{
	char sum[640];

	plan_summary(pl, sum, sizeof(sum));
	open_json_object(NULL);
	print_bool(PRINT_JSON, "dry_run", NULL, dry_run);
	print_uint(PRINT_JSON, "added", NULL, pl->nadd);
	print_uint(PRINT_JSON, "renamed", NULL, pl->nren);
	print_uint(PRINT_JSON, "deleted", NULL, pl->ndel);
	print_bool(PRINT_JSON, "dev_changed", NULL, pl->dev != 0);
	print_string(PRINT_JSON, "summary", NULL, sum);
	plan_print(pl);
	close_json_object();
}

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

/* Make the changes of the plan; 0, or 1 (reported). */
static int plan_apply(struct mp_ctx *ctx, const struct plan *pl)
{
	const struct apply_prog *p = pl->p;
	struct nlsock_err err;
	char line[sizeof(((struct rule_conf *)0)->line)];
	unsigned int i;
	int failed, rc;

	/* 1. new rules */
	if (pl->nadd) {
		failed = rule_add_many(ctx, pl->add, pl->nadd, &err);
		if (failed >= 0) {
			mp_nl_perror(&err, MIGPRIO_CMD_RULE_ADD);
			rule_conf_line(pl->add[failed], line, sizeof(line));
			pr_err("adding \"%s\" failed; nothing changed", line);
			undo_adds(ctx, pl->have, pl->nhave);
			return 1;
		}
	}

	/*
	 * 2. the interface: on the same one only the parts that differ (a
	 * change of buffers or DSCP leaves the qdisc and the rings alone)
	 */
	if (pl->dev) {
		union mp_args a;
		bool quiet = ctx->quiet;

		ctx->quiet = true;
		if (p->dev) {
			a = p->dev->args;
			a.dev_set.keep_queue = !(pl->dev & (DEV_QUEUE | DEV_OTHER));
			a.dev_set.keep_rings = !(pl->dev & (DEV_RINGS | DEV_OTHER));
			rc = p->dev->cmd->run(ctx, &a);
		} else {
			rc = dev_clear(ctx);
		}
		ctx->quiet = quiet;
		if (rc) {
			undo_adds(ctx, pl->have, pl->nhave);
			pr_err("the rules added were taken back; nothing changed");
			return 1;
		}
	}

	/* 3. renames, one by one: delete, then add under the new name */
	for (i = 0; i < pl->nwant; i++) {
		const struct want *w = &pl->want[i];

		if (w->have < 0 || !strcmp(pl->have[w->have].line, w->line))
			continue;
		if (rule_del_many(ctx, &pl->have[w->have].id, 1))
			return 1;
		if (rule_add_many(ctx, &w->args, 1, &err) >= 0) {
			mp_nl_perror(&err, MIGPRIO_CMD_RULE_ADD);
			pr_err("renaming rule %u failed", pl->have[w->have].id);
			return 1;
		}
	}

	/* 4. rules the file does not have */
	if (pl->ndel && rule_del_many(ctx, pl->del, pl->ndel)) {
		pr_err("could not delete every rule the file does not have");
		return 1;
	}
	return 0;
}

static int syncconf_run(struct mp_ctx *ctx, const union mp_args *u)
{
	const struct apply_prog *p = u->prog;
	char sum[640];
	struct plan pl;
	int rc;

	if (p->dev && !p->dry_run &&
	    wait_for_dev(p->dev->args.dev_set.ifname, p->wait))
		return 1;
	if (plan_make(ctx, p, &pl)) {
		plan_free(&pl);
		return p->dry_run ? 2 : 1;
	}
	if (p->dry_run) {
		if (is_json())
			plan_json(&pl, true);
		else
			plan_print(&pl);
		if (pl.dev & DEV_RINGS)
			pr_warn("the ring sizes change: many drivers (ixgbe, i40e, mlx5, bnxt) reset the NIC for this, its link goes down for a moment");
		rc = plan_empty(&pl) ? 0 : 1;
		plan_free(&pl);
		return rc;
	}
	rc = plan_apply(ctx, &pl);
	if (!rc) {
		plan_summary(&pl, sum, sizeof(sum));
		syslog(plan_empty(&pl) ? LOG_INFO : LOG_NOTICE,
		       "syncconf %s: %s", p->name, sum);
		if (is_json())
			plan_json(&pl, false);
	}
	plan_free(&pl);
	return rc;
}

static const struct mp_cmd syncconf_cmds[] = {
	{ NULL, syncconf_parse, syncconf_run, 0, apply_free, NULL },
};

const struct mp_object syncconf_object = {
	.name = "syncconf",
	.cmds = syncconf_cmds,
	.usage = "syncconf [--wait SECONDS] [--dry-run] FILE\n"
		 "          make the running configuration equal to FILE (dev set and\n"
		 "          rule add lines); waits up to SECONDS (30) for its interface;\n"
		 "          --dry-run prints the changes, exit 0 none, 1 some, 2 trouble\n",
};
