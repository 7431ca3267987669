/* buf: a growable byte buffer with a hard size limit, the one container for
 * rendered output, HTTP bodies and anything else built up piece by piece. */
#ifndef LEGATE_BUF_H
#define LEGATE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;     /* NUL-terminated whenever len > 0 or after buf_cstr() */
	size_t len;
	size_t cap;
	size_t limit;   /* 0: BUF_DEFAULT_LIMIT */
};

#define BUF_DEFAULT_LIMIT ((size_t)256 << 20)
#define BUF_INIT { NULL, 0, 0, 0 }

/* Each append returns 0, or -1 with errno ENOMEM (allocation failed) or
 * EFBIG (the result would pass the limit); on -1 the buffer is unchanged. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* Makes room for n more bytes; returns 0 or -1 as above. */
int buf_reserve(struct buf *b, size_t n);

/* Returns a NUL-terminated view (borrowed; "" for an empty buffer). */
const char *buf_cstr(struct buf *b);

/* Empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);

/* Frees the memory; the buffer may be reused after. */
void buf_free(struct buf *b);

/* Hands the memory to the caller (free() it) and empties the buffer. */
char *buf_steal(struct buf *b, size_t *len);

#endif
