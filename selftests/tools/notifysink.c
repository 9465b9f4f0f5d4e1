// SPDX-License-Identifier: GPL-2.0
/*
 * notifysink - stands in for systemd's notification socket: binds a unix
 * datagram socket at PATH and prints every message received (sd_notify's
 * "READY=1", "STATUS=..."), one line each, until killed. Run a service
 * with NOTIFY_SOCKET=PATH to see what it tells systemd.
 *
 *   notifysink PATH
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[4096];
	ssize_t n;
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: notifysink PATH\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("notifysink");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) >= 0) {
		buf[n] = '\0';
		/* one line per message, its own newlines as spaces */
		for (char *c = buf; *c; c++)
			if (*c == '\n')
				*c = ' ';
		printf("%s\n", buf);
	}
	perror("notifysink: recv");
	return 1;
}
