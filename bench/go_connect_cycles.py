#!/usr/bin/python3
"""Go connect-cycle benchmark (issue 11): connect + echo 4 bytes + close,
sequentially, to an echo server on 127.0.0.2 through one danted on 127.0.0.1;
cycles per second of the same Go client built here (go_connect_cycles.go):

  baseline    go_connect_cycles socks5 PROXY TARGET ...      (speaks SOCKS5 itself)
  supervised  socksify --mode seccomp -- go_connect_cycles plain TARGET ...
              (its connect trapped by the seccomp supervisor, which runs the
              library's session and installs the tunnel)

Ratio = median over rounds of supervised/baseline within the round (rounds
alternate the order). Target: ratio >= 0.90. The client CPU column is the Go
process's own: the supervisor's work is not in it.

env: BENCH_CYCLES (2000), BENCH_CYCLE_MAX_S (30, per run), BENCH_REPS (9), BENCH_BUDGET_S (150)
"""

import os
import resource
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

TARGET = 0.90
HERE = os.path.dirname(os.path.abspath(__file__))
ECHO = os.path.join(b.BUILD, "bench", "socksify_bench_echo_server")


def build_client(tmp):
    exe = os.path.join(tmp, "go_connect_cycles")
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod", GOPROXY="off", GO111MODULE="off",
               GOCACHE=os.path.join(tmp, "gocache"), GOPATH=os.path.join(tmp, "gopath"))
    subprocess.run(["go", "build", "-o", exe, os.path.join(HERE, "go_connect_cycles.go")],
                   env=env, check=True, cwd=tmp, timeout=300)
    return exe


def run():
    for path in (ECHO, b.LAUNCHER):
        b.require(path, os.path.basename(path))
    if not shutil.which("go"):
        raise SystemExit("go_connect_cycles: needs golang-go (scripts/install-deps.sh)")
    cycles = os.environ.get("BENCH_CYCLES", "2000")
    max_s = os.environ.get("BENCH_CYCLE_MAX_S", "30")
    reps = int(os.environ.get("BENCH_REPS", "9"))
    budget = float(os.environ.get("BENCH_BUDGET_S", "150"))
    with b.tempdir() as tmp, b.Processes() as procs:
        client = build_client(tmp)
        echo_port = b.start_tcp_echo(procs, ECHO)
        px = b.danted_in_front_of(procs, tmp, echo_port)

        def children_cpu():
            ru = resource.getrusage(resource.RUSAGE_CHILDREN)
            return ru.ru_utime + ru.ru_stime

        def go(args, e):
            # The children's CPU around the run: the launcher's (the supervisor)
            # plus the client's, which it waited for; less the client's own.
            before = children_cpu()
            m = b.output_match(args, e, max_s,
                               r"cycles=(\d+) seconds=([\d.]+) rate=([\d.]+) cpu_us_per_cycle=([\d.]+)")
            total_us = (children_cpu() - before) * 1e6 / float(m.group(1))
            client_us = float(m.group(4))
            return float(m.group(3)), client_us, total_us - client_us

        variants = {
            "baseline": lambda: go([client, "socks5", px.proxy, px.target, cycles, max_s], px.env),
            "supervised": lambda: go([b.LAUNCHER, "--mode", "seccomp", "--", client, "plain",
                                      px.target, cycles, max_s], px.env),
        }
        variants["baseline"]()  # warm-up: danted's children, page cache
        runs = b.alternate(variants, reps, budget)
    rates = {n: [r for r, _, _ in xs] for n, xs in runs.items()}
    cpu = {n: b.median([c for _, c, _ in xs]) for n, xs in runs.items()}
    sup_cpu = b.median([s for _, _, s in runs["supervised"]])
    for n, xs in rates.items():
        b.log(f"go_connect_cycles {n}: rates in round order {b.fmt_vals(xs, 'cycles/s', digits=0)}; "
              f"median {b.median(xs):.0f}; client CPU {cpu[n]:.1f} us/cycle (median)")
    b.log(f"go_connect_cycles: supervisor (launcher) CPU {sup_cpu:.1f} us/cycle (median)")
    ratio = b.median([x / y for x, y in zip(rates["supervised"], rates["baseline"])])
    base, sup = b.median(rates["baseline"]), b.median(rates["supervised"])
    b.log(f"go_connect_cycles: ratio of medians {sup / base:.3f}, median of paired ratios {ratio:.3f}")
    return b.result("Go connect cycles, supervised (cycles/s)", base, sup, "cycles/s", ratio,
                    f">= {TARGET}", ratio >= TARGET,
                    note=f"Go client CPU {cpu['baseline']:.0f} vs {cpu['supervised']:.0f} us/cycle, "
                         f"supervisor {sup_cpu:.0f} us/cycle")


if __name__ == "__main__":
    sys.exit(0 if run()["verdict"] == "PASS" else 1)
