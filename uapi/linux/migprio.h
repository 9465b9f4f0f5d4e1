/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * migprio: prioritise live-migration traffic on a designated interface.
 *
 * Generic netlink family "migprio". The YNL specification in
 * Documentation/netlink/specs/migprio.yaml is the source of truth; keep this
 * header in step with it.
 *
 * Each command carries the attributes of one attribute set:
 *   dev-*   commands and dev-change notifications:  enum migprio_a_dev
 *   rule-*  commands:                               enum migprio_a_rule
 *   flow-get dump and flow-*-ntf notifications:     enum migprio_a_flow
 *   stats-get:                                      enum migprio_a_stats
 * Multi-byte integers are in host byte order unless named *_IPV4, *_IPV6
 * (network byte order). Ports are host order.
 */
#ifndef _UAPI_LINUX_MIGPRIO_H
#define _UAPI_LINUX_MIGPRIO_H

#define MIGPRIO_FAMILY_NAME		"migprio"
#define MIGPRIO_FAMILY_VERSION		1
#define MIGPRIO_MCGRP_EVENTS		"events"

#define MIGPRIO_NAME_MAXLEN		31	/* rule name, without NUL */
#define MIGPRIO_CGROUP_MAXLEN		4095	/* cgroup v2 path, without NUL */

#define MIGPRIO_PRIO_MAX		15	/* plain band priority 0..15 */
/*
 * Socket buffers (SNDBUF, RCVBUF): MIGPRIO_BUF_AUTO (the default) sizes
 * them per connection from the path (2 x rate x RTT, left to the kernel's
 * autotuning when that reaches it), or a fixed size MIN..MAX.
 */
#define MIGPRIO_BUF_AUTO		0
#define MIGPRIO_BUF_MIN			(64U << 10)	/* 64 KiB */
#define MIGPRIO_BUF_MAX			(1024U << 20)	/* 1 GiB */
/*
 * Unsent bytes a migration socket may hold (NOTSENT, TCP_NOTSENT_LOWAT):
 * MIGPRIO_NOTSENT_AUTO (the default) from the rate, MIGPRIO_NOTSENT_OFF
 * leaves the socket's own setting, or a fixed size MIN..MAX.
 */
#define MIGPRIO_NOTSENT_AUTO		0
#define MIGPRIO_NOTSENT_OFF		0xffffffffU
#define MIGPRIO_NOTSENT_MIN		(16U << 10)	/* 16 KiB */
#define MIGPRIO_NOTSENT_MAX		(1024U << 20)	/* 1 GiB */
#define MIGPRIO_PRIO_DEFAULT		7	/* TC_PRIO_CONTROL: band 0 of prio */
#define MIGPRIO_DSCP_MAX		63

enum migprio_flow_dir {
	MIGPRIO_FLOW_DIR_OUT = 1,	/* this host connected */
	MIGPRIO_FLOW_DIR_IN,		/* the peer connected */
};

enum migprio_flow_end {
	MIGPRIO_FLOW_END_FIN = 1,	/* FIN seen in both directions */
	MIGPRIO_FLOW_END_RST,		/* reset */
	MIGPRIO_FLOW_END_IDLE,		/* idle timeout */
	MIGPRIO_FLOW_END_FLUSH,		/* dev clear, interface gone, netns exit */
};

enum migprio_dev_change {
	MIGPRIO_DEV_CHANGE_SET = 1,	/* designated (or replaced) */
	MIGPRIO_DEV_CHANGE_CLEAR,	/* cleared by request */
	MIGPRIO_DEV_CHANGE_GONE,	/* interface unregistered or moved */
	MIGPRIO_DEV_CHANGE_MASTER,	/* interface got or lost a master */
};

