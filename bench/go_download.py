#!/usr/bin/python3
"""Go download benchmark (issue 11): 100 MiB over HTTP from 127.0.0.2 through
one danted, by the Go client of go_connect_cycles.go (`get` mode, built here):

  baseline    go_connect_cycles get PROXY TARGET /blob      (speaks SOCKS5 itself)
  supervised  socksify --mode seccomp -- go_connect_cycles get TARGET /blob

Wall time of each whole command (the supervisor's start-up included). Both
variants are warmed up once, then rounds alternate which goes first; ratio =
median over rounds of supervised / baseline within the round (the two runs of
a round share the neighbours' load, so a busy spell moves both; a ratio of
medians pairs a fast baseline with a slow supervised run from another
moment), with a bootstrap 95% interval: a target missed by less than the
interval's half-width is the machine, not the supervisor. The data path is
never trapped (reads and writes on a connected socket pass the filter), so
the target is ratio <= 1.02. Informative, not in the ratio: the supervisor's
start-up (launcher, ELF probe, fork, filter), the median paired difference of
the same two commands on a 1-byte download, so a ratio above 1 can be told
apart into start-up and transfer.

env: BENCH_DOWNLOAD_MIB (100), BENCH_DOWNLOAD_REPS or BENCH_REPS (31), BENCH_BUDGET_S (120)
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
    reps = int(os.environ.get("BENCH_DOWNLOAD_REPS", os.environ.get("BENCH_REPS", "31")))
    budget = float(os.environ.get("BENCH_BUDGET_S", "120"))
    with b.tempdir() as tmp, b.Processes() as procs:
        client = go_connect_cycles.build_client(tmp)
        servers = {}  # size in bytes -> HOST:PORT of a server of that many bytes
        for size in (mib << 20, 1):
            blob = os.path.join(tmp, f"blob-{size}")
            with open(blob, "wb") as f:
                f.truncate(size)  # sparse zeros: read from the page cache, no disk
            http_port = b.free_port(b.TARGET_HOST)
            srv = procs.start([sys.executable, os.path.join(b.BENCH_DIR, "http_sendfile_server.py"),
                               b.TARGET_HOST, str(http_port), blob])
            b.wait_listening(b.TARGET_HOST, http_port, srv)
            servers[size] = f"{b.TARGET_HOST}:{http_port}"
        proxy_port = b.start_danted(procs, tmp)
        env = b.socksify_env(proxy_port, remote_dns=False)
        proxy = f"{b.PROXY_HOST}:{proxy_port}"

        def go(args, size):
            dt, out = b.timed_run(args, env=env)
            if f"bytes={size}\n" not in out:
                raise RuntimeError(f"short download ({out.strip()}) from {' '.join(args)}")
            return dt

        def variant(supervised, size):
            args = ([b.LAUNCHER, "--mode", "seccomp", "--", client, "get", servers[size], "/blob"]
                    if supervised else [client, "get", proxy, servers[size], "/blob"])
            return lambda: go(args, size)

        variants = {
            "baseline": variant(False, mib << 20),
            "supervised": variant(True, mib << 20),
            "baseline-1B": variant(False, 1),
            "supervised-1B": variant(True, 1),
        }
        for v in variants.values():  # warm-up: page cache, danted's children, both binaries
            v()
        runs = b.alternate(variants, reps, budget)
    for n, xs in runs.items():
        b.log(f"go_download {n}: {b.fmt_vals(xs, 's')}; median {b.median(xs):.4f} s")
    base, sup = b.median(runs["baseline"]), b.median(runs["supervised"])
    ratio = b.median([s / x for s, x in zip(runs["supervised"], runs["baseline"])])
    lo, hi = b.paired_ratio_ci(runs["supervised"], runs["baseline"])
    startup = b.median([s - x for s, x in zip(runs["supervised-1B"], runs["baseline-1B"])])
    transfer = b.median([(s - startup) / x for s, x in zip(runs["supervised"], runs["baseline"])])
    b.log(f"go_download: median of paired ratios {ratio:.3f} (95% CI {lo:.3f}-{hi:.3f}), "
          f"ratio of medians {sup / base:.3f}; supervisor start-up ~{startup * 1000:.1f} ms "
          f"(1-byte downloads), paired ratio without it {transfer:.3f}")
    return b.result(f"Go download {mib} MiB, supervised (s)", base, sup, "s", ratio,
                    f"<= {TARGET}", ratio <= TARGET,
                    note=f"{len(runs['baseline'])} rounds, paired; 95% CI {lo:.3f}-{hi:.3f}; "
                         f"start-up ~{startup * 1000:.1f} ms, ratio without it {transfer:.3f}")


if __name__ == "__main__":
    sys.exit(0 if run()["verdict"] == "PASS" else 1)
