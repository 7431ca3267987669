/* consul: Consul HTTP API calls for watches, and the shapes templates see. */
#ifndef LEGATE_CONSUL_H
#define LEGATE_CONSUL_H

#include <jansson.h>

struct watch;

/* Shapes a Consul answer (in: parsed body, NULL for a 404) for watch w's
 * kind.  Returns new data, or NULL when the answer has an unexpected shape. */
json_t *consul_shape(const struct watch *w, const json_t *in, long status);

/* One instance {id, name, address, port, node, node_address, datacenter,
 * tags, meta, status, node_id, node_meta, node_tagged_addresses,
 * tagged_addresses {NAME: {address, port}}, weights {passing, warning}}
 * from a Consul node and service object (borrowed). */
json_t *consul_instance(const json_t *node, const json_t *svc, const char *status);

#endif
