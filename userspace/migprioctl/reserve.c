// SPDX-License-Identifier: GPL-2.0
/*
 * reserve-ports: the migration ports in net.ipv4.ip_local_reserved_ports,
 * only when the configuration asks, and taken out again when it no longer
 * does (see reserve.h for the record it keeps).
 *
 * Linux gives a connecting socket a local port from ip_local_port_range
 * (32768-60999 by default), which holds libvirt's migration ports
 * (49152-49215) and Proxmox VE's (60000-60050). A connection holding one
 * of them makes QEMU's -incoming fail to listen there; a reserved port is
 * never handed out that way (bind() to it still works). The sysctl is per
 * network namespace, like the rest of migprio's configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reserve.h"
#include "state.h"

#define NPORTS		65536
#define RECORD		"reserved-ports"

struct portset {
	unsigned char b[NPORTS / 8];
};

static void ps_add(struct portset *s, unsigned int lo, unsigned int hi)
{
	unsigned int p;

	for (p = lo; p <= hi && p < NPORTS; p++)
		s->b[p / 8] |= 1 << (p % 8);
}

static bool ps_has(const struct portset *s, unsigned int p)
{
	return s->b[p / 8] & (1 << (p % 8));
}

static void ps_del(struct portset *s, unsigned int p)
{
	s->b[p / 8] &= ~(1 << (p % 8));
}

static bool ps_empty(const struct portset *s)
{
	size_t i;

	for (i = 0; i < sizeof(s->b); i++)
		if (s->b[i])
			return false;
	return true;
}

/* The sysctl's syntax: "P" or "P-Q", comma separated, blanks around. */
static int ps_parse(struct portset *s, const char *text)
{
	const char *c = text;
	unsigned long lo, hi;
	char *end;

	memset(s, 0, sizeof(*s));
	while (*c == ' ' || *c == '\t' || *c == '\n')
		c++;
	if (!*c || !strcmp(c, "-"))
		return 0;
	for (;;) {
		lo = strtoul(c, &end, 10);
		if (end == c || lo >= NPORTS)
			return -1;
		hi = lo;
		if (*end == '-') {
			c = end + 1;
			hi = strtoul(c, &end, 10);
			if (end == c || hi >= NPORTS || hi < lo)
				return -1;
		}
		ps_add(s, lo, hi);
		c = end;
		while (*c == ' ' || *c == '\t' || *c == '\n')
			c++;
		if (!*c)
			return 0;
		if (*c++ != ',')
			return -1;
	}
}

/* "P,Q-R", or "" when empty; malloc'd, NULL when out of memory. */
static char *ps_format(const struct portset *s)
{
	size_t size = 64, n = 0;
	char *buf = malloc(size), *nbuf;
	unsigned int p = 0, q;

	if (buf)
		buf[0] = '\0';
	while (buf && p < NPORTS) {
		if (!ps_has(s, p)) {
			p++;
			continue;
		}
		for (q = p; q + 1 < NPORTS && ps_has(s, q + 1); q++)
			;
		if (size - n < 16) {
			size *= 2;
			nbuf = realloc(buf, size);
			if (!nbuf) {
				free(buf);
				return NULL;
			}
			buf = nbuf;
		}
		n += snprintf(buf + n, size - n, "%s%u", n ? "," : "", p);
		if (q > p)
			n += snprintf(buf + n, size - n, "-%u", q);
		p = q + 1;
	}
	return buf;
}

