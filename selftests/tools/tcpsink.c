// SPDX-License-Identifier: GPL-2.0
/*
 * tcpsink - one listening TCP socket (IPv6, dual-stack) on PORT that
 * accepts every connection and reads and discards what it receives, until
 * killed. Unlike iperf3's server it keeps the same listener for its whole
 * life, so a test can watch what happens to that listener.
 *
 *   tcpsink [-1] [-s] PORT
 *
 * -1: close the listener once the first connection is accepted (the
 * connection lives on, as with a server that stops accepting).
 * -s: also send on every accepted connection, 64 KiB every 25 ms (about
 * 20 Mbit/s), so that the accepting host's egress carries it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS	64
#define SEND_MS		25

int main(int argc, char **argv)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	struct pollfd p[MAX_CONNS + 1];
	int n = 1, one = 1, off = 0, once = 0, send_too = 0, i, opt;
	static char buf[65536];

	while ((opt = getopt(argc, argv, "1s")) != -1) {
		if (opt == '1')
			once = 1;
		else if (opt == 's')
			send_too = 1;
		else
			optind = argc + 1;
	}
	if (optind != argc - 1 || !atoi(argv[optind])) {
		fprintf(stderr, "usage: tcpsink [-1] [-s] PORT\n");
		return 2;
	}
	a.sin6_port = htons(atoi(argv[optind]));
	p[0].fd = socket(AF_INET6, SOCK_STREAM, 0);
	p[0].events = POLLIN;
	if (p[0].fd < 0 ||
	    setsockopt(p[0].fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(p[0].fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) ||
	    bind(p[0].fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(p[0].fd, 128)) {
		perror("tcpsink: listen");
		return 1;
	}
	for (;;) {
		if (poll(p, n, send_too ? SEND_MS : -1) < 0 && errno != EINTR)
			return 1;
		if ((p[0].revents & POLLIN) && n <= MAX_CONNS) {
			p[n].fd = accept(p[0].fd, NULL, NULL);
			p[n].events = POLLIN;
			p[n].revents = 0;
			if (p[n].fd >= 0)
				n++;
			if (once && n > 1) {
				/* a negative fd: poll() ignores the entry */
				close(p[0].fd);
				p[0].fd = -1;
			}
		}
		for (i = 1; i < n; i++) {
			if (send_too && send(p[i].fd, buf, sizeof(buf),
					     MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
			    errno != EAGAIN)
				p[i].revents |= POLLERR;
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)) ||
			    ((p[i].revents & POLLIN) &&
			     read(p[i].fd, buf, sizeof(buf)) > 0))
				continue;
			close(p[i].fd);
			p[i--] = p[--n];
		}
	}
}
