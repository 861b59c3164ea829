// node http_get.js URL: GET URL with node's http module, print one JSON line
// {"status", "bytes", "sha256"} or {"error"}; exit status 0 only on a 200.
'use strict';
const http = require('http');
const crypto = require('crypto');

const url = process.argv[2];
const timer = setTimeout(() => {
  console.log(JSON.stringify({ error: 'timeout' }));
  process.exit(3);
}, 30000);

http.get(url, { agent: false }, (res) => {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  res.on('data', (chunk) => { hash.update(chunk); bytes += chunk.length; });
  res.on('end', () => {
    clearTimeout(timer);
    console.log(JSON.stringify({ status: res.statusCode, bytes, sha256: hash.digest('hex') }));
    process.exit(res.statusCode === 200 ? 0 : 1);
  });
}).on('error', (err) => {
  clearTimeout(timer);
  console.log(JSON.stringify({ error: err.code || String(err) }));
  process.exit(2);
});
