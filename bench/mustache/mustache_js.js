// mustache_js.js: renders TEMPLATE with DATA.json using mustache.js (Debian's
// node-mustache) for at least SECONDS, HTML escaping off, and prints
// "renders seconds bytes-per-render".
'use strict';
const fs = require('fs');
const Mustache = require(process.argv[2]);
const tpl = fs.readFileSync(process.argv[3], 'utf8');
const data = JSON.parse(fs.readFileSync(process.argv[4], 'utf8'));
const secs = parseFloat(process.argv[5] || '3');
const outFile = process.argv[6];
Mustache.escape = (s) => s;
Mustache.parse(tpl);
let out = Mustache.render(tpl, data);  // warm-up
let n = 0;
const t0 = process.hrtime.bigint();
let el = 0;
while (el < secs || n < 3) {
  out = Mustache.render(tpl, data);
  n++;
  el = Number(process.hrtime.bigint() - t0) / 1e9;
}
if (outFile) fs.writeFileSync(outFile, out);
console.log(n, el, Buffer.byteLength(out));
