/* etcd_int: what etcd.c (reads, the backend) and etcd_stream.c (the one
 * stream and the events it brings) share: the hub, its per-watch state and
 * its reads; only those two include this. */
#ifndef LEGATE_ETCD_INT_H
#define LEGATE_ETCD_INT_H

#include <stdint.h>
#include <jansson.h>

#include "watcher/etcd.h"
#include "watcher/etcd_conn.h"
#include "watcher/watch_int.h"

#define READ_BATCH 64          /* ranges per v3 txn (etcd allows 128 ops) */
#define PROBE_EVERY 1.0        /* seconds between checks of the member in use */
#define PROBE_TIMEOUT 1.0

enum ew_where { EW_NONE, EW_QUEUED, EW_READING, EW_SUB };

/* What the hub knows of one watch (w->be). */
struct ew {
	struct watch_be base;      /* first: w->be points here */
	struct watch *w;
	char *key;                 /* "/config/x": the key, or the tree's prefix */
	size_t klen;
	enum ew_where where;
	struct ew *prev, *next;    /* in the read queue or among the subscribers */
	struct etcd_read *read;    /* while EW_READING */
	size_t slot;
};

struct ewlist {
	struct ew *head, *tail;
	size_t n;
};

/* One read call in flight: a txn of ranges (v3) or one GET (v2). */
struct etcd_read {
	struct etcd_hub *hub;
	struct etcd_read *prev, *next;
	struct http_req *req;
	int member;
	size_t n;
	struct ew *ws[READ_BATCH]; /* NULL once that watch was removed */
};

/* Why the stream ended when legate ended it. */
enum stream_end { SE_NONE, SE_RESTART, SE_REREAD, SE_FAIL, SE_NOAUTH };

struct etcd_hub {
	struct watcher *wr;
	struct etcd_conn *conn;
	int v2;
	struct ewlist queue;       /* watches waiting for a read */
	struct ewlist subs;        /* watches fed by the stream */
	struct etcd_read *reads;
	int nreads, read_cap;
	struct http_req *stream;   /* the v3 watch stream or the v2 wait */
	int stream_member;
	int followed;              /* the member the last stream was created on */
	enum stream_end stream_end;
	char stream_why[200];
	struct buf lo;             /* the prefix the stream covers */
	int restart;               /* start the stream again (range or revision) */
	uint64_t rev;              /* subscribers have every event up to here */
	unsigned retries;          /* stream failures in a row */
	int waiting;               /* backoff timer armed */
	int no_leader;             /* the last failure: a member without a leader (503) */
	struct loop_timer kick, backoff, probe_timer;
	struct http_req *probe;
	int probe_member;
};

/* Runs etcd.c's on_kick on the next loop turn: reads while slots are free,
 * the stream when subscribers wait for it. */
void etcd_kick(struct etcd_hub *hub);

/* The subscriber and read-queue lists. */
void etcd_ewl_add(struct ewlist *l, struct ew *ew);
void etcd_ewl_del(struct ewlist *l, struct ew *ew);

/* A JSON number or numeric string as an integer (0 when neither). */
uint64_t etcd_num(const json_t *j);

/* The body of an answer as JSON, or NULL with jerr filled. */
json_t *etcd_parse_body(const struct http_result *res, json_error_t *jerr);

/* etcd_stream.c: starts the stream over the prefix every watched key
 * shares, from hub->rev + 1 (with several members, checks the member
 * every PROBE_EVERY s). */
void etcd_stream_start(struct etcd_hub *hub);

/* Cancels the stream (not from inside its own callbacks). */
void etcd_stream_stop(struct etcd_hub *hub);

/* The stream failed or could not start: leaves the member when it is the
 * cause (member_fault 1: it answered but cannot serve; 2: no answer),
 * shows why on every subscriber, retries after a backoff; past the
 * watcher's retry limit every subscriber gives up instead. */
void etcd_stream_failed(struct etcd_hub *hub, int member_fault, const char *why);

/* The hub's backoff and probe timers. */
void etcd_on_backoff(struct loop *l, void *arg);
void etcd_on_probe(struct loop *l, void *arg);

#endif
