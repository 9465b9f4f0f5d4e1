// SPDX-License-Identifier: GPL-2.0
/*
 * migsim: a live-migration workload that behaves like QEMU's pre-copy
 * migration over TCP, for benchmarks and demos of migprio.
 *
 *   migsim recv [-a ADDR] [-p PORT] [-c CHANNELS] [-t TIMEOUT_S] [-i MS] [-j]
 *   migsim send -a ADDR [-p PORT] -m MEM_MIB -d DIRTY_MIBS [-D DOWNTIME_MS]
 *               [-M ack|qemu] [-B MAX_MIBS] [-b SNDBUF_KIB]
 *               [-c CHANNELS] [-r MAX_ROUNDS] [-t TIMEOUT_S] [-s SEED] [-j]
 *   migsim conns -l [-a ADDR] [-p PORT] [-n MAX]     hold accepted sockets
 *   migsim conns -a ADDR [-p PORT] -n N              open and hold N sockets
 *
 * Model (sender):
 *  - Guest memory is M MiB of 4 KiB pages with a dirty bitmap. A "vCPU"
 *    thread, woken by a 5 ms timer, sets random pages (uniform over M) dirty
 *    at D MiB/s; a page already dirty stays dirty, so the dirty set
 *    saturates like a real guest writing all over its memory (a worst case:
 *    real guests have a hotter working set).
 *  - Round 0 sends every page. At the start of each later round the bitmap
 *    is fetched and cleared atomically (like KVM's dirty log sync) and the
 *    pages dirtied during the previous round are sent.
 *  - Pages go in chunks of up to 128 pages (512 KiB, like a multifd packet)
 *    over C TCP connections to the same port (like multifd).
 *
 * Two modes decide when to stop the guest (-M):
 *
 *  ack (default): a round ends when the receiver acknowledges all of it, so
 *    the per-round bandwidth is what actually arrived, not what fitted into
 *    socket buffers. After each round: if dirty bytes / last bandwidth <=
 *    downtime limit, the guest is stopped (vCPU thread halted), the rest is
 *    copied, and the downtime is measured from the stop to the receiver's
 *    acknowledgment. If MAX_ROUNDS live rounds pass without that, the
 *    migration is reported as not converged and finished with a forced
 *    stop-and-copy whose downtime is reported too (exit code 3).
 *
 *  qemu: what QEMU 7.2's migration thread does (migration/migration.c,
 *    ram.c, multifd.c). One main connection plus C multifd connections
 *    carrying the pages (-c 0: no multifd, pages on the main connection).
 *    Nothing is acknowledged. A page chunk counts as transferred when it is
 *    handed to a free channel, i.e. once that channel's previous chunk has
 *    been written into the socket (multifd_send_pages). Every 100 ms or
 *    more (migration_update_counters): bandwidth = bytes counted in the
 *    period / its length, threshold = bandwidth * downtime limit, and the
 *    rate-limit quota (max-bandwidth / 10, 128 MiB/s by default) starts
 *    again. Pages are sent for at most 50 ms or until the quota is used
 *    (ram_save_iterate), then until every channel has written what it holds
 *    (multifd_send_sync_main). When the not-yet-sent dirty bytes are below
 *    the threshold, the dirty log is merged into the migration bitmap
 *    (ram_save_pending); when they are still below it (or zero), the guest
 *    stops and the rest is written without rate limit (migration_completion).
 *    The reported total time and downtime end when the last byte has been
 *    written to the sockets, as QEMU's "total time" and "downtime" do
 *    (migration_calculate_complete), not when it arrived.
 *
 * Both modes also report the destination's view: the receiver notes when
 * it has everything (ack: the last round complete; qemu: every channel's
 * end and the summary received), and computes from the sender's start and
 * stop times (CLOCK_REALTIME, carried in START and STOP messages) the
 * destination's total time and the real downtime (source stop -> all data
 * at the destination). It sends that time back (DEST) so that the sender
 * prints both views too. Across hosts the real figures are only as good as
 * the two clocks' synchronisation; in one host's namespaces it is exact.
 *
 * Wire format: every message starts with a 24-byte header in network byte
 * order (struct ms_hdr). Sender -> receiver: HELLO per connection, START
 * and STOP on connection 0, PAGES, ROUND_END per channel (ack mode only,
 * with that channel's byte count for the round), FINISH per connection
 * (its total) and one SUMMARY on connection 0 (grand total). Receiver ->
 * sender on connection 0: ROUND_ACK (ack mode: bytes of the round), DEST
 * and RESULT (bytes received, status). Both sides check every count.
 *
 * Exit codes: 0 success, 1 error (I/O, timeout, protocol or count
 * mismatch), 2 usage, 3 migration completed but did not converge.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MS_MAGIC	0x4d475349u	/* "MGSI" */
#define PAGE_SZ		4096u
#define CHUNK_PAGES	128u
#define CHUNK_BYTES	(CHUNK_PAGES * PAGE_SZ)
#define MAX_CHANNELS	64
#define DEF_PORT	49152		/* first port of QEMU's migration range */
#define DIRTY_TICK_NS	5000000L	/* 5 ms */
#define RECV_BUF	(1u << 20)

enum ms_type {
	MS_HELLO = 1,		/* chan = index, round = connections, len = mode,
				 * arg = session
				 */
	MS_PAGES,		/* round, len = payload bytes, arg = first page */
	MS_ROUND_END,		/* round, arg = payload bytes of round on chan */
	MS_FINISH,		/* round = rounds, arg = payload bytes on chan */
	MS_SUMMARY,		/* round = rounds, arg = total payload bytes */
	MS_ROUND_ACK,		/* round, arg = payload bytes of round, all chans */
	MS_RESULT,		/* round = status (0 ok), arg = bytes received */
	MS_START,		/* arg = sender's CLOCK_REALTIME at start, ns */
	MS_STOP,		/* round = live rounds, arg = realtime at stop, ns */
	MS_DEST,		/* arg = receiver's realtime when complete, ns */
};

enum ms_mode {
	MODE_ACK,		/* per-round acknowledgment */
	MODE_QEMU,		/* QEMU 7.2: bandwidth from bytes written */
};

#define QEMU_PERIOD	0.1	/* BUFFER_DELAY: counters period, s */
#define QEMU_MAX_WAIT	0.05	/* MAX_WAIT: one ram_save_iterate, s */
#define QEMU_MAX_BW	128	/* MAX_THROTTLE: max-bandwidth, MiB/s */

struct ms_hdr {
	uint32_t magic;
	uint16_t type;
	uint16_t chan;
	uint32_t round;
	uint32_t len;
	uint64_t arg;
} __attribute__((packed));

static_assert(sizeof(struct ms_hdr) == 24, "header is 24 bytes");

static const char *prog = "migsim";
static volatile sig_atomic_t interrupted;

static void die_usage(void);

static void err_msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void hdr_pack(struct ms_hdr *h, int type, unsigned int chan,
		     uint32_t round, uint32_t len, uint64_t arg)
{
	h->magic = htobe32(MS_MAGIC);
	h->type = htobe16(type);
	h->chan = htobe16(chan);
	h->round = htobe32(round);
	h->len = htobe32(len);
	h->arg = htobe64(arg);
}

static void hdr_unpack(struct ms_hdr *h)
{
	h->magic = be32toh(h->magic);
	h->type = be16toh(h->type);
	h->chan = be16toh(h->chan);
	h->round = be32toh(h->round);
	h->len = be32toh(h->len);
	h->arg = be64toh(h->arg);
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

/*
 * Wait for events on a non-blocking socket until deadline: 0 to try the
 * call again, -ETIMEDOUT (deadline passed, or interrupted) or -errno.
 */
static int wait_fd(int fd, short events, double deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ms = (int)((deadline - now_mono()) * 1000);

	if (ms <= 0 || interrupted)
		return -ETIMEDOUT;
	if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

/* Write all of buf on a non-blocking socket within timeout seconds. */
static int write_full(int fd, const void *buf, size_t len, double timeout)
{
	const char *p = buf;
	double deadline = now_mono() + timeout;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno == EINTR && !interrupted)
			continue;
		if (n < 0 && errno == EAGAIN) {
			int err = wait_fd(fd, POLLOUT, deadline);

			if (err)
				return err;
			continue;
		}
		return n < 0 ? -errno : -EPIPE;
	}
	return 0;
}

