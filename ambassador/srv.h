/* srv: DNS SRV records followed on the event loop with c-ares: the SRV
 * query, an A query per target, and a new round after the records' TTL
 * (with a floor, since Consul answers with TTL 0). */
#ifndef LEGATE_AMB_SRV_H
#define LEGATE_AMB_SRV_H

#include <stddef.h>

#include "ambassador/backend.h"
#include "common/loop.h"
#include "common/error.h"

struct amb_srv;

/* Called after each round that got an answer, with the addresses
 * (borrowed for the call): empty when the name has no records. */
typedef void (*amb_srv_cb)(void *arg, const struct amb_list *backends);

/* Starts resolving name on the loop, asking server ("HOST:PORT", copied)
 * or, when NULL, the servers of /etc/resolv.conf; rounds are at least
 * min_interval seconds apart.  Returns NULL with err filled (caller-owned). */
struct amb_srv *amb_srv_new(struct loop *l, const char *name, const char *server,
			    double min_interval, amb_srv_cb cb, void *arg,
			    struct lg_error *err);

/* Cancels the queries in flight (no callback) and frees r. */
void amb_srv_free(struct amb_srv *r);

#endif
