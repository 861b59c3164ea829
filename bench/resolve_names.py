#!/usr/bin/python3
"""Remote-DNS lookup benchmark: getaddrinfo() of names never seen before, from
8 threads at once, under LD_PRELOAD=build/libsocksify.so with a socks5h proxy
(socksify_bench_resolve_names; nothing is sent anywhere: the name table
answers, and the proxy address is never contacted by a lookup).

  baseline   the same process and threads resolving a numeric host
             ("127.0.0.1"), which libc answers without any lookup
  socksify   new names ("h<thread>-<i>.bench.test"), answered by the fake
             resolver: a name table insert and the addrinfo list

Each run prints both medians (and p99s) in microseconds; ratio = median over
runs of new-name median / numeric median within the run. Target: ratio <= 5
(a new name costs at most five of libc's cheapest answers; on the shared 2-core
machine it is 2.4-2.6, about 0.27 vs 0.11 us), so a name table that starts to
serialise the threads or do much more per lookup shows.

env: BENCH_RESOLVE_THREADS (8), BENCH_RESOLVE_NAMES (5000, per thread), BENCH_REPS (5)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

TARGET = 5.0
PROG = os.path.join(b.BUILD, "bench", "socksify_bench_resolve_names")
PATTERN = (r"numeric host \(baseline\): median ([\d.]+) us\s+p99 ([\d.]+) us\s+"
           r"new names:\s+median ([\d.]+) us\s+p99 ([\d.]+) us")


def run():
    b.require(PROG, "socksify_bench_resolve_names")
    b.require(b.LIBRARY, "library")
    threads = os.environ.get("BENCH_RESOLVE_THREADS", "8")
    names = os.environ.get("BENCH_RESOLVE_NAMES", "5000")
    reps = int(os.environ.get("BENCH_REPS", "5"))
    # Port 1 on 127.0.0.1: never contacted, a lookup sends nothing.
    env = dict(b.socksify_env(1), LD_PRELOAD=b.LIBRARY)

    def go():
        m = b.output_match([PROG, threads, names], env, 60, PATTERN)
        return tuple(float(m.group(i)) for i in range(1, 5))

    go()  # warm-up
    runs = b.alternate({"both": go}, reps, budget_s=120)["both"]
    base = [r[0] for r in runs]
    sx = [r[2] for r in runs]
    b.log(f"resolve_names numeric: medians {b.fmt_vals(base, 'us', digits=2)}, "
          f"p99 {b.fmt_vals([r[1] for r in runs], 'us', digits=2)}")
    b.log(f"resolve_names new names: medians {b.fmt_vals(sx, 'us', digits=2)}, "
          f"p99 {b.fmt_vals([r[3] for r in runs], 'us', digits=2)}")
    ratio = b.median([s / x for s, x in zip(sx, base)])
    p99 = b.median([r[3] for r in runs])
    return b.result("getaddrinfo of a new name (us)", b.median(base), b.median(sx), "us", ratio,
                    f"<= {TARGET:g}", ratio <= TARGET,
                    note=f"{threads} threads x {names} names; new-name p99 {p99:.1f} us "
                         f"(numeric p99 {b.median([r[1] for r in runs]):.1f} us)")


if __name__ == "__main__":
    sys.exit(0 if run()["verdict"] == "PASS" else 1)
