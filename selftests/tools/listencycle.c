// SPDX-License-Identifier: GPL-2.0
/*
 * listencycle - incoming migrations the way QEMU and libvirt make them:
 * a new listener for each, on the lowest free port of a range (libvirt's
 * port allocator: a port is taken until its migration ends), closed as
 * soon as the migration connection is accepted, while the connection
 * goes on. Run in the destination's netns; the source's connections are
 * made from the netns CLIENT_NS (/run/netns/CLIENT_NS).
 *
 *   listencycle CLIENT_NS ADDR PORT_MIN PORT_MAX ROUNDS KEEP WANT_RCVBUF
 *
 * Each round: the listener ([::], dual-stack, SO_REUSEADDR) on the lowest
 * port of PORT_MIN..PORT_MAX not taken by one of the last KEEP rounds'
 * migrations; a connection from CLIENT_NS to ADDR (IPv4) and that port;
 * the listener's SO_RCVBUF read once the handshake is done: migprio tuned
 * it for the window scale when it is at least WANT_RCVBUF; accept, close
 * the listener; the source sends 1 KiB and the destination answers one
 * byte (its first segment after the ACKs); the accepted socket's
 * SO_RCVBUF is then polled (at most 5 s) until it is no longer the
 * listener's raised one: it was given back what the listener had before
 * (and maybe sized by its own flow since). The connection is closed KEEP
 * rounds later (then its port is free again).
 *
 * Prints "# round N port P listener RB child RB" for every round that
 * failed either check, then "rounds R tuned T rebased B".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_KEEP	64

struct mig {
	int port;		/* 0: none */
	int src, dst;		/* the connection's two ends */
};

static int rcvbuf(int fd)
{
	socklen_t len = sizeof(int);
	int v = -1;

	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len);
	return v;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int listener(int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	int fd = socket(AF_INET6, SOCK_STREAM, 0), one = 1, off = 0;

	a.sin6_port = htons(port);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16))
		die("listen");
	return fd;
}

/* A connection to @addr:@port from the netns @ns_fd. */
static int client(int ns_fd, int own_fd, const struct in_addr *addr,
		  int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr = *addr };
	int fd;

	a.sin_port = htons(port);
	if (setns(ns_fd, CLONE_NEWNET))
		die("setns client");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (setns(own_fd, CLONE_NEWNET))
		die("setns back");
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		die("connect");
	return fd;
}

static void xfer(int from, int to, size_t len)
{
	static char buf[1024];
	size_t got = 0;
	ssize_t n;

	if (send(from, buf, len, 0) != (ssize_t)len)
		die("send");
	while (got < len) {
		n = recv(to, buf, sizeof(buf), 0);
		if (n <= 0)
			die("recv");
		got += n;
	}
}

static int free_port(const struct mig *m, int keep, int min, int max)
{
	int p, i;

	for (p = min; p <= max; p++) {
		for (i = 0; i < keep && m[i].port != p; i++)
			;
		if (i == keep)
			return p;
	}
	fprintf(stderr, "listencycle: no free port in %d-%d\n", min, max);
	exit(1);
}

int main(int argc, char **argv)
{
	struct mig m[MAX_KEEP] = { 0 };
	int ns_fd, own_fd, min, max, rounds, keep, want, r, l, i;
	int tuned = 0, rebased = 0, lrb, crb;
	struct timespec ts = { 0, 10 * 1000000 };
	struct in_addr addr;
	char path[256];

	if (argc != 8 || inet_pton(AF_INET, argv[2], &addr) != 1) {
		fprintf(stderr, "usage: listencycle CLIENT_NS ADDR PORT_MIN PORT_MAX ROUNDS KEEP WANT_RCVBUF\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", argv[1]);
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	own_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0 || own_fd < 0)
		die(path);
	min = atoi(argv[3]);
	max = atoi(argv[4]);
	rounds = atoi(argv[5]);
	keep = atoi(argv[6]);
	want = atoi(argv[7]);
	if (keep < 1 || keep > MAX_KEEP || min > max) {
		fprintf(stderr, "listencycle: KEEP 1..%d, PORT_MIN <= PORT_MAX\n",
			MAX_KEEP);
		return 2;
	}

	for (r = 0; r < rounds; r++) {
		struct mig *cur = &m[r % keep];

		if (cur->port) {	/* that migration ends: its port is free */
			close(cur->src);
			close(cur->dst);
			cur->port = 0;
		}
		cur->port = free_port(m, keep, min, max);
		l = listener(cur->port);
		cur->src = client(ns_fd, own_fd, &addr, cur->port);
		lrb = rcvbuf(l);
		cur->dst = accept(l, NULL, NULL);
		if (cur->dst < 0)
			die("accept");
		close(l);
		xfer(cur->src, cur->dst, 1024);
		xfer(cur->dst, cur->src, 1);
		for (i = 0; i < 500 && (crb = rcvbuf(cur->dst)) == lrb; i++)
			nanosleep(&ts, NULL);
		tuned += lrb >= want;
		rebased += crb != lrb;
		if (lrb < want || crb == lrb)
			printf("# round %d port %d listener %d child %d\n", r,
			       cur->port, lrb, crb);
	}
	printf("rounds %d tuned %d rebased %d\n", rounds, tuned, rebased);
	return 0;
}
