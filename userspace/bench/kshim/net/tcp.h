/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: TCP header flags. */
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

#define tcp_flag_byte(th)	(((const u8 *)(th))[13])

#endif /* _KSHIM_NET_TCP_H */
