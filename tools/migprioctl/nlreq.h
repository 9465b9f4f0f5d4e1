/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Netlink helpers of every socket migprioctl opens: a socket with extended
 * ACKs, the outcome of a request as the kernel acked it (error, extack
 * message, offending or missing attribute), generic netlink family lookup.
 * nl.c builds the migprio family's requests, dumps and batches on them;
 * mp_nlreq is one request/reply exchange at a time with the kernel's error
 * message handed back to the caller, for qdisc.c (rtnetlink) and rings.c
 * (ethtool genl).
 */
#ifndef MIGPRIOCTL_NLREQ_H
#define MIGPRIOCTL_NLREQ_H

#include <stddef.h>
#include <linux/types.h>
#include <libmnl/libmnl.h>

/* The outcome of one request, with the kernel's extended ack. */
struct mp_nl_err {
	int code;		/* 0 or -errno */
	int attr;		/* offending attribute type, -1 none */
	int missing;		/* missing attribute type, -1 none */
	char msg[192];		/* extack message, "" none */
};

/* No error: code 0, no attribute, no message. */
void mp_nl_err_clear(struct mp_nl_err *e);

/*
 * Open a netlink socket on bus (NETLINK_ROUTE, NETLINK_GENERIC), extended
 * ACKs on where the kernel has them, bound; its port id in *portid. NULL
 * with errno set on failure.
 */
struct mnl_socket *mp_nl_socket(int bus, unsigned int *portid);

/* Start a request in buf: header with type, flags (NLM_F_REQUEST added). */
struct nlmsghdr *mp_nl_hdr(void *buf, __u16 type, __u16 flags, __u32 seq);

/*
 * The outcome an NLMSG_ERROR (0: an ACK) or NLMSG_DONE message carries,
 * into e: code and extended ack; the offending attribute is looked up in
 * req (may be NULL).
 */
void mp_nl_parse_err(const struct nlmsghdr *nlh, const struct nlmsghdr *req,
		     struct mp_nl_err *e);

/* Generic netlink family lookup (CTRL_CMD_GETFAMILY). */
struct mp_genl_family {
	__u16 id;		/* 0 unknown */
	const char *grp;	/* multicast group to look up, or NULL */
	__u32 grp_id;		/* its id, 0 unknown */
	__u32 version;		/* the family's version, 0 unknown */
};

/* Add the genl header and the family name to a request to GENL_ID_CTRL. */
void mp_genl_family_put(struct nlmsghdr *nlh, const char *name);
/* Reply callback, data a struct mp_genl_family. */
int mp_genl_family_cb(const struct nlmsghdr *nlh, void *data);

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
