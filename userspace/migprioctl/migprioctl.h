/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migprioctl internals: the command table shared by main (migprioctl.c),
 * the objects (dev.c, rule.c, flow.c, stats.c, monitor.c) and apply.c.
 *
 * Every command is split in two: parse() validates its arguments locally
 * (no kernel involved) into union mp_args, run() talks to the kernel. apply
 * parses a whole file before it runs anything.
 */
#ifndef MIGPRIOCTL_H
#define MIGPRIOCTL_H

#include <stdbool.h>
#include <stdio.h>
#include <net/if.h>
#include <linux/types.h>

#include <linux/genetlink.h>
#include <linux/migprio.h>

#include "nl.h"
#include "qdisc.h"
#include "stack.h"
#include "utils.h"

#ifndef MIGPRIOCTL_VERSION
#define MIGPRIOCTL_VERSION "0.1"
#endif

struct mp_ctx {
	struct mp_nl nl;
	bool quiet;		/* apply: no per-command output */
};

enum mp_rings_mode { RINGS_KEEP, RINGS_MAX, RINGS_N };

struct dev_set_args {
	const char *ifname;
	bool has_priority;
	__u32 priority;
	__u32 sndbuf, rcvbuf;	/* MIGPRIO_BUF_AUTO (0) or bytes */
	__u32 notsent;		/* MIGPRIO_NOTSENT_AUTO (0), _OFF or bytes */
	int dscp;		/* -1: off */
	int queue;		/* enum migprio_queue */
	__u64 rate;		/* bytes/s, htb */
	unsigned int guard;	/* percent, htb */
	enum mp_rings_mode rings;
	__u32 rings_n;
	bool force;
	const char *uplink;	/* NULL: found below ifname (stack.c) */
	bool per_slave;		/* a bond's layout on each of its slaves */
	/*
	 * syncconf: the file leaves this part as it runs on this interface,
	 * and the layout is where the walk puts it, so dev set does not touch
	 * it (queue: the root qdiscs of the queue devices; rings: their sizes)
	 */
	bool keep_queue, keep_rings;
};

struct rule_add_args {
	__u8 proto;
	bool has_port, has_lport, has_rport, has_peer;
	bool reserve_ports;	/* syncconf: reserve port and lport (reserve.c) */
	__u16 port[2], lport[2], rport[2];
	struct mp_prefix peer;
	const char *cgroup;
	const char *name;
};

/* rule del ID, or rule del MATCH [name NAME] (the rule add words) */
struct rule_del_args {
	__u32 id;		/* 0: by match */
	struct rule_add_args match;	/* .name only when given */
};

union mp_args {
	struct dev_set_args dev_set;
	struct rule_add_args rule_add;
	struct rule_del_args rule_del;
	struct apply_prog *prog;
};

#define CMD_APPLY	0x1	/* allowed in apply files */
#define CMD_RULE_ADD	0x2	/* batched by apply */
#define CMD_CONF	0x4	/* allowed in syncconf files */
#define CMD_DEV_SET	0x8

#define MP_MAX_CMDS	8	/* commands of one object */

struct mp_cmd {
	const char *name;	/* NULL: the object's only command */
	/*
	 * 0, or after printing why: -1 usage error (the caller adds the
	 * usage, exit 2), -2 other invalid input (exit 2), -3 the system is
	 * not as the command needs, e.g. no such device (exit 1). Nothing is
	 * sent to the kernel.
	 */
	int (*parse)(int argc, char **argv, union mp_args *a);
	/* exit status: 0 done, 1 failed (reported) */
	int (*run)(struct mp_ctx *ctx, const union mp_args *a);
	unsigned int flags;
	void (*cleanup)(union mp_args *a);	/* optional, always called */
	const char *alias;	/* iproute2's other word: list/show, del/delete */
};

struct mp_object {
	const char *name;
	const struct mp_cmd *cmds;	/* NULL-run terminated */
	const char *dflt;		/* command when none is given */
	const char *usage;
};

extern const struct mp_object dev_object, rule_object, flow_object,
	stats_object, monitor_object, apply_object, showconf_object,
	syncconf_object;

/*
 * netns.c: -n NETNS, a name under /run/netns or a path (/proc/PID/ns/net):
 * enter it, with a /sys of its own as ip -n does; 0 or -1 (reported).
 */
int mp_netns_enter(const char *netns);

/*
 * migprioctl.c: the exit status when the kernel cannot be asked (no
 * module): 1, or what the command's parse set (syncconf --dry-run: 2, as
 * it exits 0/1 for nothing/something to change).
 */
extern int mp_trouble_rc;

/* migprioctl.c: find object and command from argv; -1 after an error. */
int mp_resolve(int argc, char **argv, const struct mp_object **obj,
	       const struct mp_cmd **cmd, int *used);