/* The whole file, or NULL with errno set (ENOENT: none). */
static char *read_text(const char *path)
{
	size_t size = 4096, n = 0, r;
	char *buf = malloc(size), *nbuf;
	FILE *fp = fopen(path, "r");

	if (!fp || !buf) {
		int e = fp ? ENOMEM : errno;

		free(buf);
		if (fp)
			fclose(fp);
		errno = e;
		return NULL;
	}
	while ((r = fread(buf + n, 1, size - n - 1, fp)) > 0) {
		n += r;
		if (n < size - 1)
			continue;
		size *= 2;
		nbuf = realloc(buf, size);
		if (!nbuf) {
			free(buf);
			fclose(fp);
			errno = ENOMEM;
			return NULL;
		}
		buf = nbuf;
	}
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* One write(): the sysctl takes the whole list at once. 0 or -errno. */
static int write_sysctl(const char *value)
{
	size_t len = strlen(value);
	char *line = malloc(len + 2);
	FILE *fp;
	int ret = 0;

	if (!line)
		return -ENOMEM;
	memcpy(line, value, len);
	line[len++] = '\n';
	line[len] = '\0';
	fp = fopen(MP_RESERVED_PORTS, "w");
	if (!fp) {
		free(line);
		return -errno;
	}
	setvbuf(fp, NULL, _IONBF, 0);
	if (fwrite(line, 1, len, fp) != len)
		ret = -errno;
	if (fclose(fp) && !ret)
		ret = -errno;
	free(line);
	return ret;
}

/* The record: the added ports, the first value, the asking rules. */
struct record {
	struct portset added;
	char *before;		/* NULL: none recorded */
	struct reserve_rules rules;
};

static void record_free(struct record *rec)
{
	free(rec->before);
	reserve_rules_free(&rec->rules);
}

static int record_path(char *buf, size_t len)
{
	return mp_state_netns_path(buf, len, RECORD);
}

/* Append a line (rule lines hold no newline: they come from one line). */
static int rules_add(struct reserve_rules *r, const char *line, size_t len)
{
	size_t have = r->text ? strlen(r->text) : 0;
	char *text = realloc(r->text, have + len + 2);

	if (!text)
		return -ENOMEM;
	memcpy(text + have, line, len);
	text[have + len] = '\n';
	text[have + len + 1] = '\0';
	r->text = text;
	r->n++;
	return 0;
}

/* Parse the record's text; a line it does not know is skipped. */
static int record_parse(struct record *rec, char *text)
{
	char *line, *next, *val;

	memset(rec, 0, sizeof(*rec));
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		val = strchr(line, ' ');
		if (!val || line[0] == '#')
			continue;
		*val++ = '\0';
		if (!strcmp(line, "added")) {
			if (ps_parse(&rec->added, val))
				return -EINVAL;
		} else if (!strcmp(line, "before")) {
			free(rec->before);
			rec->before = strdup(val);
			if (!rec->before)
				return -ENOMEM;
		} else if (!strcmp(line, "rule")) {
			if (rules_add(&rec->rules, val, strlen(val)))
				return -ENOMEM;
		}
	}
	return 0;
}

/* The record's text (malloc'd), or NULL: nothing to record. */
static char *record_text(const struct record *rec, int *err)
{
	char *added = ps_format(&rec->added), *buf = NULL;
	const char *line, *next;
	size_t size, n;

	*err = -ENOMEM;
	if (!added)
		return NULL;
	*err = 0;
	if (!added[0] && !rec->rules.n) {
		free(added);
		return NULL;
	}
	size = strlen(added) + strlen(rec->before ? rec->before : "-") + 256 +
	       (rec->rules.text ? strlen(rec->rules.text) : 0) + 8 * rec->rules.n;
	buf = malloc(size);
	if (!buf) {
		*err = -ENOMEM;
		free(added);
		return NULL;
	}
	n = snprintf(buf, size,
		     "# written by migprioctl syncconf: what it added to net.ipv4.ip_local_reserved_ports\n"
		     "before %s\nadded %s\n",
		     rec->before && rec->before[0] ? rec->before : "-",
		     added[0] ? added : "-");
	for (line = rec->rules.text; line && *line; line = next) {
		next = strchr(line, '\n');
		n += snprintf(buf + n, size - n, "rule %.*s\n",
			      (int)(next - line), line);
		next++;
	}
	free(added);
	return buf;
}