/* Read exactly len bytes from a non-blocking socket within timeout. */
static int read_full(int fd, void *buf, size_t len, double timeout)
{
	char *p = buf;
	double deadline = now_mono() + timeout;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n > 0) {
			p += n;
			len -= n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR && !interrupted)
			continue;
		if (errno == EAGAIN) {
			int err = wait_fd(fd, POLLIN, deadline);

			if (err)
				return err;
			continue;
		}
		return -errno;
	}
	return 0;
}

/* The number of an option, in [min, max]; anything else is a usage error. */
static unsigned long arg_ulong(const char *s, unsigned long min,
			       unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		die_usage();
	return v;
}

static double arg_double(const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max))
		die_usage();
	return v;
}

/*
 * The options of every mode, -a ADDR, -p PORT and -t TIMEOUT_S, into the
 * pointers; false for any other option.
 */
static bool endpoint_opt(int opt, const char **addr, unsigned int *port,
			 double *timeout)
{
	switch (opt) {
	case 'a':
		*addr = optarg;
		return true;
	case 'p':
		*port = arg_ulong(optarg, 1, 65535);
		return true;
	case 't':
		*timeout = arg_ulong(optarg, 1, 86400);
		return true;
	}
	return false;
}

/* ---- name resolution and sockets ---- */

static int lookup_addr(const char *addr, unsigned int port, bool passive,
		       struct addrinfo **res)
{
	struct addrinfo hints;
	char portstr[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(addr, portstr, &hints, res);
	if (rc) {
		err_msg("cannot resolve %s: %s", addr ? addr : "(any)",
			gai_strerror(rc));
		return -1;
	}
	return 0;
}

static int listen_on(const char *addr, unsigned int port, int backlog)
{
	struct addrinfo *res, *ai;
	int fd = -1, one = 1, zero = 0;

	if (!addr) {
		/* Dual stack: one IPv6 socket that accepts IPv4 as well. */
		struct sockaddr_in6 sa6;

		memset(&sa6, 0, sizeof(sa6));
		sa6.sin6_family = AF_INET6;
		sa6.sin6_port = htons(port);
		sa6.sin6_addr = in6addr_any;
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				   sizeof(one));
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
				   sizeof(zero));
			if (!bind(fd, (struct sockaddr *)&sa6, sizeof(sa6)) &&
			    !listen(fd, backlog))
				return fd;
			close(fd);
		}
		addr = "0.0.0.0";	/* no IPv6 in this netns */
	}
	if (lookup_addr(addr, port, true, &res))
		return -1;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) &&
		    !listen(fd, backlog))
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		err_msg("cannot listen on %s port %u: %s", addr, port,
			strerror(errno));
	freeaddrinfo(res);
	return fd;
}

/*
 * Connect within timeout seconds, retrying while the peer is not listening
 * yet (so a script may start sender and receiver together). Returns a
 * non-blocking socket or -1.
 */
static int connect_to(const struct addrinfo *ai, double timeout)
{
	double deadline = now_mono() + timeout;
	int last = 0;

	while (!interrupted) {
		struct pollfd pfd;
		socklen_t sl = sizeof(last);
		int fd, ms;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			return -1;
		if (set_nonblock(fd)) {
			close(fd);
			return -1;
		}
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			return fd;
		last = errno;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			ms = (int)((deadline - now_mono()) * 1000);
			if (ms > 0 && poll(&pfd, 1, ms) == 1 &&
			    !getsockopt(fd, SOL_SOCKET, SO_ERROR, &last, &sl) &&
			    !last)
				return fd;
			if (!last)
				last = ETIMEDOUT;
		}
		close(fd);
		if (last != ECONNREFUSED || now_mono() + 0.1 > deadline)
			break;
		usleep(100000);
	}
	errno = interrupted ? EINTR : last;
	return -1;
}

/* ---- JSON helper: strings we print are our own, no escaping needed ---- */

static void fmt_bytes(char *buf, size_t len, double b)
{
	if (b >= 1024.0 * 1024 * 1024)
		snprintf(buf, len, "%.2f GiB", b / (1024.0 * 1024 * 1024));
	else if (b >= 1024.0 * 1024)
		snprintf(buf, len, "%.1f MiB", b / (1024.0 * 1024));
	else if (b >= 1024.0)
		snprintf(buf, len, "%.1f KiB", b / 1024.0);
	else
		snprintf(buf, len, "%.0f B", b);
}

/* ======================= sender ======================= */

struct round_info {
	uint64_t bytes;
	double secs;
	double bw;		/* bytes/s measured for this round */
	uint64_t dirty_after;	/* bytes dirty when the round ended */
	bool final;
};

struct guest {
	uint64_t npages;
	size_t nwords;
	uint64_t *dirty;	/* live bitmap, atomics */
	uint64_t *snap;		/* pages of the current round */
	double rate_pages;	/* pages per second */
	uint64_t seed;
	pthread_t thr;
	bool thr_started;
	int stop;		/* atomic: vCPU halted */
	uint64_t dirtied;	/* atomic: page writes (incl. re-dirty) */
};

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static void *vcpu_thread(void *arg)
{
	struct guest *g = arg;
	struct timespec next;
	double last = now_mono(), carry = 0;
	uint64_t rnd = g->seed ? g->seed : 0x9e3779b97f4a7c15ull;

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE)) {
		double t;
		uint64_t n, i;

		next.tv_nsec += DIRTY_TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		t = now_mono();
		carry += g->rate_pages * (t - last);
		last = t;
		n = (uint64_t)carry;
		carry -= n;
		for (i = 0; i < n; i++) {
			uint64_t p = xorshift64(&rnd) % g->npages;

			__atomic_fetch_or(&g->dirty[p / 64], 1ull << (p % 64),
					  __ATOMIC_RELAXED);
		}
		__atomic_fetch_add(&g->dirtied, n, __ATOMIC_RELAXED);
	}
	return NULL;
}

static uint64_t live_dirty_pages(struct guest *g)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < g->nwords; i++)
		n += __builtin_popcountll(__atomic_load_n(&g->dirty[i],
							  __ATOMIC_RELAXED));
	return n;
}

/* Fetch-and-clear the dirty log into snap; returns the number of pages. */
static uint64_t sync_dirty_log(struct guest *g)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < g->nwords; i++) {
		g->snap[i] = __atomic_exchange_n(&g->dirty[i], 0,
						 __ATOMIC_ACQ_REL);
		n += __builtin_popcountll(g->snap[i]);
	}
	return n;
}

static void guest_stop(struct guest *g)
{
	if (!g->thr_started)
		return;
	__atomic_store_n(&g->stop, 1, __ATOMIC_RELEASE);
	pthread_join(g->thr, NULL);
	g->thr_started = false;
}

struct sch {			/* one sending channel */
	int fd;
	struct ms_hdr hdr;
	size_t hdr_off;
	size_t pay_len, pay_off;
	uint64_t round_bytes;
	uint64_t total;
	bool end_sent;		/* ROUND_END queued for this round */
	bool busy;		/* a message is being written */
};

struct sender {
	const char *addr;
	enum ms_mode mode;
	unsigned int port, nch, max_rounds;
	unsigned int nconn;	/* connections: nch (ack), 1 + nch (qemu) */
	unsigned int pfirst;	/* first connection that carries pages */
	int sndbuf;		/* SO_SNDBUF to set, bytes; 0: the kernel's */
	double max_bw;		/* qemu: rate limit, bytes/s; 0: none */
	bool unlimited;		/* qemu: stop-and-copy, max_bw lifted */
	uint64_t mem;
	double dirty_rate;	/* bytes/s */
	double downtime_limit;	/* seconds */
	double timeout;
	bool json;
	struct guest g;
	struct sch ch[MAX_CHANNELS];
	char *page_data;
	size_t cursor;		/* word index in snap */
	uint64_t remaining;	/* pages in snap, not sent yet */
	struct round_info *ri;
	unsigned int nri;
	uint64_t total_bytes;
	uint64_t session;
	/* qemu mode: QEMU's counters (migration_update_counters) */
	uint64_t counted;	/* bytes handed to the channels */
	uint64_t iter_bytes;	/* counted at the start of the period */
	uint64_t win_used;	/* rate limit: bytes in this period */
	double iter_start;	/* start of the period */
	double est_bw;		/* bandwidth estimate, bytes/s */
	double threshold;	/* bytes that may be left for the stop */
	double expected_dt;	/* remaining / bandwidth, s */
	bool may_queue;		/* ram_save_iterate may hand out pages */
	/* both modes: the source's and the destination's clocks */
	double start_rt, stop_rt, dest_rt;
};

