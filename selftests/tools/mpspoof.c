// SPDX-License-Identifier: GPL-2.0
/*
 * mpspoof - send forged IPv4 TCP or UDP packets over a raw socket, as a
 * remote attacker on the path could: no local socket owns them.
 *
 *   mpspoof tcp FLAGS SRC SPORT DST DPORT COUNT
 *   mpspoof udp SRC SPORT DST DPORT COUNT
 *
 * FLAGS is any of S A R F (SYN, ACK, RST, FIN), e.g. SA or R. SPORT 0: a
 * new source port per packet (1024-65535, cycling); LO-HI: the same within
 * LO..HI; otherwise every packet uses SPORT. Sequence and acknowledgement numbers are random: a RST into
 * a live connection is accepted by TCP only with exactly the expected
 * sequence number (RFC 5961), so it is dropped or answered with a
 * challenge ACK, except with a probability of 2^-32. Prints the number of
 * packets sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

struct pseudo {
	uint32_t src, dst;
	uint8_t zero, proto;
	uint16_t len;
};

static uint16_t csum(const void *data, size_t len, const struct pseudo *ph)
{
	const uint16_t *p = (const uint16_t *)ph;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < sizeof(*ph) / 2; i++)
		sum += p[i];
	for (p = data; len > 1; len -= 2)
		sum += *p++;
	if (len)
		sum += *(const uint8_t *)p;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static uint32_t rnd32(void)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint32_t)random();
	return v;
}

static int usage(const char *me)
{
	fprintf(stderr,
		"usage: %s tcp FLAGS SRC SPORT DST DPORT COUNT\n"
		"       %s udp SRC SPORT DST DPORT COUNT\n", me, me);
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	union {
		struct tcphdr th;
		struct udphdr uh;
		uint8_t b[64];
	} pkt;
	const char *flags = "";
	unsigned long count, i, sent = 0;
	struct pseudo ph = { 0 };
	unsigned int sport, sport_hi, dport;
	char *end;
	size_t len;
	bool tcp;
	int fd, a;

	if (argc < 2)
		return usage(argv[0]);
	tcp = !strcmp(argv[1], "tcp");
	if (!tcp && strcmp(argv[1], "udp"))
		return usage(argv[0]);
	if (argc != (tcp ? 8 : 7))
		return usage(argv[0]);
	a = 2;
	if (tcp)
		flags = argv[a++];
	if (inet_pton(AF_INET, argv[a], &ph.src) != 1 ||
	    inet_pton(AF_INET, argv[a + 2], &dst.sin_addr) != 1)
		return usage(argv[0]);
	sport = strtoul(argv[a + 1], &end, 0);
	sport_hi = *end == '-' ? strtoul(end + 1, &end, 0) : sport;
	if (!sport) {
		sport = 1024;
		sport_hi = 65535;
	}
	dport = strtoul(argv[a + 3], NULL, 0);
	count = strtoul(argv[a + 4], NULL, 0);
	if (*end || sport_hi > 65535 || sport > sport_hi || !dport ||
	    dport > 65535 || !count || count > 10000000)
		return usage(argv[0]);

	fd = socket(AF_INET, SOCK_RAW, tcp ? IPPROTO_TCP : IPPROTO_UDP);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	ph.dst = dst.sin_addr.s_addr;
	ph.proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	memset(&pkt, 0, sizeof(pkt));
	if (tcp) {
		len = sizeof(pkt.th);
		pkt.th.dest = htons(dport);
		pkt.th.doff = len / 4;
		pkt.th.syn = !!strchr(flags, 'S');
		pkt.th.ack = !!strchr(flags, 'A');
		pkt.th.rst = !!strchr(flags, 'R');
		pkt.th.fin = !!strchr(flags, 'F');
		pkt.th.window = htons(65535);
	} else {
		len = sizeof(pkt.uh) + 16;
		pkt.uh.dest = htons(dport);
		pkt.uh.len = htons(len);
		memcpy(pkt.b + sizeof(pkt.uh), "migprio-spoofed!", 16);
	}
	ph.len = htons(len);
	for (i = 0; i < count; i++) {
		uint16_t sp = htons(sport + i % (sport_hi - sport + 1));

		if (tcp) {
			pkt.th.source = sp;
			pkt.th.seq = rnd32();
			pkt.th.ack_seq = pkt.th.ack ? rnd32() : 0;
			pkt.th.check = 0;
			pkt.th.check = csum(&pkt, len, &ph);
		} else {
			pkt.uh.source = sp;
			pkt.uh.check = 0;
			pkt.uh.check = csum(&pkt, len, &ph);
		}
		while (sendto(fd, &pkt, len, 0, (struct sockaddr *)&dst,
			      sizeof(dst)) != (ssize_t)len) {
			/* the device queue is full: wait for it */
			if (errno != ENOBUFS && errno != EAGAIN) {
				perror("sendto");
				return 1;
			}
			usleep(1000);
		}
		sent++;
	}
	printf("%lu\n", sent);
	return 0;
}
