// SPDX-License-Identifier: GPL-2.0
/*
 * tcpsink - one listening TCP socket (IPv6, dual-stack) on PORT that
 * accepts every connection and reads and discards what it receives, until
 * killed. Unlike iperf3's server it keeps the same listener for its whole
 * life, so a test can watch what happens to that listener.
 *
 *   tcpsink PORT
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

int main(int argc, char **argv)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	struct pollfd p[MAX_CONNS + 1];
	int n = 1, one = 1, off = 0, i;
	char buf[65536];

	if (argc != 2 || !atoi(argv[1])) {
		fprintf(stderr, "usage: tcpsink PORT\n");
		return 2;
	}
	a.sin6_port = htons(atoi(argv[1]));
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
		if (poll(p, n, -1) < 0 && errno != EINTR)
			return 1;
		if ((p[0].revents & POLLIN) && n <= MAX_CONNS) {
			p[n].fd = accept(p[0].fd, NULL, NULL);
			p[n].events = POLLIN;
			if (p[n].fd >= 0)
				n++;
		}
		for (i = 1; i < n; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)) ||
			    read(p[i].fd, buf, sizeof(buf)) > 0)
				continue;
			close(p[i].fd);
			p[i--] = p[--n];
		}
	}
}
