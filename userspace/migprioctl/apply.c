// SPDX-License-Identifier: GPL-2.0
/*
 * migprioctl apply FILE: one command per line (the syntax of the command
 * line without "migprioctl", keywords spelled out: abbreviations are for
 * the command line), '#' comments, blank lines. Every line is
 * parsed and validated before anything is sent; then the commands run in
 * order over one socket, consecutive "rule add" lines batched, and the
 * first kernel error stops the run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/migprio.h>

#include "apply.h"
#include "print.h"

#define MAX_ARGS	64

static char where[512];

static void set_where(const struct apply_prog *p, unsigned int lineno)
{
	snprintf(where, sizeof(where), "%s:%u", p->name, lineno);
	mp_where = where;
}

static char *read_all(FILE *fp, size_t *len)
{
	size_t size = 1 << 16, n = 0, r;
	char *buf = malloc(size), *nbuf;

	while (buf) {
		r = fread(buf + n, 1, size - n - 1, fp);
		n += r;
		if (n < size - 1) {
			if (ferror(fp))
				break;
			buf[n] = '\0';
			*len = n;
			return buf;
		}
		size *= 2;
		nbuf = realloc(buf, size);
		if (!nbuf)
			break;
		buf = nbuf;
	}
	free(buf);
	return NULL;
}

/* Split a line in place: blanks separate, "..." quotes, # starts a comment. */
static int tokenize(char *s, char **argv)
{
	int argc = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (!*s || *s == '#')
			return argc;
		if (argc == MAX_ARGS)
			return usage_err("more than %d words", MAX_ARGS);
		if (*s == '"') {
			argv[argc++] = ++s;
			s = strchr(s, '"');
			if (!s)
				return usage_err("unterminated quote");
			*s++ = '\0';
			if (*s && *s != ' ' && *s != '\t' && *s != '\r')
				return usage_err("text after a closing quote");
			continue;
		}
		argv[argc++] = s;
		s += strcspn(s, " \t\r");
		if (*s)
			*s++ = '\0';
	}
}

static int parse_line(struct apply_prog *p, char *text, unsigned int lineno)
{
	const struct mp_object *obj = NULL;
	struct apply_line *l = &p->lines[p->n];
	char *argv[MAX_ARGS];
	int argc, used;

	set_where(p, lineno);
	argc = tokenize(text, argv);
	if (argc <= 0)
		return argc;
	if (mp_resolve(argc, argv, &obj, &l->cmd, &used))
		return -1;
	if (p->conf && !(l->cmd->flags & CMD_CONF))
		return usage_err("\"%s%s%s\" cannot be used in a configuration file (it holds dev set and rule add lines: what should be)",
				 obj->name, l->cmd->name ? " " : "",
				 l->cmd->name ? l->cmd->name : "");
	if (!(l->cmd->flags & CMD_APPLY))
		return usage_err("\"%s%s%s\" cannot be used in an apply file (dev set, dev clear, rule add, rule del, rule flush can)",
				 obj->name, l->cmd->name ? " " : "",
				 l->cmd->name ? l->cmd->name : "");
	memset(&l->args, 0, sizeof(l->args));
	if (l->cmd->parse(argc - used, argv + used, &l->args))
		return -1;
	l->lineno = lineno;
	if (p->conf && (l->cmd->flags & CMD_DEV_SET)) {
		if (p->dev)
			return usage_err("a second dev set line (the first is line %u)",
					 p->dev->lineno);
		p->dev = l;
	}
	p->n++;
	return 0;
}

void apply_free(union mp_args *u)
{
	struct apply_prog *p = u->prog;

	if (!p)
		return;
	free(p->text);
	free(p->lines);
	free(p);
	u->prog = NULL;
}

