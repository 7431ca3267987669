/* cli: one request to an HAProxy CLI (the master CLI or a runtime socket)
 * on legate's event loop: connect to the unix socket, send one command line,
 * read the answer until HAProxy closes, within a deadline. */
#ifndef LEGATE_HAP_CLI_H
#define LEGATE_HAP_CLI_H

#include <stddef.h>

struct loop;
struct hap_cli;

/* The answer: ok is 1 when the whole answer was read (HAProxy closed the
 * connection), 0 when the socket could not be reached, the deadline passed
 * or the answer was too long; text is the answer (NUL-terminated, borrowed
 * for the call) or, when ok is 0, why the request failed. */
typedef void (*hap_cli_cb)(int ok, const char *text, size_t len, void *arg);

/* Sends "cmd\n" to the unix socket at path and calls cb once, from the loop
 * (never from inside this call), with the answer.  Answers longer than
 * HAP_CLI_MAX fail.  Returns the request (owned by the loop until cb runs),
 * or NULL when memory or a socket could not be had (errno set). */
struct hap_cli *hap_cli_send(struct loop *l, const char *path, const char *cmd,
			     double timeout, hap_cli_cb cb, void *arg);

/* Abandons a request: cb is not called; the connection is closed. */
void hap_cli_cancel(struct hap_cli *r);

#define HAP_CLI_MAX ((size_t)64 << 20)

#endif
