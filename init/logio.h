/* logio: relays a program's output to the container's stdout or stderr a
 * line at a time, each line prefixed with "NAME | ". */
#ifndef LEGATE_INIT_LOGIO_H
#define LEGATE_INIT_LOGIO_H

#include <stdbool.h>
#include <stddef.h>

#define RELAY_BUF 4096

struct relay {
	int fd;              /* read end of the program's pipe; -1: closed */
	int dest;            /* 1 or 2 */
	const char *name;    /* borrowed program name */
	size_t len;
	char *buf;           /* RELAY_BUF bytes, allocated once by relay_init */
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

/* Prepares a relay to dest for the program called name (borrowed).
 * Returns 0, or -1 when the buffer cannot be allocated. */
int relay_init(struct relay *r, const char *name, int dest);

/* Reads what is there and writes every complete line out; a line longer
 * than the buffer goes out in pieces.  Returns false at end of file (the
 * rest is flushed and the fd closed by the caller through relay_close). */
bool relay_read(struct relay *r);

/* Writes out a pending partial line and closes the fd (not the buffer). */
void relay_close(struct relay *r);

/* Frees the buffer. */
void relay_free(struct relay *r);

#endif
