/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parsing and formatting helpers for migprioctl: sizes, rates, ports,
 * prefixes, priorities, messages.
 */
#ifndef MIGPRIOCTL_UTILS_H
#define MIGPRIOCTL_UTILS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <linux/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Message prefix: "migprioctl", or "FILE:LINE" while apply works on a line. */
extern const char *mp_where;

void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Keyword matching: exact match, or an unambiguous prefix of one of @words
 * (a NULL-terminated list). Returns the index, -1 when unknown, -2 when
 * ambiguous, -3 when only a prefix matches while kw_exact is set.
 */
int kw_lookup(const char *arg, const char *const *words);
/*
 * Set while a file is parsed (apply, syncconf): keywords are spelled out
 * there, so that a keyword added later never changes what a file says.
 */
extern bool kw_exact;

int parse_u32(const char *s, __u32 *v, __u32 min, __u32 max);
int parse_size(const char *s, __u64 *bytes);		/* 64K, 32M, 1G, 4096 */
int parse_rate(const char *s, __u64 *bytes_per_sec);	/* tc units */
int parse_port_range(const char *s, __u16 *min, __u16 *max);
int parse_dscp(const char *s, __u8 *dscp);		/* 0..63, cs0..cs7, afXY, ef */
int parse_priority(const char *s, __u32 *prio);	/* 0..15 or MAJ:MIN (hex) */

struct mp_prefix {
	int family;		/* AF_INET or AF_INET6 */
	__u8 plen;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
};

/* ADDR[/LEN]; returns 0, -1 syntax, -2 host bits set beyond LEN */
int parse_prefix(const char *s, struct mp_prefix *p);

/* Formatting into caller buffers; each returns buf. */
char *fmt_size(char *buf, size_t len, __u64 bytes);	/* exact: 32M, 100000 */
char *fmt_bytes(char *buf, size_t len, __u64 bytes);	/* approximate: 1.2G */
char *fmt_rate(char *buf, size_t len, __u64 bytes_per_sec);	/* 100Mbit */
char *fmt_priority(char *buf, size_t len, __u32 prio);	/* 7 or 1:10 */
char *fmt_handle(char *buf, size_t len, __u32 handle);	/* 8001: */
char *fmt_ms(char *buf, size_t len, __u64 ms);		/* 950ms 12.3s 5m02s 3h04m */
char *fmt_addr_port(char *buf, size_t len, int family, const void *addr,
		    __u16 port);			/* 10.0.0.1:80 [fd00::1]:80 */
const char *proto_name(__u8 proto);

#endif /* MIGPRIOCTL_UTILS_H */
