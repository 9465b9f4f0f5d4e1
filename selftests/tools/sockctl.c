// SPDX-License-Identifier: GPL-2.0
/*
 * sockctl - one TCP connection whose owner reports and changes its own
 * socket, for the tests of how migprio tunes a live socket and gives it
 * back (sockstate.sh). The values are read with getsockopt() by the
 * socket's own process, independent of migprioctl.
 *
 *   sockctl [-t] [-b SNDBUF] ADDR PORT
 *
 * -t: kTLS on the transmit side (TLS 1.2, AES-GCM-128, software: the
 * socket's sk_write_space is then kTLS's); -b: SO_SNDBUF before connect().
 * Connects to ADDR:PORT (IPv4), prints "connected LPORT", then reads
 * commands from stdin, one per line, and answers each with one line:
 *
 *   get                  prio P notsent N sndbuf S rcvbuf R
 *   set OPT V            ok (OPT: prio, notsent, sndbuf, rcvbuf)
 *   stream MS            ok: a thread writes 1 KiB every MS ms (0: stop)
 *   fill                 ok: a thread writes as fast as the socket takes
 *   wait P N MS          ok when SO_PRIORITY is P and TCP_NOTSENT_LOWAT N
 *                        within MS ms (1 KiB written every 20 ms meanwhile),
 *                        else "timeout " and what get says
 *   quiet                quiet: the writer stopped, everything written
 *                        acknowledged (SIOCOUTQ 0); EPOLLOUT wakeups are
 *                        counted from now on
 *   hold                 held: a send() from a page registered with
 *                        userfaultfd sleeps in the fault with the socket
 *                        locked (tcp_sendmsg() copies under lock_sock)
 *   wakeups              wakeups N: sk_write_space() wakeups (EPOLLOUT,
 *                        edge-triggered) since "quiet"
 *   release              released: the fault is resolved, the send done
 *   resume ROUNDS P N MS [POLL]
 *                        rounds R untuned U: ROUNDS times: stop
 *                        writing, poll migprio's flow dump every POLL ms
 *                        (default 2) until the flow of this connection is no longer
 *                        listed (it ended idle), write at once, keep
 *                        writing until migprio's flows_ended counter
 *                        says the old flow is done with (its end event
 *                        comes after its socket was given back), then
 *                        "wait P N MS"; U counts the rounds where that
 *                        timed out
 *   quit
 *
 * After a page fault on the userfaultfd only "wakeups", "release" and
 * "quit" make sense.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/migprio.h>
#include <linux/sockios.h>
#include <linux/tls.h>
#include <linux/userfaultfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SOL_TLS
#define SOL_TLS		282
#endif
#ifndef TCP_ULP
#define TCP_ULP		31
#endif

#define HOLDLEN		(64 * 1024)

static int fd, epfd, uffd = -1;
static uint16_t lport;
static atomic_int mode;		/* 0: idle, > 0: ms between writes, -1: fill */
static pthread_t writer;
static bool writing;
static void *holdbuf;
static pthread_t holder;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void write_some(size_t len)
{
	static char buf[65536];

	if (send(fd, buf, len, MSG_NOSIGNAL) < 0 && errno != EAGAIN)
		die("send");
}

static void *writer_main(void *arg)
{
	int m;

	(void)arg;
	while ((m = atomic_load(&mode)) != 0) {
		if (m < 0) {
			write_some(65536);
		} else {
			write_some(1024);
			sleep_ms(m);
		}
	}
	return NULL;
}

static void writer_set(int m)
{
	if (writing) {
		atomic_store(&mode, 0);
		pthread_join(writer, NULL);
		writing = false;
	}
	if (!m)
		return;
	atomic_store(&mode, m);
	if (pthread_create(&writer, NULL, writer_main, NULL))
		die("pthread_create");
	writing = true;
}

static int getopt_int(int level, int name)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (getsockopt(fd, level, name, &v, &len))
		die("getsockopt");
	return v;
}

static void print_get(const char *prefix)
{
	printf("%sprio %d notsent %u sndbuf %d rcvbuf %d\n", prefix,
	       getopt_int(SOL_SOCKET, SO_PRIORITY),
	       (unsigned int)getopt_int(IPPROTO_TCP, TCP_NOTSENT_LOWAT),
	       getopt_int(SOL_SOCKET, SO_SNDBUF),
	       getopt_int(SOL_SOCKET, SO_RCVBUF));
}

