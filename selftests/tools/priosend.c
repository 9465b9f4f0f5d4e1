// SPDX-License-Identifier: GPL-2.0
/*
 * priosend - a tenant forging the migration class: connect over TCP to
 * ADDR PORT (IPv4 or IPv6) with SO_PRIORITY set to PRIO before the
 * handshake, send BYTES and close. PRIO is a number or a tc class id
 * MAJ:MIN in hex (4d50:10, migprio's htb migration class).
 *
 *   priosend ADDR PORT BYTES PRIO
 *
 * Exit 0 when everything was sent, 3 when the kernel refused the priority
 * (no CAP_NET_ADMIN over the socket's netns), 1 on other errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int parse_prio(const char *s, unsigned int *prio)
{
	unsigned int maj, min;
	char end;

	if (sscanf(s, "%x:%x%c", &maj, &min, &end) == 2 && maj <= 0xffff &&
	    min <= 0xffff) {
		*prio = maj << 16 | min;
		return 0;
	}
	if (sscanf(s, "%u%c", prio, &end) == 1)
		return 0;
	return -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	unsigned int prio, got = 0;
	socklen_t len = sizeof(got);
	long long left;
	char buf[65536];
	int fd, port;

	if (argc != 5 || parse_prio(argv[4], &prio) || !(port = atoi(argv[2]))) {
		fprintf(stderr, "usage: priosend ADDR PORT BYTES PRIO\n");
		return 2;
	}
	left = atoll(argv[3]);
	if (inet_pton(AF_INET, argv[1], &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, argv[1], &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
	} else {
		fprintf(stderr, "priosend: bad address %s\n", argv[1]);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("priosend: socket");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)) ||
	    getsockopt(fd, SOL_SOCKET, SO_PRIORITY, &got, &len) || got != prio) {
		fprintf(stderr, "priosend: SO_PRIORITY %#x refused: %s\n", prio,
			strerror(errno));
		return 3;
	}
	if (connect(fd, (struct sockaddr *)&ss, sizeof(ss))) {
		perror("priosend: connect");
		return 1;
	}
	memset(buf, 0x5a, sizeof(buf));
	while (left > 0) {
		ssize_t n = send(fd, buf, left < (long long)sizeof(buf) ?
				 (size_t)left : sizeof(buf), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("priosend: send");
			return 1;
		}
		left -= n;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return 0;
}
