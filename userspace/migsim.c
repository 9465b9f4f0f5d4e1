// SPDX-License-Identifier: GPL-2.0
/*
 * migsim: a live-migration workload that behaves like QEMU's pre-copy
 * migration over TCP, for benchmarks and demos of migprio.
 *
 *   migsim recv [-a ADDR] [-p PORT] [-c CHANNELS] [-t TIMEOUT_S] [-i MS] [-j]
 *   migsim send -a ADDR [-p PORT] -m MEM_MIB -d DIRTY_MIBS [-D DOWNTIME_MS]
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
 *    over C TCP connections to the same port (like multifd). A round ends
 *    when the receiver acknowledges all of it, so the per-round bandwidth is
 *    what actually arrived, not what fitted into socket buffers.
 *  - After each round: if dirty bytes / last bandwidth <= downtime limit,
 *    the guest is stopped (vCPU thread halted), the rest is copied, and the
 *    downtime is measured from the stop to the receiver's acknowledgment.
 *    If MAX_ROUNDS live rounds pass without that, the migration is reported
 *    as not converged and finished with a forced stop-and-copy whose
 *    downtime is reported too (exit code 3).
 *
 * Wire format: every message starts with a 24-byte header in network byte
 * order (struct ms_hdr). Sender -> receiver: HELLO per channel, PAGES,
 * ROUND_END per channel (with that channel's byte count for the round),
 * FINISH per channel (channel total) and one SUMMARY on channel 0 (grand
 * total). Receiver -> sender on channel 0: ROUND_ACK (bytes of the round)
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
#define MS_VERSION	1
#define PAGE_SZ		4096u
#define CHUNK_PAGES	128u
#define CHUNK_BYTES	(CHUNK_PAGES * PAGE_SZ)
#define MAX_CHANNELS	64
#define DEF_PORT	49152		/* first port of QEMU's migration range */
#define DIRTY_TICK_NS	5000000L	/* 5 ms */
#define RECV_BUF	(1u << 20)

enum ms_type {
	MS_HELLO = 1,		/* chan = index, round = nchannels, arg = session */
	MS_PAGES,		/* round, len = payload bytes, arg = first page */
	MS_ROUND_END,		/* round, arg = payload bytes of round on chan */
	MS_FINISH,		/* round = rounds, arg = payload bytes on chan */
	MS_SUMMARY,		/* round = rounds, arg = total payload bytes */
	MS_ROUND_ACK,		/* round, arg = payload bytes of round, all chans */
	MS_RESULT,		/* round = status (0 ok), arg = bytes received */
};

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
	unsigned int port, nch, max_rounds;
	uint64_t mem;
	double dirty_rate;	/* bytes/s */
	double downtime_limit;	/* seconds */
	double timeout;
	bool json;
	struct guest g;
	struct sch ch[MAX_CHANNELS];
	char *page_data;
	size_t cursor;		/* word index in snap */
	struct round_info *ri;
	unsigned int nri;
	uint64_t total_bytes;
	uint64_t session;
};

