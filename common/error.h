/* error: the one shape of the errors legate's parsers, loaders and
 * library functions report, as jansson's json_error_t: where it happened
 * (a file, template, flag or address, and a line and column when there
 * is one) and what.  The caller owns it; functions that fail return -1 or
 * NULL and fill it.  libc only, no allocation. */
#ifndef LEGATE_COMMON_ERROR_H
#define LEGATE_COMMON_ERROR_H

#include <stddef.h>

struct lg_error {
	char source[256];    /* "" when the text says it all */
	int line, column;    /* 0: not known */
	char text[768];
};

/* Fills e (may be NULL: then nothing happens).  Returns -1, so that
 * "return lg_error_set(...)" reads as a failure. */
int lg_error_set(struct lg_error *e, const char *source, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* The error as one line: "SOURCE:LINE:COLUMN: TEXT", "SOURCE:LINE: TEXT",
 * "SOURCE: TEXT" or "TEXT"; written to buf (n bytes), which is returned. */
const char *lg_error_str(const struct lg_error *e, char *buf, size_t n);

#endif
