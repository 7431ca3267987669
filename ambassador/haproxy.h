/* haproxy: HAProxy in master-worker mode as the ambassador's child:
 * started on the first config, reloaded gracefully through its master
 * CLI after each new one, restarted with backoff when it dies, stopped
 * on request. */
#ifndef LEGATE_AMB_HAPROXY_H
#define LEGATE_AMB_HAPROXY_H

#include <stdbool.h>
#include <sys/types.h>

#include "watcher/loop.h"

struct amb_haproxy;

/* Called once HAProxy has exited after amb_haproxy_stop(). */
typedef void (*amb_haproxy_stopped_cb)(void *arg);

/* Runs "PROG -W -db -f CFG -S SOCK" on the loop (strings copied).  Nothing
 * starts until amb_haproxy_apply().  Returns NULL on out of memory. */
struct amb_haproxy *amb_haproxy_new(struct loop *l, const char *prog, const char *cfg,
				    const char *sock);

/* Frees h; a running HAProxy is killed (SIGKILL) and reaped first. */
void amb_haproxy_free(struct amb_haproxy *h);

/* The config file holds a new config: starts HAProxy, or asks its master
 * for a graceful reload (old connections finish on the old worker). */
void amb_haproxy_apply(struct amb_haproxy *h);

/* Call on SIGCHLD: reaps every exited child (the ambassador may be PID 1)
 * and reacts to HAProxy's exit. */
void amb_haproxy_reap(struct amb_haproxy *h);

/* Sends SIGTERM to HAProxy (SIGKILL 10 s later) and calls cb once it has
 * exited, at once when it is not running. */
void amb_haproxy_stop(struct amb_haproxy *h, amb_haproxy_stopped_cb cb, void *arg);

/* HAProxy's master pid, 0 when not running. */
pid_t amb_haproxy_pid(const struct amb_haproxy *h);

#endif
