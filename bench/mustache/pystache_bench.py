# pystache_bench.py: renders TEMPLATE with DATA.json using pystache for at
# least SECONDS, HTML escaping off, and prints "renders seconds bytes-per-render".
import json
import sys
import time

import pystache

tpl_path, data_path = sys.argv[1], sys.argv[2]
secs = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
out_path = sys.argv[4] if len(sys.argv) > 4 else None
with open(tpl_path) as f:
    parsed = pystache.parse(f.read())
with open(data_path) as f:
    data = json.load(f)
renderer = pystache.Renderer(escape=lambda s: s)
out = renderer.render(parsed, data)  # warm-up
n = 0
t0 = time.perf_counter()
el = 0.0
while el < secs or n < 3:
    out = renderer.render(parsed, data)
    n += 1
    el = time.perf_counter() - t0
if out_path:
    with open(out_path, "w") as f:
        f.write(out)
print(n, el, len(out.encode()))
