#!/bin/bash
# connect_cycles.py with a 32-bit client: the same connect_cycles.cpp built with
# g++ -m32, preloaded with the i386 library (build/lib32/libsocksify.so, see
# README) vs the same 32-bit binary speaking SOCKS5 itself. Target >= 0.95.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${SOCKSIFY_BUILD_DIR:-$here/../build}"
lib="$build/lib32/libsocksify.so"
[ -e "$lib" ] || { echo "no i386 library at $lib (configure with SOCKSIFY_I386_BUILD_DIR)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
g++ -m32 -std=c++20 -O2 -o "$tmp/connect_cycles32" "$here/connect_cycles.cpp"
file_class=$(readelf -h "$tmp/connect_cycles32" | awk '/Class:/ {print $2}')
[ "$file_class" = ELF32 ] || { echo "client is $file_class" >&2; exit 1; }
BENCH_CLIENT="$tmp/connect_cycles32" BENCH_LIBRARY="$(readlink -f "$lib")" \
  /usr/bin/python3 "$here/connect_cycles.py" "$@"