/* Take up to CHUNK_PAGES pages of the round; returns count, first page. */
static unsigned int take_pages(struct sender *s, uint64_t *first)
{
	struct guest *g = &s->g;
	unsigned int n = 0;

	while (s->remaining > n && n < CHUNK_PAGES) {
		uint64_t w;

		if (s->cursor == g->nwords)
			s->cursor = 0;	/* qemu: the bitmap wraps */
		w = g->snap[s->cursor];

		while (w && n < CHUNK_PAGES) {
			int b = __builtin_ctzll(w);

			if (!n)
				*first = (uint64_t)s->cursor * 64 + b;
			w &= w - 1;
			n++;
		}
		g->snap[s->cursor] = w;
		if (!w)
			s->cursor++;
	}
	s->remaining -= n;
	return n;
}

/* Queue the next message of channel c for round r; false when none. */
static bool sch_next(struct sender *s, unsigned int c, uint32_t r)
{
	struct sch *ch = &s->ch[c];
	uint64_t first = 0;
	unsigned int n;

	if (ch->end_sent)
		return false;
	if (s->mode == MODE_QEMU && !s->may_queue)
		return false;
	n = take_pages(s, &first);
	if (!n && s->mode == MODE_QEMU)
		return false;	/* no ROUND_END: nothing is acknowledged */
	if (n) {
		hdr_pack(&ch->hdr, MS_PAGES, c, r, n * PAGE_SZ, first);
		ch->pay_len = (size_t)n * PAGE_SZ;
		ch->round_bytes += ch->pay_len;
		ch->total += ch->pay_len;
		/* multifd_send_pages: counted when handed to the channel */
		s->counted += sizeof(ch->hdr) + ch->pay_len;
		s->win_used += sizeof(ch->hdr) + ch->pay_len;
	} else {
		hdr_pack(&ch->hdr, MS_ROUND_END, c, r, 0, ch->round_bytes);
		ch->pay_len = 0;
		ch->end_sent = true;
	}
	ch->hdr_off = 0;
	ch->pay_off = 0;
	ch->busy = true;
	return true;
}

/*
 * Write the channel's current message, queueing at most one new one, as
 * far as the socket takes it; <0 on error. One new chunk per call makes
 * the caller deal chunks round-robin over the channels like multifd, even
 * when socket buffers are large enough to take the whole round at once.
 */
static int sch_flush(struct sender *s, unsigned int c, uint32_t r)
{
	struct sch *ch = &s->ch[c];
	bool queued = false;

	for (;;) {
		struct iovec iov[2];
		int cnt = 0;
		ssize_t n;

		if (!ch->busy) {
			if (queued || !sch_next(s, c, r))
				return 0;
			queued = true;
		}
		if (ch->hdr_off < sizeof(ch->hdr)) {
			iov[cnt].iov_base = (char *)&ch->hdr + ch->hdr_off;
			iov[cnt++].iov_len = sizeof(ch->hdr) - ch->hdr_off;
		}
		if (ch->pay_off < ch->pay_len) {
			iov[cnt].iov_base = s->page_data + ch->pay_off;
			iov[cnt++].iov_len = ch->pay_len - ch->pay_off;
		}
		n = writev(ch->fd, iov, cnt);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		if (ch->hdr_off < sizeof(ch->hdr)) {
			size_t h = sizeof(ch->hdr) - ch->hdr_off;

			if ((size_t)n < h) {
				ch->hdr_off += n;
				continue;
			}
			ch->hdr_off = sizeof(ch->hdr);
			n -= h;
		}
		ch->pay_off += n;
		if (ch->pay_off == ch->pay_len)
			ch->busy = false;
	}
}

