// SPDX-License-Identifier: GPL-2.0
/*
 * gsotap - hand one large TCP GSO packet to the stack through a tap device,
 * as a virtio-net guest or a vhost backend does: with a virtio_net_hdr
 * whose gso_size is set, which tun turns into an skb with gso_segs 0
 * (SKB_GSO_DODGY, "recompute later").
 *
 *   gsotap create IFNAME          make a persistent tap IFNAME (vnet hdr)
 *   gsotap send IFNAME SRC DST SPORT DPORT PAYLOAD MSS
 *                                 attach to it and write one TCPv4 ACK
 *                                 SRC:SPORT -> DST:DPORT of PAYLOAD bytes,
 *                                 gso_size MSS (PAYLOAD / MSS segments)
 *   gsotap delete IFNAME          remove it again
 *
 * The Ethernet destination is the tap's own address, so the host takes it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>

static int tap_open(const char *name, struct ifreq *ifr)
{
	int fd = open("/dev/net/tun", O_RDWR);

	if (fd < 0) {
		perror("open /dev/net/tun");
		return -1;
	}
	memset(ifr, 0, sizeof(*ifr));
	ifr->ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, ifr) < 0) {
		perror("TUNSETIFF");
		close(fd);
		return -1;
	}
	return fd;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (len & 1)
		sum += b[len - 1] << 8;
	return sum;
}

static int tap_send(char **argv)
{
	unsigned int payload = atoi(argv[5]), mss = atoi(argv[6]);
	size_t hlen = sizeof(struct virtio_net_hdr) + ETH_HLEN +
		      sizeof(struct iphdr) + sizeof(struct tcphdr);
	struct virtio_net_hdr *vh;
	struct ethhdr *eth;
	struct tcphdr *th;
	struct iphdr *iph;
	struct ifreq ifr;
	uint32_t sum;
	uint8_t *pkt;
	int fd, s;
	ssize_t n;

	fd = tap_open(argv[0], &ifr);
	if (fd < 0)
		return 1;
	pkt = calloc(1, hlen + payload);
	if (!pkt)
		return 1;
	vh = (void *)pkt;
	eth = (void *)(vh + 1);
	iph = (void *)(eth + 1);
	th = (void *)(iph + 1);

	/* the tap's own MAC as destination */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
		perror("SIOCGIFHWADDR");
		return 1;
	}
	close(s);
	memcpy(eth->h_dest, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	memcpy(eth->h_source, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);

	iph->version = 4;
	iph->ihl = 5;
	iph->tot_len = htons(sizeof(*iph) + sizeof(*th) + payload);
	iph->id = htons(1);
	iph->frag_off = htons(IP_DF);
	iph->ttl = 64;
	iph->protocol = IPPROTO_TCP;
	if (inet_pton(AF_INET, argv[1], &iph->saddr) != 1 ||
	    inet_pton(AF_INET, argv[2], &iph->daddr) != 1) {
		fprintf(stderr, "bad address\n");
		return 1;
	}
	iph->check = htons(~csum_fold(csum_add(0, iph, sizeof(*iph))));

	th->source = htons(atoi(argv[3]));
	th->dest = htons(atoi(argv[4]));
	th->seq = htonl(1000);
	th->ack_seq = htonl(1000);
	th->doff = 5;
	th->ack = 1;
	th->window = htons(65535);
	memset(th + 1, 'm', payload);
	/* CHECKSUM_PARTIAL: the pseudo header sum, as a NIC driver leaves it */
	sum = csum_add(0, &iph->saddr, 8);
	sum += IPPROTO_TCP + sizeof(*th) + payload;
	th->check = htons(csum_fold(sum));

	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh->hdr_len = ETH_HLEN + sizeof(*iph) + sizeof(*th);
	vh->gso_size = mss;
	vh->csum_start = ETH_HLEN + sizeof(*iph);
	vh->csum_offset = offsetof(struct tcphdr, check);

	n = write(fd, pkt, hlen + payload);
	if (n != (ssize_t)(hlen + payload)) {
		fprintf(stderr, "write: %zd: %s\n", n, strerror(errno));
		return 1;
	}
	close(fd);
	free(pkt);
	return 0;
}

int main(int argc, char **argv)
{
	struct ifreq ifr;
	int fd;

	if (argc == 3 && (!strcmp(argv[1], "create") ||
			  !strcmp(argv[1], "delete"))) {
		fd = tap_open(argv[2], &ifr);
		if (fd < 0)
			return 1;
		if (ioctl(fd, TUNSETPERSIST, argv[1][0] == 'c') < 0) {
			perror("TUNSETPERSIST");
			return 1;
		}
		close(fd);
		return 0;
	}
	if (argc == 9 && !strcmp(argv[1], "send"))
		return tap_send(argv + 2);
	fprintf(stderr,
		"usage: gsotap create|delete IFNAME\n"
		"       gsotap send IFNAME SRC DST SPORT DPORT PAYLOAD MSS\n");
	return 2;
}
