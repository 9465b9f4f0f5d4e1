// SPDX-License-Identifier: GPL-2.0
/*
 * migprioctl: configure migprio, the live-migration traffic prioritiser.
 *
 *   migprioctl [-j] [-p] OBJECT COMMAND [ARGS]
 *
 * main() and the dispatch table; each object lives in its own file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/migprio.h>

#include "migprioctl.h"
#include "nlsock.h"
#include "print.h"

int mp_trouble_rc = 1;

static const struct mp_object *const objects[] = {
	&dev_object, &rule_object, &flow_object, &stats_object,
	&monitor_object, &apply_object, &showconf_object, &syncconf_object,
};

/* "Usage: migprioctl ..." for each line of an object's usage text. */
static void object_usage(FILE *fp, const struct mp_object *o)
{
	const char *line = o->usage, *nl;
	bool first = true;

	for (; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		if (*line == ' ')	/* continuation: under the arguments */
			fprintf(fp, "%*s%.*s\n", 24, "", (int)(nl - line), line);
		else
			fprintf(fp, "%s migprioctl [-j] [-p] [-n NETNS] %.*s\n",
				first ? "Usage:" : "      ", (int)(nl - line), line);
		first = false;
	}
}

static void usage(FILE *fp)
{
	const char *line, *nl;
	size_t i;

	fprintf(fp,
		"Usage: migprioctl [-j] [-p] [-n NETNS] OBJECT COMMAND [ARGS]\n"
		"       migprioctl -V | --version\n"
		"       migprioctl -h | --help\n"
		"       migprioctl OBJECT help\n"
		"Options: -j, --json    JSON output\n"
		"         -p, --pretty  indented JSON output (implies -j)\n"
		"         -n, --netns NETNS\n"
		"                       in network namespace NETNS (a name of ip netns,\n"
		"                       or a path such as /proc/PID/ns/net)\n"
		"Objects:\n");
	for (i = 0; i < ARRAY_SIZE(objects); i++) {
		for (line = objects[i]->usage; (nl = strchr(line, '\n'));
		     line = nl + 1)
			fprintf(fp, "  %.*s\n", (int)(nl - line), line);
	}
}

int usage_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", mp_where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

int kw_usage_err(const char *what, const char *word, const char *const *words,
		 int k)
{
	size_t len = strlen(word);
	const char *full = NULL;
	int i;

	if (k == -3) {
		for (i = 0; words[i]; i++) {
			if (!strncmp(word, words[i], len))
				full = full ? "" : words[i];
		}
		if (full && *full)
			return usage_err("%s \"%s\" is abbreviated: a file spells keywords out (\"%s\")",
					 what, word, full);
		return usage_err("%s \"%s\" is abbreviated: a file spells keywords out",
				 what, word);
	}
	return usage_err("%s %s \"%s\"", k == -2 ? "ambiguous" : "unknown",
			 what, word);
}

int parse_noargs(int argc, char **argv, union mp_args *a)
{
	(void)a;
	if (argc > 0)
		return usage_err("unexpected argument \"%s\"", argv[0]);
	return 0;
}

void mp_kernel_err(struct mp_ctx *ctx, __u8 cmd)
{
	mp_nl_perror(&ctx->nl.sock.err, cmd);
}

void print_done(struct mp_ctx *ctx)
{
	if (ctx->quiet || !is_json())
		return;
	open_json_object(NULL);
	close_json_object();
}

static const char *const *object_names(void)
{
	static const char *names[ARRAY_SIZE(objects) + 1];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(objects); i++)
		names[i] = objects[i]->name;
	return names;
}

/*
 * The command WORD names in o: its name, its alias, or a prefix; prefixes
 * shared by a name and its alias ("de" of del and delete) name one command.
 */
static int cmd_lookup(const struct mp_object *o, const char *word,
		      const char **names)
{
	int map[2 * MP_MAX_CMDS], n = 0, i, k, found = -1;
	size_t len = strlen(word);

	for (i = 0; o->cmds[i].name && n < 2 * MP_MAX_CMDS - 1; i++) {
		names[n] = o->cmds[i].name;
		map[n++] = i;
		if (o->cmds[i].alias) {
			names[n] = o->cmds[i].alias;
			map[n++] = i;
		}
	}
	names[n] = NULL;
	k = kw_lookup(word, names);
	if (k >= 0)
		return map[k];
	if (k != -2)
		return k;
	for (i = 0; i < n; i++) {
		if (strncmp(word, names[i], len))
			continue;
		if (found >= 0 && found != map[i])
			return -2;
		found = map[i];
	}
	return found;
}

