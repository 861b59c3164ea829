#!/bin/bash
# Builds socksify and runs every test (unit and integration) with ctest, plus:
#   build-i386  the 32-bit library and unit tests (cmake/i386.cmake, gcc -m32);
#               the normal build links it in as build/lib32 for integration.i386
#   build-asan  AddressSanitizer + UBSan: unit tests, and integration modules
#               with the ASan library preloaded (the launcher of that build
#               puts the ASan runtime first)
#   build-tsan  ThreadSanitizer: the unit tests (name table threads, fork)
#   build-fuzz  every libFuzzer target for FUZZ_RUNS inputs (default 200000)
# and ends with the full ctest run of the normal build, so the last lines are
# ctest's summary. Exit status is non-zero if any stage failed.
# It starts by checking that every C/C++ file is clang-formatted
# (tests/format_check.sh). SOCKSIFY_QUICK=1 skips the sanitizer and fuzz stages.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
[ "$jobs" -le 2 ] || jobs=2  # a shared 2-core CI machine
fuzz_runs="${FUZZ_RUNS:-200000}"
# Integration modules run under ASan. Modules that run curl or wget stay out:
# those link libp11-kit, whose constructor calls newlocale() before the
# preloaded ASan runtime has initialised; ASan then initialises inside
# newlocale's malloc, with __libc_setlocale_lock held, and leaves that lock
# broken, so curl's own setlocale() waits forever. It happens with
# LD_PRELOAD=libasan.so alone, without socksify. These modules cover Python,
# nc, 50 threads, non-blocking connects, fail-closed paths, SOCKS BIND and --check.
asan_integration='^integration\.(tcp_python_echo|tcp_nc|tcp_concurrency|tcp_nonblocking|tcp_many_pending|udp_resilience|tcp_fail_closed|tcp_bind|tcp_interrupt|tcp_inline_connect|check|fd_safety|launcher_config_safety|remote_dns_name_reuse|resolv|resolv_apt|remote_dns_tree|dns_stub|routes|tree_pipeline)$'

failed=() failed_logs=() stages=0
# Each stage's output also goes to build-logs/N.log, so that a failed stage's
# errors can be repeated after the final ctest summary: CI may keep only the
# tail of the output, and that tail must say what failed.
logs="$PWD/build-logs"
rm -rf "$logs" && mkdir -p "$logs"
stage() {  # stage NAME COMMAND...: runs it, remembers a failure, goes on
  local name="$1" start=$SECONDS log="$logs/$stages.log" rc
  shift
  stages=$((stages + 1))
  echo "=== $name"
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 0 ]; then
    echo "=== $name: ok ($((SECONDS - start)) s)"
  else
    echo "=== $name: FAILED ($((SECONDS - start)) s)"
    failed+=("$name")
    failed_logs+=("$log")
  fi
}

# The i386 tree compiles at -O2 like the normal one but with line tables only
# (-g1): the code is the same (debug info never changes it), the compile a
# quarter shorter (measured: session_test.cpp 14.3 s -> 9.9 s).
build_i386() {  # only what 32-bit programs need: the library, and the unit tests
  cmake -S . -B build-i386 -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
    -DCMAKE_TOOLCHAIN_FILE=cmake/i386.cmake -DSOCKSIFY_BUILD_BENCH=OFF >/dev/null &&
    cmake --build build-i386 -j"$jobs" --target libsocksify.so socksify_unit_tests
}
test_i386() {
  build-i386/tests/socksify_unit_tests --gtest_brief=1
}
build_normal() {
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSOCKSIFY_I386_BUILD_DIR="$PWD/build-i386" &&
    cmake --build build -j"$jobs"
}
# The sanitizer trees build at -O1 with line tables only: a third less compile
# time than -O2 -g (measured on the heaviest unit-test file: 44 s -> 27 s), and
# the reports still name file and line.
sanitizer_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
                 "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG")
build_asan() {
  cmake -S . -B build-asan -G Ninja "${sanitizer_flags[@]}" \
    -DSOCKSIFY_SANITIZE=address,undefined -DSOCKSIFY_BUILD_BENCH=OFF >/dev/null &&
    cmake --build build-asan -j"$jobs"
}
test_asan() {
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE integration &&
    ctest --test-dir build-asan --output-on-failure -j"$jobs" -R "$asan_integration"
}
build_tsan() {
  cmake -S . -B build-tsan -G Ninja "${sanitizer_flags[@]}" \
    -DSOCKSIFY_SANITIZE=thread -DSOCKSIFY_BUILD_BENCH=OFF >/dev/null &&
    cmake --build build-tsan -j"$jobs" --target socksify_unit_tests
}
test_tsan() {
  # The unit binary directly: ctest would also want the targets not built here.
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 build-tsan/tests/socksify_unit_tests
}
fuzz_smoke() {
  FUZZ_JOBS="$jobs" bash tests/fuzz/run.sh "$fuzz_runs"
}

stage "format (clang-format)" bash tests/format_check.sh
stage "i386 build" build_i386
[[ " ${failed[*]} " == *" i386 build "* ]] || stage "i386 unit tests" test_i386
stage "build" build_normal || true
if [ -z "${SOCKSIFY_QUICK:-}" ]; then
  stage "asan+ubsan build" build_asan
  [[ " ${failed[*]} " == *" asan+ubsan build "* ]] || stage "asan+ubsan tests" test_asan
  stage "tsan build" build_tsan
  [[ " ${failed[*]} " == *" tsan build "* ]] || stage "tsan unit tests" test_tsan
  stage "fuzz smoke ($fuzz_runs runs per target)" fuzz_smoke
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "=== FAILED stages: ${failed[*]}"
else
  echo "=== sanitizer and fuzz stages: ok"
fi

# Last: the full suite of the normal build; its summary closes the output.
ctest --test-dir build --output-on-failure -j"$jobs"
status=$?
if [ ${#failed[@]} -gt 0 ]; then
  # Again, after the summary: what each failed stage reported.
  for i in "${!failed[@]}"; do
    echo "=== FAILED stage: ${failed[$i]} (whole output: ${failed_logs[$i]}); its error lines:"
    lines=$(grep -E -i 'error|fail|undefined reference|SUMMARY|Sanitizer|deadly|timeout' "${failed_logs[$i]}" |
              grep -v -E ' Passed |: ok' | head -40)
    if [ -n "$lines" ]; then echo "$lines"; else tail -40 "${failed_logs[$i]}"; fi
  done
  echo "=== FAILED stages: ${failed[*]}"
  exit 1
fi
exit $status
