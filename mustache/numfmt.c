/* numfmt: shortest round-trip formatting of doubles and fast integers. */
#include "mustache/numfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t numfmt_double(char *dst, size_t n, double d)
{
	static const char *const fmts[] = { "%.15g", "%.16g", "%.17g" };
	int len = 0;

	if (n == 0)
		return 0;
	if (isnan(d))
		return (size_t)snprintf(dst, n, "nan");
	if (isinf(d))
		return (size_t)snprintf(dst, n, d < 0 ? "-inf" : "inf");
	for (size_t i = 0; i < 3; i++) {
		len = snprintf(dst, n, fmts[i], d);
		if (len < 0 || (size_t)len >= n) {
			dst[0] = '\0';
			return 0;
		}
		if (strtod(dst, NULL) == d)
			break;
	}
	return (size_t)len;
}

size_t numfmt_int(char *dst, size_t n, long long v)
{
	/* Two digits per division, written backwards straight into dst. */
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	/* Negate in unsigned arithmetic so LLONG_MIN is safe. */
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	unsigned long long x = u;
	size_t len = v < 0 ? 2 : 1, i;

	while (x >= 10) {
		x /= 10;
		len++;
	}
	if (len >= n) {
		if (n)
			dst[0] = '\0';
		return 0;
	}
	dst[len] = '\0';
	i = len;
	while (u >= 100) {
		unsigned r = (unsigned)(u % 100);

		u /= 100;
		dst[--i] = pairs[2 * r + 1];
		dst[--i] = pairs[2 * r];
	}
	if (u >= 10) {
		dst[--i] = pairs[2 * u + 1];
		dst[--i] = pairs[2 * u];
	} else {
		dst[--i] = (char)('0' + u);
	}
	if (v < 0)
		dst[--i] = '-';
	return len;
}
