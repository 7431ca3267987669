/* docker: the running containers of a Docker engine (their addresses and
 * BACKEND_<PORT> variables), read over the engine's unix socket and kept
 * current through its events stream, which is resumed from the last event
 * seen after a drop. */
#ifndef LEGATE_AMB_DOCKER_H
#define LEGATE_AMB_DOCKER_H

#include <stdbool.h>

#include "common/error.h"
#include "common/loop.h"

struct amb_docker;

/* Called from the loop when the containers changed (or were first
 * listed). */
typedef void (*amb_docker_cb)(void *arg);

/* Starts listing and following the containers of the engine at
 * socket_path.  Returns NULL with err filled (caller-owned). */
struct amb_docker *amb_docker_new(struct loop *l, const char *socket_path, amb_docker_cb cb,
				  void *arg, struct lg_error *err);

void amb_docker_free(struct amb_docker *d);

/* True once the first listing is complete. */
bool amb_docker_ready(const struct amb_docker *d);

/* The containers (borrowed; a jansson object): id -> {"ips": [IPv4...],
 * "backends": {"PORT": "BACKEND"}}; only containers with at least one
 * address and one BACKEND_<PORT> variable are in it. */
const void *amb_docker_containers(const struct amb_docker *d);

/* Parses an inspected container (GET /containers/ID/json) into the form
 * above; returns a new reference or NULL when it is not running, has no
 * address or no BACKEND_<PORT> variable. */
void *amb_docker_parse(const void *inspect);

#endif
