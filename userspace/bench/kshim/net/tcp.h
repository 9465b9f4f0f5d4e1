/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: TCP header flags and sockets. */
#ifndef _KSHIM_NET_TCP_H
#define _KSHIM_NET_TCP_H

#include <linux/tcp.h>
#include <net/sock.h>

#define TCPHDR_FIN	0x01
#define TCPHDR_SYN	0x02
#define TCPHDR_RST	0x04
#define TCPHDR_PSH	0x08
#define TCPHDR_ACK	0x10
#define TCPHDR_URG	0x20
#define TCPHDR_ECE	0x40
#define TCPHDR_CWR	0x80

struct inet_connection_sock {
	struct inet_sock icsk_inet;
	u8 icsk_retransmits;
	u8 icsk_probes_out;
};

/* The counts socket accounting reads (module/hooks.c). */
struct tcp_sock {
	struct inet_connection_sock inet_conn;
	u16 tcp_header_len;
	u32 segs_in, segs_out;
	u64 bytes_sent, bytes_received;
};

static inline struct inet_connection_sock *inet_csk(const struct sock *sk)
{
	return (struct inet_connection_sock *)sk;
}

static inline struct tcp_sock *tcp_sk(const struct sock *sk)
{
	return (struct tcp_sock *)sk;
}

#define tcp_flag_byte(th)	(((const u8 *)(th))[13])

#endif /* _KSHIM_NET_TCP_H */
