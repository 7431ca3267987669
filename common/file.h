/* file: reading a whole file into memory, with a limit on its size. */
#ifndef LEGATE_COMMON_FILE_H
#define LEGATE_COMMON_FILE_H

#include <stddef.h>

#include "common/error.h"

/* Reads the file at path ("-": standard input) into a new NUL-terminated
 * buffer (free() it), at most limit bytes.  Returns it with *len set (may
 * be NULL), or NULL with err naming the path and what went wrong (cannot
 * open, cannot read, larger than the limit). */
char *file_read(const char *path, size_t limit, size_t *len, struct lg_error *err);

#endif
