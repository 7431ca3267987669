/* backend: the list of "host:port" addresses one forward sends traffic to,
 * and the address syntax accepted from command lines and stores, strict
 * enough that nothing read from a store can change the HAProxy config. */
#ifndef LEGATE_AMB_BACKEND_H
#define LEGATE_AMB_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include "common/error.h"

#define AMB_HOST_MAX 254

/* A sorted list of distinct addresses, each "host:port" or "[v6]:port".
 * Zero-initialised is empty. */
struct amb_list {
	char **v;
	size_t n, cap;
};

/* Parses "host:port", "[v6]:port", or a bare host (IPv4, name or v6)
 * when default_port > 0.  Surrounding white space is ignored.  Fills host
 * (AMB_HOST_MAX + 1 bytes, brackets removed) and *port; returns 0, or -1
 * with err filled (caller-owned, errlen bytes). */
int amb_addr_parse(const char *s, int default_port, char *host, int *port,
		   struct lg_error *err);

/* Parses a port number 1..65535; returns it or -1. */
int amb_port_parse(const char *s);

/* True when host is an IPv6 literal (holds a ':'). */
bool amb_host_is_v6(const char *host);

/* Adds host:port (copied) to l; duplicates are dropped when sorted.
 * Returns 0 or -1 (out of memory). */
int amb_list_add(struct amb_list *l, const char *host, int port);

/* Sorts l and removes duplicates. */
void amb_list_sort(struct amb_list *l);

/* True when a and b hold the same addresses (both sorted). */
bool amb_list_equal(const struct amb_list *a, const struct amb_list *b);

/* Frees dst's contents and moves src's into it; src ends empty. */
void amb_list_move(struct amb_list *dst, struct amb_list *src);

/* Writes the list as "a, b, c" (or "none") into dst (n bytes). */
const char *amb_list_str(const struct amb_list *l, char *dst, size_t n);

void amb_list_free(struct amb_list *l);

#endif