/* Send one round (pages already in snap) and wait for its ack. */
static int send_round(struct sender *s, uint32_t r, uint64_t *bytes)
{
	struct pollfd pfd[MAX_CHANNELS];
	struct ms_hdr ack;
	unsigned int c;
	uint64_t sum = 0;
	int rc;

	s->cursor = 0;
	for (c = 0; c < s->nconn; c++) {
		s->ch[c].round_bytes = 0;
		s->ch[c].end_sent = false;
		s->ch[c].busy = false;
	}
	for (;;) {
		bool more = false;
		int n = 0;

		for (c = s->pfirst; c < s->nconn; c++) {
			rc = sch_flush(s, c, r);
			if (rc < 0) {
				err_msg("channel %u: send: %s", c,
					strerror(-rc));
				return -1;
			}
			if (s->ch[c].busy) {
				pfd[n].fd = s->ch[c].fd;
				pfd[n].events = POLLOUT;
				n++;
			} else if (!s->ch[c].end_sent) {
				more = true;	/* room for its next chunk */
			}
		}
		if (more)
			continue;
		if (!n)
			break;
		rc = poll(pfd, n, (int)(s->timeout * 1000));
		if (interrupted) {
			err_msg("interrupted");
			return -1;
		}
		if (rc == 0) {
			err_msg("round %u: no progress for %.0f s", r,
				s->timeout);
			return -1;
		}
		if (rc < 0 && errno != EINTR) {
			err_msg("poll: %s", strerror(errno));
			return -1;
		}
	}
	for (c = s->pfirst; c < s->nconn; c++)
		sum += s->ch[c].round_bytes;
	/* Acks come only on channel 0; nothing else is ever pending there. */
	rc = read_full(s->ch[0].fd, &ack, sizeof(ack), s->timeout);
	if (rc) {
		err_msg("round %u: waiting for the receiver: %s", r,
			rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
		return -1;
	}
	hdr_unpack(&ack);
	if (ack.magic != MS_MAGIC || ack.type != MS_ROUND_ACK ||
	    ack.round != r) {
		err_msg("round %u: bad acknowledgment from receiver", r);
		return -1;
	}
	if (ack.arg != sum) {
		err_msg("round %u: receiver got %llu bytes, sent %llu", r,
			(unsigned long long)ack.arg, (unsigned long long)sum);
		return -1;
	}
	*bytes = sum;
	return 0;
}

/*
 * qemu mode, one ram_save_iterate() and the multifd_send_sync_main() that
 * ends it: hand chunks to free channels while limit seconds have not passed
 * (none: 0) and the rate limit allows, then wait until every channel has
 * written all it holds.
 */
static int qemu_iterate(struct sender *s, uint32_t r, double limit)
{
	struct pollfd pfd[MAX_CHANNELS];
	double t0 = now_mono();
	double quota = s->unlimited ? 0 : s->max_bw * QEMU_PERIOD;
	unsigned int c;
	int rc;

	for (;;) {
		bool more = false;
		int n = 0;

		s->may_queue = s->remaining &&
			(!limit || now_mono() - t0 < limit) &&
			(!quota || s->win_used < quota);
		for (c = s->pfirst; c < s->nconn; c++) {
			rc = sch_flush(s, c, r);
			if (rc < 0) {
				err_msg("channel %u: send: %s", c,
					strerror(-rc));
				return -1;
			}
			if (s->ch[c].busy) {
				pfd[n].fd = s->ch[c].fd;
				pfd[n].events = POLLOUT;
				n++;
			} else if (s->may_queue) {
				more = true;	/* room for its next chunk */
			}
		}
		if (more)
			continue;
		if (!n)
			return 0;
		rc = poll(pfd, n, (int)(s->timeout * 1000));
		if (interrupted) {
			err_msg("interrupted");
			return -1;
		}
		if (rc == 0) {
			err_msg("round %u: no progress for %.0f s", r,
				s->timeout);
			return -1;
		}
		if (rc < 0 && errno != EINTR) {
			err_msg("poll: %s", strerror(errno));
			return -1;
		}
	}
}

/*
 * qemu mode, migration_update_counters(): once a period of 100 ms or more
 * has passed, the bandwidth is what was handed to the sockets in it, the
 * threshold that bandwidth times the downtime limit; the rate limit starts
 * a new period.
 */
static void qemu_update_counters(struct sender *s, double now)
{
	double spent = now - s->iter_start;
	uint64_t bytes = s->counted - s->iter_bytes;

	if (spent < QEMU_PERIOD)
		return;
	s->est_bw = bytes / spent;
	s->threshold = s->est_bw * s->downtime_limit;
	if (s->est_bw > 0 && bytes > 10000)
		s->expected_dt = s->remaining * (double)PAGE_SZ / s->est_bw;
	s->iter_start = now;
	s->iter_bytes = s->counted;
	s->win_used = 0;
}

/* qemu mode: merge the dirty log into the migration bitmap (snap). */
static void merge_dirty_log(struct sender *s)
{
	struct guest *g = &s->g;
	size_t i;

	for (i = 0; i < g->nwords; i++) {
		uint64_t d = __atomic_exchange_n(&g->dirty[i], 0,
						 __ATOMIC_ACQ_REL);

		s->remaining += __builtin_popcountll(d & ~g->snap[i]);
		g->snap[i] |= d;
	}
}

/* qemu mode: record the round that started at rs, return its bytes. */
static uint64_t qemu_round_done(struct sender *s, double rs, bool final)
{
	struct round_info *ri = &s->ri[s->nri++];
	uint64_t sum = 0;
	unsigned int c;

	for (c = s->pfirst; c < s->nconn; c++) {
		sum += s->ch[c].round_bytes;
		s->ch[c].round_bytes = 0;
	}
	s->total_bytes += sum;
	ri->secs = now_mono() - rs;
	ri->bytes = sum;
	ri->bw = ri->secs > 0 ? sum / ri->secs : 0;
	ri->dirty_after = s->remaining * PAGE_SZ;
	ri->final = final;
	return sum;
}

/*
 * qemu mode, the live phase of migration_thread(): returns 1 when the
 * migration converged, 0 when MAX_ROUNDS dirty log syncs passed without
 * that, <0 on error. *round is the round in progress on return.
 */
static int qemu_live(struct sender *s, uint32_t *round)
{
	double rs = now_mono();
	uint32_t r = 0;
	unsigned int c;

	s->iter_start = rs;
	for (;;) {
		double now = now_mono(), pend;

		qemu_update_counters(s, now);
		if (s->max_bw && s->win_used >= s->max_bw * QEMU_PERIOD) {
			/* migration_rate_limit(): wait for the next period */
			double wait = s->iter_start + QEMU_PERIOD - now;

			if (wait > 0)
				poll(NULL, 0, (int)(wait * 1000) + 1);
			if (interrupted) {
				err_msg("interrupted");
				return -1;
			}
			continue;
		}
		pend = (double)s->remaining * PAGE_SZ;
		if (pend < s->threshold) {
			/* ram_save_pending(): sync for an exact count */
			merge_dirty_log(s);
			qemu_round_done(s, rs, false);
			rs = now_mono();
			r++;
			pend = (double)s->remaining * PAGE_SZ;
			if (pend && pend >= s->threshold &&
			    s->nri >= s->max_rounds) {
				*round = r;
				return 0;
			}
		}
		if (!pend || pend < s->threshold) {
			/* the round in progress, if it sent anything */
			for (c = s->pfirst; c < s->nconn; c++)
				if (s->ch[c].round_bytes)
					break;
			if (c < s->nconn) {
				qemu_round_done(s, rs, false);
				r++;
			}
			*round = r;
			return 1;
		}
		if (qemu_iterate(s, r, QEMU_MAX_WAIT))
			return -1;
	}
}

static int sender_connect(struct sender *s)
{
	struct addrinfo *res, *ai;
	struct ms_hdr h;
	unsigned int c;
	int one = 1;

	if (lookup_addr(s->addr, s->port, false, &res))
		return -1;
	for (c = 0; c < s->nconn; c++) {
		int fd = -1;

		for (ai = res; ai && fd < 0; ai = ai->ai_next)
			fd = connect_to(ai, s->timeout);
		if (fd < 0) {
			err_msg("channel %u: cannot connect to %s port %u: %s",
				c, s->addr, s->port, strerror(errno));
			freeaddrinfo(res);
			return -1;
		}
		s->ch[c].fd = fd;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* -b: as root past net.core.wmem_max, like migprio does */
		if (s->sndbuf &&
		    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &s->sndbuf,
			       sizeof(s->sndbuf)) &&
		    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &s->sndbuf,
			       sizeof(s->sndbuf))) {
			err_msg("channel %u: SO_SNDBUF: %s", c, strerror(errno));
			freeaddrinfo(res);
			return -1;
		}
		hdr_pack(&h, MS_HELLO, c, s->nconn, s->mode, s->session);
		if (write_full(fd, &h, sizeof(h), s->timeout)) {
			err_msg("channel %u: hello: %s", c, strerror(errno));
			freeaddrinfo(res);
			return -1;
		}
	}
	freeaddrinfo(res);
	return 0;
}

