#!/bin/bash
# Builds the libFuzzer targets (clang, in build-fuzz/) and runs each for RUNS
# inputs (default 10,000,000), one after the other, starting from the seed
# corpus in tests/fuzz/corpus/<target>/. New interesting inputs go to
# build-fuzz/fuzz-corpus/<target>/ (the checked-in seeds are not touched);
# a crash leaves its input in build-fuzz/fuzz-artifacts/ and fails the script.
#
#   tests/fuzz/run.sh [RUNS]
#   FUZZ_TARGETS="fuzz_config fuzz_proxy_url" tests/fuzz/run.sh 100000
#   FUZZ_BUILD_DIR=/tmp/bf FUZZ_JOBS=2 tests/fuzz/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-10000000}"
build="${FUZZ_BUILD_DIR:-build-fuzz}"
jobs="${FUZZ_JOBS:-2}"
all_targets=(fuzz_decode_reply fuzz_decode_udp_header fuzz_decode_choice fuzz_handshake
             fuzz_proxy_url fuzz_config fuzz_direct_rule fuzz_fake_resolver fuzz_dns_stub
             fuzz_socks4_reply fuzz_http_reply fuzz_resolv_conf)
read -r -a targets <<< "${FUZZ_TARGETS:-${all_targets[*]}}"

CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSOCKSIFY_BUILD_FUZZERS=ON -DSOCKSIFY_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]}"

mkdir -p "$build/fuzz-artifacts"
failed=()
for t in "${targets[@]}"; do
  work="$build/fuzz-corpus/$t"
  mkdir -p "$work"
  log="$build/fuzz-$t.log"
  start=$SECONDS
  if "$build/tests/fuzz/$t" -runs="$runs" -print_final_stats=1 \
       -artifact_prefix="$build/fuzz-artifacts/$t-" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    echo "fuzz: $t: $runs runs in $((SECONDS - start)) s, ${cov:-cov: ?}, corpus $(ls "$work" | wc -l) files: ok"
  else
    echo "fuzz: $t: FAILED after $((SECONDS - start)) s (log: $log)"
    grep -E 'ERROR|FUZZ_CHECK|runtime error|SUMMARY|artifact|Test unit written' "$log" | head -20 || tail -20 "$log"
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ok ($runs runs each)"
