/* sources: where one forward's backends come from (a fixed list, DNS SRV
 * records, an etcd or Consul KV path, a crewjam/ambassador etcd layout),
 * kept current on the event loop and reported as a sorted address list. */
#ifndef LEGATE_AMB_SOURCES_H
#define LEGATE_AMB_SOURCES_H

#include <stdbool.h>
#include <stddef.h>

#include "ambassador/args.h"
#include "ambassador/backend.h"
#include "common/loop.h"
#include "common/error.h"

struct amb_source;

/* Called from the loop when the source's list changed (or was first
 * known). */
typedef void (*amb_source_cb)(struct amb_source *s, void *arg);

/* Starts following f's backends (spec and f are borrowed for the source's
 * life).  Returns NULL with err filled (caller-owned) on bad options. */
struct amb_source *amb_source_new(struct loop *l, const struct amb_spec *spec,
				  const struct amb_forward *f, amb_source_cb cb, void *arg,
				  struct lg_error *err);

void amb_source_free(struct amb_source *s);

/* The current backends (borrowed; empty before the first answer). */
const struct amb_list *amb_source_list(const struct amb_source *s);

/* True once the source has had its first answer. */
bool amb_source_ready(const struct amb_source *s);

/* Computes a KV forward's backends from [{key, path, value}] under path
 * (full paths in "path", with or without a leading '/'): the values of the keys below path/ when
 * there are any, else path's own value.  Each value is one address or a
 * comma-separated list; bad ones are logged and skipped. */
void amb_kv_backends(const char *path, const void *tree, struct amb_list *out);

/* Computes a crewjam/ambassador forward's backends from the tree under
 * PREFIX/instances and the value of PREFIX/master (a string or NULL). */
void amb_crewjam_backends(const struct amb_forward *f, const void *tree,
			  const char *master, struct amb_list *out);

#endif
