#!/usr/bin/python3
"""Download benchmark: 100 MiB over HTTP from 127.0.0.2 through one danted.

  baseline  curl --socks5-hostname 127.0.0.1:P -o /dev/null URL   (curl's own SOCKS5)
  socksify  build/socksify -x socks5h://127.0.0.1:P -- curl -o /dev/null URL
  preload   LD_PRELOAD=build/libsocksify.so curl -o /dev/null URL  (informative: the
            same without the launcher script, to separate its start-up cost)

Wall time of each whole command (process start to exit, launcher included),
rounds alternate the order, median of each; ratio = median(socksify) /
median(baseline), with a bootstrap 95% interval (a transfer takes ~0.1-0.2 s
here and neighbours' load moves single runs by +-30%, hence many rounds).
Target: ratio <= 1.02.

env: BENCH_DOWNLOAD_MIB (100), BENCH_DOWNLOAD_REPS or BENCH_REPS (25), BENCH_BUDGET_S (120)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

TARGET = 1.02


def run():
    b.require(b.LAUNCHER, "launcher")
    b.require(b.LIBRARY, "library")
    mib = int(os.environ.get("BENCH_DOWNLOAD_MIB", "100"))
    reps = int(os.environ.get("BENCH_DOWNLOAD_REPS", os.environ.get("BENCH_REPS", "25")))
    budget = float(os.environ.get("BENCH_BUDGET_S", "120"))
    with b.tempdir() as tmp, b.Processes() as procs:
        blob = os.path.join(tmp, "blob")
        with open(blob, "wb") as f:
            f.truncate(mib << 20)  # sparse zeros: read from the page cache, no disk
        http_port = b.free_port(b.TARGET_HOST)
        srv = procs.start([sys.executable, os.path.join(b.BENCH_DIR, "http_sendfile_server.py"),
                           b.TARGET_HOST, str(http_port), blob])
        b.wait_listening(b.TARGET_HOST, http_port, srv)
        proxy_port = b.start_danted(procs, tmp)
        url = f"http://{b.TARGET_HOST}:{http_port}/blob"
        curl = ["curl", "-sS", "--fail", "--max-time", "60", "-o", "/dev/null",
                "-w", "%{size_download}"]
        env = b.socksify_env(proxy_port, remote_dns=True)
        preload_env = dict(env, LD_PRELOAD=b.LIBRARY)

        def go(args, e=None):
            dt, out = b.timed_run(args, env=e)
            if int(out.strip() or 0) != mib << 20:
                raise RuntimeError(f"short download ({out.strip()} bytes) from {' '.join(args)}")
            return dt

        variants = {
            "baseline": lambda: go(curl + ["--socks5-hostname", f"{b.PROXY_HOST}:{proxy_port}",
                                           url]),
            "socksify": lambda: go([b.LAUNCHER, "-x", env["SOCKSIFY_PROXY"], "--"] + curl + [url],
                                   env),
            "preload": lambda: go(curl + [url], preload_env),
        }
        # Warm-up: page cache, danted's children, curl's libraries.
        for v in variants.values():
            v()
        times = b.alternate(variants, reps, budget)
    for n, xs in times.items():
        b.log(f"download {n}: {b.fmt_vals(sorted(xs), 's')}")
    base, sx, pre = (b.median(times[n]) for n in ("baseline", "socksify", "preload"))
    lo, hi = b.ratio_ci(times["socksify"], times["baseline"])
    plo, phi = b.ratio_ci(times["preload"], times["baseline"])
    b.log(f"download: socksify/baseline {sx / base:.3f} (95% CI {lo:.3f}-{hi:.3f}); "
          f"preload without launcher {pre:.4f} s, ratio {pre / base:.3f} "
          f"(95% CI {plo:.3f}-{phi:.3f}); launcher start-up ~{(sx - pre) * 1000:.1f} ms "
          f"(difference of medians)")
    ratio = sx / base
    mbps = (mib / base)
    return b.result(f"download {mib} MiB (s)", base, sx, "s", ratio, f"<= {TARGET}",
                    ratio <= TARGET,
                    note=f"{len(times['baseline'])} rounds; baseline {mbps:.0f} MiB/s; 95% CI "
                         f"{lo:.3f}-{hi:.3f}; preload-only (no launcher) ratio {pre / base:.3f} "
                         f"(CI {plo:.3f}-{phi:.3f})")


if __name__ == "__main__":
    sys.exit(0 if run()["verdict"] == "PASS" else 1)
