#!/usr/bin/env python3
# gen.py: writes the bench data, an HAProxy-like catalog of N services with
# M servers each, as JSON on stdout.  Deterministic: same arguments, same bytes.
import json
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
m = int(sys.argv[2]) if len(sys.argv) > 2 else 5
services = []
for i in range(n):
    servers = []
    for j in range(m):
        servers.append({
            "id": "svc-%04d-%d" % (i, j),
            "address": "10.%d.%d.%d" % (i // 250, i % 250, j + 10),
            "port": 8000 + j,
            "weight": 10 * (j + 1),
            "backup": j == m - 1,
            "tags": ["v1", "zone-%d" % (j % 3)],
        })
    services.append({
        "name": "svc-%04d" % i,
        "host": "svc-%04d.example.internal" % i,
        "balance": "roundrobin" if i % 2 else "leastconn",
        "check_path": "/health",
        "servers": servers,
    })
json.dump({
    "global": {"maxconn": 4096, "nbthread": 2},
    "defaults": {"timeout_connect": 5000, "timeout_client": 30000, "timeout_server": 30000},
    "frontend": {"port": 80, "stats": True},
    "services": services,
}, sys.stdout, indent=None, separators=(",", ":"))
sys.stdout.write("\n")