/* Replace the record with @text (NULL: remove it). 0 or -errno. */
static int record_write(const char *text)
{
	char path[160], tmp[200];
	FILE *fp;
	int ret;

	ret = record_path(path, sizeof(path));
	if (ret)
		return ret;
	if (!text) {
		if (unlink(path) && errno != ENOENT)
			return -errno;
		return 0;
	}
	mp_state_mkdir();
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	fp = fopen(tmp, "w");
	if (!fp)
		return -errno;
	fputs(text, fp);
	if (fclose(fp) || rename(tmp, path)) {
		ret = -errno;
		unlink(tmp);
		return ret;
	}
	return 0;
}

/* The record's text now, or NULL (errno ENOENT: there is none). */
static char *record_read(void)
{
	char path[160];
	int ret = record_path(path, sizeof(path));

	if (ret) {
		errno = -ret;
		return NULL;
	}
	return read_text(path);
}

int reserve_rules_load(struct reserve_rules *r)
{
	struct record rec;
	char *text = record_read();
	int ret;

	memset(r, 0, sizeof(*r));
	if (!text)
		return errno == ENOENT ? 0 : -errno;
	ret = record_parse(&rec, text);
	free(text);
	if (!ret) {
		*r = rec.rules;
		memset(&rec.rules, 0, sizeof(rec.rules));
	}
	record_free(&rec);
	return ret;
}

bool reserve_rules_has(const struct reserve_rules *r, const char *line,
		       size_t keylen)
{
	const char *l, *next;

	for (l = r->text; l && *l; l = next + 1) {
		next = strchr(l, '\n');
		if ((size_t)(next - l) == keylen && !strncmp(l, line, keylen))
			return true;
	}
	return false;
}

