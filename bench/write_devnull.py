#!/usr/bin/python3
"""Hot-path benchmark: 10M write()s of 1 byte to /dev/null, timed inside the
process (socksify_bench_write_devnull), without and with
LD_PRELOAD=build/libsocksify.so (configured with a proxy, as under the
launcher; no proxy is contacted). Whatever the library does with write() on a
descriptor it does not manage is what this measures: today write() is not
interposed at all, so the figure is the baseline cost of being preloaded.

Runs alternate (5 each by default); ratio = median(with) / median(without).
Target: <= 1.05.

env: BENCH_WRITES (10000000), BENCH_REPS (5)
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

TARGET = 1.05
PROG = os.path.join(b.BUILD, "bench", "socksify_bench_write_devnull")


def interposes(symbol):
    """Whether libsocksify.so exports (so interposes) a symbol, by its dynamic table."""
    import subprocess
    out = subprocess.run(["nm", "-D", "--defined-only", b.LIBRARY], capture_output=True,
                         text=True).stdout
    return any(line.split()[-1] == symbol for line in out.splitlines() if line.strip())


def run():
    b.require(PROG, "socksify_bench_write_devnull")
    b.require(b.LIBRARY, "library")
    count = os.environ.get("BENCH_WRITES", "10000000")
    reps = int(os.environ.get("BENCH_REPS", "5"))
    env = b.socksify_env(1080)
    preload_env = dict(env, LD_PRELOAD=b.LIBRARY)

    def go(e):
        _, out = b.timed_run([PROG, count], env=e, timeout=300)
        m = re.search(r"ns_per_call=([\d.]+)", out)
        if not m:
            raise RuntimeError(f"no result from {PROG}: {out!r}")
        return float(m.group(1))

    go(env)  # warm-up
    ns = b.alternate({"baseline": lambda: go(env), "socksify": lambda: go(preload_env)}, reps,
                     budget_s=600)
    for n, xs in ns.items():
        b.log(f"write_devnull {n}: {b.fmt_vals(xs, 'ns/call', digits=1)} (round order)")
    paired = b.median([s / x for s, x in zip(ns["socksify"], ns["baseline"])])
    base, sx = b.median(ns["baseline"]), b.median(ns["socksify"])
    ratio = sx / base
    hooked = interposes("write")
    b.log(f"write_devnull: median of paired ratios {paired:.3f}; write() interposed by "
          f"libsocksify.so: {'yes' if hooked else 'no'}")
    return b.result("write 1 B to /dev/null (ns/call)", base, sx, "ns/call", ratio,
                    f"<= {TARGET}", ratio <= TARGET,
                    note=f"write() interposed: {'yes' if hooked else 'no'}; "
                         f"paired ratio {paired:.3f}")


if __name__ == "__main__":
    sys.exit(0 if run()["verdict"] == "PASS" else 1)
