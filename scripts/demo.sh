#!/bin/bash
# Builds socksify and shows it carrying a real program's connection: curl
# fetches a page from a local web server through microsocks, and microsocks'
# own log proves it carried the connection.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

echo "hello through socks" > "$work/index.html"
/usr/bin/python3 -m http.server 18080 --bind 127.0.0.2 --directory "$work" >/dev/null 2>&1 &
pids+=($!)
microsocks -i 127.0.0.1 -p 11080 >"$work/microsocks.log" 2>&1 &
pids+=($!)
sleep 0.5

# Loopback normally goes direct; the demo's target is on loopback, so turn that off.
echo "+ socksify -x socks5://127.0.0.1:11080 -- curl -s http://127.0.0.2:18080/index.html"
SOCKSIFY_DIRECT_LOOPBACK=off SOCKSIFY_LOG_LEVEL=info \
  build/socksify -x socks5://127.0.0.1:11080 -- curl -s http://127.0.0.2:18080/index.html
echo "+ what microsocks saw:"
cat "$work/microsocks.log"
