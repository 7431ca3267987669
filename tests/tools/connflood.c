/* connflood: the clients that starve an HTTP server of connections, for
 * the status server's tests and benchmark.
 *
 *   connflood PORT half N   N clients, one after another, each sends a
 *                           request head without its last empty line and
 *                           closes; prints "N sent"
 *   connflood PORT idle N   N connections that send nothing, held until
 *                           the process is killed; prints "N open"
 *   connflood PORT slow N   N connections that send a request head one
 *                           byte a second each, then header lines that
 *                           never end, until killed; prints "N open"
 *
 * Everything goes to 127.0.0.1.  A connection that cannot be made within
 * 5 s is counted and skipped ("N sent, M failed"), so a dead server does
 * not hang the tool. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static const char head[] = "GET /health HTTP/1.1\r\nHost: x\r\n";
static const char more[] = "X-a: b\r\n";

/* Byte k of a slow client's endless request. */
static char slow_byte(size_t k)
{
	if (k < sizeof head - 1)
		return head[k];
	return more[(k - (sizeof head - 1)) % (sizeof more - 1)];
}

/* A connected blocking socket, or -1 after 5 s or an error. */
static int dial(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	struct pollfd p;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), e = 0;
	socklen_t el = sizeof e;

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (errno != EINPROGRESS)
			goto fail;
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, 5000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e)
			goto fail;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
fail:
	close(fd);
	return -1;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int port, n, i, failed = 0, *fds;

	if (argc != 4 || (port = atoi(argv[1])) <= 0 || (n = atoi(argv[3])) <= 0) {
		fprintf(stderr, "usage: connflood PORT half|idle|slow N\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 16) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (strcmp(argv[2], "half") == 0) {
		for (i = 0; i < n; i++) {
			int fd = dial(port);
			if (fd < 0 || write(fd, head, sizeof head - 1) != (ssize_t)(sizeof head - 1))
				failed++;
			if (fd >= 0)
				close(fd);
		}
		printf("%d sent, %d failed\n", n - failed, failed);
		return 0;
	}
	if (strcmp(argv[2], "idle") != 0 && strcmp(argv[2], "slow") != 0) {
		fprintf(stderr, "connflood: unknown mode %s\n", argv[2]);
		return 2;
	}
	fds = calloc((size_t)n, sizeof *fds);
	if (!fds)
		return 1;
	for (i = 0; i < n; i++)
		if ((fds[i] = dial(port)) < 0)
			failed++;
	printf("%d open, %d failed\n", n - failed, failed);
	fflush(stdout);
	for (size_t k = 0;; k++) {
		char c = slow_byte(k);
		sleep(1);
		if (argv[2][0] != 's')
			continue;
		for (i = 0; i < n; i++)
			if (fds[i] >= 0 && send(fds[i], &c, 1, MSG_NOSIGNAL) != 1) {
				close(fds[i]);
				fds[i] = -1;
			}
	}
}
