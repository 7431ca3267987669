/* etcd_conn: how legate reaches etcd: the members it may talk to and the
 * one in use (the next one after a failure), TLS, and the credentials every
 * call carries (the v3 gateway's token, fetched again when it expires, or
 * v2 basic auth). */
#ifndef LEGATE_ETCD_CONN_H
#define LEGATE_ETCD_CONN_H

#include "common/buf.h"
#include "common/error.h"
#include "common/loop.h"
#include "watcher/http.h"
#include "watcher/watch.h"

struct etcd_conn;

/* Called when an authentication ends: error NULL when calls may go. */
typedef void (*etcd_ready_cb)(void *arg, const char *error);

/* Parses o->etcd_addr (comma-separated members, "host:port" or URLs) and
 * the TLS and user options; v2 selects basic auth instead of tokens.
 * Returns NULL with err filled on bad options. */
struct etcd_conn *etcd_conn_new(struct loop *l, const struct watcher_opts *o, int v2,
				etcd_ready_cb ready, void *arg, struct lg_error *err);

/* Cancels the calls it made itself (authentication) and frees c and its
 * HTTP client (every call on it). */
void etcd_conn_free(struct etcd_conn *c);

/* The HTTP client calls to etcd go through (borrowed). */
struct http *etcd_conn_http(const struct etcd_conn *c);

/* Members in the list. */
int etcd_conn_members(const struct etcd_conn *c);

/* Member m's URL base, "http(s)://host:port" (borrowed). */
const char *etcd_conn_member(const struct etcd_conn *c, int m);

/* 1 when calls may start now; 0 while an authentication runs (started
 * here when none is): the ready callback tells when it ends. */
int etcd_conn_ready(struct etcd_conn *c);

/* Fills call (url into url, headers into hdrs[4]: the credentials, extra
 * when not NULL, then NULL) for path on the member in use.  Returns that
 * member's number, or -1 (out of memory). */
int etcd_conn_prepare(struct etcd_conn *c, struct http_call *call, struct buf *url,
		      const char *path, const char *extra, const char *hdrs[4]);

/* A call to member m failed: without an answer (down: then m is passed
 * over for a few seconds while others answer), or with one that says it
 * cannot serve.  When m is the member in use, the next is from now on. */
void etcd_conn_failed(struct etcd_conn *c, int m, int down, const char *why);

/* etcd refused the token: authenticate again before the next call. */
void etcd_conn_unauthorized(struct etcd_conn *c);

/* Does an answer (body text or error message) say the token is bad? */
int etcd_auth_error(const char *text);

#endif
