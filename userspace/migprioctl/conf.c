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
 *   0. the reserved ports of the rule lines with reserve-ports (reserve.c),
 *      only when a line asks or asked before,
 *   1. add the rules the file has and the kernel does not,
 *   2. dev set (or dev clear) when the dev line differs, or when the layout
 *      is not where the walk down the stack puts it now (place.h),
 *   3. rename: a rule whose match stays but whose name changes is deleted
 *      and added again (the kernel refuses two rules with one match),
 *   4. delete the rules the file does not have.
 * A failure in 1 or 2 deletes the rules 1 added and puts the reserved
 * ports back: nothing has changed. On the same interface, 2 touches only
 * the parts of the line that differ (keep_queue, keep_rings), unless the
 * layout must be placed again. All of it is worked out first, reading
 * only (plan_make()): --dry-run prints that plan, a run makes it and logs
 * a one-line summary to syslog, and the follower (follow.c) syncs through
 * the same code (conf_sync()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <net/if.h>

#include "apply.h"
#include "place.h"
#include "print.h"
#include "reserve.h"
#include "state.h"

#define WAIT_DEFAULT	30	/* seconds for the interface to appear */
#define WAIT_MAX	3600

/* ---- showconf ---- */

static int showconf_run(struct mp_ctx *ctx, const union mp_args *u)
{
	struct mp_place_check pc;
	struct reserve_rules reserved;
	struct rule_conf *rules;
	struct dev_state st;
	unsigned int n, i;
	char line[512];
	size_t len;

	(void)u;
	if (dev_running(ctx, &st) || rule_conf_dump(ctx, &rules, &n))
		return 1;
	if (reserve_rules_load(&reserved)) {
		pr_err("cannot read the record of the reserved ports");
		free(rules);
		return 1;
	}
	/* the word after the name: syncconf reserved the rule's ports */
	for (i = 0; i < n; i++) {
		len = strlen(rules[i].line);
		if (reserve_rules_has(&reserved, rules[i].line, rules[i].keylen))
			snprintf(rules[i].line + len, sizeof(rules[i].line) - len,
				 " reserve-ports");
	}
	reserve_rules_free(&reserved);
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
		if (st.set && st.nqdev) {
			/* where the walk put the queue: a comment, not config */
			mp_place_check(&st, &pc);
			printf("# %s's queue layout is on", st.ifname);
			for (i = 0; i < st.nqdev; i++)
				printf(" %s", st.qdev[i].ifname);
			printf("%s%s%s\n", pc.path[0] ? " (" : "", pc.path,
			       pc.path[0] ? ")" : "");
		}
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

int conf_load(struct apply_prog *p, const char *path)
{
	int ret;

	p->conf = true;
	p->path = path;
	dev_lookup_deferred = true;	/* waited for in run */
	rule_reserve_allowed = true;
	ret = apply_load(p, path);
	rule_reserve_allowed = false;
	dev_lookup_deferred = false;
	return ret;
}

static int syncconf_parse(int argc, char **argv, union mp_args *u)
{
	struct apply_prog *p;
	unsigned int wait = WAIT_DEFAULT;
	bool dry_run = false, follow = false;
	int ret;

	for (; argc >= 1 && argv[0][0] == '-' && argv[0][1]; argc--, argv++) {
		if (!strcmp(argv[0], "--dry-run")) {
			dry_run = true;
		} else if (!strcmp(argv[0], "--follow")) {
			follow = true;
		} else if (!strcmp(argv[0], "--wait")) {
			if (argc < 2)
				return usage_err("--wait needs SECONDS");
			if (parse_u32(argv[1], &wait, 0, WAIT_MAX))
				return usage_err("invalid --wait \"%s\" (seconds, 0-%d)",
						 argv[1], WAIT_MAX);
			argc--;
			argv++;
		} else {
			return usage_err("unknown option \"%s\"", argv[0]);
		}
	}
	if (argc < 1)
		return usage_err("syncconf needs a file (or - for standard input)");
	if (argc > 1)
		return usage_err("unexpected argument \"%s\"", argv[1]);
	if (dry_run && follow)
		return usage_err("--dry-run changes nothing and --follow keeps changing: one or the other");
	if (follow && !strcmp(argv[0], "-"))
		return usage_err("--follow reads its file again on SIGHUP: give a file, not -");
	p = calloc(1, sizeof(*p));
	if (!p)
		return usage_err("out of memory");
	p->wait = wait;
	p->dry_run = dry_run;
	if (dry_run)
		mp_trouble_rc = 2;	/* 1 says "changes" */
	p->follow = follow;
	ret = conf_load(p, argv[0]);
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
#define DEV_QUEUE	0x2	/* queue, rate, guard: the root qdiscs */
#define DEV_RINGS	0x4	/* rings: may reset the NIC */
#define DEV_OTHER	0x8	/* another interface, or none */
#define DEV_PLACE	0x10	/* uplink, per-slave, or the stack below changed */

/* What syncconf changes, worked out before anything is: also --dry-run's. */
struct plan {
	const struct apply_prog *p;
	struct rule_conf *have;
	unsigned int nhave;
	struct want *want;
	unsigned int nwant;
	const struct rule_add_args **add, **all;
	unsigned int nadd;
	bool *kept;
	__u32 *del;
	unsigned int ndel, nren;
	unsigned int dev;	/* DEV_*, 0: the dev line stays */
	char dev_words[96];	/* the dev set options that differ */
	char cur_line[512], want_line[512];
	struct mp_place_check pc;	/* the running layout, where it is */
	struct reserve_plan res;	/* the reserved ports (reserve.h) */
};

static void dev_word(struct plan *pl, unsigned int part, const char *word)
{
	size_t n = strlen(pl->dev_words);

	pl->dev |= part;
	snprintf(pl->dev_words + n, sizeof(pl->dev_words) - n, "%s%s",
		 n ? " " : "", word);
}

/*
 * Which parts of the designation the file changes, and their words; on
 * the same interface also whether its layout is still where the walk down
 * the stack puts it (if not, it is placed again, whatever else changes).
 */
static void plan_dev(struct plan *pl, const struct dev_state *cur,
		     const struct dev_state *dst)
{
	bool same_line = !strcmp(pl->cur_line, pl->want_line);

	if (!cur->set && !pl->p->dev)
		return;
	if (!cur->set || !pl->p->dev || strcmp(cur->ifname, dst->ifname)) {
		pl->dev = DEV_OTHER;
		if (cur->has_rings)	/* the interface left gets its sizes back */
			pl->dev |= DEV_RINGS;
		if (pl->p->dev && dst->rings_mode != RINGS_KEEP)
			pl->dev |= DEV_RINGS;
		return;
	}
	mp_place_check(cur, &pl->pc);
	if (pl->pc.ret)
		pl->dev |= DEV_PLACE;
	if (same_line)
		return;
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
	if (strcmp(cur->uplink, dst->uplink))
		dev_word(pl, DEV_PLACE, "uplink");
	if (cur->per_slave != dst->per_slave)
		dev_word(pl, DEV_PLACE, "per-slave");
	if (cur->rings_mode != dst->rings_mode ||
	    (dst->rings_mode == RINGS_N && cur->rings_n != dst->rings_n))
		dev_word(pl, DEV_RINGS, "rings");
	if (!pl->dev_words[0])	/* the lines differ in a way not listed here */
		pl->dev |= DEV_KERNEL | DEV_QUEUE | DEV_RINGS | DEV_PLACE;
}

static void plan_free(struct plan *pl)
{
	reserve_plan_free(&pl->res);
	free(pl->del);
	free(pl->kept);
	free(pl->all);
	free(pl->add);
	free(pl->want);
	free(pl->have);
}

/*
 * Compare the file with the running configuration; 0, or 1 (reported).
 * Reads only: --dry-run stops here.
 */
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
	pl->all = calloc(p->n ? p->n : 1, sizeof(*pl->all));
	pl->kept = calloc(pl->nhave ? pl->nhave : 1, sizeof(*pl->kept));
	pl->del = calloc(pl->nhave ? pl->nhave : 1, sizeof(*pl->del));
	if (!pl->want || !pl->add || !pl->all || !pl->kept || !pl->del) {
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
		pl->all[pl->nwant] = w->args;
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

	/* the reserved ports, when the file asks or asked */
	if (reserve_plan(pl->all, pl->nwant, &pl->res))
		return 1;

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
	return !pl->nadd && !pl->nren && !pl->ndel && !pl->dev &&
	       !pl->res.changed;
}

static void change(const char *sign, const char *line, const char *more)
{
	char b[sizeof(((struct rule_conf *)0)->line) + 64];

	snprintf(b, sizeof(b), "%s%s%s", sign, line, more);
	if (is_json())
		print_string(PRINT_JSON, NULL, NULL, b);
	else
		printf("%s\n", b);
}

/* showconf's word after a rule line: the file's, or the record's */
static const char *want_rp(const struct want *w)
{
	return w->args->reserve_ports ? " reserve-ports" : "";
}

static const char *have_rp(const struct plan *pl, const struct rule_conf *r)
{
	return reserve_rules_has(&pl->res.asked, r->line, r->keylen) ?
	       " reserve-ports" : "";
}

/*
 * The changes as a diff of showconf's lines: "-" a running line that goes,
 * "+" a line of the file that comes, in the order syncconf makes them; the
 * reserved ports as the sysctl's lines; a layout placed again where the
 * walk puts it now as its dev set line going and coming, after a comment
 * that says why.
 */
static void plan_print(const struct plan *pl)
{
	char line[sizeof(((struct rule_conf *)0)->line)];
	const struct want *w;
	unsigned int i, j;

	open_json_array("changes");
	for (i = 0; i < pl->nwant; i++) {
		w = &pl->want[i];
		if (w->have >= 0 && !strcmp(pl->have[w->have].line, w->line) &&
		    strcmp(have_rp(pl, &pl->have[w->have]), want_rp(w))) {
			change("-", w->line, have_rp(pl, &pl->have[w->have]));
			change("+", w->line, want_rp(w));
		}
	}
	if (pl->res.sysctl_changes) {
		change("-", "net.ipv4.ip_local_reserved_ports = ", pl->res.sysctl);
		change("+", "net.ipv4.ip_local_reserved_ports = ", pl->res.value);
	}
	for (i = 0; i < pl->nadd; i++) {
		rule_conf_line(pl->add[i], line, sizeof(line));
		change("+", line, pl->add[i]->reserve_ports ? " reserve-ports" : "");
	}
	if (pl->dev) {
		if (pl->pc.ret) {
			snprintf(line, sizeof(line), "# %s: placed again: %s",
				 pl->p->dev->args.dev_set.ifname, pl->pc.why);
			change("", line, "");
		}
		if (pl->cur_line[0])
			change("-", pl->cur_line, "");
		if (pl->want_line[0])
			change("+", pl->want_line, "");
	}
	for (i = 0; i < pl->nwant; i++) {
		w = &pl->want[i];
		if (w->have >= 0 && strcmp(pl->have[w->have].line, w->line)) {
			change("-", pl->have[w->have].line,
			       have_rp(pl, &pl->have[w->have]));
			change("+", w->line, want_rp(w));
		}
	}
	for (j = 0; j < pl->nhave; j++) {
		if (!pl->kept[j])
			change("-", pl->have[j].line, have_rp(pl, &pl->have[j]));
	}
	close_json_array();
}

/* One line for the journal, the follower and -j: what a run changed. */
static void plan_summary(const struct plan *pl, char *buf, size_t len)
{
	const struct reserve_plan *r = &pl->res;
	size_t n;

	if (plan_empty(pl)) {
		snprintf(buf, len, "nothing changed");
		return;
	}
	n = snprintf(buf, len, "%u rule%s added, %u renamed, %u deleted",
		     pl->nadd, pl->nadd == 1 ? "" : "s", pl->nren, pl->ndel);
	if (r->sysctl_changes && n < len)
		n += snprintf(buf + n, len - n, "; reserved ports%s%s%s%s",
			      r->more[0] ? " +" : "", r->more,
			      r->less[0] ? " -" : "", r->less);
	else if (r->changed && n < len)
		n += snprintf(buf + n, len - n, "; reserve-ports on other rules");
	if (!pl->dev || n >= len)
		return;
	if (!pl->want_line[0])
		snprintf(buf + n, len - n, "; dev clear");
	else if (pl->dev & DEV_OTHER)
		snprintf(buf + n, len - n, "; %s", pl->want_line);
	else
		snprintf(buf + n, len - n, "; dev %s: %s%s%s%s",
			 pl->p->dev->args.dev_set.ifname, pl->dev_words,
			 pl->pc.ret && pl->dev_words[0] ? ", " : "",
			 pl->pc.ret ? "placed again: " : "",
			 pl->pc.ret ? pl->pc.why : "");
}

static void plan_json(const struct plan *pl, bool dry_run)
{
	char sum[1024];

	plan_summary(pl, sum, sizeof(sum));
	open_json_object(NULL);
	print_bool(PRINT_JSON, "dry_run", NULL, dry_run);
	print_uint(PRINT_JSON, "added", NULL, pl->nadd);
	print_uint(PRINT_JSON, "renamed", NULL, pl->nren);
	print_uint(PRINT_JSON, "deleted", NULL, pl->ndel);
	print_bool(PRINT_JSON, "dev_changed", NULL, pl->dev != 0);
	print_bool(PRINT_JSON, "reserved_changed", NULL, pl->res.changed);
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
static int plan_apply(struct mp_ctx *ctx, struct plan *pl)
{
	const struct apply_prog *p = pl->p;
	struct nlsock_err err;
	char line[sizeof(((struct rule_conf *)0)->line)];
	unsigned int i;
	int failed, rc;

	/* 0. the reserved ports */
	if (pl->res.changed && reserve_apply(&pl->res))
		return 1;

	/* 1. new rules */
	if (pl->nadd) {
		failed = rule_add_many(ctx, pl->add, pl->nadd, &err);
		if (failed >= 0) {
			mp_nl_perror(&err, MIGPRIO_CMD_RULE_ADD);
			rule_conf_line(pl->add[failed], line, sizeof(line));
			pr_err("adding \"%s\" failed; nothing changed", line);
			undo_adds(ctx, pl->have, pl->nhave);
			reserve_undo(&pl->res);
			return 1;
		}
	}

	/*
	 * 2. the interface: on the same one only the parts that differ (a
	 * change of buffers or DSCP leaves the qdiscs and the rings alone);
	 * a layout no longer where the walk puts it is placed again
	 */
	if (pl->dev) {
		unsigned int place = DEV_OTHER | DEV_PLACE;
		union mp_args a;
		bool quiet = ctx->quiet;

		ctx->quiet = true;
		if (p->dev) {
			a = p->dev->args;
			a.dev_set.keep_queue = !(pl->dev & (DEV_QUEUE | place));
			a.dev_set.keep_rings = !(pl->dev & (DEV_RINGS | place));
			rc = p->dev->cmd->run(ctx, &a);
		} else {
			rc = dev_clear(ctx);
		}
		ctx->quiet = quiet;
		if (rc) {
			undo_adds(ctx, pl->have, pl->nhave);
			reserve_undo(&pl->res);
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

/*
 * Work out the changes; unless --dry-run, wait for the file's interface
 * first and make them, one changing command at a time (state.h's lock; a
 * dry run writes nothing, not even that). 0, or 1 (reported); *pl is to
 * be freed either way.
 */
static int conf_run(struct mp_ctx *ctx, const struct apply_prog *p,
		    struct plan *pl)
{
	int rc;

	memset(pl, 0, sizeof(*pl));
	if (p->dry_run)
		return plan_make(ctx, p, pl);
	if (p->dev && wait_for_dev(p->dev->args.dev_set.ifname, p->wait))
		return 1;
	mp_state_lock();
	rc = plan_make(ctx, p, pl);
	if (!rc)
		rc = plan_apply(ctx, pl);
	mp_state_unlock();
	return rc;
}

int conf_sync(struct mp_ctx *ctx, const struct apply_prog *p,
	      struct conf_changes *ch)
{
	struct plan pl;
	int rc;

	rc = conf_run(ctx, p, &pl);
	if (!rc) {
		ch->added = pl.nadd;
		ch->renamed = pl.nren;
		ch->deleted = pl.ndel;
		ch->dev_changed = pl.dev != 0;
		ch->reserved_changed = pl.res.changed;
		ch->changed = !plan_empty(&pl);
		plan_summary(&pl, ch->summary, sizeof(ch->summary));
	}
	plan_free(&pl);
	return rc;
}

static int syncconf_run(struct mp_ctx *ctx, const union mp_args *u)
{
	const struct apply_prog *p = u->prog;
	char sum[1024];
	struct plan pl;
	int rc;

	if (p->follow)
		return conf_follow(ctx, u->prog);
	rc = conf_run(ctx, p, &pl);
	if (rc) {
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
	plan_summary(&pl, sum, sizeof(sum));
	syslog(plan_empty(&pl) ? LOG_INFO : LOG_NOTICE, "syncconf %s: %s",
	       p->name, sum);
	if (is_json())
		plan_json(&pl, false);
	plan_free(&pl);
	return 0;
}

static const struct mp_cmd syncconf_cmds[] = {
	{ NULL, syncconf_parse, syncconf_run, 0, apply_free, NULL },
};

const struct mp_object syncconf_object = {
	.name = "syncconf",
	.cmds = syncconf_cmds,
	.usage = "syncconf [--wait SECONDS] [--dry-run | --follow] FILE\n"
		 "          make the running configuration equal to FILE (dev set and\n"
		 "          rule add lines); waits up to SECONDS (30) for its interface;\n"
		 "          --dry-run prints the changes, exit 0 none, 1 some, 2 trouble;\n"
		 "          --follow: then keep it so as interfaces come and go (SIGHUP:\n"
		 "          read FILE again)\n",
};
