/* logio: relays a program's output: to the container's stdout or stderr a
 * line at a time, each line prefixed with "NAME | ", or as it comes into
 * a log file that is rotated past its size limit (FILE.1 .. FILE.N). */
#ifndef LEGATE_INIT_LOGIO_H
#define LEGATE_INIT_LOGIO_H

#include "init/conf.h"
#include "init/loop.h"

#include <stdbool.h>
#include <stddef.h>

#define RELAY_BUF 4096

struct relay {
	int fd;                    /* read end of the program's pipe; -1: closed */
	struct init_watch w;
	int dest;                  /* prefix mode: 1 or 2 */
	const char *name;          /* borrowed program name */
	const struct conf_log *log; /* file mode (borrowed); NULL: prefix mode */
	int file_fd;               /* file mode: the log file; -1 */
	long long size;            /* file mode: its size */
	size_t len;
	char *buf;                 /* RELAY_BUF bytes, allocated once by relay_init */
};

/* Called once at start: when the container's stdout or stderr is a pipe,
 * relayed lines and legate-init's own go through a non-blocking reopening
 * of it, so a reader that stalls costs lines, never PID 1's loop.  A file
 * or terminal is written as it is. */
void relay_outputs_open(void);

/* The descriptor lines for dest (1 or 2) are written to. */
int relay_output_fd(int dest);

/* Lines lost to a full output so far. */
unsigned long relay_dropped(void);

/* Prepares a relay for the program called name (borrowed); its loop
 * events carry tag and owner.  Returns 0, or -1 when the buffer cannot be
 * allocated. */
int relay_init(struct relay *r, const char *name, enum init_tag tag, void *owner);

/* Before a spawn: opens the pipe, and in file mode (log not NULL) the log
 * file, and watches the pipe.  In prefix mode lines go to dest (1 or 2).
 * Returns the pipe's write end for the child, or -1 with errno. */
int relay_start(struct relay *r, const struct conf_log *log, int dest, struct init_loop *l);

/* Reads what is there and passes it on; returns false at end of file (call
 * relay_stop then). */
bool relay_read(struct relay *r);

/* Writes out a pending partial line, stops watching and closes the pipe
 * and the log file (not the buffer). */
void relay_stop(struct relay *r, struct init_loop *l);

/* Empties the log file and removes its rotated copies (ctl clear).
 * Returns 0 or -1 with errno. */
int relay_clear(struct relay *r, const struct conf_log *log);

/* Frees the buffer. */
void relay_free(struct relay *r);

#endif
