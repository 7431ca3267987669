/* data: helpers that turn server answers into the watcher's canonical
 * JSON: base64, strings from untrusted bytes, sorted lists. */
#ifndef LEGATE_DATA_H
#define LEGATE_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "common/buf.h"

/* Decodes standard base64 (padding optional, no whitespace) into out
 * (appended).  Returns 0, or -1 on a bad character or no memory. */
int b64_decode(struct buf *out, const char *s, size_t n);

/* Appends the standard base64 of p[0..n) to out.  Returns 0 or -1. */
int b64_encode(struct buf *out, const void *p, size_t n);

/* A new JSON string of p[0..n); bytes that are not valid UTF-8 (and NUL)
 * become '?'.  NULL only when out of memory. */
json_t *data_string(const char *p, size_t n);

/* Sorts a JSON list in place by the string members k1 then k2 (k2 may be
 * NULL); missing members sort as "".  Returns a. */
json_t *data_sort_by(json_t *a, const char *k1, const char *k2);

/* Sorts a list of strings in place (others keep their place at the end). */
json_t *data_sort_strings(json_t *a);

/* A new list of the strings in `tags` (a JSON list or NULL), sorted. */
json_t *data_tags(const json_t *tags);

/* A 64-bit hash of n bytes at p (not for adversaries: compares
 * answers and files names in tables). */
uint64_t data_hash(const char *p, size_t n);

/* Does the list of strings `list` hold s? */
int data_has_string(const json_t *list, const char *s);

/* A new object with the string members of `meta` (NULL: empty). */
json_t *data_meta(const json_t *meta);

/* The string member k of o, or "" (borrowed). */
const char *data_str(const json_t *o, const char *k);

/* Percent-encodes s into b, leaving '/' alone when keep_slash.  0 or -1. */
int url_escape(struct buf *b, const char *s, int keep_slash);

/* The part of key below prefix ("config/a" under "config" is "a"); key
 * itself when it is not under prefix.  Borrowed from key. */
const char *data_relative_key(const char *key, const char *prefix);

#endif
