#!/bin/bash
# Builds the libFuzzer targets (clang, in build-fuzz/) and runs each for RUNS
# inputs (default 10,000,000), FUZZ_JOBS (default 2) at a time, starting from the seed
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
# Slowest first (fuzz_config, fuzz_http_reply: most of the stage), so the other
# core takes the short ones meanwhile.
all_targets=(fuzz_config fuzz_http_reply fuzz_resolv_conf fuzz_decode_reply fuzz_decode_udp_header
             fuzz_decode_choice fuzz_handshake fuzz_proxy_url fuzz_direct_rule fuzz_fake_resolver
             fuzz_dns_stub fuzz_socks4_reply)
read -r -a targets <<< "${FUZZ_TARGETS:-${all_targets[*]}}"

CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSOCKSIFY_BUILD_FUZZERS=ON -DSOCKSIFY_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]}"

mkdir -p "$build/fuzz-artifacts"
# One target per job at a time (libFuzzer runs on one core): FUZZ_JOBS targets run
# side by side; each writes its verdict to a file, printed in target order.
run_one() {  # run_one TARGET: fuzzes it, writes $build/fuzz-TARGET.verdict
  local t="$1" work="$build/fuzz-corpus/$1" log="$build/fuzz-$1.log" start=$SECONDS cov
  mkdir -p "$work"
  if "$build/tests/fuzz/$t" -runs="$runs" -print_final_stats=1 \
       -artifact_prefix="$build/fuzz-artifacts/$t-" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    echo "fuzz: $t: $runs runs in $((SECONDS - start)) s, ${cov:-cov: ?}, corpus $(ls "$work" | wc -l) files: ok" \
      >"$build/fuzz-$t.verdict"
  else
    { echo "fuzz: $t: FAILED after $((SECONDS - start)) s (log: $log)"
      grep -E 'ERROR|FUZZ_CHECK|runtime error|SUMMARY|artifact|Test unit written' "$log" | head -20 ||
        tail -20 "$log"; } >"$build/fuzz-$t.verdict"
    return 1
  fi
}
running=0
for t in "${targets[@]}"; do
  rm -f "$build/fuzz-$t.verdict"
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_one "$t" &
  running=$((running + 1))
done
wait
failed=()
for t in "${targets[@]}"; do
  cat "$build/fuzz-$t.verdict" 2>/dev/null || echo "fuzz: $t: FAILED (no verdict)"
  grep -q ': ok$' "$build/fuzz-$t.verdict" 2>/dev/null || failed+=("$t")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ok ($runs runs each, $jobs at a time)"
