/* etcd: key. and tree. watches on etcd, through the v3 JSON gateway (range,
 * then a watch stream resumed from the next revision) or the v2 API
 * (recursive wait on waitIndex). */
#ifndef LEGATE_ETCD_H
#define LEGATE_ETCD_H

#include "common/buf.h"

struct watch;

/* The end of the v3 range that covers every key starting with prefix[0..n):
 * appended to out (one NUL byte when no such end exists).  0 or -1. */
int etcd_prefix_end(struct buf *out, const char *prefix, size_t n);

#endif
