// SPDX-License-Identifier: GPL-2.0
/*
 * synflood - send COUNT TCP SYNs from SRC to DST:PORT over a raw IPv4
 * socket, one per source port (cycling through 1024-65535), as fast as it
 * can. A bounded test tool for the flow table's size limit.
 *
 *   synflood SRC DST PORT COUNT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static uint16_t csum(const void *data, size_t len, uint32_t sum)
{
	const uint16_t *p = data;

	for (; len > 1; len -= 2)
		sum += *p++;
	if (len)
		sum += *(const uint8_t *)p;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

int main(int argc, char **argv)
{
	struct { uint32_t src, dst; uint8_t zero, proto; uint16_t len; } ph;
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct tcphdr th;
	unsigned long count, i, sent = 0;
	uint32_t sum;
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: %s SRC DST PORT COUNT\n", argv[0]);
		return 2;
	}
	count = strtoul(argv[4], NULL, 0);
	if (inet_pton(AF_INET, argv[1], &ph.src) != 1 ||
	    inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1 || !count ||
	    count > 10000000) {
		fprintf(stderr, "%s: bad address or count (1..10000000)\n",
			argv[0]);
		return 2;
	}
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	ph.dst = dst.sin_addr.s_addr;
	ph.zero = 0;
	ph.proto = IPPROTO_TCP;
	ph.len = htons(sizeof(th));
	memset(&th, 0, sizeof(th));
	th.dest = htons(atoi(argv[3]));
	th.doff = sizeof(th) / 4;
	th.syn = 1;
	th.window = htons(65535);
	for (i = 0; i < count; i++) {
		th.source = htons(1024 + i % (65536 - 1024));
		th.seq = htonl(i * 2654435761u);
		th.check = 0;
		sum = 0;
		for (size_t k = 0; k < sizeof(ph) / 2; k++)
			sum += ((uint16_t *)&ph)[k];
		th.check = csum(&th, sizeof(th), sum);
		while (sendto(fd, &th, sizeof(th), 0, (struct sockaddr *)&dst,
			      sizeof(dst)) != sizeof(th)) {
			/* the device queue is full: wait for it */
			if (errno != ENOBUFS && errno != EAGAIN) {
				perror("sendto");
				goto out;
			}
			usleep(50);
		}
		sent++;
	}
out:
	printf("%lu\n", sent);
	close(fd);
	return sent == count ? 0 : 1;
}
