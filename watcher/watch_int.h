/* watch_int: the watch and watcher structs and the calls between the
 * state machine (watch.c) and the backends (consul.c, etcd.c); only
 * watcher/ includes this. */
#ifndef LEGATE_WATCH_INT_H
#define LEGATE_WATCH_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "common/loop.h"
#include "watcher/http.h"
#include "watcher/name.h"
#include "watcher/watch.h"
#include "common/error.h"

enum watch_backend { WB_CONSUL, WB_ETCD3, WB_ETCD2 };

/* A backend, as a small table of functions (the way haproxy's pollers
 * are): the state machine calls through it and knows no backend by name. */
struct watch_ops {
	const char *name;
	/* Starts one call for w (a blocking one when `blocking`): 0 with
	 * w->req set, or -1 with err filled. */
	int (*start)(struct watch *w, int blocking, struct lg_error *err);
	/* Hands over what a stream brought since the last call (from the
	 * watch's timer, outside curl's callbacks); NULL when calls end. */
	void (*flush)(struct watch *w);
};

extern const struct watch_ops consul_ops, etcd_ops;

/* A backend's own state for one watch (w->be), opening with how to let it
 * go: stop unlinks and frees it, and leaves w->be NULL. */
struct watch_be {
	void (*stop)(struct watch *w);
};

/* Which triggered watches a trigger wakes. */
enum trigger_class { TC_NONE, TC_CATALOG, TC_KV };

enum watch_state {
	WS_IDLE,        /* added, first call not yet made */
	WS_QUEUED,      /* triggered watch waiting for a sweep slot */
	WS_INFLIGHT,    /* a call is out (or an etcd stream is open) */
	WS_SPACING,     /* waiting out the spacing before the next call */
	WS_BACKOFF,     /* waiting after an error before retrying */
	WS_PARKED       /* triggered watch at rest until its trigger fires */
};

enum watch_event {
	EV_START,       /* the watch was added */
	EV_TIMER,       /* its spacing or backoff timer fired */
	EV_SLOT,        /* a sweep slot became free for it */
	EV_OK,          /* a call ended well */
	EV_ERROR,       /* a call failed */
	EV_TRIGGER      /* its trigger saw the catalog move */
};

struct watch {
	struct watcher *wr;
	struct watch *prev, *next;      /* every watch, in add order */
	struct watch *hnext;            /* in the watcher's index by name (added by name only) */
	bool indexed;
	struct watch *qnext;            /* sweep queue */
	struct watch *nnext;            /* changes waiting to be reported */
	int notify_pending;
	char *name;
	struct watch_name n;            /* what it watches */
	enum watch_backend backend;
	const struct watch_ops *ops;    /* the backend's calls */
	struct http *http;              /* the backend's HTTP client */
	int triggered;                  /* no long-poll of its own */
	int fires;                      /* a trigger: its answers under a new index
					 * wake the triggered watches of tclass (a
					 * trigger of the watcher's own, or a
					 * `services` watch that serves as one) */
	int counted;                    /* holds a place in the connection budget */
	enum trigger_class tclass;      /* class it belongs to, or fires */
	enum watch_state state;
	struct loop_timer timer;
	struct http_req *req;
	double last_start;              /* monotonic */
	double err_at;                  /* the last failed call's end, monotonic */
	double backoff_due;             /* when its backoff after that error ends:
					 * a probe's tries before it are not counted
					 * as retries (the retry limit) */
	uint64_t index;                 /* Consul index, etcd revision or v2 index */
	int still;                      /* quick returns in a row with no news */
	int fresh;                      /* the last call brought a real change */
	int need_read;                  /* etcd: read everything before watching */
	int blocking;                   /* the call in flight is a blocking one */
	int plain_next;                 /* Consul: the next call does not block */
	int verify_next;                /* Consul: the next call is a consistent read */
	int verify_call;                /* Consul: the call in flight is one */
	int stale_call;                 /* Consul: the call in flight is stale */
	int retrigger;                  /* trigger fired while queued or in flight */
	json_t *kv;                     /* etcd: key -> value of what is watched;
					 * health trigger: service -> check signature */
	json_t *fire_only;              /* trigger: service names to wake, NULL: all */
	struct watch_be *be;            /* the backend's state, or NULL */
	json_t *data;
	uint64_t text_hash;             /* of the data's canonical text: a change is a new hash */
	size_t text_len;
	uint64_t body_hash;             /* Consul: of the last answer taken in
					 * whole (data_hash of its bytes); 0: none */
	watch_changed_cb cb;
	void *cb_arg;
	double last_success, last_change;  /* wall clock */
	char *last_error;               /* the last failure's text (WATCH_ERROR_MAX
					 * bytes, allocated at the first), or NULL */
	int unavailable;                /* the last call failed for want of the
					 * agent or its cluster (no answer, 5xx) */
	unsigned retries;               /* errors in a row */
	int given_up;                   /* past the retry limit: no more calls */
	unsigned long errors, changes;
};