int apply_load(struct apply_prog *p, const char *path)
{
	unsigned int lineno = 0, nlines = 1, errors = 0;
	bool use_stdin = !strcmp(path, "-");
	size_t len = 0, i;
	char *line, *next;
	FILE *fp;

	p->name = use_stdin ? "<stdin>" : path;
	fp = use_stdin ? stdin : fopen(path, "r");
	if (!fp) {
		usage_err("cannot open %s: %s", path, strerror(errno));
		return -2;
	}
	p->text = read_all(fp, &len);
	if (!use_stdin)
		fclose(fp);
	if (!p->text) {
		usage_err("cannot read %s", p->name);
		return -2;
	}
	for (i = 0; i < len; i++)
		nlines += p->text[i] == '\n';
	p->lines = calloc(nlines, sizeof(*p->lines));
	if (!p->lines) {
		usage_err("out of memory");
		return -2;
	}
	kw_exact = true;	/* a file spells its keywords out */
	for (line = p->text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (strlen(line) != (size_t)((next ? next - 1 : p->text + len) - line)) {
			set_where(p, lineno);
			usage_err("NUL byte in line");
			errors++;
			continue;
		}
		if (parse_line(p, line, lineno))
			errors++;
	}
	kw_exact = false;
	mp_where = "migprioctl";
	if (errors) {
		pr_err("%u bad line%s in %s, nothing applied", errors,
		       errors > 1 ? "s" : "", p->name);
		return -2;
	}
	return 0;
}

static int apply_parse(int argc, char **argv, union mp_args *u)
{
	struct apply_prog *p;
	int ret;

	if (argc < 1)
		return usage_err("apply needs a file (or - for standard input)");
	if (argc > 1)
		return usage_err("unexpected argument \"%s\"", argv[1]);
	p = calloc(1, sizeof(*p));
	if (!p)
		return usage_err("out of memory");
	ret = apply_load(p, argv[0]);
	u->prog = p;	/* apply_free() frees it, after a failure too */
	return ret;
}

static int apply_run(struct mp_ctx *ctx, const union mp_args *u)
{
	const struct apply_prog *p = u->prog;
	const struct rule_add_args **batch;
	struct nlsock_err err;
	unsigned int i = 0, j, done = 0;
	int rc = 0, failed;

	batch = calloc(p->n ? p->n : 1, sizeof(*batch));
	if (!batch) {
		pr_err("out of memory");
		return 1;
	}
	ctx->quiet = true;
	while (i < p->n) {
		const struct apply_line *l = &p->lines[i];

		set_where(p, l->lineno);
		if (!(l->cmd->flags & CMD_RULE_ADD)) {
			rc = l->cmd->run(ctx, &l->args);
			if (rc)
				break;
			i++;
			done++;
			continue;
		}
		for (j = i; j < p->n && (p->lines[j].cmd->flags & CMD_RULE_ADD); j++)
			batch[j - i] = &p->lines[j].args.rule_add;
		failed = rule_add_many(ctx, batch, j - i, &err);
		if (failed >= 0) {
			set_where(p, p->lines[i + failed].lineno);
			mp_nl_perror(&err, MIGPRIO_CMD_RULE_ADD);
			done += failed;
			rc = 1;
			break;
		}
		done += j - i;
		i = j;
	}
	mp_where = "migprioctl";
	ctx->quiet = false;
	free(batch);
	if (rc) {
		pr_err("apply stopped at %s:%u; %u command%s before it %s applied",
		       p->name, p->lines[done].lineno, done, done == 1 ? "" : "s",
		       done == 1 ? "was" : "were");
		return 1;
	}
	if (is_json()) {
		open_json_object(NULL);
		print_uint(PRINT_JSON, "applied", NULL, done);
		close_json_object();
	}
	return 0;
}

static const struct mp_cmd apply_cmds[] = {
	{ NULL, apply_parse, apply_run, 0, apply_free, NULL },
};

const struct mp_object apply_object = {
	.name = "apply",
	.cmds = apply_cmds,
	.usage = "apply FILE\n"
		 "          FILE: one command per line as above without \"migprioctl\",\n"
		 "          # comments; all lines are validated before any is applied\n",
};
