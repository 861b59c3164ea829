#!/usr/bin/python3
"""UDP round-trip benchmark: request/response round trips per second to a UDP
echo server on 127.0.0.2 through one danted's UDP relay on 127.0.0.1.

  baseline   socksify_bench_udp_rtt socks5 PROXY TARGET ...   (its own UDP ASSOCIATE,
                                                              header wrapped by hand)
  socksify   LD_PRELOAD=libsocksify.so socksify_bench_udp_rtt plain TARGET ...
  dante      SOCKS_CONF=socks.conf /usr/bin/socksify socksify_bench_udp_rtt plain TARGET ...
             (dante-client's socksify, informative, when installed; if it cannot
             carry the benchmark its error is reported instead of a figure)

Rounds alternate the order; ratio = median over rounds of socksify/baseline
within the round. Target: ratio >= 0.95 (the issue's figure; socksify adds one non-blocking
MSG_PEEK recv on the control connection per datagram sent, to notice a proxy
that ended the association).

env: BENCH_RTTS (20000), BENCH_RTT_MAX_S (10, per run), BENCH_REPS (5),
     BENCH_BUDGET_S (120), BENCH_UDP_SIZE (64)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

TARGET = 0.95
CLIENT = os.path.join(b.BUILD, "bench", "socksify_bench_udp_rtt")


def run():
    for path in (CLIENT, b.LIBRARY):
        b.require(path, os.path.basename(path))
    count = os.environ.get("BENCH_RTTS", "20000")
    max_s = os.environ.get("BENCH_RTT_MAX_S", "10")
    size = os.environ.get("BENCH_UDP_SIZE", "64")
    reps = int(os.environ.get("BENCH_REPS", "5"))
    budget = float(os.environ.get("BENCH_BUDGET_S", "120"))
    with b.tempdir() as tmp, b.Processes() as procs:
        echo_port = b.free_port(b.TARGET_HOST)
        procs.start([CLIENT, "echo", b.TARGET_HOST, str(echo_port)])
        px = b.danted_in_front_of(procs, tmp, echo_port)
        target, proxy, proxy_port = px.target, px.proxy, px.proxy_port
        env, preload_env = px.env, px.preload_env

        def go(args, e):
            m = b.output_match(args, e, max_s,
                               r"round_trips=(\d+) seconds=([\d.]+) rate=([\d.]+) cpu_us_per_rtt=([\d.]+)")
            return float(m.group(3)), float(m.group(4))

        variants = {
            "baseline": lambda: go([CLIENT, "socks5", proxy, target, count, max_s, size], env),
            "socksify": lambda: go([CLIENT, "plain", target, count, max_s, size], preload_env),
        }
        dante = b.dante_socksify(tmp, proxy_port, env)
        dante_error = None
        if dante:
            dargv, denv = dante
            variants["dante"] = lambda: go(dargv + [CLIENT, "plain", target, count, max_s, size],
                                           denv)
            dante_error = b.probe("dante socksify", lambda: go(
                dargv + [CLIENT, "plain", target, "100", max_s, size], denv))
            if dante_error:
                del variants["dante"]
        variants["baseline"]()  # warm-up: danted's children
        runs = b.alternate(variants, reps, budget)
    rates = {n: [r for r, _ in xs] for n, xs in runs.items()}
    cpu = {n: b.median([c for _, c in xs]) for n, xs in runs.items()}
    for n, xs in rates.items():
        b.log(f"udp_rtt {n}: rates in round order {b.fmt_vals(xs, 'rtt/s', digits=0)}; "
              f"median {b.median(xs):.0f}; client CPU {cpu[n]:.2f} us/round trip (median)")

    def paired(n):
        return b.median([x / y for x, y in zip(rates[n], rates["baseline"])])

    ratio = paired("socksify")
    base, sx = b.median(rates["baseline"]), b.median(rates["socksify"])
    note = f"client CPU {cpu['baseline']:.1f} vs {cpu['socksify']:.1f} us/round trip"
    if "dante" in rates:
        note += (f"; dante socksify {b.median(rates['dante']):.0f} rtt/s, ratio "
                 f"{paired('dante'):.3f}, client CPU {cpu['dante']:.1f} us/round trip")
    elif dante_error:
        note += f"; dante socksify failed: {dante_error[-120:]}"
    return b.result("UDP round trips (rtt/s)", base, sx, "rtt/s", ratio, f">= {TARGET}",
                    ratio >= TARGET, note=note)


if __name__ == "__main__":
    sys.exit(0 if run()["verdict"] == "PASS" else 1)