struct watcher {
	struct loop *loop;
	struct http *consul_http, *etcd_http;
	struct watch *watches, *last;
	struct watch *qhead, *qtail;    /* triggered watches waiting for a slot */
	struct watch *nhead, *ntail;    /* changed watches, reported from a timer */
	struct loop_timer notify_timer;
	struct watch *triggers[3];      /* by trigger_class */
	int dedicated, dedicated_cap;   /* Consul watches with their own long-poll */
	int polling, node_reserve;      /* the sweep's node long-polls in flight, and
					 * the slots kept for them (set once a
					 * `services` watch is added) */
	int sweeping, sweep_cap;        /* triggered reads in flight */
	struct watch *probe;            /* retries about twice a second while
					 * the agent is unavailable; NULL: none */
	struct loop_timer leader_timer; /* Consul: polls the leader */
	struct http_req *leader_req;    /* the poll in flight, or NULL */
	double leader_asked;            /* when that poll started (monotonic) */
	double leader_confirmed;        /* start of the last poll that saw leader */
	double gap_at;                  /* start of the first poll that found no
					 * leader since the last sign of one; 0:
					 * none */
	char leader[128];               /* the last leader seen; "": none yet */
	struct watcher_opts o;
	char *consul_base;              /* "http://host:port" */
	struct etcd_hub *etcd;          /* etcd's reads and stream, or NULL */
	char *token_header;             /* "X-Consul-Token: ..." */
	struct sweep *sweep;            /* the catalog sweep (sweep.c), NULL until the first */
	struct watch **index;           /* the watches added by name, hashed by it */
	size_t index_cap, indexed;
	json_t *check_status;           /* node -> {service id or "": [its checks]}, from the health trigger */
};

/* Backends hand over new data (stolen); it is kept and reported only when
 * its canonical text differs from what the watch held. */
void watch_deliver(struct watch *w, json_t *data);

/* Backends report the end of a call: ok, or an error message. */
void watch_call_ok(struct watch *w);
/* The text of w's last failure ("" when none); watch_set_error sets it
 * (NULL: cleared).  Kept apart from struct watch: a watcher of 10,000
 * watches that never fail holds no text for them. */
#define WATCH_ERROR_MAX 256
static inline const char *watch_error(const struct watch *w)
{
	return w->last_error ? w->last_error : "";
}
void watch_set_error(struct watch *w, const char *text);

void watch_call_failed(struct watch *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Are retries failed calls in a row past the watcher's retry limit? */
int watch_retries_spent(const struct watcher *wr, unsigned retries);

/* Past the retry limit: the watch makes no more calls and keeps its last
 * good data; its owner is told from the loop.  The backend has let go of
 * its call (the caller logs why). */
void watch_give_up(struct watch *w);

/* Wakes a parked triggered watch: it reads for itself. */
void watch_wake(struct watch *w);

/* Starts queued reads (and the sweep's) while slots are free. */
void watcher_pump(struct watcher *wr);

/* The etcd side of watcher wr (its options o; etcd.c): the member list,
 * TLS and credentials; sets wr->etcd_http.  NULL with err filled on bad
 * options.  etcd_hub_free lets every etcd watch go and frees the hub, its
 * calls included (no callbacks). */
struct etcd_hub *etcd_hub_new(struct watcher *wr, const struct watcher_opts *o, struct lg_error *err);
void etcd_hub_free(struct etcd_hub *hub);

/* The catalog sweep (sweep.c).  sweep_request starts one, or notes that
 * another must follow the one running; sweep_pump starts its node reads
 * while slots are free; sweep_covers says whether it serves w. */
void sweep_request(struct watcher *wr);
void sweep_pump(struct watcher *wr);
bool sweep_covers(const struct watch *w);
void sweep_free(struct watcher *wr);
/* The node long-polls that may sit on a leader gone run to their end
 * unowned; their nodes are swept again until polled anew. */
void sweep_reread(struct watcher *wr);
/* Once a second: node polls started where slots came free. */
void sweep_tick(struct watcher *wr);
/* A node's checks changed: its services are worked out again next time. */
void sweep_forget_node(struct watcher *wr, const char *node);
unsigned long sweep_count(const struct watcher *wr);

/* Backends note a new index; an index that went backwards resets to 0. */
void watch_set_index(struct watch *w, uint64_t index, int present);

/* Consul: an answer came from a server that knew a leader. */
void watch_leader_seen(struct watch *w);

/* Consul: starts a poll of /v1/status/leader (wr->leader_req set); -1 when
 * it cannot start.  Its end is told to watcher_leader(). */
int consul_leader_start(struct watcher *wr);

/* The poll's answer: the leader's address, "" when there is none, NULL
 * when the poll failed. */
void watcher_leader(struct watcher *wr, const char *leader);

#endif
