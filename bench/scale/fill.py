#!/usr/bin/env python3
# fill.py ADDR SERVICES INSTANCES NODES [FIRST]: registers SERVICES services
# (svc-FIRST .. svc-(FIRST+SERVICES-1)) with INSTANCES instances each, spread
# over NODES nodes, through Consul's transaction API (64 operations a call),
# the way a catalog of that size looks to a watcher.  No health checks: every
# instance is passing.
import json, sys, urllib.request

addr, nsvc, ninst, nnodes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
first = int(sys.argv[5]) if len(sys.argv) > 5 else 0

def txn(ops):
    req = urllib.request.Request("http://%s/v1/txn" % addr, data=json.dumps(ops).encode(), method="PUT")
    with urllib.request.urlopen(req) as r:
        r.read()

ops = []
def op(o):
    ops.append(o)
    if len(ops) == 64:
        txn(ops)
        ops.clear()

for n in range(nnodes):
    op({"Node": {"Verb": "set", "Node": {"Node": "node-%d" % n, "Address": "10.1.%d.%d" % (n // 250, n % 250 + 1)}}})
for s in range(first, first + nsvc):
    for i in range(ninst):
        node = (s * ninst + i) % nnodes
        op({"Service": {"Verb": "set", "Node": "node-%d" % node,
                        "Service": {"ID": "svc-%d-%d" % (s, i), "Service": "svc-%d" % s,
                                    "Port": 20000 + i, "Tags": ["t%d" % (s % 7)]}}})
if ops:
    txn(ops)