/* A control message on connection 0 (nothing of a chunk pending there). */
static int send_ctl(struct sender *s, int type, uint32_t round, uint64_t arg)
{
	struct ms_hdr h;
	int rc;

	hdr_pack(&h, type, 0, round, 0, arg);
	rc = write_full(s->ch[0].fd, &h, sizeof(h), s->timeout);
	if (rc)
		err_msg("connection 0: %s",
			rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
	return rc;
}

static uint64_t rt_ns(double t)
{
	return (uint64_t)(t * 1e9);
}

/* End every connection and the migration; the last bytes are written. */
static int sender_finish(struct sender *s, uint32_t rounds)
{
	struct ms_hdr h;
	unsigned int c;
	int rc;

	for (c = 0; c < s->nconn; c++) {
		hdr_pack(&h, MS_FINISH, c, rounds, 0, s->ch[c].total);
		rc = write_full(s->ch[c].fd, &h, sizeof(h), s->timeout);
		if (rc)
			goto io_err;
	}
	/* FINISH carries the rounds on the wire, SUMMARY the live rounds. */
	hdr_pack(&h, MS_SUMMARY, 0, rounds - 1, 0, s->total_bytes);
	rc = write_full(s->ch[0].fd, &h, sizeof(h), s->timeout);
	if (rc)
		goto io_err;
	return 0;
io_err:
	err_msg("finishing: %s",
		rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
	return -1;
}

/* The receiver's DEST (when it had everything) and RESULT. */
static int sender_result(struct sender *s, bool *verified)
{
	struct ms_hdr h;
	int rc;

	rc = read_full(s->ch[0].fd, &h, sizeof(h), s->timeout);
	if (rc)
		goto io_err;
	hdr_unpack(&h);
	if (h.magic != MS_MAGIC || h.type != MS_DEST) {
		err_msg("bad completion message from receiver");
		return -1;
	}
	s->dest_rt = h.arg / 1e9;
	rc = read_full(s->ch[0].fd, &h, sizeof(h), s->timeout);
	if (rc)
		goto io_err;
	hdr_unpack(&h);
	if (h.magic != MS_MAGIC || h.type != MS_RESULT) {
		err_msg("bad result message from receiver");
		return -1;
	}
	*verified = !h.round && h.arg == s->total_bytes;
	if (!*verified)
		err_msg("receiver reports %llu bytes, status %u; sent %llu",
			(unsigned long long)h.arg, h.round,
			(unsigned long long)s->total_bytes);
	return 0;
io_err:
	err_msg("waiting for the receiver's result: %s",
		rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
	return -1;
}

static const char *mode_name(enum ms_mode m)
{
	return m == MODE_QEMU ? "qemu" : "ack";
}

static void sender_report(struct sender *s, bool converged, bool verified,
			  double total, double downtime, unsigned int live)
{
	double avg = total > 0 ? s->total_bytes / total : 0;
	double dtotal = s->dest_rt - s->start_rt;
	double real_dt = s->dest_rt - s->stop_rt;
	double last_bw = 0;
	char b1[32], b2[32];
	unsigned int i;

	for (i = 0; i < s->nri; i++)
		if (!s->ri[i].final && s->ri[i].bw > 0)
			last_bw = s->ri[i].bw;
	if (s->json) {
		printf("{\"role\":\"send\",\"mode\":\"%s\",\"addr\":\"%s\","
		       "\"port\":%u,\"channels\":%u,\"connections\":%u,"
		       "\"mem_bytes\":%llu,"
		       "\"dirty_rate_bytes_per_s\":%.0f,"
		       "\"downtime_limit_ms\":%.0f,\"max_rounds\":%u,"
		       "\"converged\":%s,\"rounds\":%u,"
		       "\"total_time_s\":%.3f,\"bytes_sent\":%llu,"
		       "\"pages_sent\":%llu,\"bandwidth_mbit_s\":%.2f,"
		       "\"last_bandwidth_mbit_s\":%.2f,\"downtime_ms\":%.1f,"
		       "\"dest_total_time_s\":%.3f,\"real_downtime_ms\":%.1f,"
		       "\"final_bytes\":%llu,\"verified\":%s",
		       mode_name(s->mode), s->addr, s->port, s->nch, s->nconn,
		       (unsigned long long)s->mem,
		       s->dirty_rate, s->downtime_limit * 1000, s->max_rounds,
		       converged ? "true" : "false", live, total,
		       (unsigned long long)s->total_bytes,
		       (unsigned long long)(s->total_bytes / PAGE_SZ),
		       avg * 8 / 1e6, last_bw * 8 / 1e6, downtime * 1000,
		       dtotal, real_dt * 1000,
		       (unsigned long long)(s->nri ? s->ri[s->nri - 1].bytes : 0),
		       verified ? "true" : "false");
		if (s->mode == MODE_QEMU)
			printf(",\"max_bandwidth_mib_s\":%.0f,"
			       "\"estimated_bandwidth_mbit_s\":%.2f,"
			       "\"threshold_bytes\":%.0f,"
			       "\"expected_downtime_ms\":%.1f",
			       s->max_bw / 1048576.0, s->est_bw * 8 / 1e6,
			       s->threshold, s->expected_dt * 1000);
		printf(",\"round_detail\":[");
		for (i = 0; i < s->nri; i++)
			printf("%s{\"round\":%u,\"bytes\":%llu,\"time_s\":%.3f,"
			       "\"bandwidth_mbit_s\":%.2f,"
			       "\"dirty_bytes_after\":%llu,\"stop_copy\":%s}",
			       i ? "," : "", i,
			       (unsigned long long)s->ri[i].bytes,
			       s->ri[i].secs, s->ri[i].bw * 8 / 1e6,
			       (unsigned long long)s->ri[i].dirty_after,
			       s->ri[i].final ? "true" : "false");
		printf("],\"channel_bytes\":[");
		for (i = s->pfirst; i < s->nconn; i++)
			printf("%s%llu", i > s->pfirst ? "," : "",
			       (unsigned long long)s->ch[i].total);
		printf("]}\n");
		return;
	}
	fmt_bytes(b1, sizeof(b1), s->mem);
	if (s->mode == MODE_QEMU)
		printf("migsim: migrated %s of guest memory to %s port %u, QEMU mode, %u connection%s (%u multifd)\n",
		       b1, s->addr, s->port, s->nconn,
		       s->nconn == 1 ? "" : "s", s->nch);
	else
		printf("migsim: migrated %s of guest memory to %s port %u over %u channel%s\n",
		       b1, s->addr, s->port, s->nch, s->nch == 1 ? "" : "s");
	if (converged)
		printf("  result      converged after %u live round%s, then stop-and-copy\n",
		       live, live == 1 ? "" : "s");
	else
		printf("  result      NOT converged within %u rounds (forced stop-and-copy)\n",
		       s->max_rounds);
	fmt_bytes(b1, sizeof(b1), s->total_bytes);
	printf("  total time  %.2f s %s; destination complete after %.2f s\n",
	       total, s->mode == MODE_QEMU ? "(source: last byte written)" :
	       "(source: last round acknowledged)", dtotal);
	printf("  bytes sent  %llu (%s)%s\n",
	       (unsigned long long)s->total_bytes, b1,
	       verified ? ", receiver confirmed" : ", NOT confirmed");
	printf("  bandwidth   %.1f Mbit/s average, %.1f Mbit/s last live round\n",
	       avg * 8 / 1e6, last_bw * 8 / 1e6);
	if (s->mode == MODE_QEMU)
		printf("  estimate    %.1f Mbit/s written, threshold %.0f bytes, expected downtime %.0f ms\n",
		       s->est_bw * 8 / 1e6, s->threshold,
		       s->expected_dt * 1000);
	printf("  downtime    %.1f ms %s (limit %.0f ms)\n", downtime * 1000,
	       s->mode == MODE_QEMU ? "reported (stop -> last byte written)" :
	       "(stop -> acknowledgment)", s->downtime_limit * 1000);
	printf("  real        %.1f ms downtime (stop -> destination has everything)\n",
	       real_dt * 1000);
	printf("  %-6s %12s %8s %10s %12s\n", "round", "sent", "time s",
	       "Mbit/s", "dirty after");
	for (i = 0; i < s->nri; i++) {
		char label[16];

		if (s->ri[i].final)
			snprintf(label, sizeof(label), "stop");
		else
			snprintf(label, sizeof(label), "%u", i);
		fmt_bytes(b1, sizeof(b1), s->ri[i].bytes);
		fmt_bytes(b2, sizeof(b2), s->ri[i].dirty_after);
		printf("  %-6s %12s %8.2f %10.1f %12s\n", label, b1,
		       s->ri[i].secs, s->ri[i].bw * 8 / 1e6,
		       s->ri[i].final ? "-" : b2);
	}
}

static int run_send(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct sender s;
	unsigned long v;
	double t0, t_stop = 0, total, downtime = 0, bw = 0;
	bool converged = false, verified = false, have_m = false,
	     have_d = false;
	unsigned int c, live = 0;
	uint32_t round = 0;
	uint64_t bytes;
	int opt, ret = 1;

	memset(&s, 0, sizeof(s));
	s.port = DEF_PORT;
	s.nch = 2;
	s.max_rounds = 30;
	s.downtime_limit = 0.3;
	s.timeout = 30;
	s.max_bw = -1;
	for (c = 0; c < MAX_CHANNELS; c++)
		s.ch[c].fd = -1;
	while ((opt = getopt_long(argc, argv, "a:p:m:d:D:c:r:t:s:M:B:b:jh",
				  longopts, NULL)) != -1) {
		if (endpoint_opt(opt, &s.addr, &s.port, &s.timeout))
			continue;
		switch (opt) {
		case 'm':
			s.mem = (uint64_t)arg_ulong(optarg, 1, 1 << 20) << 20;
			have_m = true;
			break;
		case 'd':
			s.dirty_rate = arg_double(optarg, 0, 1e6) * 1048576.0;
			have_d = true;
			break;
		case 'D':
			s.downtime_limit = arg_ulong(optarg, 1, 3600000) / 1000.0;
			break;
		case 'c':
			s.nch = arg_ulong(optarg, 0, MAX_CHANNELS);
			break;
		case 'r':
			s.max_rounds = arg_ulong(optarg, 1, 100000);
			break;
		case 's':
			s.g.seed = arg_ulong(optarg, 0, ULONG_MAX);
			break;
		case 'M':
			if (!strcmp(optarg, "qemu"))
				s.mode = MODE_QEMU;
			else if (strcmp(optarg, "ack"))
				die_usage();
			break;
		case 'B':
			s.max_bw = arg_ulong(optarg, 0, 1 << 20) * 1048576.0;
			break;
		case 'b':
			s.sndbuf = arg_ulong(optarg, 4, 1 << 20) * 1024;
			break;
		case 'j':
			s.json = true;
			break;
		default:
			die_usage();
		}
	}
	if (optind != argc || !s.addr || !have_m || !have_d)
		die_usage();
	if (s.mode == MODE_QEMU) {
		/* 1 main + nch multifd connections; -c 0: main only */
		if (s.nch >= MAX_CHANNELS)
			die_usage();
		s.nconn = s.nch + 1;
		s.pfirst = s.nch ? 1 : 0;
		if (s.max_bw < 0)
			s.max_bw = QEMU_MAX_BW * 1048576.0;
	} else {
		if (!s.nch || s.max_bw >= 0)
			die_usage();	/* -B is QEMU's rate limit */
		s.nconn = s.nch;
		s.max_bw = 0;
	}

	s.g.npages = s.mem / PAGE_SZ;
	s.g.nwords = (s.g.npages + 63) / 64;
	s.g.rate_pages = s.dirty_rate / PAGE_SZ;
	s.g.dirty = calloc(s.g.nwords, sizeof(uint64_t));
	s.g.snap = calloc(s.g.nwords, sizeof(uint64_t));
	s.page_data = malloc(CHUNK_BYTES);
	s.ri = calloc(s.max_rounds + 2, sizeof(*s.ri));
	if (!s.g.dirty || !s.g.snap || !s.page_data || !s.ri) {
		err_msg("out of memory");
		goto out;
	}
	for (v = 0; v < CHUNK_BYTES; v++)
		s.page_data[v] = (char)(v * 31 + 7);
	s.session = ((uint64_t)getpid() << 32) ^ (uint64_t)(now_real() * 1e6);
	if (!s.g.seed)
		s.g.seed = s.session | 1;

	if (sender_connect(&s))
		goto out;

	/* Round 0: every page. The guest runs from now on. */
	for (v = 0; v < s.g.nwords; v++)
		s.g.snap[v] = ~0ull;
	if (s.g.npages % 64)
		s.g.snap[s.g.nwords - 1] = (1ull << (s.g.npages % 64)) - 1;
	s.remaining = s.g.npages;
	t0 = now_mono();
	s.start_rt = now_real();
	if (send_ctl(&s, MS_START, 0, rt_ns(s.start_rt)))
		goto out;
	if (s.g.rate_pages > 0) {
		if (pthread_create(&s.g.thr, NULL, vcpu_thread, &s.g)) {
			err_msg("cannot start the vCPU thread");
			goto out;
		}
		s.g.thr_started = true;
	}
	if (s.mode == MODE_QEMU) {
		int rc = qemu_live(&s, &round);

		if (rc < 0)
			goto out;
		converged = rc;
		live = s.nri;
	}
	while (s.mode == MODE_ACK) {
		double rs = now_mono(), pend;
		struct round_info *ri = &s.ri[s.nri];

		if (send_round(&s, live, &bytes))
			goto out;
		ri->secs = now_mono() - rs;
		ri->bytes = bytes;
		ri->bw = ri->secs > 0 ? bytes / ri->secs : 0;
		s.total_bytes += bytes;
		s.nri++;
		live++;
		/*
		 * Rounds of a few pages measure mostly the round trip; keep
		 * the previous estimate then (QEMU also averages over time).
		 */
		if (bytes >= 2 * CHUNK_BYTES || bw == 0)
			bw = ri->bw;
		pend = (double)live_dirty_pages(&s.g) * PAGE_SZ;
		ri->dirty_after = (uint64_t)pend;
		if (bw > 0 && pend / bw <= s.downtime_limit) {
			converged = true;
			break;
		}
		if (live >= s.max_rounds)
			break;
		s.remaining = sync_dirty_log(&s.g);
	}
	/* Stop-and-copy: halt the vCPU, send what is left. */
	t_stop = now_mono();
	s.stop_rt = now_real();
	if (send_ctl(&s, MS_STOP, live, rt_ns(s.stop_rt)))
		goto out;
	guest_stop(&s.g);
	if (s.mode == MODE_QEMU) {
		/* migration_completion(): no rate limit, no time limit */
		merge_dirty_log(&s);
		s.unlimited = true;
		if (qemu_iterate(&s, round, 0))
			goto out;
		qemu_round_done(&s, t_stop, true);
		if (sender_finish(&s, round + 1))
			goto out;
		/* migration_calculate_complete(): all written */
		downtime = now_mono() - t_stop;
		s.ri[s.nri - 1].secs = downtime;
		s.ri[s.nri - 1].bw = s.ri[s.nri - 1].bytes / downtime;
	} else {
		/* ... and wait for the acknowledgment */
		s.remaining = sync_dirty_log(&s.g);
		if (send_round(&s, live, &bytes))
			goto out;
		downtime = now_mono() - t_stop;
		s.ri[s.nri].bytes = bytes;
		s.ri[s.nri].secs = downtime;
		s.ri[s.nri].bw = downtime > 0 ? bytes / downtime : 0;
		s.ri[s.nri].final = true;
		s.nri++;
		s.total_bytes += bytes;
	}
	total = now_mono() - t0;
	if (s.mode == MODE_ACK && sender_finish(&s, live + 1))
		goto out;
	if (sender_result(&s, &verified))
		goto out;
	sender_report(&s, converged, verified, total, downtime, live);
	fflush(stdout);
	ret = !verified ? 1 : converged ? 0 : 3;
out:
	guest_stop(&s.g);
	for (c = 0; c < MAX_CHANNELS; c++)
		if (s.ch[c].fd >= 0)
			close(s.ch[c].fd);
	free(s.g.dirty);
	free(s.g.snap);
	free(s.page_data);
	free(s.ri);
	return ret;
}

/* ======================= receiver ======================= */

struct rch {
	int fd;
	bool hello, finished;
	unsigned char hbuf[sizeof(struct ms_hdr)];
	size_t hlen;
	uint64_t pay_left;
	uint32_t round;
	uint64_t round_bytes, total;
};

struct receiver {
	const char *addr;
	enum ms_mode mode;
	unsigned int port, want;
	bool have_want;		/* -c given */
	unsigned int nch;	/* connections */
	unsigned int chans;	/* the sender's -c */
	double timeout, interval;
	bool json;
	struct rch ch[MAX_CHANNELS];
	unsigned int nconn, nhello, nended, nfinished;
	uint64_t session;
	uint32_t round;		/* round in progress */
	uint64_t round_bytes, total, pages;
	uint32_t rounds_summary;
	uint64_t summary_total;
	bool summary, mismatch;
	char why[160];
	double t_first, t_last;
	double start_rt, stop_rt;	/* the sender's START and STOP */
	double round_rt;	/* ack: when the last round was complete */
	double done_rt;		/* when all data was here */
	double (*tl)[2];
	size_t ntl, captl;
};

static void tl_sample(struct receiver *r, double t)
{
	if (r->ntl == r->captl) {
		size_t n = r->captl ? r->captl * 2 : 256;
		void *p = realloc(r->tl, n * sizeof(*r->tl));

		if (!p)
			return;		/* timeline is best effort */
		r->tl = p;
		r->captl = n;
	}
	r->tl[r->ntl][0] = t;
	r->tl[r->ntl][1] = (double)r->total;
	r->ntl++;
}

static void rmismatch(struct receiver *r, const char *fmt, ...)
{
	va_list ap;

	if (r->mismatch)
		return;
	r->mismatch = true;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

/* Handle one complete header from channel c. Returns <0 on fatal error. */
static int recv_msg(struct receiver *r, unsigned int c, struct ms_hdr *h)
{
	struct rch *ch = &r->ch[c];
	struct ms_hdr out;

	if (h->magic != MS_MAGIC) {
		err_msg("connection %u: bad magic 0x%08x", c, h->magic);
		return -1;
	}
	if (!ch->hello) {
		if (h->type != MS_HELLO || h->round < 1 ||
		    h->round > MAX_CHANNELS || h->chan >= h->round ||
		    h->len > MODE_QEMU) {
			err_msg("connection %u: expected a hello", c);
			return -1;
		}
		if (!r->nhello) {
			r->mode = h->len;
			r->nch = h->round;
			r->chans = r->mode == MODE_QEMU ? r->nch - 1 : r->nch;
			if (r->have_want && r->want != r->chans) {
				err_msg("sender uses %u channels, expected %u",
					r->chans, r->want);
				return -1;
			}
			r->session = h->arg;
		} else if (h->arg != r->session || h->round != r->nch ||
			   h->len != r->mode) {
			err_msg("connection %u belongs to another migration", c);
			return -1;
		}
		if (h->chan != c) {
			err_msg("channel %u arrived as connection %u", h->chan, c);
			return -1;
		}
		ch->hello = true;
		r->nhello++;
		return 0;
	}
	if (h->chan != c) {
		err_msg("channel %u: message tagged channel %u", c, h->chan);
		return -1;
	}
	switch (h->type) {
	case MS_START:
	case MS_STOP:
		if (c || ch->finished) {
			err_msg("channel %u: unexpected start or stop", c);
			return -1;
		}
		if (h->type == MS_START)
			r->start_rt = h->arg / 1e9;
		else
			r->stop_rt = h->arg / 1e9;
		return 0;
	case MS_PAGES:
		/* qemu: channels run ahead of each other, no round ends */
		if (ch->finished || !h->len || h->len % PAGE_SZ ||
		    h->len > CHUNK_BYTES ||
		    (r->mode == MODE_ACK && h->round != r->round) ||
		    h->round < ch->round) {
			err_msg("channel %u: bad page chunk (round %u, %u bytes)",
				c, h->round, h->len);
			return -1;
		}
		if (r->mode == MODE_QEMU)
			ch->round = h->round;
		ch->pay_left = h->len;
		ch->round_bytes += h->len;
		ch->total += h->len;
		r->round_bytes += h->len;
		r->pages += h->len / PAGE_SZ;
		return 0;
	case MS_ROUND_END:
		if (ch->finished || r->mode != MODE_ACK ||
		    h->round != r->round ||
		    ch->round != r->round) {
			err_msg("channel %u: unexpected end of round %u", c,
				h->round);
			return -1;
		}
		if (h->arg != ch->round_bytes)
			rmismatch(r, "channel %u round %u: sender %llu bytes, received %llu",
				  c, h->round, (unsigned long long)h->arg,
				  (unsigned long long)ch->round_bytes);
		ch->round++;
		ch->round_bytes = 0;
		if (++r->nended < r->nch)
			return 0;
		r->round_rt = now_real();
		hdr_pack(&out, MS_ROUND_ACK, 0, r->round, 0, r->round_bytes);
		if (write_full(r->ch[0].fd, &out, sizeof(out), r->timeout)) {
			err_msg("cannot acknowledge round %u", r->round);
			return -1;
		}
		r->nended = 0;
		r->round_bytes = 0;
		r->round++;
		return 0;
	case MS_FINISH:
		if (ch->finished || h->round < ch->round ||
		    (r->mode == MODE_ACK && h->round != r->round)) {
			err_msg("channel %u: unexpected finish", c);
			return -1;
		}
		if (h->arg != ch->total)
			rmismatch(r, "channel %u: sender %llu bytes, received %llu",
				  c, (unsigned long long)h->arg,
				  (unsigned long long)ch->total);
		ch->finished = true;
		r->nfinished++;
		return 0;
	case MS_SUMMARY:
		if (c || r->summary) {
			err_msg("channel %u: unexpected summary", c);
			return -1;
		}
		r->summary = true;
		r->summary_total = h->arg;
		r->rounds_summary = h->round;
		return 0;
	default:
		err_msg("channel %u: unknown message type %u", c, h->type);
		return -1;
	}
}

/* Consume len received bytes of channel c. */
static int recv_bytes(struct receiver *r, unsigned int c,
		      const unsigned char *p, size_t len)
{
	struct rch *ch = &r->ch[c];

	while (len) {
		if (ch->pay_left) {
			size_t n = len < ch->pay_left ? len : ch->pay_left;

			ch->pay_left -= n;
			r->total += n;
			p += n;
			len -= n;
			continue;
		}
		if (ch->hlen < sizeof(ch->hbuf)) {
			size_t n = sizeof(ch->hbuf) - ch->hlen;

			if (n > len)
				n = len;
			memcpy(ch->hbuf + ch->hlen, p, n);
			ch->hlen += n;
			p += n;
			len -= n;
		}
		if (ch->hlen == sizeof(ch->hbuf)) {
			struct ms_hdr h;

			memcpy(&h, ch->hbuf, sizeof(h));
			hdr_unpack(&h);
			ch->hlen = 0;
			if (recv_msg(r, c, &h))
				return -1;
		}
	}
	return 0;
}

static void receiver_report(struct receiver *r, bool verified)
{
	double dur = r->t_last > r->t_first ? r->t_last - r->t_first : 0;
	double bw = dur > 0 ? r->total / dur : 0;
	double dtotal = r->done_rt - r->start_rt;
	double real_dt = r->done_rt - r->stop_rt;
	char b[32];
	size_t i;

	if (r->json) {
		printf("{\"role\":\"recv\",\"mode\":\"%s\",\"port\":%u,"
		       "\"channels\":%u,\"connections\":%u,"
		       "\"bytes_received\":%llu,\"pages_received\":%llu,"
		       "\"bytes_announced\":%llu,\"rounds\":%u,"
		       "\"verified\":%s,\"duration_s\":%.3f,"
		       "\"bandwidth_mbit_s\":%.2f,\"start_realtime\":%.3f,"
		       "\"dest_total_time_s\":%.3f,\"real_downtime_ms\":%.1f,"
		       "\"src_start_realtime\":%.6f,\"src_stop_realtime\":%.6f,"
		       "\"complete_realtime\":%.6f",
		       mode_name(r->mode), r->port, r->chans, r->nch,
		       (unsigned long long)r->total,
		       (unsigned long long)r->pages,
		       (unsigned long long)r->summary_total,
		       r->rounds_summary, verified ? "true" : "false", dur,
		       bw * 8 / 1e6, r->ntl ? r->tl[0][0] : 0.0,
		       dtotal, real_dt * 1000, r->start_rt, r->stop_rt,
		       r->done_rt);
		if (!verified)
			printf(",\"error\":\"%s\"", r->why);
		printf(",\"timeline\":[");
		for (i = 0; i < r->ntl; i++)
			printf("%s[%.3f,%.0f]", i ? "," : "", r->tl[i][0],
			       r->tl[i][1]);
		printf("]}\n");
		return;
	}
	fmt_bytes(b, sizeof(b), r->total);
	printf("migsim: received %llu bytes (%s) in %u rounds over %u connection%s (%s mode), %.2f s, %.1f Mbit/s\n",
	       (unsigned long long)r->total, b, r->rounds_summary, r->nch,
	       r->nch == 1 ? "" : "s", mode_name(r->mode), dur,
	       bw * 8 / 1e6);
	printf("  complete    %.2f s after the sender's start\n", dtotal);
	printf("  real        %.1f ms downtime (sender's stop -> everything here)\n",
	       real_dt * 1000);
	if (verified)
		printf("  totals verified against the sender's summary\n");
	else
		printf("  totals DO NOT match: %s\n", r->why);
}

static int run_recv(int argc, char **argv)
{
	struct receiver r;
	struct pollfd pfd[MAX_CHANNELS + 1];
	unsigned char *buf = NULL;
	double last_io, next_tl = 0;
	bool verified = false;
	unsigned int c;
	int lfd = -1, opt, ret = 1;

	memset(&r, 0, sizeof(r));
	r.port = DEF_PORT;
	r.timeout = 30;
	for (c = 0; c < MAX_CHANNELS; c++)
		r.ch[c].fd = -1;
	while ((opt = getopt(argc, argv, "a:p:c:t:i:jh")) != -1) {
		if (endpoint_opt(opt, &r.addr, &r.port, &r.timeout))
			continue;
		switch (opt) {
		case 'c':
			r.want = arg_ulong(optarg, 0, MAX_CHANNELS);
			r.have_want = true;
			break;
		case 'i':
			r.interval = arg_ulong(optarg, 10, 60000) / 1000.0;
			break;
		case 'j':
			r.json = true;
			break;
		default:
			die_usage();
		}
	}
	if (optind != argc)
		die_usage();
	buf = malloc(RECV_BUF);
	if (!buf) {
		err_msg("out of memory");
		goto out;
	}
	lfd = listen_on(r.addr, r.port, MAX_CHANNELS);
	if (lfd < 0)
		goto out;
	if (set_nonblock(lfd))
		goto out;
	last_io = now_mono();
	while (!r.summary || r.nfinished < r.nch) {
		unsigned int n = 0, base;
		int rc, ms = 1000;
		double t;

		if (lfd >= 0) {
			pfd[n].fd = lfd;
			pfd[n++].events = POLLIN;
		}
		base = n;
		for (c = 0; c < r.nconn; c++) {
			pfd[n].fd = r.ch[c].fd;
			pfd[n++].events = POLLIN;
		}
		if (r.interval > 0 && r.nhello)
			ms = (int)(r.interval * 1000 / 2);
		rc = poll(pfd, n, ms);
		t = now_mono();
		if (interrupted) {
			err_msg("interrupted");
			goto out;
		}
		if (rc < 0 && errno != EINTR) {
			err_msg("poll: %s", strerror(errno));
			goto out;
		}
		if (rc <= 0) {
			if (t - last_io > r.timeout && (r.nconn || r.timeout)) {
				err_msg("%s for %.0f s",
					r.nconn ? "no data" : "no sender",
					r.timeout);
				goto out;
			}
		}
		if (lfd >= 0 && pfd[0].revents) {
			int fd = accept4(lfd, NULL, NULL,
					 SOCK_NONBLOCK | SOCK_CLOEXEC);

			if (fd >= 0) {
				if (r.nconn == MAX_CHANNELS ||
				    (r.nhello && r.nconn >= r.nch)) {
					close(fd);
				} else {
					r.ch[r.nconn++].fd = fd;
					if (!r.t_first)
						r.t_first = t;
				}
				last_io = t;
			}
		}
		for (c = 0; c < r.nconn && rc > 0; c++) {
			ssize_t got;

			if (c + base >= n || !pfd[c + base].revents)
				continue;
			got = recv(r.ch[c].fd, buf, RECV_BUF, 0);
			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (got <= 0) {
				err_msg("channel %u: %s before the end of the migration",
					c, got ? strerror(errno) : "sender closed");
				goto out;
			}
			last_io = t;
			r.t_last = now_mono();
			if (recv_bytes(&r, c, buf, got))
				goto out;
		}
		if (r.nhello && r.nhello == r.nch && lfd >= 0) {
			close(lfd);	/* all channels here: refuse others */
			lfd = -1;
		}
		if (r.interval > 0 && r.nhello && t >= next_tl) {
			tl_sample(&r, now_real());
			next_tl = t + r.interval;
		}
	}
	/* ack: complete with the last round; qemu: with the last byte */
	r.done_rt = r.mode == MODE_ACK && r.round_rt ? r.round_rt :
		    now_real();
	tl_sample(&r, now_real());
	{
		uint64_t sum = 0;
		struct ms_hdr h;

		for (c = 0; c < r.nch; c++)
			sum += r.ch[c].total;
		if (sum != r.total || r.summary_total != r.total)
			rmismatch(&r, "sender announced %llu bytes, received %llu",
				  (unsigned long long)r.summary_total,
				  (unsigned long long)r.total);
		if (!r.start_rt || !r.stop_rt)
			rmismatch(&r, "no start or stop time from the sender");
		verified = !r.mismatch;
		hdr_pack(&h, MS_DEST, 0, 0, 0, (uint64_t)(r.done_rt * 1e9));
		if (write_full(r.ch[0].fd, &h, sizeof(h), r.timeout))
			err_msg("cannot send the completion time to the sender");
		hdr_pack(&h, MS_RESULT, 0, verified ? 0 : 1, 0, r.total);
		if (write_full(r.ch[0].fd, &h, sizeof(h), r.timeout))
			err_msg("cannot send the result to the sender");
	}
	receiver_report(&r, verified);
	fflush(stdout);
	ret = verified ? 0 : 1;
out:
	if (lfd >= 0)
		close(lfd);
	for (c = 0; c < MAX_CHANNELS; c++)
		if (r.ch[c].fd >= 0)
			close(r.ch[c].fd);
	free(buf);
	free(r.tl);
	return ret;
}

/* ======================= conns: hold many sockets ======================= */

static int raise_nofile(unsigned long n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (rl.rlim_cur >= n)
		return 0;
	rl.rlim_cur = n;
	if (rl.rlim_max < n)
		rl.rlim_max = n;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

/*
 * For control-plane benchmarks: "-l" accepts connections and holds them;
 * otherwise open N connections, print "ready N" and hold them until
 * SIGINT/SIGTERM or EOF on stdin, then close them all.
 */
static int run_conns(int argc, char **argv)
{
	const char *addr = NULL;
	unsigned int port = DEF_PORT;
	unsigned long n = 0;
	bool listener = false;
	int *fds = NULL, opt, ret = 1;
	unsigned long i, open_n = 0;
	double timeout = 30;

	while ((opt = getopt(argc, argv, "la:p:n:t:h")) != -1) {
		if (endpoint_opt(opt, &addr, &port, &timeout))
			continue;
		switch (opt) {
		case 'l':
			listener = true;
			break;
		case 'n':
			n = arg_ulong(optarg, 1, 1000000);
			break;
		default:
			die_usage();
		}
	}
	if (optind != argc || (!listener && (!addr || !n)))
		die_usage();
	if (listener && !n)
		n = 100000;
	if (raise_nofile(n + 64)) {
		err_msg("cannot raise the open file limit to %lu: %s", n + 64,
			strerror(errno));
		return 1;
	}
	fds = calloc(n + 1, sizeof(int));
	if (!fds) {
		err_msg("out of memory");
		return 1;
	}
	if (listener) {
		int lfd = listen_on(addr, port, 4096);

		if (lfd < 0)
			goto out;
		printf("listening\n");
		fflush(stdout);
		while (!interrupted) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd < 0) {
				if (errno == EINTR)
					continue;
				err_msg("accept: %s", strerror(errno));
				break;
			}
			if (open_n < n)
				fds[open_n++] = fd;
			else
				close(fd);
		}
		close(lfd);
		ret = interrupted ? 0 : 1;
	} else {
		struct addrinfo *res;

		if (lookup_addr(addr, port, false, &res))
			goto out;
		for (i = 0; i < n && !interrupted; i++) {
			int fd = connect_to(res, timeout);

			if (fd < 0) {
				err_msg("connection %lu: %s", i, strerror(errno));
				break;
			}
			fds[open_n++] = fd;
		}
		freeaddrinfo(res);
		if (open_n == n) {
			printf("ready %lu\n", open_n);
			fflush(stdout);
			/* Hold until told to stop. */
			while (!interrupted)
				poll(NULL, 0, 200);
			ret = 0;
		}
	}
out:
	for (i = 0; i < open_n; i++)
		close(fds[i]);
	free(fds);
	return ret;
}

static void die_usage(void)
{
	fprintf(stderr,
		"usage: %s recv [-a ADDR] [-p PORT] [-c CHANNELS] [-t TIMEOUT_S] [-i MS] [-j]\n"
		"       %s send -a ADDR [-p PORT] -m MEM_MIB -d DIRTY_MIBS [-D DOWNTIME_MS]\n"
		"                   [-M|--mode ack|qemu] [-B MAX_MIBS] [-b SNDBUF_KIB]\n"
		"                   [-c CHANNELS] [-r MAX_ROUNDS] [-t TIMEOUT_S] [-s SEED] [-j]\n"
		"       %s conns -l [-a ADDR] [-p PORT] [-n MAX]\n"
		"       %s conns -a ADDR [-p PORT] -n N [-t TIMEOUT_S]\n"
		"modes: ack   a round ends when the receiver acknowledged it; bandwidth is\n"
		"             what arrived (the default)\n"
		"       qemu  like QEMU 7.2: no acknowledgment, bandwidth from the bytes\n"
		"             written to the sockets every 100 ms, stop when dirty bytes\n"
		"             < bandwidth * downtime limit; 1 main + CHANNELS multifd\n"
		"             connections (-c 0: main only); -B is max-bandwidth\n"
		"             (default 128 MiB/s, 0: none); total time and downtime end\n"
		"             when the last byte is written, as QEMU reports them\n"
		"       both print the destination's view too: its total time and the\n"
		"       real downtime (source stop -> destination has everything)\n"
		"defaults: port %u, 2 channels, downtime limit 300 ms, 30 rounds,\n"
		"          timeout 30 s; -b sets SO_SNDBUF of every sender socket;\n"
		"          -i samples received bytes every MS (JSON timeline)\n"
		"exit: 0 ok, 1 error, 2 usage, 3 did not converge\n",
		prog, prog, prog, prog, (unsigned int)DEF_PORT);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		die_usage();
	cmd = argv[1];
	setup_signals();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "send"))
		return run_send(argc - 1, argv + 1);
	if (!strcmp(cmd, "recv"))
		return run_recv(argc - 1, argv + 1);
	if (!strcmp(cmd, "conns"))
		return run_conns(argc - 1, argv + 1);
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		fprintf(stderr, "migsim: a QEMU-like pre-copy live-migration workload\n");
		die_usage();
	}
	err_msg("unknown command '%s'", cmd);
	die_usage();
	return 2;
}
