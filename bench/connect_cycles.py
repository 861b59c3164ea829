#!/usr/bin/python3
"""Connect-cycle benchmark: connect + echo 4 bytes + close, sequentially, to an
echo server on 127.0.0.2 through one danted on 127.0.0.1; cycles per second.

  baseline     socksify_bench_connect_cycles socks5 PROXY TARGET ...   (own SOCKS5 client)
  socksify     LD_PRELOAD=libsocksify.so socksify_bench_connect_cycles plain TARGET ...
  proxychains  proxychains4 -q -f CONF socksify_bench_connect_cycles plain TARGET ...
               (informative, when proxychains4 is installed)
  dante        SOCKS_CONF=socks.conf /usr/bin/socksify socksify_bench_connect_cycles plain ...
               (dante-client's socksify, libdsocks; informative, when installed)

Rounds alternate the order. Ratio = median over rounds of socksify/baseline within
the round (runs of one round see the same neighbours' load; on a shared machine
that pairing matters more than anything). Target: ratio >= 0.95.
Also reported: the client process's own CPU time per cycle (µs), median.

env: BENCH_CLIENT, BENCH_LIBRARY (other builds), BENCH_CYCLES (2000), BENCH_CYCLE_MAX_S (30, per run), BENCH_REPS (9),
     BENCH_BUDGET_S (150)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

TARGET = 0.95
# BENCH_CLIENT: another build of the client (connect_cycles_i386.sh: gcc -m32).
CLIENT = (os.environ.get("BENCH_CLIENT") or
          os.path.join(b.BUILD, "bench", "socksify_bench_connect_cycles"))
ECHO = os.path.join(b.BUILD, "bench", "socksify_bench_echo_server")


def run():
    for path in (CLIENT, ECHO, b.LIBRARY):
        b.require(path, os.path.basename(path))
    cycles = os.environ.get("BENCH_CYCLES", "2000")
    max_s = os.environ.get("BENCH_CYCLE_MAX_S", "30")
    reps = int(os.environ.get("BENCH_REPS", "9"))
    budget = float(os.environ.get("BENCH_BUDGET_S", "150"))
    with b.tempdir() as tmp, b.Processes() as procs:
        echo_port = b.start_tcp_echo(procs, ECHO)
        px = b.danted_in_front_of(procs, tmp, echo_port)
        target, proxy, proxy_port = px.target, px.proxy, px.proxy_port
        plain_env, preload_env = px.env, px.preload_env

        def go(args, e):
            m = b.output_match(args, e, max_s,
                               r"cycles=(\d+) seconds=([\d.]+) rate=([\d.]+) cpu_us_per_cycle=([\d.]+)")
            return float(m.group(3)), float(m.group(4))

        variants = {
            "baseline": lambda: go([CLIENT, "socks5", proxy, target, cycles, max_s], plain_env),
            "socksify": lambda: go([CLIENT, "plain", target, cycles, max_s], preload_env),
        }
        pc = b.proxychains(tmp, proxy_port)
        if pc:
            variants["proxychains4"] = lambda: go(pc + [CLIENT, "plain", target, cycles, max_s],
                                                  plain_env)
        dante = b.dante_socksify(tmp, proxy_port, plain_env)
        dante_error = None
        if dante:
            dargv, denv = dante
            variants["dante"] = lambda: go(dargv + [CLIENT, "plain", target, cycles, max_s], denv)
            dante_error = b.probe("dante socksify", lambda: go(
                dargv + [CLIENT, "plain", target, "20", max_s], denv))
            if dante_error:
                del variants["dante"]
        # Warm-up: danted's child processes, page cache.
        variants["baseline"]()
        runs = b.alternate(variants, reps, budget)
    rates = {n: [r for r, _ in xs] for n, xs in runs.items()}
    cpu = {n: b.median([c for _, c in xs]) for n, xs in runs.items()}
    for n, xs in rates.items():
        b.log(f"connect_cycles {n}: rates in round order {b.fmt_vals(xs, 'cycles/s', digits=0)}; "
              f"median {b.median(xs):.0f}; client CPU {cpu[n]:.1f} us/cycle (median)")

    def paired(n):
        return b.median([x / y for x, y in zip(rates[n], rates["baseline"])])

    base, sx = b.median(rates["baseline"]), b.median(rates["socksify"])
    ratio = paired("socksify")
    b.log(f"connect_cycles: ratio of medians {sx / base:.3f}, median of paired ratios {ratio:.3f}")
    note = f"client CPU {cpu['baseline']:.0f} vs {cpu['socksify']:.0f} us/cycle"
    if "proxychains4" in rates:
        pcm = b.median(rates["proxychains4"])
        note += f"; proxychains4 {pcm:.0f} cycles/s, ratio {paired('proxychains4'):.3f}"
        b.log(f"connect_cycles: proxychains4 {pcm:.0f} cycles/s, paired ratio "
              f"{paired('proxychains4'):.3f}, client CPU {cpu['proxychains4']:.1f} us/cycle")
    if "dante" in rates:
        dm = b.median(rates["dante"])
        note += f"; dante socksify {dm:.0f} cycles/s, ratio {paired('dante'):.3f}"
        b.log(f"connect_cycles: dante socksify {dm:.0f} cycles/s, paired ratio "
              f"{paired('dante'):.3f}, client CPU {cpu['dante']:.1f} us/cycle")
    elif dante_error:
        note += f"; dante socksify failed: {dante_error[-120:]}"
    return b.result("connect cycles (cycles/s)", base, sx, "cycles/s", ratio, f">= {TARGET}",
                    ratio >= TARGET, note=note)


if __name__ == "__main__":
    sys.exit(0 if run()["verdict"] == "PASS" else 1)
