/* etcd: key. and tree. watches on etcd, any number of them on a few calls:
 * batched reads, then one stream over their common prefix (v3 JSON gateway,
 * resumed from the next revision) or one recursive wait (v2 API). */
#ifndef LEGATE_ETCD_H
#define LEGATE_ETCD_H

#include "common/buf.h"
#include "common/error.h"
#include "watcher/watch.h"

struct watch;
struct etcd_hub;

/* The end of the v3 range that covers every key starting with prefix[0..n):
 * appended to out (one NUL byte when no such end exists).  0 or -1. */
int etcd_prefix_end(struct buf *out, const char *prefix, size_t n);

#endif
