// SPDX-License-Identifier: GPL-2.0
/*
 * P2c: the hook's cost per packet, from the module's own packet path
 * (module/hooks.c, flows.c, classify.c, unchanged) built in userspace over
 * kshim/ (the kernel API it uses) and run under
 * `valgrind --tool=callgrind`, whose instruction counts do not depend on
 * the machine's load (scripts/bench-hook.sh runs it and prints the table).
 *
 * One network namespace with a designated interface, the rules of P2
 * (1024 port, IPv4 and IPv6 prefix rules that match nothing below, then
 * preset qemu: TCP service port 49152-49215), and the packets of P2's
 * flows over IPv4, through the netfilter hooks as the stack runs them:
 *
 *   mig-tx     a tracked, tuned migration connection (local port 40000 to
 *              49152): a 64 KiB GSO data packet sent (45 segments)
 *   mig-rx     the same connection: a pure ACK received
 *   other-tx   a connection to port 5201 no rule matches: 64 KiB data sent
 *   other-rx   the same: a pure ACK received
 *   other-if   a packet sent through another interface of the netns
 *
 * Each scenario sets its connection up first (the SYN, the socket tuned,
 * a few packets), then passes the same packet through the hooks N times;
 * only those N passes are counted (CALLGRIND_ZERO_STATS before them,
 * CALLGRIND_DUMP_STATS_AT("<scenario>") after, with --toggle-collect=
 * mp_hook: the hook function and everything it calls). Outside valgrind
 * the same loop is timed (ns per packet, for a look only: noisy).
 *
 *   hook_bench [-r RULES] [-n PACKETS] [SCENARIO...]   (default: all)
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include <linux/netfilter.h>
#include <net/ip.h>
#include <net/tcp.h>
#include <linux/udp.h>

#include "flows.h"

/* ---- what the rest of the module would provide ------------------------ */

unsigned int mp_max_rules = 4096;
unsigned int mp_max_flows = 65536;
unsigned int mp_flow_idle_secs = 30;
unsigned int mp_build_delay_ms = 100;

static struct net bench_net;
static struct mp_net *bench_mn;

/* The local sockets of the connections, found by local port. */
#define NSOCKS	4
static struct tcp_sock tsocks[NSOCKS];
#define SOCK(i)		(&tsocks[i].inet_conn.icsk_inet)

static struct sock *bench_sock(const struct mp_flow *f)
{
	unsigned int i;

	for (i = 0; i < NSOCKS; i++)
		if (SOCK(i)->inet_num == f->key.lport &&
		    SOCK(i)->sk.sk_protocol == f->key.proto)
			return &SOCK(i)->sk;
	return NULL;
}

struct mp_net *mp_net(const struct net *net)
{
	return net == &bench_net ? bench_mn : NULL;
}

/* config.c */
void mp_cgroup_miss(const struct mp_cgmatch *m)
{
	(void)m;
}

/* netlink.c: no listeners to the events */
void mp_nl_flow_notify(const struct mp_flow *f, u8 cmd)
{
	(void)f;
	(void)cmd;
}

/* sockbuf.c: the flow's work tunes its socket: the priority, as it does */
void mp_sock_sync(struct mp_flow *f)
{
	struct sock *sk = bench_sock(f);

	if (!sk || !test_bit(MP_FLOW_MATCHED, &f->flags))
		return;
	f->sock_id = atomic64_read(&sk->sk_cookie);
	f->prio_saved = sk->sk_priority;
	f->prio_set = mp_config_rcu(f->mn)->dev.priority;
	sk->sk_priority = f->prio_set;
	set_bit(MP_FLOW_TUNED, &f->flags);
}

/* no dumps here */
void mp_sock_fold(struct mp_flow *f)
{
	(void)f;
}

/* config.c */
struct mp_rule *mp_config_rule(const struct mp_config *cfg, u32 id)
{
	unsigned int i;

	for (i = 0; i < cfg->nrules; i++)
		if (cfg->rules[i]->spec.id == id)
			return cfg->rules[i];
	return NULL;
}

bool mp_sock_release(struct mp_flow *f, bool final)
{
	(void)f;
	(void)final;
	return true;
}

