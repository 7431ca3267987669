/* connlat: connection setup time through a TCP proxy or directly.  Each
 * round connects to HOST:PORT, writes REQUEST (C escapes \r \n), reads
 * until the answer holds EXPECT (or the peer closes), and closes:
 *   connlat HOST PORT N REQUEST EXPECT
 * Prints "p50 p90 p99 min max" in milliseconds as one line, and exits 1
 * when a round did not get EXPECT. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static size_t unescape(const char *s, char *out, size_t n)
{
	size_t k = 0;
	for (; *s && k + 1 < n; s++) {
		if (*s == '\\' && s[1] == 'r') {
			out[k++] = '\r';
			s++;
		} else if (*s == '\\' && s[1] == 'n') {
			out[k++] = '\n';
			s++;
		} else {
			out[k++] = *s;
		}
	}
	out[k] = '\0';
	return k;
}

/* One round: milliseconds, or -1. */
static double round_ms(const struct sockaddr_in *sa, const char *req, size_t reqlen, const char *expect)
{
	char buf[8192];
	size_t got = 0;
	double t0 = now_ms();
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, ok = 0;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0 ||
	    write(fd, req, reqlen) != (ssize_t)reqlen) {
		close(fd);
		return -1;
	}
	while (got + 1 < sizeof buf) {
		ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, expect)) {
			ok = 1;
			break;
		}
	}
	close(fd);
	return ok ? now_ms() - t0 : -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char req[1024];
	size_t reqlen;
	double *v;
	int n;

	if (argc != 6 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 || (n = atoi(argv[3])) <= 0) {
		fprintf(stderr, "usage: connlat IPV4 PORT N REQUEST EXPECT\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	reqlen = unescape(argv[4], req, sizeof req);
	if (!(v = calloc((size_t)n, sizeof *v)))
		return 2;
	for (int i = 0; i < n; i++)
		if ((v[i] = round_ms(&sa, req, reqlen, argv[5])) < 0) {
			fprintf(stderr, "connlat: round %d: no \"%s\" from %s:%s\n", i + 1, argv[5], argv[1], argv[2]);
			return 1;
		}
	qsort(v, (size_t)n, sizeof *v, cmp);
	printf("%.3f %.3f %.3f %.3f %.3f\n", v[n / 2], v[n * 9 / 10], v[n * 99 / 100], v[0], v[n - 1]);
	free(v);
	return 0;
}
