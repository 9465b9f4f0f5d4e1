/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generic netlink plumbing for migprioctl over libmnl: family resolution,
 * request/ack with extended acks, dumps with NLM_F_DUMP_INTR retry, batches.
 */
#ifndef MIGPRIOCTL_NL_H
#define MIGPRIOCTL_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

#include "nlreq.h"

/* Request buffer: large enough for the biggest request (a cgroup path). */
#define MP_NL_REQ_SIZE	8192

struct mp_nl {
	struct mnl_socket *sk;
	unsigned int portid;
	uint32_t seq;
	uint16_t family;
	uint32_t events_grp;	/* multicast group id, 0 unknown */
	char *rbuf;		/* receive buffer */
	size_t rlen;
	struct mp_nl_err err;	/* of the last mp_nl_do / mp_nl_dump */
};

/* Callback for each data message of a reply; return <0 (-errno) to fail. */
typedef int (*mp_nl_cb)(const struct nlmsghdr *nlh, void *data);

/*
 * Open a genl socket with extended acks and resolve the migprio family.
 * Returns 0, -ENOENT when the family is not registered (module not loaded)
 * or another -errno.
 */
int mp_nl_open(struct mp_nl *nl);
void mp_nl_close(struct mp_nl *nl);

/* Start a request for cmd in buf (MP_NL_REQ_SIZE bytes, zeroed here). */
struct nlmsghdr *mp_nl_req(struct mp_nl *nl, void *buf, uint8_t cmd,
			   uint16_t flags);

/* Send a do request, call cb for the reply, wait for the ack. */
int mp_nl_do(struct mp_nl *nl, struct nlmsghdr *req, mp_nl_cb cb, void *data);

/*
 * Dump: cb per object. When the kernel flags the dump inconsistent
 * (NLM_F_DUMP_INTR) reset(data) is called and the dump restarted, a few
 * times; then -EAGAIN.
 */
int mp_nl_dump(struct mp_nl *nl, uint8_t cmd, mp_nl_cb cb,
	       void (*reset)(void *data), void *data);

/*
 * Batch: n requests built back to back in one buffer, sent with one
 * sendmsg. The kernel handles them in order and answers each; errs[i]
 * gets the outcome of request i, cb(nlh, data[i]) its reply.
 */
struct mp_nl_batch {
	char *buf;
	size_t len, size;
	unsigned int n, max;
	struct nlmsghdr **reqs;
};

int mp_nl_batch_init(struct mp_nl_batch *b, unsigned int max);
void mp_nl_batch_free(struct mp_nl_batch *b);
void mp_nl_batch_reset(struct mp_nl_batch *b);
/* Start the next request, for cmd (see mp_nl_req); NULL when b is full. */
struct nlmsghdr *mp_nl_batch_req(struct mp_nl *nl, struct mp_nl_batch *b,
				 uint8_t cmd);
/* Account for the request just built. */
void mp_nl_batch_add(struct mp_nl_batch *b, struct nlmsghdr *nlh);
int mp_nl_batch_run(struct mp_nl *nl, struct mp_nl_batch *b, mp_nl_cb cb,
		    void **data, struct mp_nl_err *errs);

/* Join the "events" multicast group. */
int mp_nl_join_events(struct mp_nl *nl);

/* Print an error: "<where>: <message> (attribute <name>)" or strerror. */
void mp_nl_perror(const struct mp_nl_err *e, uint8_t cmd);
void mp_nl_strerror(char *buf, size_t len, const struct mp_nl_err *e,
		    uint8_t cmd);

/* Attribute name for messages, by the attribute set of cmd. */
const char *mp_attr_name(uint8_t cmd, int type);

#endif /* MIGPRIOCTL_NL_H */
