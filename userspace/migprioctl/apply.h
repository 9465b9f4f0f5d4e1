/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The apply file format (apply.c), shared with syncconf (conf.c): one
 * command per line, parsed and validated as a whole before anything runs.
 */
#ifndef MIGPRIOCTL_APPLY_H
#define MIGPRIOCTL_APPLY_H

#include "migprioctl.h"

struct apply_line {
	const char *file;	/* for messages: FILE:LINE */
	unsigned int lineno;
	const struct mp_cmd *cmd;
	union mp_args args;
};

/* A file read: the lines' arguments point into its text. */
struct apply_text {
	char *name;
	char *text;
};

struct apply_prog {
	const char *name;	/* file name for messages */
	struct apply_text *texts;	/* the file, then those it includes */
	unsigned int ntexts;
	struct apply_line *lines;
	unsigned int n, size, errors;
	/*
	 * conf: syncconf's configuration file, dev set and rule add lines,
	 * with "include PATH" and "node NAME[,NAME...] LINE" (a line for
	 * those hosts only; the hostname up to a dot, as Proxmox VE names
	 * nodes)
	 */
	bool conf;
	const struct apply_line *dev;	/* conf: the dev set line, or NULL */
	bool dev_node;		/* conf: dev is a node line (it wins) */
	unsigned int wait;	/* conf: seconds to wait for the interface */
	bool dry_run;		/* conf: print the changes, make none */
	bool follow;		/* syncconf --follow */
	const char *path;	/* syncconf: the file, read again by --follow */
};

/*
 * Read and parse the file (path, or - for stdin) into p: 0, or -2 after
 * reporting every bad line.
 */
int apply_load(struct apply_prog *p, const char *path);
/* Free u->prog; a mp_cmd cleanup. */
void apply_free(union mp_args *u);

/* What a syncconf run changed. */
struct conf_changes {
	unsigned int added, renamed, deleted;
	bool dev_changed, reserved_changed;
	bool changed;		/* anything */
	char summary[1024];	/* syncconf's journal line: "nothing changed" */
};

/*
 * conf.c: read a syncconf file into p (its dev set line's interface need
 * not exist yet; reserve-ports allowed): apply_load()'s return value.
 */
int conf_load(struct apply_prog *p, const char *path);
/*
 * conf.c: make the running configuration equal to p (a syncconf file),
 * changing only what differs; 0, or 1 after reporting (nothing changed).
 */
int conf_sync(struct mp_ctx *ctx, const struct apply_prog *p,
	      struct conf_changes *ch);
/* follow.c: syncconf --follow; returns when told to stop. */
int conf_follow(struct mp_ctx *ctx, struct apply_prog *p);

#endif /* MIGPRIOCTL_APPLY_H */