bool mp_sock_agrees(struct mp_flow *f, enum migprio_flow_end reason)
{
	(void)f;
	(void)reason;
	return true;
}

bool mp_listener_exists(struct net *net, const struct mp_flow_key *k,
			int ifindex)
{
	(void)net;
	(void)k;
	(void)ifindex;
	return false;
}

void mp_listener_tune(struct net *net, const struct mp_flow_key *k,
		      const struct mp_config *cfg, struct mp_flow *f)
{
	(void)net;
	(void)k;
	(void)cfg;
	(void)f;
}

/* no listener is tuned here: never called (listener_records stays 0) */
void mp_child_first_tx(struct mp_net *mn, struct sk_buff *skb,
		       struct mp_flow *f)
{
	(void)mn;
	(void)skb;
	(void)f;
}

/* ---- the namespace, its rules and its packets --------------------------- */

#define IF_MIG		3		/* the designated interface */
#define IF_OTHER	4
#define GSO_SIZE	1448U
#define GSO_BYTES	65160U		/* 45 segments */

static struct net_device dev_mig = { .ifindex = IF_MIG, .name = "vsrc" };
static struct net_device dev_other = { .ifindex = IF_OTHER, .name = "eth9" };

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return p;
}

static struct mp_rule *rule_new(u32 id)
{
	struct mp_rule *r = xcalloc(1, sizeof(*r));

	r->spec.id = id;
	r->spec.proto = IPPROTO_TCP;
	r->spec.port = MP_PORTS_ANY;
	r->spec.lport = MP_PORTS_ANY;
	r->spec.rport = MP_PORTS_ANY;
	r->ctr = xcalloc(1, sizeof(*r->ctr));
	return r;
}

/*
 * The rules of P2 (scripts/bench-p2.sh): @n - 1 that match nothing here
 * (ports 20000 + i, IPv4 /24s in 10.200/16, IPv6 /64s in fd99::/16), then
 * preset qemu, all compiled into the table.
 */
static struct mp_config *config_new(unsigned int n)
{
	struct mp_config *cfg = xcalloc(1, sizeof(*cfg));
	struct mp_rule_spec *specs = xcalloc(n, sizeof(*specs));
	unsigned int i;

	cfg->rules = xcalloc(n, sizeof(*cfg->rules));
	for (i = 0; i < n; i++) {
		struct mp_rule *r = rule_new(i + 1);

		if (i == n - 1) {		/* preset qemu */
			r->spec.port.min = 49152;
			r->spec.port.max = 49215;
		} else if (i % 4 < 2) {
			r->spec.port.min = 20000 + i;
			r->spec.port.max = 20000 + i;
		} else if (i % 4 == 2) {
			r->spec.family = 4;
			r->spec.plen = 24;
			r->spec.peer[0] = 10;
			r->spec.peer[1] = 200 + i / 1024 % 50;
			r->spec.peer[2] = i / 4 % 256;
		} else {
			r->spec.family = 6;
			r->spec.plen = 64;
			r->spec.peer[0] = 0xfd;
			r->spec.peer[1] = 0x99;
			r->spec.peer[2] = (i / 1024) >> 8;
			r->spec.peer[3] = i / 1024;
			r->spec.peer[4] = (i % 1024) >> 8;
			r->spec.peer[5] = i % 1024;
		}
		cfg->rules[i] = r;
		specs[i] = r->spec;
	}
	cfg->nrules = n;
	cfg->nbuilt = n;
	cfg->ctable = mp_ctable_build(specs, n);
	free(specs);
	if (!cfg->ctable) {
		fprintf(stderr, "cannot build the classifier table\n");
		exit(1);
	}
	cfg->ifindex = IF_MIG;
	strcpy(cfg->ifname, dev_mig.name);
	cfg->dev.priority = MIGPRIO_PRIO_DEFAULT;
	cfg->dev.sndbuf = MIGPRIO_BUF_AUTO;
	cfg->dev.rcvbuf = MIGPRIO_BUF_AUTO;
	cfg->dev.notsent = MIGPRIO_NOTSENT_AUTO;
	cfg->dev.dscp = -1;
	cfg->gen = 1;
	cfg->tune_gen = 1;
	return cfg;
}

