/* config: the HAProxy configuration the ambassador runs, rendered from a
 * built-in Mustache template, and the check it gets once at start. */
#ifndef LEGATE_AMB_CONFIG_H
#define LEGATE_AMB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "ambassador/args.h"
#include "ambassador/backend.h"
#include "common/buf.h"
#include "common/error.h"

struct amb_config;

/* Compiles the built-in template and prepares every forward's credentials
 * (creds.h: files written into spec->run_dir unless spec->print_config).
 * spec is borrowed for the config's life.  Returns NULL with err filled
 * (caller-owned) on failure. */
struct amb_config *amb_config_new(const struct amb_spec *spec, struct lg_error *err);

void amb_config_free(struct amb_config *c);

/* Renders the config for the current backends (lists[i] belongs to
 * spec->fwd[i]; a forward with no backend gets no listener, so its port
 * refuses connections) and appends it to out.  Returns 0, or -1 with err
 * filled. */
int amb_config_render(struct amb_config *c, const struct amb_list *const *lists,
		      struct buf *out, struct lg_error *err);

/* The prepared credentials of spec->fwd[i] (borrowed). */
const struct amb_creds_cfg *amb_config_creds(const struct amb_config *c, size_t i);

/* True when the config holds a secret (a Redis password): it is
 * installed mode 0600. */
bool amb_config_secret(const struct amb_config *c);

/* Runs "haproxy -c" on text, staged beside path and removed after.
 * Returns 0, or -1 with err filled (HAProxy's complaint). */
int amb_config_check(struct amb_config *c, const char *path, const struct buf *text,
		     struct lg_error *err);

#endif
