/* source: what the runner needs of the data it renders: a watch per name,
 * its current data, and a call when that data changes.  legate's daemon
 * gives it the watcher; a unit test gives it a fake. */
#ifndef LEGATE_SOURCE_H
#define LEGATE_SOURCE_H

#include <jansson.h>

#include "common/error.h"
#include "watcher/name.h"

struct watch;    /* the source's handle for one name; opaque here */

typedef void (*source_changed_fn)(struct watch *w, void *arg);

struct runner_source {
	void *ctx;
	/* A watch on name (n: the name parsed, borrowed); changed(w, arg) is
	 * called, from the loop, whenever its data changes (the first time
	 * included).  NULL with err filled when it cannot be watched. */
	struct watch *(*add)(void *ctx, const char *name, const struct watch_name *n,
			     source_changed_fn changed, void *arg, struct lg_error *err);
	void (*remove)(void *ctx, struct watch *w);
	/* The data, borrowed; NULL while none has arrived. */
	const json_t *(*data)(const struct watch *w);
	const char *(*name)(const struct watch *w);
};

#endif
