/* omni: progrium/ambassadord's omni mode: one listener for every
 * container of a Docker engine, each connection sent to the backend the
 * connecting container names for the port it asked for (its
 * BACKEND_<PORT> variable), and the HAProxy config that does it. */
#ifndef LEGATE_AMB_OMNI_H
#define LEGATE_AMB_OMNI_H

#include <stdbool.h>

#include "ambassador/args.h"
#include "ambassador/config.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/loop.h"

struct amb_omni;

/* Called from the loop when the config to run changed. */
typedef void (*amb_omni_cb)(void *arg);

/* Starts following the engine at spec->docker and every backend the
 * containers name.  spec is borrowed for the omni's life.
 * Returns NULL with err filled (caller-owned). */
struct amb_omni *amb_omni_new(struct loop *l, const struct amb_spec *spec, amb_omni_cb cb,
			      void *arg, struct lg_error *err);

void amb_omni_free(struct amb_omni *o);

/* True once the engine's containers have been listed. */
bool amb_omni_ready(const struct amb_omni *o);

/* Writes the routes known now into the map file the config names
 * (RUN_DIR/omni.map) and, when HAProxy runs, replaces its copy through the
 * runtime API (prepare map, add map, commit map on the master CLI, retried
 * after a second when refused): a container that comes or goes is no
 * reload.  Call after each render, before the config is applied. */
void amb_omni_sync(struct amb_omni *o, bool running);

/* Writes an empty map file, for the check at start and HAProxy's first
 * start.  Returns 0, or -1 with err filled. */
int amb_omni_map_init(const struct amb_spec *spec, struct lg_error *err);

/* The map file's path: RUN_DIR/omni.map. */
void amb_omni_map_path(const struct amb_spec *spec, char *dst, size_t n);

/* Appends the config for the containers and backends known now (o may be
 * NULL: no container, for the check at start).  Returns 0, or -1 with err
 * filled. */
int amb_omni_render(const struct amb_spec *spec, struct amb_omni *o, struct amb_config *cfg,
		    struct buf *out, struct lg_error *err);

#endif
