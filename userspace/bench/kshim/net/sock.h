/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: sockets, with the fields the module reads and writes; an
 * inet_sock starts with its sock, as in the kernel.
 */
#ifndef _KSHIM_NET_SOCK_H
#define _KSHIM_NET_SOCK_H

#include "../kshim.h"
#include <linux/in.h>
#include <linux/skbuff.h>
#include <linux/cgroup.h>

enum {
	TCP_ESTABLISHED = 1,
	TCP_SYN_SENT,
	TCP_SYN_RECV,
	TCP_FIN_WAIT1,
	TCP_FIN_WAIT2,
	TCP_TIME_WAIT,
	TCP_CLOSE,
	TCP_CLOSE_WAIT,
	TCP_LAST_ACK,
	TCP_LISTEN,
	TCP_CLOSING,
	TCP_NEW_SYN_RECV,
};

#define TCPF_TIME_WAIT		(1 << TCP_TIME_WAIT)
#define TCPF_NEW_SYN_RECV	(1 << TCP_NEW_SYN_RECV)

enum sock_type {
	SOCK_STREAM = 1,
	SOCK_DGRAM = 2,
};

#define SOCK_SNDBUF_LOCK	1
#define SOCK_RCVBUF_LOCK	2
#define SOCK_BINDADDR_LOCK	4
#define SOCK_BINDPORT_LOCK	8

enum sock_flags {
	SOCK_DONE,
};

struct sock {
	atomic64_t sk_cookie;
	unsigned long sk_flags;
	bool sk_owned;			/* sock_owned_by_user() */
	unsigned char sk_state;
	u8 sk_userlocks;
	u16 sk_protocol;
	u16 sk_type;
	u32 sk_priority;
	u32 sk_max_ack_backlog;
	int sk_sndbuf, sk_rcvbuf;
	struct sock_cgroup_data sk_cgrp_data;
};

struct inet_sock {
	struct sock sk;
	__be32 inet_saddr, inet_daddr;
	__be16 inet_sport, inet_dport;
	u16 inet_num;
};

static inline struct inet_sock *inet_sk(const struct sock *sk)
{
	return (struct inet_sock *)sk;
}

static inline bool sock_flag(const struct sock *sk, enum sock_flags flag)
{
	return test_bit(flag, &sk->sk_flags);
}

static inline bool sock_owned_by_user_nocheck(const struct sock *sk)
{
	return sk->sk_owned;
}

static inline bool sk_fullsock(const struct sock *sk)
{
	return !((1 << sk->sk_state) & (TCPF_TIME_WAIT | TCPF_NEW_SYN_RECV));
}

#endif /* _KSHIM_NET_SOCK_H */