static bool has(unsigned int prio, unsigned int notsent)
{
	return (unsigned int)getopt_int(SOL_SOCKET, SO_PRIORITY) == prio &&
	       (unsigned int)getopt_int(IPPROTO_TCP, TCP_NOTSENT_LOWAT) == notsent;
}

/* Write 1 KiB every 20 ms until the socket has @prio and @notsent. */
static bool wait_tuned(unsigned int prio, unsigned int notsent, long ms)
{
	long end = now_ms() + ms;

	for (;;) {
		if (has(prio, notsent))
			return true;
		if (now_ms() > end)
			return false;
		write_some(1024);
		sleep_ms(20);
	}
}

static void set_opt(const char *name, int v)
{
	int level = SOL_SOCKET, opt;

	if (!strcmp(name, "prio")) {
		opt = SO_PRIORITY;
	} else if (!strcmp(name, "notsent")) {
		level = IPPROTO_TCP;
		opt = TCP_NOTSENT_LOWAT;
	} else if (!strcmp(name, "sndbuf")) {
		opt = SO_SNDBUF;
	} else if (!strcmp(name, "rcvbuf")) {
		opt = SO_RCVBUF;
	} else {
		fprintf(stderr, "sockctl: no option %s\n", name);
		exit(2);
	}
	if (setsockopt(fd, level, opt, &v, sizeof(v)))
		die("setsockopt");
}

static void quiet(void)
{
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLET };
	int outq;

	writer_set(0);
	do {
		if (ioctl(fd, SIOCOUTQ, &outq))
			die("SIOCOUTQ");
		if (outq)
			sleep_ms(10);
	} while (outq);
	if (epfd < 0) {
		epfd = epoll_create1(0);
		if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
			die("epoll");
	}
	/* The socket is writable: the first wait reports that; drop it. */
	while (epoll_wait(epfd, &ev, 1, 0) > 0)
		;
}

static int wakeups(void)
{
	struct epoll_event ev;
	int n = 0;

	while (epoll_wait(epfd, &ev, 1, 0) > 0)
		n++;
	return n;
}

static void *holder_main(void *arg)
{
	(void)arg;
	/* Faults in the copy from holdbuf, inside lock_sock(). */
	send(fd, holdbuf, HOLDLEN, MSG_NOSIGNAL);
	return NULL;
}

static void hold(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffd_msg msg;
	struct pollfd pfd;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		die("userfaultfd");
	holdbuf = mmap(NULL, HOLDLEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (holdbuf == MAP_FAILED)
		die("mmap");
	reg.range.start = (unsigned long)holdbuf;
	reg.range.len = HOLDLEN;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER");
	if (pthread_create(&holder, NULL, holder_main, NULL))
		die("pthread_create");
	pfd.fd = uffd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, -1) != 1 || read(uffd, &msg, sizeof(msg)) !=
	    sizeof(msg) || msg.event != UFFD_EVENT_PAGEFAULT) {
		fprintf(stderr, "sockctl: no page fault reported\n");
		exit(1);
	}
}

static void release(void)
{
	struct uffdio_zeropage zp = {
		.range = { (unsigned long)holdbuf, HOLDLEN },
	};

	if (ioctl(uffd, UFFDIO_ZEROPAGE, &zp) && errno != EEXIST)
		die("UFFDIO_ZEROPAGE");
	pthread_join(holder, NULL);
}

/* migprio's flow dump, in this process's netns */

static struct mnl_socket *nl;
static uint16_t family;
static unsigned int seq;

static int family_cb(const struct nlattr *a, void *data)
{
	(void)data;
	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
		family = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static struct nlmsghdr *nl_req(char *buf, uint16_t type, uint8_t cmd,
			       uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = 1;
	return nlh;
}

/* Run one request; @cb gets each data message's attributes. */
static void nl_run(struct nlmsghdr *nlh, mnl_attr_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct nlmsghdr *m;
	int len;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		die("netlink send");
	for (;;) {
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len < 0)
			die("netlink recv");
		for (m = (void *)buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_type == NLMSG_DONE)
				return;
			if (m->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);

				if (e->error) {
					errno = -e->error;
					die("netlink");
				}
				return;
			}
			mnl_attr_parse(m, GENL_HDRLEN, cb, data);
		}
	}
}

static void nl_open(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nl = mnl_socket_open(NETLINK_GENERIC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("netlink");
	nlh = nl_req(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, MIGPRIO_FAMILY_NAME);
	nl_run(nlh, family_cb, NULL);
	if (!family) {
		fprintf(stderr, "sockctl: no migprio family\n");
		exit(1);
	}
}

static int flow_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == MIGPRIO_A_FLOW_LPORT &&
	    mnl_attr_get_u16(a) == lport)
		*(bool *)data = true;
	return MNL_CB_OK;
}

