/* freeport: prints N loopback ports that are free for both TCP and UDP.
 * Ports come from below the kernel's ephemeral range, so outgoing
 * connections of other tests cannot take them between choice and use. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LO 15000
#define HI 32000

static int try_bind(int type, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	int fd = socket(AF_INET, type, 0);

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	int fds[64][2], ports[64], got = 0;

	if (n < 1 || n > 64) {
		fprintf(stderr, "usage: freeport [N<=64]\n");
		return 2;
	}
	srand((unsigned)(time(NULL) ^ (getpid() << 8)));
	for (int tries = 0; got < n && tries < 10000; tries++) {
		int port = LO + rand() % (HI - LO), dup = 0;
		for (int i = 0; i < got; i++)
			dup |= ports[i] == port;
		if (dup)
			continue;
		int t = try_bind(SOCK_STREAM, port);
		if (t < 0)
			continue;
		int u = try_bind(SOCK_DGRAM, port);
		if (u < 0) {
			close(t);
			continue;
		}
		fds[got][0] = t;
		fds[got][1] = u;
		ports[got++] = port;
	}
	if (got < n) {
		fprintf(stderr, "freeport: no free port found\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		printf("%d%c", ports[i], i + 1 < n ? ' ' : '\n');
		close(fds[i][0]);
		close(fds[i][1]);
	}
	return 0;
}
