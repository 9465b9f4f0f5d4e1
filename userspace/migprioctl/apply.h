/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The apply file format (apply.c), shared with syncconf (conf.c): one
 * command per line, parsed and validated as a whole before anything runs.
 */
#ifndef MIGPRIOCTL_APPLY_H
#define MIGPRIOCTL_APPLY_H

#include "migprioctl.h"

struct apply_line {
	unsigned int lineno;
	const struct mp_cmd *cmd;
	union mp_args args;
};

struct apply_prog {
	const char *name;	/* file name for messages */
	char *text;		/* the file; arguments point into it */
	struct apply_line *lines;
	unsigned int n;
	bool conf;		/* syncconf: dev set and rule add lines only */
	const struct apply_line *dev;	/* conf: the dev set line, or NULL */
	unsigned int wait;	/* conf: seconds to wait for the interface */
	bool dry_run;		/* conf: print the changes, make none */
};

/*
 * Read and parse the file (path, or - for stdin) into p: 0, or -2 after
 * reporting every bad line.
 */
int apply_load(struct apply_prog *p, const char *path);
/* Free u->prog; a mp_cmd cleanup. */
void apply_free(union mp_args *u);

#endif /* MIGPRIOCTL_APPLY_H */
