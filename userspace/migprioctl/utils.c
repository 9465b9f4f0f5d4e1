// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing and formatting helpers for migprioctl.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "utils.h"

const char *mp_where = "migprioctl";

static void vpr(const char *tag, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: %s", mp_where, tag);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpr("", fmt, ap);
	va_end(ap);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpr("warning: ", fmt, ap);
	va_end(ap);
}

bool kw_exact;

int kw_lookup(const char *arg, const char *const *words)
{
	size_t len = strlen(arg);
	int found = -1, i;

	if (!len)
		return -1;
	for (i = 0; words[i]; i++) {
		if (!strcmp(arg, words[i]))
			return i;
		if (!strncmp(arg, words[i], len))
			found = found == -1 ? i : -2;
	}
	if (kw_exact && found != -1)
		return -3;
	return found;
}

/* Strict unsigned decimal: no sign, no spaces, no empty string. */
static int parse_ull(const char *s, unsigned long long *v, char **end)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, end, 10);
	return errno ? -1 : 0;
}

int parse_u32(const char *s, __u32 *v, __u32 min, __u32 max)
{
	unsigned long long x;
	char *end;

	if (parse_ull(s, &x, &end) || *end || x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

int parse_size(const char *s, __u64 *bytes)
{
	unsigned long long x;
	unsigned int shift = 0;
	char *end;

	if (parse_ull(s, &x, &end))
		return -1;
	switch (*end) {
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (shift) {
		end++;
		/* accept 32M, 32MB, 32MiB */
		if (!strcasecmp(end, "ib") || !strcasecmp(end, "b"))
			end += strlen(end);
	} else if (!strcasecmp(end, "b")) {
		end++;
	}
	if (*end || x > (UINT64_MAX >> shift))
		return -1;
	*bytes = (__u64)x << shift;
	return 0;
}

/* The unit names of tc(8): bits or bytes per second, SI or IEC prefixes. */
static const struct {
	const char *name;
	double bits;
} rate_units[] = {
	{ "bit", 1. },
	{ "kibit", 1024. },
	{ "kbit", 1000. },
	{ "mibit", 1024. * 1024. },
	{ "mbit", 1e6 },
	{ "gibit", 1024. * 1024. * 1024. },
	{ "gbit", 1e9 },
	{ "tibit", 1024. * 1024. * 1024. * 1024. },
	{ "tbit", 1e12 },
	{ "bps", 8. },
	{ "kibps", 8. * 1024. },
	{ "kbps", 8e3 },
	{ "mibps", 8. * 1024. * 1024. },
	{ "mbps", 8e6 },
	{ "gibps", 8. * 1024. * 1024. * 1024. },
	{ "gbps", 8e9 },
	{ "tibps", 8. * 1024. * 1024. * 1024. * 1024. },
	{ "tbps", 8e12 },
};

int parse_rate(const char *s, __u64 *bytes_per_sec)
{
	double v, bytes;
	char *end;
	size_t i;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !*end)
		return -1;	/* a unit is required: 100 alone is ambiguous */
	for (i = 0; i < ARRAY_SIZE(rate_units); i++) {
		if (!strcasecmp(end, rate_units[i].name))
			break;
	}
	if (i == ARRAY_SIZE(rate_units))
		return -1;
	bytes = v * rate_units[i].bits / 8.;
	if (bytes < 1. || bytes >= 18446744073709551615.0)
		return -1;
	*bytes_per_sec = (__u64)bytes;
	return 0;
}

int parse_port_range(const char *s, __u16 *min, __u16 *max)
{
	unsigned long long a, b;
	char *end;

	if (parse_ull(s, &a, &end) || a > 65535)
		return -1;
	if (*end == '-') {
		if (parse_ull(end + 1, &b, &end) || b > 65535)
			return -1;
	} else {
		b = a;
	}
	if (*end || a > b)
		return -1;
	*min = a;
	*max = b;
	return 0;
}

int parse_dscp(const char *s, __u8 *dscp)
{
	static const struct { const char *name; __u8 v; } names[] = {
		{ "cs0", 0 }, { "cs1", 8 }, { "cs2", 16 }, { "cs3", 24 },
		{ "cs4", 32 }, { "cs5", 40 }, { "cs6", 48 }, { "cs7", 56 },
		{ "af11", 10 }, { "af12", 12 }, { "af13", 14 },
		{ "af21", 18 }, { "af22", 20 }, { "af23", 22 },
		{ "af31", 26 }, { "af32", 28 }, { "af33", 30 },
		{ "af41", 34 }, { "af42", 36 }, { "af43", 38 },
		{ "ef", 46 },
	};
	__u32 v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcasecmp(s, names[i].name)) {
			*dscp = names[i].v;
			return 0;
		}
	}
	if (!strncasecmp(s, "0x", 2)) {
		char *end;

		if (!isxdigit((unsigned char)s[2]))
			return -1;
		v = strtoul(s + 2, &end, 16);
		if (*end || v > 63)
			return -1;
	} else if (parse_u32(s, &v, 0, 63)) {
		return -1;
	}
	*dscp = v;
	return 0;
}