static int netns_new(unsigned int nrules)
{
	struct mp_net *mn = xcalloc(1, sizeof(*mn));

	bench_mn = mn;
	mn->net = &bench_net;
	mutex_init(&mn->lock);
	mn->ctr = xcalloc(1, sizeof(*mn->ctr));
	rcu_assign_pointer(mn->cfg, config_new(nrules));
	if (mp_flow_cache_create() || mp_flows_init(mn))
		return -1;
	return mp_hooks_register(mn);
}

/* One IPv4 TCP packet of a connection, and how it passes the hooks. */
struct pkt {
	struct sk_buff skb;
	struct nf_hook_state state;
	unsigned char buf[128];
};

#define L_ADDR	0x0a4d0001U	/* 10.77.0.1 */
#define R_ADDR	0x0a4d0002U	/* 10.77.0.2 */

static void pkt_tcp(struct pkt *p, struct inet_sock *isk, bool tx,
		    u16 rport, u8 flags, unsigned int payload,
		    struct net_device *dev)
{
	unsigned int hlen = sizeof(struct iphdr) + 32;	/* TCP, timestamps */
	struct iphdr *iph;
	struct tcphdr *th;

	memset(p, 0, sizeof(*p));
	iph = (struct iphdr *)p->buf;
	th = (struct tcphdr *)(p->buf + sizeof(*iph));
	iph->version = 4;
	iph->ihl = 5;
	iph->ttl = 64;
	iph->protocol = IPPROTO_TCP;
	iph->tot_len = htons(min(hlen + payload, 65535U));
	iph->saddr = htonl(tx ? L_ADDR : R_ADDR);
	iph->daddr = htonl(tx ? R_ADDR : L_ADDR);
	th->source = htons(tx ? isk->inet_num : rport);
	th->dest = htons(tx ? rport : isk->inet_num);
	th->doff = 8;
	p->buf[sizeof(*iph) + 13] = flags;
	p->skb.head = p->buf;
	p->skb.data = p->buf;
	p->skb.len = hlen + payload;
	p->skb.sk = &isk->sk;
	if (payload > GSO_SIZE) {
		p->skb.shinfo.gso_size = GSO_SIZE;
		p->skb.shinfo.gso_segs = DIV_ROUND_UP(payload, GSO_SIZE);
	}
	p->state.hook = tx ? NF_INET_POST_ROUTING : NF_INET_LOCAL_IN;
	p->state.pf = NFPROTO_IPV4;
	p->state.in = tx ? NULL : dev;
	p->state.out = tx ? dev : NULL;
	p->state.net = &bench_net;
}

static void sock_init(struct inet_sock *isk, u16 lport)
{
	memset(tcp_sk(&isk->sk), 0, sizeof(struct tcp_sock));
	atomic64_set(&isk->sk.sk_cookie, lport);	/* nonzero, unique */
	isk->sk.sk_state = TCP_ESTABLISHED;
	isk->sk.sk_protocol = IPPROTO_TCP;
	isk->sk.sk_type = SOCK_STREAM;
	isk->inet_num = lport;
	isk->inet_saddr = htonl(L_ADDR);
	isk->inet_daddr = htonl(R_ADDR);
}

static unsigned int pass(struct pkt *p)
{
	return kshim_nf_hook(&p->skb, &p->state);
}

/* ---- scenarios ---------------------------------------------------------- */

struct scenario {
	const char *name;
	u16 lport, rport;
	bool tx, data;
	bool tracked;		/* a rule matches: the flow is tracked, marked */
	struct net_device *dev;
};

static const struct scenario scenarios[] = {
	{ "mig-tx", 40000, 49152, true, true, true, &dev_mig },
	{ "mig-rx", 40000, 49152, false, false, true, &dev_mig },
	{ "other-tx", 40001, 5201, true, true, false, &dev_mig },
	{ "other-rx", 40001, 5201, false, false, false, &dev_mig },
	{ "other-if", 40002, 49152, true, true, false, &dev_other },
};

