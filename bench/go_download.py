#!/usr/bin/python3
"""Go download benchmark (issue 11): 100 MiB over HTTP from 127.0.0.2 through
one danted, by the Go client of go_connect_cycles.go (`get` mode, built here):

  baseline    go_connect_cycles get PROXY TARGET /blob      (speaks SOCKS5 itself)
  supervised  socksify --mode seccomp -- go_connect_cycles get TARGET /blob

Wall time of each whole command (the supervisor's start-up included), rounds
alternate, ratio = median(supervised) / median(baseline). The data path is
never trapped (reads and writes on a connected socket pass the filter), so
the target is ratio <= 1.02.

env: BENCH_DOWNLOAD_MIB (100), BENCH_DOWNLOAD_REPS or BENCH_REPS (25), BENCH_BUDGET_S (120)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402
import go_connect_cycles  # noqa: E402

TARGET = 1.02


def run():
    b.require(b.LAUNCHER, "launcher")
    mib = int(os.environ.get("BENCH_DOWNLOAD_MIB", "100"))
    reps = int(os.environ.get("BENCH_DOWNLOAD_REPS", os.environ.get("BENCH_REPS", "25")))
    budget = float(os.environ.get("BENCH_BUDGET_S", "120"))
    with b.tempdir() as tmp, b.Processes() as procs:
        client = go_connect_cycles.build_client(tmp)
        blob = os.path.join(tmp, "blob")
        with open(blob, "wb") as f:
            f.truncate(mib << 20)  # sparse zeros: read from the page cache, no disk
        http_port = b.free_port(b.TARGET_HOST)
        srv = procs.start([sys.executable, os.path.join(b.BENCH_DIR, "http_sendfile_server.py"),
                           b.TARGET_HOST, str(http_port), blob])
        b.wait_listening(b.TARGET_HOST, http_port, srv)
        proxy_port = b.start_danted(procs, tmp)
        env = b.socksify_env(proxy_port, remote_dns=False)
        target = f"{b.TARGET_HOST}:{http_port}"

        def go(args):
            dt, out = b.timed_run(args, env=env)
            if f"bytes={mib << 20}" not in out:
                raise RuntimeError(f"short download ({out.strip()}) from {' '.join(args)}")
            return dt

        variants = {
            "baseline": lambda: go([client, "get", f"{b.PROXY_HOST}:{proxy_port}", target, "/blob"]),
            "supervised": lambda: go([b.LAUNCHER, "--mode", "seccomp", "--", client, "get", target,
                                      "/blob"]),
        }
        variants["baseline"]()  # warm-up
        runs = b.alternate(variants, reps, budget)
    for n, xs in runs.items():
        b.log(f"go_download {n}: {b.fmt_vals(xs, 's')}; median {b.median(xs):.3f} s")
    base, sup = b.median(runs["baseline"]), b.median(runs["supervised"])
    ratio = sup / base
    return b.result(f"Go download {mib} MiB, supervised (s)", base, sup, "s", ratio,
                    f"<= {TARGET}", ratio <= TARGET)


if __name__ == "__main__":
    sys.exit(0 if run()["verdict"] == "PASS" else 1)
