/* filter: the value filters ({{name|lower}}) and value tests
 * ({{#name>=value}}) of legate's Mustache extensions. */
#ifndef LEGATE_MUSTACHE_FILTER_H
#define LEGATE_MUSTACHE_FILTER_H

#include "mustache/internal.h"

/* A string, number or boolean as text: *s (in v or in tmp, size at least
 * 32) and *n set, 0; or -1 for a missing value, null, list or object. */
int mu_scalar_text(json_t *v, char *tmp, size_t tmplen, const char **s, size_t *n);

/* Applies filter f (arguments in t's pool) to v (borrowed, may be NULL).
 * Returns v itself when unchanged, a new reference the caller owns, or
 * NULL: the value is missing (errtext left empty) or out of memory
 * (errtext filled). */
json_t *mu_filter_apply(const struct mustache_tpl *t, const struct mu_filter *f, json_t *v,
			char *errtext, size_t errlen);

/* The test of nm (nm->test set) on v (may be NULL): 1 passes, 0 fails.
 * Numbers, and strings that read whole as numbers, compare as numbers when
 * the test's value is a number too; anything else compares as bytes.  A
 * missing value or null is the empty string; a list or object fails every
 * test (before nm->neg inverts the result). */
int mu_test(const struct mustache_tpl *t, const struct mu_name *nm, json_t *v);

#endif