/* 0..15, or a tc class id MAJ:MIN in hexadecimal like tc(8) (1:10). */
int parse_priority(const char *s, __u32 *prio)
{
	unsigned long maj, min;
	const char *colon = strchr(s, ':');
	char *end;

	if (!colon)
		return parse_u32(s, prio, 0, 15);
	if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)colon[1]))
		return -1;
	maj = strtoul(s, &end, 16);
	if (end != colon || maj < 1 || maj > 0xfffe)
		return -1;
	min = strtoul(colon + 1, &end, 16);
	if (*end || min < 1 || min > 0xffff)
		return -1;
	*prio = (__u32)(maj << 16) | (__u32)min;
	return 0;
}

int parse_prefix(const char *s, struct mp_prefix *p)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int width, i;
	__u32 plen;
	const __u8 *bytes;

	if (!alen || alen >= sizeof(addr))
		return -1;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, addr, &p->addr.v4) == 1) {
		p->family = AF_INET;
		width = 32;
	} else if (inet_pton(AF_INET6, addr, &p->addr.v6) == 1) {
		p->family = AF_INET6;
		width = 128;
	} else {
		return -1;
	}
	if (slash) {
		if (parse_u32(slash + 1, &plen, 0, width))
			return -1;
	} else {
		plen = width;
	}
	p->plen = plen;
	/* like ip-route(8): 10.1.2.3/8 is refused rather than guessed at */
	bytes = (const __u8 *)&p->addr;
	for (i = plen; i < width; i++) {
		if (bytes[i / 8] & (0x80 >> (i % 8)))
			return -2;
	}
	return 0;
}

char *fmt_size(char *buf, size_t len, __u64 bytes)
{
	static const char units[] = "KMGTPE";
	int i = -1;

	while (bytes && !(bytes & 1023) && i < 5) {
		bytes >>= 10;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)bytes, units[i]);
	return buf;
}

char *fmt_bytes(char *buf, size_t len, __u64 bytes)
{
	static const char units[] = "KMGTPE";
	double v = bytes;
	int i = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
		return buf;
	}
	while (v >= 1024. && i < 5) {
		v /= 1024.;
		i++;
	}
	snprintf(buf, len, v < 10. ? "%.2f%c" : v < 100. ? "%.1f%c" : "%.0f%c",
		 v, units[i]);
	return buf;
}

char *fmt_rate(char *buf, size_t len, __u64 bytes_per_sec)
{
	static const char *const units[] = { "bit", "Kbit", "Mbit", "Gbit", "Tbit" };
	double bits = (double)bytes_per_sec * 8.;
	int i = 0;

	while (bits >= 1000. && i < 4) {
		bits /= 1000.;
		i++;
	}
	if (bits == (double)(unsigned long long)bits)
		snprintf(buf, len, "%llu%s", (unsigned long long)bits, units[i]);
	else
		snprintf(buf, len, "%.6g%s", bits, units[i]);
	return buf;
}

char *fmt_priority(char *buf, size_t len, __u32 prio)
{
	if (prio >> 16)
		snprintf(buf, len, "%x:%x", prio >> 16, prio & 0xffff);
	else
		snprintf(buf, len, "%u", prio);
	return buf;
}

char *fmt_handle(char *buf, size_t len, __u32 handle)
{
	if (handle & 0xffff)
		snprintf(buf, len, "%x:%x", handle >> 16, handle & 0xffff);
	else
		snprintf(buf, len, "%x:", handle >> 16);
	return buf;
}

char *fmt_ms(char *buf, size_t len, __u64 ms)
{
	unsigned long long s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	else if (s < 60)
		snprintf(buf, len, "%llu.%llus", s,
			 (unsigned long long)(ms % 1000) / 100);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%llud%02lluh", s / 86400, s / 3600 % 24);
	return buf;
}

char *fmt_addr_port(char *buf, size_t len, int family, const void *addr,
		    __u16 port)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
	return buf;
}

const char *proto_name(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	default:
		return "?";
	}
}
