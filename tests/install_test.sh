#!/bin/bash
# cmake --install puts the launcher, library and man pages in place, and
# the installed launcher (also reached through a symlink elsewhere) preloads the
# installed library, not the build tree's.
set -euo pipefail
build="$1"
deps_check="${2:-libc-only}"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null

fail() { echo "FAIL: $*" >&2; exit 1; }
for f in bin/socksify lib/libsocksify.so share/man/man1/socksify.1; do
  [ -e "$prefix/$f" ] || fail "missing $f"
done
# A preloaded process must gain no shared-library dependency: only libc (and the
# loader and vDSO) may appear; fmt, libstdc++ and libgcc are linked in.
if [ "$deps_check" = libc-only ]; then
  extra=$(ldd "$prefix/lib/libsocksify.so" | grep -v -E 'linux-vdso|libc\.so\.6|ld-linux' || true)
  [ -z "$extra" ] || fail "libsocksify.so depends on: $extra"
fi

check() {
  local launcher="$1" seen
  seen=$("$launcher" -x socks5://127.0.0.1:1 -- sh -c 'echo "$LD_PRELOAD"')
  # The word naming our library (a sanitizer build puts its runtime first).
  for word in $seen; do
    case "$word" in */libsocksify.so) seen="$word" ;; esac
  done
  seen=$(readlink -f "$seen")
  [ "$seen" = "$(readlink -f "$prefix/lib/libsocksify.so")" ] || fail "$launcher preloads '$seen'"
}
check "$prefix/bin/socksify"
mkdir "$prefix/elsewhere"
ln -s "$prefix/bin/socksify" "$prefix/elsewhere/socksify"
check "$prefix/elsewhere/socksify"
echo "installed launcher preloads the installed library: ok"
