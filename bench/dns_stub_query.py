#!/usr/bin/python3
"""DNS stub latency: a dig-style UDP A query for a new name, sendto + recvfrom,
timed per query (issue 10: "resolving through the stub under 50 us median").

  baseline  socksify_bench_dns_stub_query query 127.0.0.2 PORT ...  against the
            bench's own minimal responder (serve), no preload: a loopback round
            trip to a resolver that answers at once
  socksify  LD_PRELOAD=libsocksify.so (socks5h, a proxy that is never reached)
            socksify_bench_dns_stub_query query 127.0.0.53 53 ...: answered by the
            stub (a table allocation per new name, the answer injected from loopback)

Rounds alternate the order; the figure is the median over rounds of each run's
median. Target: socksify median < 50 us.

env: BENCH_QUERIES (20000), BENCH_QUERY_MAX_S (10, per run), BENCH_REPS (5),
     BENCH_BUDGET_S (120)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

TARGET_US = 50.0
CLIENT = os.path.join(b.BUILD, "bench", "socksify_bench_dns_stub_query")
PATTERN = r"queries=(\d+) median_us=([\d.]+) p99_us=([\d.]+)"


def run():
    for path in (CLIENT, b.LIBRARY):
        b.require(path, os.path.basename(path))
    count = os.environ.get("BENCH_QUERIES", "20000")
    max_s = os.environ.get("BENCH_QUERY_MAX_S", "10")
    reps = int(os.environ.get("BENCH_REPS", "5"))
    budget = float(os.environ.get("BENCH_BUDGET_S", "120"))
    with b.Processes() as procs:
        port = b.free_port(b.TARGET_HOST)
        procs.start([CLIENT, "serve", b.TARGET_HOST, str(port)])
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        # socks5h on: the stub answers; the proxy (a port nobody listens on) is never asked.
        preload = dict(env, LD_PRELOAD=b.LIBRARY, SOCKSIFY_PROXY=f"socks5h://{b.PROXY_HOST}:9")

        def go(args, e):
            m = b.output_match(args, e, max_s, PATTERN)
            return float(m.group(2)), float(m.group(3))

        variants = {
            "baseline": lambda: go([CLIENT, "query", b.TARGET_HOST, str(port), count, max_s], env),
            "socksify": lambda: go([CLIENT, "query", "127.0.0.53", "53", count, max_s], preload),
        }
        runs = b.alternate(variants, reps, budget)
    med = {n: b.median([m for m, _ in xs]) for n, xs in runs.items()}
    p99 = {n: b.median([p for _, p in xs]) for n, xs in runs.items()}
    for n, xs in runs.items():
        b.log(f"dns_stub_query {n}: medians in round order {b.fmt_vals([m for m, _ in xs], 'us', digits=1)}; "
              f"median {med[n]:.1f} us, p99 {p99[n]:.1f} us")
    ratio = med["socksify"] / med["baseline"]
    return b.result("DNS stub query (us, median)", med["baseline"], med["socksify"], "us", ratio,
                    f"socksify < {TARGET_US:.0f} us", med["socksify"] < TARGET_US,
                    note=f"p99 {p99['baseline']:.1f} vs {p99['socksify']:.1f} us")


if __name__ == "__main__":
    sys.exit(0 if run()["verdict"] == "PASS" else 1)