enum migprio_a_dev {
	MIGPRIO_A_DEV_UNSPEC,
	MIGPRIO_A_DEV_PAD,
	MIGPRIO_A_DEV_IFINDEX,		/* u32 */
	MIGPRIO_A_DEV_IFNAME,		/* string, < IFNAMSIZ */
	MIGPRIO_A_DEV_PRIORITY,		/* u32: 0..15 or TC_H_MAKE(maj, min) */
	MIGPRIO_A_DEV_SNDBUF,		/* u32 bytes, 0 = auto */
	MIGPRIO_A_DEV_RCVBUF,		/* u32 bytes, 0 = auto */
	MIGPRIO_A_DEV_DSCP,		/* u8 0..63; absent = do not rewrite */
	MIGPRIO_A_DEV_RATE = 9,		/* u64 bytes per second (shaping) */
	MIGPRIO_A_DEV_CHANGE = 16,		/* u8 enum migprio_dev_change (ntf) */
	MIGPRIO_A_DEV_NOTSENT,		/* u32 bytes, 0 = auto, ~0 = off */
	MIGPRIO_A_DEV_LINK_RATE,	/* u64 bytes/s of the link, 0 unknown */
	MIGPRIO_A_DEV_MASTER,		/* string: master of the interface */

	__MIGPRIO_A_DEV_MAX,
	MIGPRIO_A_DEV_MAX = __MIGPRIO_A_DEV_MAX - 1
};

enum migprio_a_rule {
	MIGPRIO_A_RULE_UNSPEC,
	MIGPRIO_A_RULE_PAD,
	MIGPRIO_A_RULE_ID,		/* u32, assigned by the kernel */
	MIGPRIO_A_RULE_PROTO,		/* u8 IPPROTO_TCP (default) or IPPROTO_UDP */
	MIGPRIO_A_RULE_PORT_MIN,	/* u16: either port in [min, max] */
	MIGPRIO_A_RULE_PORT_MAX,	/* u16 */
	MIGPRIO_A_RULE_LPORT_MIN,	/* u16: local port in [min, max] */
	MIGPRIO_A_RULE_LPORT_MAX,	/* u16 */
	MIGPRIO_A_RULE_RPORT_MIN,	/* u16: remote port in [min, max] */
	MIGPRIO_A_RULE_RPORT_MAX,	/* u16 */
	MIGPRIO_A_RULE_PEER_IPV4,	/* be32 peer prefix address */
	MIGPRIO_A_RULE_PEER_IPV6,	/* binary, 16 bytes */
	MIGPRIO_A_RULE_PEER_PREFIXLEN,	/* u8; defaults to the full width */
	MIGPRIO_A_RULE_CGROUP,		/* string: cgroup v2 path */
	MIGPRIO_A_RULE_CGROUP_ID,	/* u64, read only */
	MIGPRIO_A_RULE_NAME,		/* string, <= MIGPRIO_NAME_MAXLEN */
	MIGPRIO_A_RULE_TX_PACKETS,	/* u64, read only: marked packets out */
	MIGPRIO_A_RULE_TX_BYTES,	/* u64, read only */
	MIGPRIO_A_RULE_RX_PACKETS,	/* u64, read only: matched packets in */
	MIGPRIO_A_RULE_RX_BYTES,	/* u64, read only */
	MIGPRIO_A_RULE_FLOWS,		/* u64, read only: flows started */

	__MIGPRIO_A_RULE_MAX,
	MIGPRIO_A_RULE_MAX = __MIGPRIO_A_RULE_MAX - 1
};

