/* watch: the watcher's public face: watches named the way templates name
 * their data, each an explicit state machine with backoff and spacing,
 * each holding its last good data as deterministic JSON and its status. */
#ifndef LEGATE_WATCH_H
#define LEGATE_WATCH_H

#include <stdint.h>
#include <jansson.h>

#include "common/loop.h"
#include "common/error.h"
#include "watcher/name.h"

struct watcher;
struct watch;

/* Called from the loop after a watch's data really changed (the first
 * good read counts as a change); watch_data() holds the new data.  The
 * callback may add and remove watches, the one it is called for too. */
typedef void (*watch_changed_cb)(struct watch *w, void *arg);

struct watcher_opts {
	const char *consul_addr;  /* "host:port" or "http(s)://host:port"; NULL: none */
	const char *consul_token; /* sent as X-Consul-Token; NULL: none */
	int consul_stale;         /* allow stale reads (any server answers) */
	double max_stale;         /* with consul_stale: an answer from a server out of
				   * touch with the leader for longer (seconds) is
				   * refused and read again from the leader; 0: any */
	const char *etcd_addr;    /* set: key. and tree. watch etcd, not Consul KV;
				   * a comma-separated list of members */
	int etcd_v2;              /* use the etcd v2 API instead of the v3 gateway */
	const char *etcd_ca_file, *etcd_cert_file, *etcd_key_file; /* NULL: ca_file... */
	const char *etcd_server_name; /* TLS name to check instead of the address's */
	const char *etcd_user;    /* "user" or "user:password"; NULL: no auth */
	const char *etcd_password; /* when etcd_user has none */
	const char *ca_file, *cert_file, *key_file; /* TLS, NULL: defaults */
	const char *ca_path;      /* TLS: a directory of CA certificates, NULL: none */
	int insecure;             /* TLS without verification (explicit switch) */
	const char *server_name;  /* TLS to Consul: the name its certificate must
				   * carry (sent as SNI too); NULL: the address's host */
	const char *consul_auth;  /* "user:password", HTTP basic auth to Consul; NULL: none */
	int max_conns;            /* connections per server; 0: 32 */
	double wait;              /* blocking query wait, seconds; 0: 60 */
	double min_interval;      /* spacing between calls of one watch; 0: 0.2 */
	double backoff_min;       /* first retry delay; 0: 0.5 */
	double backoff_max;       /* retry delay cap; 0: 30 */
	double timeout;           /* margin past the wait before a call fails; 0: 10 */
	int max_retries;          /* failed calls in a row a watch retries before it
				   * gives up; 0: no limit; -1: none (the first
				   * failure gives up) */
	/* Called from the loop, once per watch, when it gives up; it makes no
	 * more calls and keeps its last good data.  NULL: nothing is told. */
	void (*gave_up)(struct watch *w, void *arg);
	void *gave_up_arg;
};

/* Makes a watcher on loop l.  Strings in opts are copied.  Returns NULL
 * and fills err (caller-owned, errlen bytes) on bad options. */
struct watcher *watcher_new(struct loop *l, const struct watcher_opts *opts,
			    struct lg_error *err);

/* Stops every watch (no callbacks) and frees everything. */
void watcher_free(struct watcher *wr);

/* Adds a watch by its template name:
 *   services                        every service: [{name, tags}]
 *   service.NAME[~any][~tag=T][@DC] instances (passing unless ~any):
 *                                   [{id, name, address, port, node, tags,
 *                                     meta, status, node_address}]
 *   nodes                           [{node, address, datacenter, meta}]
 *   node.NAME                       {node, address, datacenter, meta,
 *                                    services: [...]} or null
 *   key.PATH                        the value (string) or null when absent
 *   tree.PATH                       [{key, value}] under the prefix PATH
 * Lists are sorted (instances by node then id), object keys too.  The same
 * name twice returns the same watch.  The watch starts on the next loop
 * turn.  Returns the watch (owned by wr) or NULL with err filled. */
struct watch *watcher_add(struct watcher *wr, const char *name,
			  watch_changed_cb cb, void *arg, struct lg_error *err);

/* The same for a name already parsed (n borrowed): name is its text. */
struct watch *watcher_add_name(struct watcher *wr, const char *name, const struct watch_name *n,
			       watch_changed_cb cb, void *arg, struct lg_error *err);

/* Stops and frees one watch (no callback after this); safe from any
 * watch's callback. */
void watcher_remove(struct watcher *wr, struct watch *w);

/* The watch's current data (borrowed; NULL until its first good read).
 * It survives errors: an outage leaves the last good data in place. */
const json_t *watch_data(const struct watch *w);

/* The data as canonical compact JSON text, sorted keys (a new string the
 * caller frees; NULL before data). */
char *watch_text(const struct watch *w);

/* The name the watch was added with (borrowed). */
const char *watch_name(const struct watch *w);

/* A new object: {name, state, mode, index, last_success, last_change,
 * last_error, retries, errors, changes} (times: Unix seconds, 0: never). */
json_t *watch_status(const struct watch *w);

/* A new list of every watch's status, in the order they were added. */
json_t *watcher_status(const struct watcher *wr);

/* Requests in flight; each holds one connection to a server. */
int watcher_requests(const struct watcher *wr);

/* HTTP requests the watcher has started since it was made. */
unsigned long watcher_calls(const struct watcher *wr);

/* Catalog sweeps started (each reads the node list and every node once). */
unsigned long watcher_sweeps(const struct watcher *wr);

/* Nodes the catalog sweep long-polls now. */
int watcher_node_polls(const struct watcher *wr);

#endif
