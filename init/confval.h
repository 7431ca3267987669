/* confval: the value syntaxes of a supervisord.conf: %(...)s expansion,
 * shell-quoted command lines, environment lists, exit codes, addresses.
 * Each function fills caller-owned memory and returns 0, or -1 with a
 * one-line message in err; none allocates. */
#ifndef LEGATE_INIT_CONFVAL_H
#define LEGATE_INIT_CONFVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define CV_ERR 256

/* Expands %(ENV_X)s, %(program_name)s and %(group_name)s (prog; NULL
 * outside a program), %(here)s (here), %(host_node_name)s, %(process_num)d
 * and %% into out (outlen bytes).  Any other '%' stays as it is. */
int cv_expand(const char *in, const char *prog, const char *here, char *out, size_t outlen,
	      char *err);

/* true/false, yes/no, on/off, 1/0, any case. */
int cv_bool(const char *v, bool *out);

/* A decimal integer from min to max. */
int cv_int(const char *v, long min, long max, int *out);

/* A size in bytes, as supervisord writes it: 1024, 50MB, 1kb, 2GB. */
int cv_size(const char *v, long long *out);

/* An octal mode or mask: 022, 0700, 777.  At most 0777. */
int cv_octal(const char *v, int *out);

/* "0,2,255" into a 256-bit set. */
int cv_exitcodes(const char *v, unsigned char bits[32], char *err);

/* Splits a command line as a POSIX shell quotes it: blanks separate,
 * '...' is literal, "..." honours a backslash before " \ $ `, a bare
 * backslash quotes the next character.  buf holds strlen(cmd)+1 bytes and
 * argv strlen(cmd)/2+2 pointers into it; argv ends with NULL. */
int cv_command(const char *cmd, char *buf, char **argv, char *err);

/* KEY="value",KEY2=value2 into "KEY=value" strings: buf holds
 * 2*strlen(v)+2 bytes, list strlen(v)/2+2 pointers; list ends with NULL. */
int cv_environment(const char *v, char *buf, char **list, char *err);

/* HOST:PORT where HOST is an IPv4 or [IPv6] address, localhost or empty
 * (127.0.0.1): no resolver, so a probe never waits on DNS. */
int cv_address(const char *v, struct sockaddr_storage *ss, socklen_t *len, char *err);

#endif
