/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The migprio generic netlink family on the netlink layer (nlsock.h):
 * family resolution, its requests, dumps and batches, its events group,
 * errors with the family's attribute names.
 */
#ifndef MIGPRIOCTL_NL_H
#define MIGPRIOCTL_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

#include "nlsock.h"

/* Request buffer of the migprio family (see nlsock_msg). */
#define MP_NL_REQ_SIZE	NLSOCK_MSG_SIZE

/* A socket speaking the migprio family. */
struct mp_nl {
	struct nlsock sock;	/* sock.err: of the last mp_nl_do / mp_nl_dump */
	uint16_t family;
	uint32_t events_grp;	/* multicast group id, 0 unknown */
	uint32_t version;	/* the family's version, 0 unknown */
};

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

/* Send a do request (NLM_F_ACK added), call cb for the reply. */
int mp_nl_do(struct mp_nl *nl, struct nlmsghdr *req, nlsock_cb cb, void *data);

/* Dump cmd: cb per object, with nlsock_dump's NLM_F_DUMP_INTR restarts. */
int mp_nl_dump(struct mp_nl *nl, uint8_t cmd, nlsock_cb cb,
	       void (*reset)(void *data), void *data);

/* Start the next request of batch b, for cmd; NULL when b is full. */
struct nlmsghdr *mp_nl_batch_req(struct mp_nl *nl, struct nlsock_batch *b,
				 uint8_t cmd);

/* Join the "events" multicast group. */
int mp_nl_join_events(struct mp_nl *nl);

/* Print an error: "<where>: <message> (attribute <name>)" or strerror. */
void mp_nl_perror(const struct nlsock_err *e, uint8_t cmd);
void mp_nl_strerror(char *buf, size_t len, const struct nlsock_err *e,
		    uint8_t cmd);

/* Attribute name for messages, by the attribute set of cmd. */
const char *mp_attr_name(uint8_t cmd, int type);

#endif /* MIGPRIOCTL_NL_H */