/* The flow of @sc's connection, as the hooks key it, if tracked. */
static struct mp_flow *sc_flow(const struct scenario *sc)
{
	struct mp_flow_key k;
	__be32 l = htonl(L_ADDR), r = htonl(R_ADDR);

	memset(&k, 0, sizeof(k));
	memcpy(k.laddr, &l, 4);
	memcpy(k.raddr, &r, 4);
	k.lport = sc->lport;
	k.rport = sc->rport;
	k.proto = IPPROTO_TCP;
	k.family = 4;
	return mp_flow_lookup(bench_mn, &k);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The connection of @sc opened (SYN, SYN-ACK) and its socket tuned. */
static struct inet_sock *connect_sock(const struct scenario *sc)
{
	struct inet_sock *isk = NULL;
	struct pkt syn;
	unsigned int i;

	for (i = 0; i < NSOCKS; i++) {
		if (SOCK(i)->inet_num == sc->lport)
			return SOCK(i);
		if (!isk && !SOCK(i)->inet_num)
			isk = SOCK(i);
	}
	if (!isk)
		return NULL;
	sock_init(isk, sc->lport);
	pkt_tcp(&syn, isk, true, sc->rport, TCPHDR_SYN, 0, sc->dev);
	pass(&syn);
	pkt_tcp(&syn, isk, false, sc->rport, TCPHDR_SYN | TCPHDR_ACK, 0,
		sc->dev);
	pass(&syn);
	kshim_run_work();		/* start event, socket tuned */
	return isk;
}

static int run(const struct scenario *sc, unsigned int n)
{
	struct inet_sock *isk = connect_sock(sc);
	struct mp_flow *f;
	struct pkt p;
	unsigned int i, bad = 0;
	double t0, ns;
	bool marked;

	if (!isk) {
		fprintf(stderr, "%s: no socket\n", sc->name);
		return -1;
	}
	pkt_tcp(&p, isk, sc->tx, sc->rport, TCPHDR_ACK | (sc->data ? TCPHDR_PSH : 0),
		sc->data ? GSO_BYTES : 0, sc->dev);
	for (i = 0; i < 8; i++)		/* warm-up, not counted */
		pass(&p);
	kshim_run_work();

	CALLGRIND_ZERO_STATS;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		/* the stack gives a sent packet its socket's priority */
		if (sc->tx)
			p.skb.priority = isk->sk.sk_priority;
		bad += pass(&p) != NF_ACCEPT;
	}
	ns = (now_ns() - t0) / n;
	CALLGRIND_DUMP_STATS_AT(sc->name);

	/* what the packets should have met: a tracked, tuned flow or none */
	f = sc_flow(sc);
	marked = p.skb.priority == MIGPRIO_PRIO_DEFAULT;
	if (bad || !f != !sc->tracked ||
	    (f && !test_bit(MP_FLOW_TUNED, &f->flags)) ||
	    (f && !test_bit(MP_FLOW_SKACCT, &f->flags)) ||
	    (sc->tx && marked != sc->tracked)) {
		fprintf(stderr, "%s: unexpected verdict, flow or priority %u\n",
			sc->name, p.skb.priority);
		return -1;
	}
	printf("%-10s %u packets", sc->name, n);
	if (!RUNNING_ON_VALGRIND)
		printf(", %.1f ns per packet", ns);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int nrules = 1025, n = 100000, i;
	bool any = false;
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "r:n:h")) != -1) {
		switch (opt) {
		case 'r':
			nrules = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			n = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr,
				"usage: %s [-r RULES] [-n PACKETS] [SCENARIO...]\n",
				argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (nrules < 1 || nrules > 65536 || n < 1) {
		fprintf(stderr, "bad -r (1..65536) or -n (>= 1)\n");
		return 2;
	}
	if (netns_new(nrules)) {
		fprintf(stderr, "cannot set up the namespace\n");
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(scenarios); i++) {
		int k;

		for (k = optind; k < argc; k++)
			if (!strcmp(argv[k], scenarios[i].name))
				break;
		if (optind < argc && k == argc)
			continue;
		any = true;
		rc |= run(&scenarios[i], n);
	}
	if (!any) {
		fprintf(stderr, "no such scenario\n");
		return 2;
	}
	return rc ? 1 : 0;
}
