/* runtime: HAProxy's runtime API (a stats socket at level admin, or the
 * master CLI passing commands to the current worker with "@1"): a plan's
 * server operations applied one command at a time, each answer checked;
 * removed servers drained, then deleted; the running servers read back
 * and compared with a configuration. */
#ifndef LEGATE_HAP_RUNTIME_H
#define LEGATE_HAP_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include "haproxy/cfg.h"

struct loop;
struct hap_runtime;

/* The runtime API at sock (copied); with via_master, sock is the master
 * CLI and each command is prefixed with "@1 " (the current worker).
 * drain_timeout bounds how long a removed server's connections may run
 * before they are shut.  Returns NULL on out of memory. */
struct hap_runtime *hap_runtime_new(struct loop *l, const char *sock, bool via_master,
				    double drain_timeout);

/* Cancels everything in flight (no callback) and frees rt. */
void hap_runtime_free(struct hap_runtime *rt);

/* ok 1, or 0 with why (the command and HAProxy's answer). */
typedef void (*hap_runtime_cb)(int ok, const char *why, void *arg);

/* Applies plan (a HAP_RUNTIME plan, borrowed for the call only) one
 * command at a time, stopping at the first answer that is not the one
 * success gives.  Removed servers are put in maintenance (no new
 * connection) and drained in the background.  Returns 0, or -1 when an
 * apply or an audit already runs. */
int hap_runtime_apply(struct hap_runtime *rt, const struct hap_plan *plan, hap_runtime_cb cb, void *arg);

/* Reads "show servers state" and compares every backend of cfg (borrowed
 * until cb) with it: the same server names, addresses and ports (servers
 * being drained aside).  cb gets ok 1 when equal, 0 with the first
 * difference, -1 with why the answer could not be had.  Returns 0, or -1
 * when busy. */
int hap_runtime_audit(struct hap_runtime *rt, const struct hap_cfg *cfg, hap_runtime_cb cb, void *arg);

/* Forgets the servers being drained: a reload has replaced the worker
 * that held them (its connections finish on the old worker). */
void hap_runtime_forget_drains(struct hap_runtime *rt);

/* Servers being drained now. */
size_t hap_runtime_draining(const struct hap_runtime *rt);

/* Counters since start. */
struct hap_runtime_stats {
	unsigned long commands, refused, added, removed, changed, drain_timeouts;
};
const struct hap_runtime_stats *hap_runtime_stats(const struct hap_runtime *rt);

/* Parses one "show servers state" answer into (backend, server, address,
 * port, admin state) rows for the audit; exposed for the unit test.
 * Calls row() for each; returns the number of rows, or -1 when text is not
 * such an answer. */
typedef void (*hap_state_row_fn)(const char *backend, const char *server, const char *addr,
				 const char *port, int admin, void *arg);
int hap_servers_state_parse(const char *text, hap_state_row_fn row, void *arg);

#endif
