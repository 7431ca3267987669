/* numfmt: numbers as text, in the shortest form that reads back equal. */
#ifndef LEGATE_NUMFMT_H
#define LEGATE_NUMFMT_H

#include <stddef.h>

/* Writes d into dst (size n, at least 32) as the shortest of %.15g, %.16g,
 * %.17g that strtod() turns back into d: 1.1 is "1.1", 1e300 is "1e+300".
 * NaN and infinities, which JSON cannot hold, come out as "nan", "inf",
 * "-inf".  Returns the length written. */
size_t numfmt_double(char *dst, size_t n, double d);

/* Writes v in decimal into dst (size n, at least 21); returns the length. */
size_t numfmt_int(char *dst, size_t n, long long v);

#endif