void reserve_rules_free(struct reserve_rules *r)
{
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* The rules asking and the ports they want. */
static int wanted(const struct rule_add_args *const *rules, unsigned int n,
		  struct portset *want, struct reserve_rules *asking)
{
	char line[sizeof(((struct rule_conf *)0)->line)];
	unsigned int i;
	size_t keylen;

	memset(want, 0, sizeof(*want));
	for (i = 0; i < n; i++) {
		const struct rule_add_args *a = rules[i];

		if (!a->reserve_ports)
			continue;
		if (a->has_port)
			ps_add(want, a->port[0], a->port[1]);
		if (a->has_lport)
			ps_add(want, a->lport[0], a->lport[1]);
		keylen = rule_conf_line(a, line, sizeof(line));
		if (rules_add(asking, line, keylen))
			return -ENOMEM;
	}
	return 0;
}

static bool same_rules(const struct reserve_rules *a,
		       const struct reserve_rules *b)
{
	return !strcmp(a->text ? a->text : "", b->text ? b->text : "");
}

/* The ports of @a not in @b, in the sysctl's syntax (malloc'd). */
static char *ps_minus(const struct portset *a, const struct portset *b)
{
	struct portset d = *a;
	unsigned int p;

	for (p = 0; p < NPORTS; p++) {
		if (ps_has(b, p))
			ps_del(&d, p);
	}
	return ps_format(&d);
}

void reserve_plan_free(struct reserve_plan *pl)
{
	free(pl->sysctl);
	free(pl->value);
	free(pl->state);
	free(pl->text);
	free(pl->more);
	free(pl->less);
	reserve_rules_free(&pl->asked);
	memset(pl, 0, sizeof(*pl));
}

int reserve_plan(const struct rule_add_args *const *rules, unsigned int n,
		 struct reserve_plan *pl)
{
	struct portset want, cur, next;
	struct reserve_rules asking = { 0 };
	struct record rec = { 0 };
	char *text = NULL;
	unsigned int p;
	int ret, rc = 1;

	memset(pl, 0, sizeof(*pl));
	pl->state = record_read();
	if (!pl->state && errno != ENOENT) {
		pr_err("cannot read the record of the reserved ports: %s",
		       strerror(errno));
		return 1;
	}
	if (pl->state)
		text = strdup(pl->state);
	if (wanted(rules, n, &want, &asking) || (pl->state && !text)) {
		pr_err("out of memory");
		goto out;
	}
	if (!pl->state && !asking.n) {
		rc = 0;		/* never asked: the sysctl is not ours */
		goto out;
	}
	if (text && record_parse(&rec, text)) {
		pr_err("the record of the reserved ports is damaged: check %s, then remove it",
		       MP_RESERVED_PORTS);
		goto out;
	}
	free(text);
	text = NULL;
	pl->sysctl = read_text(MP_RESERVED_PORTS);
	if (!pl->sysctl || ps_parse(&cur, pl->sysctl)) {
		pr_err("cannot read %s: %s", MP_RESERVED_PORTS,
		       pl->sysctl ? "unexpected format" : strerror(errno));
		goto out;
	}
	pl->sysctl[strcspn(pl->sysctl, "\n")] = '\0';
	/*
	 * Wanted ports not reserved yet come, and are migprioctl's to take
	 * out later; ports it added that are still reserved stay while
	 * wanted and go when not. Anything else is left as it is.
	 */
	next = cur;
	for (p = 0; p < NPORTS; p++) {
		bool ours = ps_has(&rec.added, p) && ps_has(&cur, p);

		ps_del(&rec.added, p);
		if (ps_has(&want, p) && (ours || !ps_has(&cur, p))) {
			ps_add(&next, p, p);
			ps_add(&rec.added, p, p);
		} else if (ours) {
			ps_del(&next, p);
		}
	}
	if (ps_empty(&rec.added)) {
		free(rec.before);
		rec.before = NULL;
	} else if (!rec.before) {
		rec.before = strdup(pl->sysctl);
		if (!rec.before) {
			pr_err("out of memory");
			goto out;
		}
	}
	pl->active = true;
	pl->sysctl_changes = memcmp(&next, &cur, sizeof(cur));
	pl->changed = pl->sysctl_changes || !same_rules(&rec.rules, &asking);
	/* the rules recorded as asking: before, for --dry-run's lines */
	pl->asked = rec.rules;
	rec.rules = asking;
	memset(&asking, 0, sizeof(asking));
	pl->text = record_text(&rec, &ret);
	pl->value = ps_format(&next);
	pl->more = ps_minus(&next, &cur);
	pl->less = ps_minus(&cur, &next);
	if (ret || !pl->value || !pl->more || !pl->less) {
		pr_err("out of memory");
		goto out;
	}
	rc = 0;
out:
	free(text);
	record_free(&rec);
	reserve_rules_free(&asking);
	return rc;
}

int reserve_apply(struct reserve_plan *pl)
{
	int ret;

	if (!pl->active)
		return 0;
	if (pl->sysctl_changes) {
		ret = write_sysctl(pl->value);
		if (ret) {
			pr_err("cannot write %s: %s; nothing changed",
			       MP_RESERVED_PORTS, strerror(-ret));
			return 1;
		}
		pl->wrote_sysctl = true;
	}
	if (!pl->state != !pl->text ||
	    (pl->text && strcmp(pl->state, pl->text))) {
		ret = record_write(pl->text);
		if (ret) {
			pr_err("cannot write the record of the reserved ports: %s; nothing changed",
			       strerror(-ret));
			reserve_undo(pl);
			return 1;
		}
		pl->wrote_record = true;
	}
	return 0;
}

void reserve_undo(struct reserve_plan *pl)
{
	if ((pl->wrote_sysctl && write_sysctl(pl->sysctl)) ||
	    (pl->wrote_record && record_write(pl->state)))
		pr_err("could not put net.ipv4.ip_local_reserved_ports back to \"%s\"",
		       pl->sysctl);
	pl->wrote_sysctl = false;
	pl->wrote_record = false;
}
