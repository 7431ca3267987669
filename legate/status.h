/* status: the HTTP endpoints a platform engineer points probes and
 * Prometheus at: /health, /status and /metrics, served by libmicrohttpd
 * from legate's own event loop (no thread). */
#ifndef LEGATE_STATUS_H
#define LEGATE_STATUS_H

#include <stdbool.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/loop.h"
#include "common/error.h"

/* Where the answers come from; each is called per request. */
struct status_source {
	/* true: 200 "ok"; false: 503 with the reason written to why. */
	bool (*healthy)(void *arg, struct buf *why);
	/* A new JSON object for /status. */
	json_t *(*status)(void *arg);
	/* Appends Prometheus text for /metrics. */
	void (*metrics)(void *arg, struct buf *out);
	void *arg;
};

struct status_server;

/* Listens on addr ("HOST:PORT", ":PORT" for every address) and serves on
 * loop l.  src is copied.  Returns NULL with err filled. */
struct status_server *status_start(struct loop *l, const char *addr,
				   const struct status_source *src, struct lg_error *err);

/* The port actually bound (useful with port 0). */
int status_port(const struct status_server *s);

/* Stops listening and frees the server. */
void status_stop(struct status_server *s);

#endif
