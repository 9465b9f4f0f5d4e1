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
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <linux/migprio.h>

#include "apply.h"
#include "print.h"

#define MAX_ARGS	64
#define INCLUDE_DEPTH	8	/* include in an included file, ... */

static char where[512];

static void set_where(const char *file, unsigned int lineno)
{
	snprintf(where, sizeof(where), "%s:%u", file, lineno);
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

/* This host's name as Proxmox VE names nodes: the hostname up to a dot. */
static const char *node_name(void)
{
	static struct utsname u;

	if (!u.nodename[0] && !uname(&u))
		u.nodename[strcspn(u.nodename, ".")] = '\0';
	return u.nodename;
}

/* Is this host in NAME[,NAME...]? */
static bool node_in(const char *list)
{
	const char *me = node_name();
	size_t len = strlen(me);

	while (*list) {
		size_t n = strcspn(list, ",");

		if (n == len && !strncmp(list, me, n))
			return true;
		list += n + (list[n] == ',');
	}
	return false;
}

static int load_file(struct apply_prog *p, const char *path, unsigned int depth);

/* include PATH: relative to the including file's directory */
static int parse_include(struct apply_prog *p, const char *file, int argc,
			 char **argv, unsigned int depth)
{
	char path[PATH_MAX], dir[PATH_MAX];
	int ret;

	if (argc != 2)
		return usage_err("include takes one file");
	if (depth >= INCLUDE_DEPTH)
		return usage_err("include nested more than %d deep", INCLUDE_DEPTH);
	if (argv[1][0] == '/' || !strchr(file, '/')) {
		snprintf(path, sizeof(path), "%s", argv[1]);
	} else {
		snprintf(dir, sizeof(dir), "%s", file);
		snprintf(path, sizeof(path), "%s/%s", dirname(dir), argv[1]);
	}
	ret = load_file(p, path, depth + 1);
	return ret ? -1 : 0;
}

static int parse_line(struct apply_prog *p, const char *file, char *text,
		      unsigned int lineno, unsigned int depth)
{
	const struct mp_object *obj = NULL;
	struct apply_line *l = &p->lines[p->n], scratch;
	char *argv[MAX_ARGS], **av = argv;
	bool node = false, here = true;
	int argc, used;

	set_where(file, lineno);
	argc = tokenize(text, argv);
	if (argc <= 0)
		return argc;
	if (!strcmp(argv[0], "include") || !strcmp(argv[0], "node")) {
		if (!p->conf)
			return usage_err("\"%s\" is for configuration files (syncconf), not apply files",
					 argv[0]);
		if (argv[0][0] == 'i')
			return parse_include(p, file, argc, argv, depth);
		if (argc < 3)
			return usage_err("node NAME[,NAME...] needs a line after the names");
		node = true;
		here = node_in(argv[1]);
		av += 2;
		argc -= 2;
	}
	if (!here)
		l = &scratch;	/* another node's: checked, not kept */
	if (mp_resolve(argc, av, &obj, &l->cmd, &used))
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
	if (l->cmd->parse(argc - used, av + used, &l->args))
		return -1;
	l->lineno = lineno;
	l->file = file;
	if (!here)
		return 0;
	/*
	 * One dev set line; a node's own (node NAME dev set ...) wins over
	 * one for every node.
	 */
	if (p->conf && (l->cmd->flags & CMD_DEV_SET)) {
		if (p->dev && p->dev_node == node)
			return usage_err("a second dev set line%s (the first is %s:%u)",
					 node ? " for this node" : "",
					 p->dev->file, p->dev->lineno);
		if (!p->dev || node) {
			p->dev = l;
			p->dev_node = node;
		}
	}
	p->n++;
	return 0;
}

void apply_free(union mp_args *u)
{
	struct apply_prog *p = u->prog;
	unsigned int i;

	if (!p)
		return;
	for (i = 0; i < p->ntexts; i++) {
		free(p->texts[i].name);
		free(p->texts[i].text);
	}
	free(p->texts);
	free(p->lines);
	free(p);
	u->prog = NULL;
}

/*
 * Read one file (- for stdin) and parse its lines into p, counting bad
 * lines in p->errors: 0, or -1 when the file cannot be read (reported).
 */
static int load_file(struct apply_prog *p, const char *path, unsigned int depth)
{
	unsigned int lineno = 0, nlines = 1, errors = 0;
	bool use_stdin = !strcmp(path, "-");
	size_t len = 0, i;
	char *line, *next, *name, *text;
	void *grow;
	FILE *fp;

	grow = realloc(p->texts, (p->ntexts + 1) * sizeof(*p->texts));
	if (!grow)
		return usage_err("out of memory");
	p->texts = grow;
	fp = use_stdin ? stdin : fopen(path, "r");
	if (!fp)
		return usage_err("cannot open %s: %s", path, strerror(errno));
	text = read_all(fp, &len);
	if (!use_stdin)
		fclose(fp);
	name = strdup(use_stdin ? "<stdin>" : path);
	if (!text || !name) {
		free(text);
		free(name);
		return usage_err("cannot read %s", path);
	}
	/* kept until apply_free(): the lines point into them */
	p->texts[p->ntexts].name = name;
	p->texts[p->ntexts].text = text;
	p->ntexts++;
	for (i = 0; i < len; i++)
		nlines += text[i] == '\n';
	grow = realloc(p->lines, (p->size + nlines) * sizeof(*p->lines));
	if (!grow)
		return usage_err("out of memory");
	/* p->dev points into the array it moves */
	if (p->dev)
		p->dev = (struct apply_line *)grow + (p->dev - p->lines);
	p->lines = grow;
	p->size += nlines;
	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (strlen(line) != (size_t)((next ? next - 1 : text + len) - line)) {
			set_where(name, lineno);
			usage_err("NUL byte in line");
			errors++;
			continue;
		}
		if (parse_line(p, name, line, lineno, depth))
			errors++;
	}
	p->errors += errors;
	return 0;
}

int apply_load(struct apply_prog *p, const char *path)
{
	int ret;

	p->name = strcmp(path, "-") ? path : "<stdin>";
	kw_exact = true;	/* a file spells its keywords out */
	ret = load_file(p, path, 0);
	kw_exact = false;
	mp_where = "migprioctl";
	if (ret)
		return -2;	/* the file itself: reported */
	if (p->errors) {
		pr_err("%u bad line%s in %s, nothing applied", p->errors,
		       p->errors > 1 ? "s" : "", p->name);
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

		set_where(l->file, l->lineno);
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
			set_where(p->lines[i + failed].file,
				  p->lines[i + failed].lineno);
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
