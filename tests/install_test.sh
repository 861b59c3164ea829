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
for f in bin/socksify lib/libsocksify.so include/socksify/socksify.h share/man/man1/socksify.1; do
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
  # With the i386 library installed: one entry for both classes, "$LIB" left to
  # the loader (lib/x86_64-linux-gnu for this 64-bit sh).
  if [ -e "$prefix/lib32/libsocksify.so" ]; then
    [ "$seen" = "$(readlink -f "$prefix")/\$LIB/libsocksify.so" ] || fail "$launcher preloads '$seen'"
    seen="${seen/\$LIB/lib/x86_64-linux-gnu}"
  fi
  seen=$(readlink -f "$seen")
  [ "$seen" = "$(readlink -f "$prefix/lib/libsocksify.so")" ] || fail "$launcher preloads '$seen'"
}
check "$prefix/bin/socksify"
mkdir "$prefix/elsewhere"
ln -s "$prefix/bin/socksify" "$prefix/elsewhere/socksify"
check "$prefix/elsewhere/socksify"
echo "installed launcher preloads the installed library: ok"

# The i386 library (a build configured with SOCKSIFY_I386_BUILD_DIR): where the
# loader's $LIB leads 32-bit programs, libc its only dependency as well.
if [ -e "$prefix/lib32/libsocksify.so" ]; then
  for d in lib32 lib/i386-linux-gnu; do
    readelf -h "$prefix/$d/libsocksify.so" | grep -q 'Machine:.*80386' || fail "$d/libsocksify.so is not i386"
  done
  if [ "$deps_check" = libc-only ]; then
    extra=$(readelf -d "$prefix/lib32/libsocksify.so" | awk '/NEEDED/ {print $5}' |
            grep -v -E '^\[(libc|libm)\.so\.6\]$|^\[ld-linux\.so\.2\]$' || true)
    [ -z "$extra" ] || fail "lib32/libsocksify.so depends on: $extra"
  fi
  echo "installed i386 library: ok"
fi

# Every function the public header declares is exported by the library.
exported=$(nm -D --defined-only "$prefix/lib/libsocksify.so" | awk '{print $3}')
declared=$(grep -oE '\b(R[a-z0-9]+|socksify_version)\(' "$prefix/include/socksify/socksify.h" | tr -d '(' | sort -u)
[ "$(echo "$declared" | wc -l)" -ge 20 ] || fail "found only: $declared"
for name in $declared; do
  grep -qx "$name" <<<"$exported" || fail "socksify.h declares $name, libsocksify.so does not export it"
done

# A program built against the installed header and library gets that library.
cat > "$prefix/version.c" <<'C'
#include <stdio.h>
#include <socksify/socksify.h>
int main(void) { puts(socksify_version()); return 0; }
C
cc -Wall -Werror -I"$prefix/include" -o "$prefix/version" "$prefix/version.c" \
  -L"$prefix/lib" -lsocksify -Wl,-rpath,"$prefix/lib"
run_linked=("$prefix/version")
if [ "$deps_check" != libc-only ]; then  # a sanitizer build: its runtime must load first
  run_linked=(env LD_PRELOAD="$(cc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0 "$prefix/version")
fi
got=$(SOCKSIFY_PROXY=socks5://127.0.0.1:1 "${run_linked[@]}")
want=$("$prefix/bin/socksify" --version)
[ "socksify $got" = "$want" ] || fail "linked program reports '$got', launcher '$want'"
echo "program linked against the installed header and library: ok"
