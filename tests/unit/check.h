/* check: the few macros every unit test program uses.  A failed check prints
 * file:line and the expression, and the program exits 1 at the end. */
#ifndef LEGATE_CHECK_H
#define LEGATE_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define fail(...) do { \
	fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
	check_failures++; \
} while (0)

#define check(expr) do { if (!(expr)) fail("check failed: %s", #expr); } while (0)

#define check_str(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if (!g_ || strcmp(g_, w_) != 0) \
		fail("%s: got \"%s\", want \"%s\"", #got, g_ ? g_ : "(null)", w_); \
} while (0)

#define check_int(got, want) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (g_ != w_) fail("%s: got %lld, want %lld", #got, g_, w_); \
} while (0)

#define check_done() (check_failures ? (fprintf(stderr, "%d check(s) failed\n", check_failures), 1) : 0)

#endif