/* Take up to CHUNK_PAGES pages of the round; returns count, first page. */
static unsigned int take_pages(struct sender *s, uint64_t *first)
{
	struct guest *g = &s->g;
	unsigned int n = 0;

	while (s->cursor < g->nwords && n < CHUNK_PAGES) {
		uint64_t w = g->snap[s->cursor];

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
	n = take_pages(s, &first);
	if (n) {
		hdr_pack(&ch->hdr, MS_PAGES, c, r, n * PAGE_SZ, first);
		ch->pay_len = (size_t)n * PAGE_SZ;
		ch->round_bytes += ch->pay_len;
		ch->total += ch->pay_len;
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
	for (c = 0; c < s->nch; c++) {
		s->ch[c].round_bytes = 0;
		s->ch[c].end_sent = false;
		s->ch[c].busy = false;
	}
	for (;;) {
		bool more = false;
		int n = 0;

		for (c = 0; c < s->nch; c++) {
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
	for (c = 0; c < s->nch; c++)
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

static int sender_connect(struct sender *s)
{
	struct addrinfo *res, *ai;
	unsigned int c;
	int one = 1;

	if (lookup_addr(s->addr, s->port, false, &res))
		return -1;
	for (c = 0; c < s->nch; c++) {
		struct ms_hdr h;
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
		hdr_pack(&h, MS_HELLO, c, s->nch, 0, s->session);
		if (write_full(fd, &h, sizeof(h), s->timeout)) {
			err_msg("channel %u: hello: %s", c, strerror(errno));
			freeaddrinfo(res);
			return -1;
		}
	}
	freeaddrinfo(res);
	return 0;
}

static int sender_finish(struct sender *s, uint32_t rounds, bool *verified)
{
	struct ms_hdr h;
	unsigned int c;
	int rc;

	for (c = 0; c < s->nch; c++) {
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
	err_msg("finishing: %s",
		rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
	return -1;
}

static void sender_report(struct sender *s, bool converged, bool verified,
			  double total, double downtime, unsigned int live)
{
	double avg = total > 0 ? s->total_bytes / total : 0;
	double last_bw = 0;
	char b1[32], b2[32];
	unsigned int i;

	for (i = 0; i < s->nri; i++)
		if (!s->ri[i].final && s->ri[i].bw > 0)
			last_bw = s->ri[i].bw;
	if (s->json) {
		printf("{\"role\":\"send\",\"addr\":\"%s\",\"port\":%u,"
		       "\"channels\":%u,\"mem_bytes\":%llu,"
		       "\"dirty_rate_bytes_per_s\":%.0f,"
		       "\"downtime_limit_ms\":%.0f,\"max_rounds\":%u,"
		       "\"converged\":%s,\"rounds\":%u,"
		       "\"total_time_s\":%.3f,\"bytes_sent\":%llu,"
		       "\"pages_sent\":%llu,\"bandwidth_mbit_s\":%.2f,"
		       "\"last_bandwidth_mbit_s\":%.2f,\"downtime_ms\":%.1f,"
		       "\"final_bytes\":%llu,\"verified\":%s,\"round_detail\":[",
		       s->addr, s->port, s->nch, (unsigned long long)s->mem,
		       s->dirty_rate, s->downtime_limit * 1000, s->max_rounds,
		       converged ? "true" : "false", live, total,
		       (unsigned long long)s->total_bytes,
		       (unsigned long long)(s->total_bytes / PAGE_SZ),
		       avg * 8 / 1e6, last_bw * 8 / 1e6, downtime * 1000,
		       (unsigned long long)(s->nri ? s->ri[s->nri - 1].bytes : 0),
		       verified ? "true" : "false");
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
		for (i = 0; i < s->nch; i++)
			printf("%s%llu", i ? "," : "",
			       (unsigned long long)s->ch[i].total);
		printf("]}\n");
		return;
	}
	fmt_bytes(b1, sizeof(b1), s->mem);
	printf("migsim: migrated %s of guest memory to %s port %u over %u channel%s\n",
	       b1, s->addr, s->port, s->nch, s->nch == 1 ? "" : "s");
	if (converged)
		printf("  result      converged after %u live round%s, then stop-and-copy\n",
		       live, live == 1 ? "" : "s");
	else
		printf("  result      NOT converged within %u rounds (forced stop-and-copy)\n",
		       s->max_rounds);
	fmt_bytes(b1, sizeof(b1), s->total_bytes);
	printf("  total time  %.2f s\n", total);
	printf("  bytes sent  %llu (%s)%s\n",
	       (unsigned long long)s->total_bytes, b1,
	       verified ? ", receiver confirmed" : ", NOT confirmed");
	printf("  bandwidth   %.1f Mbit/s average, %.1f Mbit/s last live round\n",
	       avg * 8 / 1e6, last_bw * 8 / 1e6);
	printf("  downtime    %.1f ms (limit %.0f ms)\n", downtime * 1000,
	       s->downtime_limit * 1000);
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
	struct sender s;
	unsigned long v;
	double t0, t_stop = 0, total, downtime = 0, bw = 0;
	bool converged = false, verified = false, have_m = false,
	     have_d = false;
	unsigned int c, live = 0;
	uint64_t bytes;
	int opt, ret = 1;

	memset(&s, 0, sizeof(s));
	s.port = DEF_PORT;
	s.nch = 2;
	s.max_rounds = 30;
	s.downtime_limit = 0.3;
	s.timeout = 30;
	for (c = 0; c < MAX_CHANNELS; c++)
		s.ch[c].fd = -1;
	while ((opt = getopt(argc, argv, "a:p:m:d:D:c:r:t:s:jh")) != -1) {
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
			s.nch = arg_ulong(optarg, 1, MAX_CHANNELS);
			break;
		case 'r':
			s.max_rounds = arg_ulong(optarg, 1, 100000);
			break;
		case 's':
			s.g.seed = arg_ulong(optarg, 0, ULONG_MAX);
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

	s.g.npages = s.mem / PAGE_SZ;
	s.g.nwords = (s.g.npages + 63) / 64;
	s.g.rate_pages = s.dirty_rate / PAGE_SZ;
	s.g.dirty = calloc(s.g.nwords, sizeof(uint64_t));
	s.g.snap = calloc(s.g.nwords, sizeof(uint64_t));
	s.page_data = malloc(CHUNK_BYTES);
	s.ri = calloc(s.max_rounds + 1, sizeof(*s.ri));
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
	t0 = now_mono();
	if (s.g.rate_pages > 0) {
		if (pthread_create(&s.g.thr, NULL, vcpu_thread, &s.g)) {
			err_msg("cannot start the vCPU thread");
			goto out;
		}
		s.g.thr_started = true;
	}
	for (;;) {
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
		sync_dirty_log(&s.g);
	}
	/* Stop-and-copy: halt the vCPU, send what is left, wait for the ack. */
	t_stop = now_mono();
	guest_stop(&s.g);
	sync_dirty_log(&s.g);
	if (send_round(&s, live, &bytes))
		goto out;
	downtime = now_mono() - t_stop;
	s.ri[s.nri].bytes = bytes;
	s.ri[s.nri].secs = downtime;
	s.ri[s.nri].bw = downtime > 0 ? bytes / downtime : 0;
	s.ri[s.nri].final = true;
	s.nri++;
	s.total_bytes += bytes;
	total = now_mono() - t0;
	if (sender_finish(&s, live + 1, &verified))
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
	unsigned int port, nch, want;
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
		    h->round > MAX_CHANNELS || h->chan >= h->round) {
			err_msg("connection %u: expected a hello", c);
			return -1;
		}
		if (!r->nhello) {
			if (r->want && r->want != h->round) {
				err_msg("sender uses %u channels, expected %u",
					h->round, r->want);
				return -1;
			}
			r->nch = h->round;
			r->session = h->arg;
		} else if (h->arg != r->session || h->round != r->nch) {
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
	case MS_PAGES:
		if (ch->finished || h->round != r->round || !h->len ||
		    h->len % PAGE_SZ || h->len > CHUNK_BYTES) {
			err_msg("channel %u: bad page chunk (round %u, %u bytes)",
				c, h->round, h->len);
			return -1;
		}
		ch->pay_left = h->len;
		ch->round_bytes += h->len;
		ch->total += h->len;
		r->round_bytes += h->len;
		r->pages += h->len / PAGE_SZ;
		return 0;
	case MS_ROUND_END:
		if (ch->finished || h->round != r->round ||
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
		if (ch->finished || h->round != r->round) {
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
	char b[32];
	size_t i;

	if (r->json) {
		printf("{\"role\":\"recv\",\"port\":%u,\"channels\":%u,"
		       "\"bytes_received\":%llu,\"pages_received\":%llu,"
		       "\"bytes_announced\":%llu,\"rounds\":%u,"
		       "\"verified\":%s,\"duration_s\":%.3f,"
		       "\"bandwidth_mbit_s\":%.2f,\"start_realtime\":%.3f",
		       r->port, r->nch, (unsigned long long)r->total,
		       (unsigned long long)r->pages,
		       (unsigned long long)r->summary_total,
		       r->rounds_summary, verified ? "true" : "false", dur,
		       bw * 8 / 1e6, r->ntl ? r->tl[0][0] : 0.0);
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
	printf("migsim: received %llu bytes (%s) in %u rounds over %u channel%s, %.2f s, %.1f Mbit/s\n",
	       (unsigned long long)r->total, b, r->rounds_summary, r->nch,
	       r->nch == 1 ? "" : "s", dur, bw * 8 / 1e6);
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
			r.want = arg_ulong(optarg, 1, MAX_CHANNELS);
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
		verified = !r.mismatch;
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
		"                   [-c CHANNELS] [-r MAX_ROUNDS] [-t TIMEOUT_S] [-s SEED] [-j]\n"
		"       %s conns -l [-a ADDR] [-p PORT] [-n MAX]\n"
		"       %s conns -a ADDR [-p PORT] -n N [-t TIMEOUT_S]\n"
		"defaults: port %u, 2 channels, downtime limit 300 ms, 30 rounds,\n"
		"          timeout 30 s; -i samples received bytes every MS (JSON timeline)\n"
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
