/* master: HAProxy's master CLI (haproxy -W -S SOCKET): what "show proc"
 * says, and reloads confirmed by the master's own reload counter rather
 * than sent blind as a signal, which is lost when it arrives while the
 * master re-executes. */
#ifndef LEGATE_HAP_MASTER_H
#define LEGATE_HAP_MASTER_H

#include <stdbool.h>
#include <sys/types.h>

struct loop;
struct hap_master;

/* What "show proc" says. */
struct hap_proc {
	pid_t master;
	long reloads;        /* the master's reload counter */
	long failed;         /* failed reloads since the last good one; -1: not shown */
	pid_t worker;        /* the current worker (0 when none) */
	int workers, old_workers;
};

/* Parses a "show proc" answer.  Returns 0, or -1 when it is not one. */
int hap_proc_parse(const char *text, struct hap_proc *out);

/* The master CLI at sock (copied).  Returns NULL on out of memory. */
struct hap_master *hap_master_new(struct loop *l, const char *sock);

/* Cancels whatever runs (no callback) and frees m. */
void hap_master_free(struct hap_master *m);

const char *hap_master_socket(const struct hap_master *m);

/* ok: 1 with *p filled, 0 with why. */
typedef void (*hap_probe_cb)(int ok, const struct hap_proc *p, const char *why, void *arg);

/* One "show proc".  Returns 0, or -1 while a probe or reload runs. */
int hap_master_probe(struct hap_master *m, double timeout, hap_probe_cb cb, void *arg);

/* ok: 1 once the master has reloaded (or a new master has started) after
 * the call, with the file as it was when the call was made; 0 with why:
 * the master reported the reload failed (its old workers keep running),
 * or did not confirm it within the timeout (the master not answering). */
typedef void (*hap_reload_cb)(int ok, const struct hap_proc *p, const char *why, void *arg);

/* Reads the reload counter, asks for a reload, and waits until the counter
 * moves; asks again every 2 s while it does not.  Returns 0, or -1 while a
 * probe or reload runs. */
int hap_master_reload(struct hap_master *m, double timeout, hap_reload_cb cb, void *arg);

/* True while a probe or reload runs. */
bool hap_master_busy(const struct hap_master *m);

#endif
