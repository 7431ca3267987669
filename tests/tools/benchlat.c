/* benchlat: change-to-file latency against a Consul agent.  Each round puts
 * a new value in a KV key and times how long until it shows up:
 *   benchlat file ADDR KEY N FILE   until FILE holds the value (a renderer)
 *   benchlat raw  ADDR KEY N        until a blocking query returns (the bound)
 * Prints p50, p99, min, max in milliseconds as one line. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <libgen.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

struct hdr { char index[32]; };

static size_t on_header(char *p, size_t s, size_t n, void *u)
{
	struct hdr *h = u;
	size_t len = s * n;
	if (len > 15 && strncasecmp(p, "X-Consul-Index:", 15) == 0) {
		size_t k = 0;
		for (size_t i = 15; i < len && k + 1 < sizeof h->index; i++)
			if (p[i] >= '0' && p[i] <= '9')
				h->index[k++] = p[i];
		h->index[k] = '\0';
	}
	return len;
}

static int put(CURL *c, const char *addr, const char *key, const char *val)
{
	char url[512];
	snprintf(url, sizeof url, "http://%s/v1/kv/%s", addr, key);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, val);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	return curl_easy_perform(c) == CURLE_OK ? 0 : -1;
}

static int file_has(const char *path, const char *val)
{
	char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, val) != NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 5 || (strcmp(argv[1], "file") == 0 && argc < 6)) {
		fprintf(stderr, "usage: benchlat file|raw ADDR KEY N [FILE]\n");
		return 2;
	}
	const char *mode = argv[1], *addr = argv[2], *key = argv[3], *file = argc > 5 ? argv[5] : NULL;
	int n = atoi(argv[4]), ifd = -1;
	double *lat = calloc((size_t)n, sizeof *lat);
	CURL *c;
	char val[64], dir[4096];

	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = curl_easy_init();
	if (file) {
		snprintf(dir, sizeof dir, "%s", file);
		ifd = inotify_init1(IN_NONBLOCK);
		inotify_add_watch(ifd, dirname(dir), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
	}
	for (int i = 0; i < n; i++) {
		snprintf(val, sizeof val, "v%d-%ld", i, (long)getpid());
		if (strcmp(mode, "raw") == 0) {
			/* Learn the index, park a blocking query, then change the key. */
			CURLM *m = curl_multi_init();
			CURL *g = curl_easy_init();
			struct hdr h = { "" };
			char url[512];
			int running = 1;
			snprintf(url, sizeof url, "http://%s/v1/kv/%s", addr, key);
			curl_easy_setopt(g, CURLOPT_URL, url);
			curl_easy_setopt(g, CURLOPT_WRITEFUNCTION, sink);
			curl_easy_setopt(g, CURLOPT_HEADERFUNCTION, on_header);
			curl_easy_setopt(g, CURLOPT_HEADERDATA, &h);
			curl_easy_perform(g);
			snprintf(url, sizeof url, "http://%s/v1/kv/%s?index=%s&wait=30s", addr, key,
				 h.index[0] ? h.index : "1");
			curl_easy_setopt(g, CURLOPT_URL, url);
			curl_multi_add_handle(m, g);
			double until = now_ms() + 50;
			while (now_ms() < until) {
				curl_multi_perform(m, &running);
				curl_multi_poll(m, NULL, 0, 10, NULL);
			}
			double t0 = now_ms();
			put(c, addr, key, val);
			while (running) {
				curl_multi_perform(m, &running);
				if (running)
					curl_multi_poll(m, NULL, 0, 100, NULL);
			}
			lat[i] = now_ms() - t0;
			curl_multi_remove_handle(m, g);
			curl_easy_cleanup(g);
			curl_multi_cleanup(m);
		} else {
			char ev[4096];
			while (read(ifd, ev, sizeof ev) > 0)
				;
			double t0 = now_ms();
			if (put(c, addr, key, val) < 0) {
				fprintf(stderr, "benchlat: PUT failed\n");
				return 1;
			}
			while (!file_has(file, val)) {
				struct pollfd p = { ifd, POLLIN, 0 };
				if (now_ms() - t0 > 10000) {
					fprintf(stderr, "benchlat: %s never showed %s\n", file, val);
					return 1;
				}
				poll(&p, 1, 5);
				while (read(ifd, ev, sizeof ev) > 0)
					;
			}
			lat[i] = now_ms() - t0;
		}
		struct timespec gap = { 0, 20 * 1000 * 1000 };
		nanosleep(&gap, NULL);
	}
	qsort(lat, (size_t)n, sizeof *lat, cmp);
	printf("p50=%.2f p99=%.2f min=%.2f max=%.2f\n", lat[n / 2], lat[(n * 99) / 100 >= n ? n - 1 : (n * 99) / 100],
	       lat[0], lat[n - 1]);
	curl_easy_cleanup(c);
	free(lat);
	return 0;
}
