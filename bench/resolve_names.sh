#!/bin/bash
# getaddrinfo() of new names under socksify with remote DNS (socks5h), 8 threads:
# median and p99 latency, beside libc resolving a numeric host in the same run.
# Nothing is sent: the proxy address is never contacted by a lookup.
set -euo pipefail
build="${BUILD:-$(dirname "$0")/../build}"
SOCKSIFY_PROXY=socks5h://127.0.0.1:1 LD_PRELOAD="$build/libsocksify.so" \
  "$build/bench/socksify_bench_resolve_names" "${1:-8}" "${2:-5000}"
