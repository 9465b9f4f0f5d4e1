/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One request/reply exchange over a netlink socket (rtnetlink or generic
 * netlink) with extended ACKs: the kernel's error message is handed back to
 * the caller. Shared by qdisc.c (rtnetlink) and rings.c (ethtool genl).
 */
#ifndef MIGPRIOCTL_NLREQ_H
#define MIGPRIOCTL_NLREQ_H

#include <stddef.h>
#include <linux/types.h>
#include <libmnl/libmnl.h>

struct mp_nlreq {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
	char *buf;		/* request and receive buffer */
	size_t buflen;
};

/* Open a socket on bus (NETLINK_ROUTE, NETLINK_GENERIC). 0 or -errno. */
int mp_nlreq_open(struct mp_nlreq *r, int bus, char *err, size_t errlen);
void mp_nlreq_close(struct mp_nlreq *r);

/* Start a request in r->buf: header with type, flags (NLM_F_REQUEST added). */
struct nlmsghdr *mp_nlreq_msg(struct mp_nlreq *r, __u16 type, __u16 flags);

/*
 * Send nlh (built in r->buf) and run cb (may be NULL) on each reply until
 * the ACK or the end of the dump. Returns 0 or -errno; on error err holds
 * "what: <kernel extack message or strerror>".
 */
int mp_nlreq_talk(struct mp_nlreq *r, struct nlmsghdr *nlh, mnl_cb_t cb,
		  void *data, const char *what, char *err, size_t errlen);

/* Resolve a generic netlink family id by name. 0 or -errno. */
int mp_nlreq_genl_family(struct mp_nlreq *r, const char *name, __u16 *id,
			 char *err, size_t errlen);

#endif /* MIGPRIOCTL_NLREQ_H */
