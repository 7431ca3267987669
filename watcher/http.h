/* http: HTTP requests on the loop through the libcurl multi socket
 * interface; one struct per request, freed in one place when it is done. */
#ifndef LEGATE_HTTP_H
#define LEGATE_HTTP_H

#include <stddef.h>

#include "common/buf.h"
#include "common/loop.h"
#include "common/error.h"

struct http;
struct http_req;

/* What a finished request hands its callback (all borrowed, valid only
 * during the call). */
struct http_result {
	int ok;                 /* 1: a complete HTTP response arrived (any status) */
	long status;            /* HTTP status, 0 when no response */
	const char *error;      /* transport error text when !ok */
	int timed_out;          /* !ok because the request timeout passed */
	struct buf *body;       /* the body (for streams: what was not consumed) */
	struct buf *headers;    /* raw response header lines */
};

/* Called once per request, then the request is freed. */
typedef void (*http_done_cb)(struct http_req *r, const struct http_result *res, void *arg);

/* Streams: called as body bytes arrive; the callback consumes what it can
 * from body (buf bytes may be left for the next call).  Return 0 to go on,
 * -1 to abort the transfer (done then reports !ok). */
typedef int (*http_data_cb)(struct http_req *r, struct buf *body, void *arg);

struct http_opts {
	const char *ca_file;     /* TLS: CA bundle; NULL: the system's */
	const char *cert_file;   /* TLS client certificate and key, or NULL */
	const char *key_file;
	const char *ca_path;     /* TLS: a directory of CA certificates (c_rehash'd), or NULL */
	const char *userpwd;     /* "user:password" for HTTP basic auth, or NULL */
	const char *connect_to;  /* a CURLOPT_CONNECT_TO entry "HOST:PORT:ADDR:PORT": the
				  * URL names HOST (the name TLS checks), the
				  * connection goes to ADDR, for every call
				  * that names no connect_to of its own; NULL: none */
	int insecure;            /* skip TLS peer and host verification */
	long max_conns;          /* hard cap on open connections; 0: 32 */
	const char *unix_socket; /* every request through this unix socket (the
	                          * Docker engine's), or NULL */
};

struct http_call {
	const char *method;      /* NULL: GET, or POST when body is set */
	const char *url;
	const char *body;        /* copied; NULL: none */
	const char *const *headers; /* "Name: value", NULL-terminated, copied */
	const char *connect_to;  /* "HOST:PORT:ADDR:PORT": reach the URL's host
				  * at ADDR (TLS still checks HOST), in place of
				  * the opts' connect_to; NULL: the opts' */
	double timeout;          /* seconds for the whole request; 0: none */
	http_data_cb on_data;    /* NULL: collect the whole body */
	http_done_cb on_done;
	void *arg;
};

/* Glues a new multi handle to loop l.  Strings in opts are copied.
 * Returns NULL with err (caller-owned, errlen bytes) filled. */
struct http *http_new(struct loop *l, const struct http_opts *opts, struct lg_error *err);

/* Cancels every request (no callbacks) and frees h. */
void http_free(struct http *h);

/* Starts a request.  Returns the request (owned by h until on_done has
 * returned or http_cancel) or NULL with err filled. */
struct http_req *http_start(struct http *h, const struct http_call *c, struct lg_error *err);

/* Drops a request without calling on_done.  Not from inside on_data. */
void http_cancel(struct http *h, struct http_req *r);

/* Lets a request run to its end with no owner: nothing more is called and
 * its answer is thrown away, and its connection, once the answer is in,
 * serves the next request.  For a blocking query this is the way to stop
 * that leaves nothing on the server: a Consul agent that sees the client
 * close keeps its end open (and counted against the client's connection
 * limit) until the query's wait runs out.  Not from inside on_data. */
void http_disown(struct http *h, struct http_req *r);

/* Finds a response header (case-insensitive name); copies its value into
 * out (NUL-terminated, truncated to outlen) and returns 0, or -1. */
int http_header(const struct buf *headers, const char *name, char *out, size_t outlen);

/* Requests started and not yet done, and connections curl holds open. */
int http_active(const struct http *h);

/* Of those, the disowned requests still running. */
int http_disowned(const struct http *h);

/* Requests started since h was made (every attempt counts). */
unsigned long http_started(const struct http *h);

#endif