enum migprio_a_flow {
	MIGPRIO_A_FLOW_UNSPEC,
	MIGPRIO_A_FLOW_PAD,
	MIGPRIO_A_FLOW_PROTO,		/* u8 */
	MIGPRIO_A_FLOW_LOCAL_IPV4,	/* be32 */
	MIGPRIO_A_FLOW_REMOTE_IPV4,	/* be32 */
	MIGPRIO_A_FLOW_LOCAL_IPV6,	/* binary, 16 bytes */
	MIGPRIO_A_FLOW_REMOTE_IPV6,	/* binary, 16 bytes */
	MIGPRIO_A_FLOW_LPORT,		/* u16 */
	MIGPRIO_A_FLOW_RPORT,		/* u16 */
	MIGPRIO_A_FLOW_DIR,		/* u8 enum migprio_flow_dir */
	MIGPRIO_A_FLOW_RULE_ID,		/* u32 */
	MIGPRIO_A_FLOW_TX_PACKETS,	/* u64 */
	MIGPRIO_A_FLOW_TX_BYTES,	/* u64 */
	MIGPRIO_A_FLOW_RX_PACKETS,	/* u64 */
	MIGPRIO_A_FLOW_RX_BYTES,	/* u64 */
	MIGPRIO_A_FLOW_AGE_MS,		/* u64: since the first packet */
	MIGPRIO_A_FLOW_IDLE_MS,		/* u64: since the last packet */
	MIGPRIO_A_FLOW_END_REASON,	/* u8 enum migprio_flow_end (end ntf) */
	MIGPRIO_A_FLOW_RATE,		/* u64 average bytes/s (end ntf) */

	__MIGPRIO_A_FLOW_MAX,
	MIGPRIO_A_FLOW_MAX = __MIGPRIO_A_FLOW_MAX - 1
};

enum migprio_a_stats {
	MIGPRIO_A_STATS_UNSPEC,
	MIGPRIO_A_STATS_PAD,
	MIGPRIO_A_STATS_TX_PACKETS,	/* u64: packets marked going out */
	MIGPRIO_A_STATS_TX_BYTES,	/* u64 */
	MIGPRIO_A_STATS_RX_PACKETS,	/* u64: migration packets coming in */
	MIGPRIO_A_STATS_RX_BYTES,	/* u64 */
	MIGPRIO_A_STATS_DSCP_REWRITTEN,	/* u64 */
	MIGPRIO_A_STATS_FLOWS_STARTED,	/* u64 */
	MIGPRIO_A_STATS_FLOWS_ENDED,	/* u64 */
	MIGPRIO_A_STATS_FLOWS_UNTRACKED,/* u64: table full */
	MIGPRIO_A_STATS_FLOWS_ACTIVE,	/* u32 */
	MIGPRIO_A_STATS_FLOWS_MAX,	/* u32: table bound */
	MIGPRIO_A_STATS_SOCKS_TUNED,	/* u64: sockets given priority/buffers */
	MIGPRIO_A_STATS_RULES,		/* u32 */
	MIGPRIO_A_STATS_RULES_MAX,	/* u32: per-netns rule limit */

	__MIGPRIO_A_STATS_MAX,
	MIGPRIO_A_STATS_MAX = __MIGPRIO_A_STATS_MAX - 1
};

enum migprio_cmd {
	MIGPRIO_CMD_UNSPEC,
	MIGPRIO_CMD_DEV_GET,		/* do: designated interface, or none */
	MIGPRIO_CMD_DEV_SET,		/* do: designate / replace, admin */
	MIGPRIO_CMD_DEV_CLEAR,		/* do: admin */
	MIGPRIO_CMD_RULE_ADD,		/* do: admin, replies with the rule */
	MIGPRIO_CMD_RULE_DEL,		/* do: admin, by id */
	MIGPRIO_CMD_RULE_GET,		/* dump */
	MIGPRIO_CMD_RULE_FLUSH,		/* do: admin */
	MIGPRIO_CMD_FLOW_GET,		/* dump */
	MIGPRIO_CMD_STATS_GET,		/* do */
	MIGPRIO_CMD_FLOW_START_NTF,	/* notification, "events" group */
	MIGPRIO_CMD_FLOW_END_NTF,	/* notification, "events" group */
	MIGPRIO_CMD_DEV_CHANGE_NTF,	/* notification, "events" group */

	__MIGPRIO_CMD_MAX,
	MIGPRIO_CMD_MAX = __MIGPRIO_CMD_MAX - 1
};

#endif /* _UAPI_LINUX_MIGPRIO_H */
