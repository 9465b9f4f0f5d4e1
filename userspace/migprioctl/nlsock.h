/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The netlink layer of migprioctl, over libmnl, for every socket it opens:
 * the migprio family (nl.c), rtnetlink (qdisc.c), ethtool generic netlink
 * (rings.c). A socket with extended ACKs; requests answered one by one or
 * sent as a batch; each outcome as the kernel acked it (error, extack
 * message, offending or missing attribute); generic netlink family lookup.
 */
#ifndef MIGPRIOCTL_NLSOCK_H
#define MIGPRIOCTL_NLSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

/* Request buffer: large enough for the biggest request (a cgroup path). */
#define NLSOCK_MSG_SIZE	8192

/* The outcome of one request, with the kernel's extended ack. */
struct nlsock_err {
	int code;		/* 0 or -errno */
	int attr;		/* offending attribute type, -1 none */
	int attr_off;		/* its offset in the request, -1 none */
	int missing;		/* missing attribute type, -1 none */
	char msg[192];		/* extack message, "" none */
};

/* No error: code 0, no attribute, no message. */
void nlsock_err_clear(struct nlsock_err *e);
/* The kernel's extack message, else strerror of the code. */
const char *nlsock_errstr(const struct nlsock_err *e);

struct nlsock {
	struct mnl_socket *sk;
	unsigned int portid;
	uint32_t seq;
	char *rbuf;		/* receive buffer */
	size_t rlen;
	bool warn;		/* print a success's extack message (a warning) */
	struct nlsock_err err;	/* of the last nlsock_talk / nlsock_dump */
};

/* Callback for each data message of a reply; return <0 (-errno) to fail. */
typedef int (*nlsock_cb)(const struct nlmsghdr *nlh, void *data);

/*
 * Open a socket on bus (NETLINK_ROUTE, NETLINK_GENERIC), extended ACKs on
 * where the kernel has them, bound. 0 or -errno.
 */
int nlsock_open(struct nlsock *s, int bus);
void nlsock_close(struct nlsock *s);
/* Join multicast group grp (RTNLGRP_LINK, a genl group id): 0 or -errno. */
int nlsock_join(struct nlsock *s, unsigned int grp);

/*
 * Start a request in buf (NLSOCK_MSG_SIZE bytes, zeroed here): header with
 * type, flags (NLM_F_REQUEST added) and the next sequence number.
 */
struct nlmsghdr *nlsock_msg(struct nlsock *s, void *buf, uint16_t type,
			    uint16_t flags);
/* The same with a generic netlink header (cmd, version) for family. */
struct nlmsghdr *nlsock_genl_msg(struct nlsock *s, void *buf, uint16_t family,
				 uint8_t cmd, uint8_t version, uint16_t flags);

/*
 * Send req and run cb (may be NULL) on each message of its reply until the
 * ACK, the error or the end of the dump (a request without NLM_F_ACK that
 * is no dump ends with its reply). Returns s->err.code: 0 or -errno, with
 * the kernel's extended ack in s->err.
 */
int nlsock_talk(struct nlsock *s, struct nlmsghdr *req, nlsock_cb cb,
		void *data);

/*
 * A dump request (NLM_F_DUMP): nlsock_talk, and when the kernel flags the
 * dump inconsistent (NLM_F_DUMP_INTR) reset(data) and the dump again, a few
 * times; then -EAGAIN.
 */
int nlsock_dump(struct nlsock *s, struct nlmsghdr *req, nlsock_cb cb,
		void (*reset)(void *data), void *data);

/*
 * Batch: n requests built back to back in one buffer, sent with one
 * sendmsg. The kernel handles them in order and answers each; errs[i]
 * gets the outcome of request i, cb(nlh, data[i]) its reply.
 */
struct nlsock_batch {
	char *buf;
	size_t len, size;
	unsigned int n, max;
	struct nlmsghdr **reqs;
};

int nlsock_batch_init(struct nlsock_batch *b, unsigned int max);
void nlsock_batch_free(struct nlsock_batch *b);
void nlsock_batch_reset(struct nlsock_batch *b);
/* Room for the next request (NLSOCK_MSG_SIZE bytes); NULL when b is full. */
void *nlsock_batch_buf(struct nlsock_batch *b);
/* Account for the request just built there (NLM_F_ACK added). */
void nlsock_batch_add(struct nlsock_batch *b, struct nlmsghdr *nlh);
/* 0, or a socket -errno (then errs[] are not all filled). */
int nlsock_batch_run(struct nlsock *s, struct nlsock_batch *b, nlsock_cb cb,
		     void **data, struct nlsock_err *errs);

/* A generic netlink family as CTRL_CMD_GETFAMILY reports it. */
struct nlsock_family {
	uint16_t id;		/* 0 unknown */
	const char *grp;	/* multicast group to look up, or NULL */
	uint32_t grp_id;	/* its id, 0 unknown */
	uint32_t version;	/* the family's version, 0 unknown */
};

/*
 * Look up the family name (and f->grp) on s, a NETLINK_GENERIC socket.
 * Returns s->err.code (-ENOENT: no such family).
 */
int nlsock_genl_family(struct nlsock *s, const char *name,
		       struct nlsock_family *f);

#endif /* MIGPRIOCTL_NLSOCK_H */
