/* ctl_int: what the control server's files (ctl.c, ctlconf.c) share: the
 * kinds of waiting commands, the output helpers and the commands about the
 * configuration file. */
#ifndef LEGATE_INIT_CTL_INT_H
#define LEGATE_INIT_CTL_INT_H

#include "init/ctl.h"

#include <stdbool.h>

/* A command that answers once its programs got somewhere. */
enum ctl_job { JOB_NONE, JOB_START, JOB_STOP, JOB_STOP_START, JOB_UPDATE };

/* One line to the client; a client that does not read loses the rest (its
 * answer is then dropped without its exit line). */
void ctl_out(struct ctl_client *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when "all" is among the request's arguments. */
bool ctl_has_all(struct ctl_client *cl);

/* The running configuration's file read again (allocated; the caller
 * frees it with conf_free and free), or NULL after printing supervisorctl's
 * CANT_REREAD error with FILE:LINE. */
struct conf *ctl_load_again(struct ctl_client *cl, struct sup *s);

/* Frees the configuration the last reread kept for avail. */
void ctl_forget_reread(struct ctl *c);

void ctl_cmd_avail(struct ctl *c, struct ctl_client *cl, struct sup *s);
void ctl_cmd_reread(struct ctl *c, struct ctl_client *cl, struct sup *s);

/* update [NAME...|all], or add NAME... (add): may leave cl->job JOB_UPDATE. */
void ctl_cmd_update(struct ctl *c, struct ctl_client *cl, struct sup *s, bool add);
void ctl_cmd_remove(struct ctl_client *cl, struct sup *s);

#endif
