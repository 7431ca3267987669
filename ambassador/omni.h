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

/* Appends the config for the containers and backends known now (o may be
 * NULL: no container, for the check at start).  Returns 0, or -1 with err
 * filled. */
int amb_omni_render(const struct amb_spec *spec, struct amb_omni *o, struct amb_config *cfg,
		    struct buf *out, struct lg_error *err);

#endif
