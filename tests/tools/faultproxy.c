/* faultproxy: a TCP proxy on 127.0.0.1 that misbehaves on request, so the
 * tests can show what the watcher does when the network or the server
 * does.  Each new connection reads the mode from MODEFILE (one word):
 *
 *   pass      forward both ways to the target
 *   drop      close at once
 *   429, 500  answer that status with an empty body, then close
 *   garbage   answer 200 with an X-Consul-Index and a body that is not JSON
 *   truncate  answer 200 announcing 1000 bytes, send 10, close
 *   stall     read the request, never answer
 *
 *   faultproxy LISTEN_PORT TARGET_PORT MODEFILE
 *
 * SIGUSR1 closes every open connection (a network drop).  Each decision is
 * logged to stderr as "faultproxy: MODE". */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#define MAXC 512

struct conn {
	int cfd, ufd;     /* client, upstream (-1: none) */
	int stall;
};

static struct conn conns[MAXC];
static int nconns;
static volatile sig_atomic_t drop_all;

static void on_usr1(int s)
{
	(void)s;
	drop_all = 1;
}

static void read_mode(const char *file, char *mode, size_t n)
{
	FILE *f = fopen(file, "r");

	snprintf(mode, n, "pass");
	if (f) {
		if (fgets(mode, (int)n, f))
			mode[strcspn(mode, " \r\n")] = '\0';
		fclose(f);
	}
}

static void close_conn(int i)
{
	close(conns[i].cfd);
	if (conns[i].ufd >= 0)
		close(conns[i].ufd);
	conns[i] = conns[--nconns];
}

static void say(int fd, const char *s)
{
	ssize_t r = write(fd, s, strlen(s));

	(void)r;
}

static int connect_target(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Handles a new client according to the mode; returns 1 to keep it. */
static int greet(int cfd, const char *mode, int target, struct conn *c)
{
	char req[4096];

	c->cfd = cfd;
	c->ufd = -1;
	c->stall = 0;
	if (strcmp(mode, "pass") == 0) {
		c->ufd = connect_target(target);
		return c->ufd >= 0;
	}
	if (strcmp(mode, "drop") == 0)
		return 0;
	if (strcmp(mode, "stall") == 0) {
		c->stall = 1;
		return 1;
	}
	/* Canned answers wait for the request first. */
	if (read(cfd, req, sizeof req) <= 0)
		return 0;
	if (strcmp(mode, "429") == 0)
		say(cfd, "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	else if (strcmp(mode, "500") == 0)
		say(cfd, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	else if (strcmp(mode, "garbage") == 0)
		say(cfd, "HTTP/1.1 200 OK\r\nX-Consul-Index: 999999\r\nContent-Type: application/json\r\n"
		    "Content-Length: 17\r\nConnection: close\r\n\r\n{\"oops\": [1, 2, }");
	else if (strcmp(mode, "truncate") == 0)
		say(cfd, "HTTP/1.1 200 OK\r\nX-Consul-Index: 999999\r\nContent-Length: 1000\r\n\r\n[{\"Node\":{");
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	struct pollfd pf[1 + 2 * MAXC];
	char mode[64], buf[65536];
	int lfd, one = 1, target, i, n;

	if (argc != 4) {
		fprintf(stderr, "usage: faultproxy LISTEN_PORT TARGET_PORT MODEFILE\n");
		return 2;
	}
	target = atoi(argv[2]);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, on_usr1);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 128) < 0) {
		perror("faultproxy: listen");
		return 1;
	}
	for (;;) {
		if (drop_all) {
			drop_all = 0;
			fprintf(stderr, "faultproxy: dropping %d connections\n", nconns);
			while (nconns > 0)
				close_conn(nconns - 1);
		}
		pf[0].fd = lfd;
		pf[0].events = POLLIN;
		for (i = 0; i < nconns; i++) {
			pf[1 + 2 * i].fd = conns[i].cfd;
			pf[1 + 2 * i].events = POLLIN;
			pf[2 + 2 * i].fd = conns[i].ufd;
			pf[2 + 2 * i].events = POLLIN;
		}
		n = poll(pf, (nfds_t)(1 + 2 * nconns), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("faultproxy: poll");
			return 1;
		}
		/* Back to front, so closing (which moves the last) is safe. */
		for (i = nconns - 1; i >= 0; i--) {
			short ce = pf[1 + 2 * i].revents, ue = pf[2 + 2 * i].revents;
			ssize_t r;

			if (ce & (POLLIN | POLLHUP | POLLERR)) {
				r = read(conns[i].cfd, buf, sizeof buf);
				if (r <= 0 || (conns[i].ufd >= 0 && write(conns[i].ufd, buf, (size_t)r) != r)) {
					close_conn(i);
					continue;
				}
			}
			if (conns[i].ufd >= 0 && (ue & (POLLIN | POLLHUP | POLLERR))) {
				r = read(conns[i].ufd, buf, sizeof buf);
				if (r <= 0 || write(conns[i].cfd, buf, (size_t)r) != r)
					close_conn(i);
			}
		}
		if (pf[0].revents & POLLIN) {
			int cfd = accept(lfd, NULL, NULL);

			if (cfd < 0)
				continue;
			read_mode(argv[3], mode, sizeof mode);
			fprintf(stderr, "faultproxy: %s\n", mode);
			if (nconns < MAXC && greet(cfd, mode, target, &conns[nconns]))
				nconns++;
			else
				close(cfd);
		}
	}
}
