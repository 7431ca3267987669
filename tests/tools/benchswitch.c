/* benchswitch: change to traffic through a proxy.  Each round registers a
 * backend instance in Consul (the agent API, as registrator does) and times
 * how long until a new connection through the proxy is answered by it;
 * then deregisters it and waits until it answers no more.
 *   benchswitch CONSUL FRONT N SERVICE ID:PORT ID:PORT [TAGS_JSON]
 * The instances alternate; each answers its own ID as the body.  Prints
 * p50, p99, min and max in milliseconds as one line. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUND_LIMIT_MS 20000.0

struct body { char text[128]; size_t len; };

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
	struct body *b = u;
	size_t len = s * n, room = sizeof b->text - 1 - b->len;
	memcpy(b->text + b->len, p, len < room ? len : room);
	b->len += len < room ? len : room;
	b->text[b->len] = '\0';
	return len;
}

static int consul_put(CURL *c, const char *addr, const char *path, const char *data)
{
	struct body b = { "", 0 };
	char url[512];
	long code = 0;
	snprintf(url, sizeof url, "http://%s%s", addr, path);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, data ? data : "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(c) != CURLE_OK)
		return -1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	return code == 200 ? 0 : -1;
}

/* One request on a new connection; 1 when the body is id. */
static int answered_by(CURL *c, const char *front, const char *id)
{
	struct body b = { "", 0 };
	char url[256];
	snprintf(url, sizeof url, "http://%s/", front);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(c) != CURLE_OK)
		return 0;
	while (b.len && (b.text[b.len - 1] == '\n' || b.text[b.len - 1] == '\r'))
		b.text[--b.len] = '\0';
	return strcmp(b.text, id) == 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: benchswitch CONSUL FRONT N SERVICE ID:PORT ID:PORT [TAGS_JSON]\n");
		return 2;
	}
	const char *consul = argv[1], *front = argv[2], *svc = argv[4];
	const char *tags = argc > 7 ? argv[7] : "[]";
	int n = atoi(argv[3]);
	double *lat = calloc((size_t)(n > 0 ? n : 1), sizeof *lat);
	CURL *c, *g;

	if (n <= 0 || !lat)
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = curl_easy_init();
	g = curl_easy_init();
	for (int i = 0; i < n; i++) {
		char id[64], path[256], reg[512];
		const char *arg = argv[5 + i % 2], *colon = strrchr(arg, ':');
		int port = colon ? atoi(colon + 1) : 0;
		double t0, until;
		int quiet;

		snprintf(id, sizeof id, "%.*s", colon ? (int)(colon - arg) : 0, arg);
		snprintf(reg, sizeof reg, "{\"ID\":\"%s\",\"Name\":\"%s\",\"Address\":\"127.0.0.1\",\"Port\":%d,\"Tags\":%s}",
			 id, svc, port, tags);
		t0 = now_ms();
		if (consul_put(c, consul, "/v1/agent/service/register", reg) < 0) {
			fprintf(stderr, "benchswitch: cannot register %s\n", id);
			return 1;
		}
		while (!answered_by(g, front, id)) {
			if (now_ms() - t0 > ROUND_LIMIT_MS) {
				fprintf(stderr, "benchswitch: %s never answered through %s\n", id, front);
				return 1;
			}
		}
		lat[i] = now_ms() - t0;
		snprintf(path, sizeof path, "/v1/agent/service/deregister/%s", id);
		consul_put(c, consul, path, NULL);
		/* Settled when it has not answered for 300 ms in a row. */
		until = now_ms() + ROUND_LIMIT_MS;
		for (quiet = 0; now_ms() < until;) {
			double t = now_ms();
			if (answered_by(g, front, id))
				quiet = 0;
			else
				quiet += (int)(now_ms() - t) + 5;
			if (quiet >= 300)
				break;
			struct timespec gap = { 0, 5 * 1000 * 1000 };
			nanosleep(&gap, NULL);
		}
	}
	qsort(lat, (size_t)n, sizeof *lat, cmp);
	printf("p50=%.1f p99=%.1f min=%.1f max=%.1f\n", lat[n / 2],
	       lat[(n * 99) / 100 >= n ? n - 1 : (n * 99) / 100], lat[0], lat[n - 1]);
	curl_easy_cleanup(c);
	curl_easy_cleanup(g);
	curl_global_cleanup();
	free(lat);
	return 0;
}
