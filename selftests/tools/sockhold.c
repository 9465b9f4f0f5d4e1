// SPDX-License-Identifier: GPL-2.0
/*
 * sockhold - TCP sockets for the teardown tests: many live connections,
 * and a socket whose lock its owner holds for as long as it likes.
 *
 *   sockhold listen ADDR PORT       listen (backlog 4096, never accepts)
 *   sockhold connect ADDR PORT N    N connections, one byte sent on each
 *   sockhold halfopen ADDR PORT N   N connections started (non-blocking
 *                                   connect: SYN sent), not waited for
 *   sockhold hold ADDR PORT         one connection, one byte sent; then,
 *                                   after a line on stdin, a send() from
 *                                   a page registered with userfaultfd
 *                                   that nobody resolves
 *
 * Each prints one line when its state is reached ("listening",
 * "connected N", "connecting N", "held") and then waits until it is killed. For "hold":
 * tcp_sendmsg() copies from the user buffer with the socket locked
 * (lock_sock), so the sending thread sleeps in the page fault with the
 * lock held; "held" is printed once the fault is reported on the
 * userfaultfd, i.e. while it is held. Killing the process ends the fault.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BUFLEN	(64 * 1024)

static void *buf;
static int sfd;

static int tcp_socket(const char *addr, const char *port,
		      struct sockaddr_in *sa)
{
	int fd, one = 1;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(atoi(port));
	if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", addr);
		exit(2);
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	return fd;
}

static void nofile(long n)
{
	struct rlimit rl = { .rlim_cur = n + 64, .rlim_max = n + 64 };

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int tcp_connect(const char *addr, const char *port)
{
	struct sockaddr_in sa;
	int fd = tcp_socket(addr, port, &sa);

	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, "x", 1, 0) != 1) {
		perror("connect");
		exit(1);
	}
	return fd;
}

static void *sender(void *arg)
{
	(void)arg;
	/* Faults in the copy from @buf, inside lock_sock(). */
	send(sfd, buf, BUFLEN, 0);
	return NULL;
}

static int hold(const char *addr, const char *port)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffd_msg msg;
	struct pollfd pfd;
	pthread_t th;
	char line[16];
	int uffd;

	sfd = tcp_connect(addr, port);
	printf("connected 1\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		perror("userfaultfd");
		return 1;
	}
	buf = mmap(NULL, BUFLEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	reg.range.start = (unsigned long)buf;
	reg.range.len = BUFLEN;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		perror("UFFDIO_REGISTER");
		return 1;
	}
	if (pthread_create(&th, NULL, sender, NULL)) {
		perror("pthread_create");
		return 1;
	}
	pfd.fd = uffd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, -1) != 1 || read(uffd, &msg, sizeof(msg)) !=
	    sizeof(msg) || msg.event != UFFD_EVENT_PAGEFAULT) {
		fprintf(stderr, "no page fault reported\n");
		return 1;
	}
	printf("held\n");
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	long i, n;
	int fd;

	if (argc == 4 && !strcmp(argv[1], "listen")) {
		fd = tcp_socket(argv[2], argv[3], &sa);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    listen(fd, 4096)) {
			perror("listen");
			return 1;
		}
		printf("listening\n");
	} else if (argc == 5 && !strcmp(argv[1], "connect")) {
		n = atol(argv[4]);
		nofile(n);
		for (i = 0; i < n; i++)
			tcp_connect(argv[2], argv[3]);
		printf("connected %ld\n", n);
	} else if (argc == 5 && !strcmp(argv[1], "halfopen")) {
		n = atol(argv[4]);
		nofile(n);
		for (i = 0; i < n; i++) {
			fd = tcp_socket(argv[2], argv[3], &sa);
			fcntl(fd, F_SETFL, O_NONBLOCK);
			connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		}
		printf("connecting %ld\n", n);
	} else if (argc == 4 && !strcmp(argv[1], "hold")) {
		return hold(argv[2], argv[3]);
	} else {
		fprintf(stderr, "usage: %s listen|connect|halfopen|hold ADDR PORT [N]\n",
			argv[0]);
		return 2;
	}
	fflush(stdout);
	for (;;)
		pause();
}
