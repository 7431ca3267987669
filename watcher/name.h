/* name: the data names templates use, parsed once into what they watch:
 *   services[~tag=T][@DC]             every service (with tag T)
 *   service.NAME[~any][~tag=T][@DC]   instances (passing unless ~any)
 *   nodes, node.NAME                  the catalog's nodes, one node
 *   key.PATH, tree.PATH               a KV value, every key under PATH
 * The runner parses a template's names with it, the watcher watches the
 * result; neither parses a name twice.  libc only. */
#ifndef LEGATE_WATCH_NAME_H
#define LEGATE_WATCH_NAME_H

#include <stdbool.h>

#include "common/error.h"

enum watch_kind {
	WK_SERVICES, WK_SERVICE, WK_NODES, WK_NODE, WK_KEY, WK_TREE,
	WK_TRIGGER      /* the watcher's own: a catalog-wide long-poll that wakes others */
};

struct watch_name {
	enum watch_kind kind;
	char *arg;      /* service, node, key or prefix; NULL for services and nodes */
	char *tag;      /* ~tag=T, or NULL */
	char *dc;       /* @DC, or NULL */
	bool any;       /* ~any: every instance, whatever its health */
};

/* Parses text into *n (its strings owned by n: watch_name_free them).
 * Returns 0, or -1 with err saying what in text is wrong (a control
 * character, an unknown root, an empty name, an unknown ~filter). */
int watch_name_parse(const char *text, struct watch_name *n, struct lg_error *err);

void watch_name_free(struct watch_name *n);

#endif