/* Parse helpers that print "<where>: ..." and return -1. */
int parse_noargs(int argc, char **argv, union mp_args *a);
int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The usage error of a kw_lookup() result k < 0 for WORD: unknown,
 * ambiguous, or abbreviated in a file (naming the word it abbreviates).
 */
int kw_usage_err(const char *what, const char *word, const char *const *words,
		 int k);
/* Print a kernel error of the last request. */
void mp_kernel_err(struct mp_ctx *ctx, __u8 cmd);
/* {} in JSON mode for commands without output. */
void print_done(struct mp_ctx *ctx);

/* dev.c: designated interface state (dev get reply, dev-change event). */
struct dev_state {
	bool set;
	__u32 ifindex;
	char ifname[IF_NAMESIZE];
	char master[IF_NAMESIZE];	/* "": none */
	__u32 priority, sndbuf, rcvbuf, notsent;
	int dscp;		/* -1: off */
	__u8 queue, guard, change;
	bool has_rate, has_guard, has_rings;
	__u64 rate, link_rate;
	__u32 qdisc_handle;
	__u32 ring_rx, ring_tx, ring_rx_prev, ring_tx_prev;
	enum mp_rings_mode rings_mode;	/* as asked, from state.c's record */
	__u32 rings_n;
	char uplink[IF_NAMESIZE];	/* as asked, "": found */
	bool per_slave;
	/*
	 * State file of a device below the designated one: the designated
	 * ifindex (its qdisc_handle and ring_* are this device's). 0: the
	 * designated device's own record, with the arguments above and where
	 * the walk put the queue (qdev) and sized the rings (rdev).
	 */
	__u32 owner;
	unsigned int nqdev, nrdev;
	struct mp_stack_dev qdev[MP_STACK_MAX], rdev[MP_STACK_MAX];
	/* the kernel's queue devices (dev-get queue-devs): foreign priorities reset */
	unsigned int nreset;
	__u32 reset[MP_STACK_MAX];
};

int dev_state_parse(const struct nlmsghdr *nlh, void *data);
/* add what the state file (state.h) records for st->ifindex */
void dev_state_merge(struct dev_state *st);
const char *queue_name(int queue);
/* syncconf: dev set lines name interfaces that may appear later */
extern bool dev_lookup_deferred;
/* syncconf: rule add lines may carry reserve-ports (reserve.h) */
extern bool rule_reserve_allowed;
/* the designation, with the rings argument from the state file */
int dev_running(struct mp_ctx *ctx, struct dev_state *st);
void dev_args_state(const struct dev_set_args *a, struct dev_state *st);
/* the canonical "dev set ..." line of a designation */
char *dev_conf_line(const struct dev_state *st, char *buf, size_t len);
/* dev clear, also of what a reloaded module forgot; 0 or 1 (reported) */
int dev_clear(struct mp_ctx *ctx);
/* the kernel's queue devices as the record says (after a release) */
int dev_requeue(struct mp_ctx *ctx);

/* rule.c */
int rule_build_add(struct nlmsghdr *nlh, const struct rule_add_args *a);
/*
 * Add n rules with batch requests (rule-add-batch; one request per rule
 * for a module without it). Returns -1 when all were added, else the
 * index of the first failure (err filled): the rules before it are added,
 * none after it.
 */
int rule_add_many(struct mp_ctx *ctx, const struct rule_add_args *const *a,
		  unsigned int n, struct nlsock_err *err);

/* A rule as the line "rule add ..." that adds it again (showconf). */
struct rule_conf {
	__u32 id;
	size_t keylen;		/* the match: the line without its name */
	char line[256 + MIGPRIO_CGROUP_MAXLEN];
};

/* Returns the length of the match part (before " name NAME"). */
size_t rule_conf_line(const struct rule_add_args *a, char *buf, size_t len);
/* The rules of this netns, in id order; 0 or 1 (reported). Free *out. */
int rule_conf_dump(struct mp_ctx *ctx, struct rule_conf **out, unsigned int *n);
/* Delete rules by id; 0 or -errno (a rule that could not go is reported). */
int rule_del_many(struct mp_ctx *ctx, const __u32 *ids, unsigned int n);

/* flow.c: one flow (dump entry or event). */
struct mp_flow {
	__u8 proto, dir, end_reason;
	int family;
	__u8 laddr[16], raddr[16];
	__u16 lport, rport;
	__u32 rule_id;
	__u64 tx_packets, tx_bytes, rx_packets, rx_bytes;
	__u64 age_ms, idle_ms, rate;
	bool has_age, has_idle, has_rate;
};

int flow_parse(const struct nlmsghdr *nlh, struct mp_flow *f);
void flow_print_event(const struct mp_flow *f, bool end);

#endif /* MIGPRIOCTL_H */
