#!/usr/bin/python3
"""Event-loop blocking per connection: a non-blocking client connects COUNT
times, sequentially, to an echo server on 127.0.0.2 through one danted on
127.0.0.1, and measures per connection the time spent inside the connect call
("blocked": the event loop is frozen that long) and the time until poll reports
the socket writable ("ready": the tunnel is usable). Every connection then
echoes 4 bytes, so only working tunnels are counted.

  baseline     socksify_bench_event_loop_block socks5 PROXY TARGET ...
               (its own SOCKS5 client runs the whole handshake inside the call,
               waiting in poll: what proxychains and tsocks do inside connect())
  socksify     LD_PRELOAD=libsocksify.so socksify_bench_event_loop_block plain TARGET ...
               (connect() answers EINPROGRESS, a helper thread runs the handshake)
  proxychains  proxychains4 -q -f CONF ... plain TARGET ...    (informative, if installed)
  dante        SOCKS_CONF=socks.conf /usr/bin/socksify ... plain TARGET ...
               (dante-client's socksify; informative, if installed)

Rounds alternate the order; samples of all rounds are pooled per variant and
reported as median and p99 microseconds. Ratio = median blocked time of
socksify / median blocked time of the baseline. Target: ratio < 0.05.

env: BENCH_CONNECTS (500), BENCH_CONNECT_MAX_S (30, per run), BENCH_REPS (5),
     BENCH_BUDGET_S (150)
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

TARGET = 0.05
CLIENT = os.path.join(b.BUILD, "bench", "socksify_bench_event_loop_block")
ECHO = os.path.join(b.BUILD, "bench", "socksify_bench_echo_server")


def p99(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(0.99 * (len(xs) - 1) + 0.5))]


def run():
    for path in (CLIENT, ECHO, b.LIBRARY):
        b.require(path, os.path.basename(path))
    count = os.environ.get("BENCH_CONNECTS", "500")
    max_s = os.environ.get("BENCH_CONNECT_MAX_S", "30")
    reps = int(os.environ.get("BENCH_REPS", "5"))
    budget = float(os.environ.get("BENCH_BUDGET_S", "150"))
    with b.tempdir() as tmp, b.Processes() as procs:
        echo_port = b.start_tcp_echo(procs, ECHO)
        px = b.danted_in_front_of(procs, tmp, echo_port)
        target, proxy, proxy_port = px.target, px.proxy, px.proxy_port
        env, preload_env = px.env, px.preload_env

        def go(args, e):
            # The two sample lines, one after the other (event_loop_block.cpp).
            m = b.output_match(args, e, max_s, r"^blocked_us=([\d.,]+)\nready_us=([\d.,]+)$", re.M)
            return [float(x) for x in m.group(1).split(",")], [float(x) for x in m.group(2).split(",")]

        variants = {
            "baseline": lambda: go([CLIENT, "socks5", proxy, target, count, max_s], env),
            "socksify": lambda: go([CLIENT, "plain", target, count, max_s], preload_env),
        }
        errors = {}
        pc = b.proxychains(tmp, proxy_port)
        if pc:
            variants["proxychains4"] = lambda: go(pc + [CLIENT, "plain", target, count, max_s],
                                                  env)
        dante = b.dante_socksify(tmp, proxy_port, env)
        if dante:
            dargv, denv = dante
            variants["dante"] = lambda: go(dargv + [CLIENT, "plain", target, count, max_s], denv)
        for n in [n for n in variants if n in ("proxychains4", "dante")]:
            argv_short = {"proxychains4": lambda: go(pc + [CLIENT, "plain", target, "20", max_s],
                                                     env),
                          "dante": lambda: go(dargv + [CLIENT, "plain", target, "20", max_s],
                                              denv)}[n]
            err = b.probe(n, argv_short)
            if err:
                errors[n] = err
                del variants[n]
        variants["baseline"]()  # warm-up: danted's children
        runs = b.alternate(variants, reps, budget)

    stats = {}
    for n, rounds in runs.items():
        blocked = [x for bl, _ in rounds for x in bl]
        ready = [x for _, rd in rounds for x in rd]
        stats[n] = dict(bm=b.median(blocked), b99=p99(blocked), rm=b.median(ready),
                        r99=p99(ready), n=len(blocked),
                        rounds=[b.median(bl) for bl, _ in rounds])
        s = stats[n]
        b.log(f"event_loop_block {n}: {s['n']} connects; blocked in connect() median "
              f"{s['bm']:.1f} us, p99 {s['b99']:.1f} us; ready (writable) median {s['rm']:.1f} us, "
              f"p99 {s['r99']:.1f} us; per-round blocked medians "
              f"{b.fmt_vals(s['rounds'], 'us', digits=1)}")
    base, sx = stats["baseline"], stats["socksify"]
    ratio = sx["bm"] / base["bm"]
    b.log(f"event_loop_block: socksify blocked/baseline blocked: median {ratio:.3f}, "
          f"p99 {sx['b99'] / base['b99']:.3f}; ready time socksify/baseline "
          f"{sx['rm'] / base['rm']:.3f}")
    note = (f"blocked p99 {base['b99']:.0f} vs {sx['b99']:.0f} us; ready median "
            f"{base['rm']:.0f} vs {sx['rm']:.0f} us, p99 {base['r99']:.0f} vs {sx['r99']:.0f} us")
    for n, label in (("proxychains4", "proxychains4"), ("dante", "dante socksify")):
        if n in stats:
            s = stats[n]
            note += (f"; {label} blocked median {s['bm']:.0f} us (p99 {s['b99']:.0f}), "
                     f"ready {s['rm']:.0f} us")
        elif n in errors:
            note += f"; {label} failed: {errors[n][-120:]}"
    return b.result("event-loop block in connect() (us)", base["bm"], sx["bm"], "us", ratio,
                    f"< {TARGET}", ratio < TARGET, note=note)


if __name__ == "__main__":
    sys.exit(0 if run()["verdict"] == "PASS" else 1)
