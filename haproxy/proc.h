/* proc: HAProxy in master-worker mode as a supervised child process:
 * "PROG -W -db -f CFG -S SOCK" started on request, started again with
 * backoff when it dies, stopped with SIGTERM (SIGKILL after a grace
 * period), reaped.  It knows nothing of reloads: those go through the
 * master CLI, confirmed (driver.h). */
#ifndef LEGATE_HAP_PROC_H
#define LEGATE_HAP_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct loop;
struct hap_child;

/* Called after every start (the first and each restart) with the new
 * master's pid: that master reads CFG as the file is at this moment. */
typedef void (*hap_child_started_cb)(pid_t master, void *arg);

/* Called once HAProxy has exited after hap_child_stop(). */
typedef void (*hap_child_stopped_cb)(void *arg);

/* A supervisor for "prog -W -db -f cfg -S sock" (strings copied); started
 * (may be NULL) is called after each start with arg.  Nothing runs until
 * hap_child_start().  Returns NULL on out of memory. */
struct hap_child *hap_child_new(struct loop *l, const char *prog, const char *cfg, const char *sock,
				hap_child_started_cb started, void *arg);

/* Frees c; a running HAProxy is killed (SIGKILL) and reaped first. */
void hap_child_free(struct hap_child *c);

/* Starts HAProxy when it is down.  While it runs, waits out a backoff
 * (its restart reads the file then) or is being stopped, does nothing. */
void hap_child_start(struct hap_child *c);

/* For a caller that reaps every child itself (PID 1): hands over one
 * reaped child.  Returns true when pid was HAProxy's master (c reacts to
 * its exit), false when it is not c's. */
bool hap_child_exited(struct hap_child *c, pid_t pid, int status);

/* Call on SIGCHLD when other children are reaped elsewhere: reaps
 * HAProxy's master only, if it has exited. */
void hap_child_reap(struct hap_child *c);

/* Sends SIGTERM to HAProxy (SIGKILL 10 s later) and calls cb (may be
 * NULL) once it has exited; at once, from this call, when it is not
 * running.  No restart follows. */
void hap_child_stop(struct hap_child *c, hap_child_stopped_cb cb, void *arg);

/* HAProxy's master pid, 0 when it is not running. */
pid_t hap_child_pid(const struct hap_child *c);

#endif