int mp_resolve(int argc, char **argv, const struct mp_object **obj,
	       const struct mp_cmd **cmd, int *used)
{
	const char *names[2 * MP_MAX_CMDS + 1];
	const struct mp_object *o;
	const char *word;
	char what[32];
	int i;

	if (argc < 1)
		return usage_err("missing object");
	i = kw_lookup(argv[0], object_names());
	if (i < 0)
		return kw_usage_err("object", argv[0], object_names(), i);
	o = objects[i];
	*obj = o;
	if (!o->cmds[0].name) {
		*cmd = &o->cmds[0];
		*used = 1;
		return 0;
	}
	word = argc > 1 ? argv[1] : o->dflt;
	*used = argc > 1 ? 2 : 1;
	if (!word)
		return usage_err("missing %s command", o->name);
	i = cmd_lookup(o, word, names);
	if (i < 0) {
		snprintf(what, sizeof(what), "%s command", o->name);
		return kw_usage_err(what, word, names, i);
	}
	*cmd = &o->cmds[i];
	return 0;
}

/*
 * -V: the tool's version and the family version it speaks; when migprio.ko
 * is loaded, its version (sysfs) and the family version it registered. The
 * family is only asked for when the module is loaded: a lookup of an unknown
 * family would make the kernel load it.
 */
static void print_version(void)
{
	struct nlsock_family fam = { 0 };
	char ver[64] = "unknown";
	struct nlsock s;
	FILE *fp;

	printf("migprioctl %s (generic netlink family %s version %d)\n",
	       MIGPRIOCTL_VERSION, MIGPRIO_FAMILY_NAME, MIGPRIO_FAMILY_VERSION);
	if (access("/sys/module/migprio", F_OK)) {
		printf("module migprio not loaded\n");
		return;
	}
	fp = fopen("/sys/module/migprio/version", "r");
	if (fp) {
		if (!fgets(ver, sizeof(ver), fp))
			snprintf(ver, sizeof(ver), "unknown");
		ver[strcspn(ver, "\n")] = '\0';
		fclose(fp);
	}
	if (!nlsock_open(&s, NETLINK_GENERIC)) {
		if (nlsock_genl_family(&s, MIGPRIO_FAMILY_NAME, &fam))
			fam.id = 0;
		nlsock_close(&s);
	}
	if (fam.id)
		printf("module migprio %s (generic netlink family %s version %u)\n",
		       ver, MIGPRIO_FAMILY_NAME, fam.version);
	else
		printf("module migprio %s (generic netlink family %s not registered)\n",
		       ver, MIGPRIO_FAMILY_NAME);
}

static bool is_help(const char *arg)
{
	return !strcmp(arg, "help") || !strcmp(arg, "-h") ||
	       !strcmp(arg, "--help");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "version", no_argument, NULL, 'V' },
		{ "netns", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, pretty = false;
	const char *netns = NULL;
	const struct mp_object *obj = NULL;
	const struct mp_cmd *cmd;
	struct mp_ctx ctx = { 0 };
	union mp_args args;
	int c, used, ret;

	while ((c = getopt_long(argc, argv, "+jpVhn:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'p':
			json = true;
			pretty = true;
			break;
		case 'V':
			print_version();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'n':
			netns = optarg;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[0], "help")) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && is_help(argv[1])) {
		int i = kw_lookup(argv[0], object_names());

		if (i >= 0) {
			object_usage(stdout, objects[i]);
			return 0;
		}
	}
	/* first: dev set looks its interface up while it parses */
	if (netns && mp_netns_enter(netns))
		return 1;
	if (mp_resolve(argc, argv, &obj, &cmd, &used)) {
		if (obj)
			object_usage(stderr, obj);
		else
			usage(stderr);
		return 2;
	}
	memset(&args, 0, sizeof(args));
	ret = cmd->parse(argc - used, argv + used, &args);
	if (ret) {
		if (ret == -1)
			object_usage(stderr, obj);
		ret = ret == -3 ? 1 : 2;
		goto out;
	}

	ret = mp_nl_open(&ctx.nl);
	if (ret == -ENOENT) {
		pr_err("migprio module not loaded");
		ret = mp_trouble_rc;
		goto out;
	} else if (ret) {
		pr_err("cannot open generic netlink socket: %s", strerror(-ret));
		ret = mp_trouble_rc;
		goto out;
	}
	print_init(json, pretty);
	ret = cmd->run(&ctx, &args);
	print_flush();
	mp_nl_close(&ctx.nl);
out:
	if (cmd->cleanup)
		cmd->cleanup(&args);
	return ret;
}