static int ended_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == MIGPRIO_A_STATS_FLOWS_ENDED)
		*(uint64_t *)data = mnl_attr_get_u64(a);
	return MNL_CB_OK;
}

static uint64_t flows_ended(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint64_t n = 0;

	nl_run(nl_req(buf, family, MIGPRIO_CMD_STATS_GET, NLM_F_ACK),
	       ended_cb, &n);
	return n;
}

static bool flow_listed(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	bool found = false;

	nl_run(nl_req(buf, family, MIGPRIO_CMD_FLOW_GET, NLM_F_DUMP), flow_cb,
	       &found);
	return found;
}

static void resume(int rounds, unsigned int prio, unsigned int notsent,
		   long ms, long poll)
{
	int r, untuned = 0;
	uint64_t ended;
	long end;

	if (!nl)
		nl_open();
	writer_set(0);
	for (r = 0; r < rounds; r++) {
		ended = flows_ended();
		end = now_ms() + 10000;
		while (flow_listed() && now_ms() < end)
			sleep_ms(poll);
		write_some(1024);
		end = now_ms() + 10000;
		while (flows_ended() == ended && now_ms() < end) {
			sleep_ms(20);
			write_some(1024);
		}
		if (!wait_tuned(prio, notsent, ms)) {
			untuned++;
			printf("# round %d: ", r);
			print_get("");
		}
	}
	printf("rounds %d untuned %d\n", rounds, untuned);
}

static void ktls(void)
{
	struct tls12_crypto_info_aes_gcm_128 ci = {
		.info.version = TLS_1_2_VERSION,
		.info.cipher_type = TLS_CIPHER_AES_GCM_128,
	};

	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")))
		die("TCP_ULP tls");
	if (setsockopt(fd, SOL_TLS, TLS_TX, &ci, sizeof(ci)))
		die("TLS_TX");
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	bool tls = false;
	int c, sndbuf = 0;
	char line[256], arg[32];
	unsigned int a, b;
	long v;

	while ((c = getopt(argc, argv, "tb:")) != -1) {
		if (c == 't')
			tls = true;
		else if (c == 'b')
			sndbuf = atoi(optarg);
		else
			return 2;
	}
	if (argc - optind != 2 ||
	    inet_pton(AF_INET, argv[optind], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: sockctl [-t] [-b SNDBUF] ADDR PORT\n");
		return 2;
	}
	sa.sin_port = htons(atoi(argv[optind + 1]));
	epfd = -1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (sndbuf && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				 sizeof(sndbuf)))
		die("SO_SNDBUF");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	if (tls)
		ktls();
	if (getsockname(fd, (struct sockaddr *)&sa, &salen))
		die("getsockname");
	lport = ntohs(sa.sin_port);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("connected %u\n", lport);

	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "set %31s %ld", arg, &v) == 2) {
			set_opt(arg, v);
			puts("ok");
		} else if (!strncmp(line, "get", 3)) {
			print_get("");
		} else if (sscanf(line, "stream %ld", &v) == 1) {
			writer_set(v);
			puts("ok");
		} else if (!strncmp(line, "fill", 4)) {
			writer_set(-1);
			puts("ok");
		} else if (sscanf(line, "wait %u %u %ld", &a, &b, &v) == 3) {
			writer_set(0);
			if (wait_tuned(a, b, v))
				puts("ok");
			else
				print_get("timeout ");
		} else if (!strncmp(line, "quiet", 5)) {
			quiet();
			puts("quiet");
		} else if (!strncmp(line, "hold", 4)) {
			hold();
			puts("held");
		} else if (!strncmp(line, "wakeups", 7)) {
			printf("wakeups %d\n", wakeups());
		} else if (!strncmp(line, "release", 7)) {
			release();
			puts("released");
		} else if (sscanf(line, "resume %d %u %u %ld", &c, &a, &b,
				  &v) == 4) {
			long poll = 2;

			sscanf(line, "resume %*d %*u %*u %*d %ld", &poll);
			resume(c, a, b, v, poll > 0 ? poll : 2);
		} else if (!strncmp(line, "quit", 4)) {
			break;
		} else {
			fprintf(stderr, "sockctl: unknown command %s", line);
			return 2;
		}
	}
	writer_set(0);
	return 0;
}
