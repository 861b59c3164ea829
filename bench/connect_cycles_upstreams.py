#!/usr/bin/python3
"""Connect cycles through the other upstreams (issue 13): connect + echo 4 bytes +
close, sequentially, to an echo server on 127.0.0.2, cycles per second.

  squid (HTTP CONNECT, 127.0.0.1):
    baseline  socksify_bench_connect_cycles http PROXY TARGET ...   (speaks CONNECT itself)
    socksify  LD_PRELOAD=libsocksify.so ... plain TARGET, SOCKSIFY_PROXY=http://PROXY
  danted (SOCKS4, 127.0.0.1):
    baseline  socksify_bench_connect_cycles socks4 PROXY TARGET ... (speaks SOCKS4 itself)
    socksify  LD_PRELOAD=libsocksify.so ... plain TARGET, SOCKSIFY_PROXY=socks4://PROXY

Rounds alternate the order; ratio = median over rounds of socksify/baseline within
the round (as connect_cycles.py). Target: each ratio >= 0.95.

Squid's own rate wanders between rounds (baseline runs of one benchmark ranged
2419-3356 cycles/s), so it takes 15 rounds of 2000 cycles (7 of 1000 gave
ratios from 0.90 to 0.98 on one quiet machine, one build).

env: BENCH_CYCLES (2000), BENCH_CYCLE_MAX_S (30, per run), BENCH_REPS (15), BENCH_BUDGET_S (120,
     per upstream; run_all.py passes 35 unless BENCH_UPSTREAMS_BUDGET_S says otherwise, to keep
     run-all.sh within its few minutes)
"""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

TARGET = 0.95
CLIENT = os.path.join(b.BUILD, "bench", "socksify_bench_connect_cycles")
ECHO = os.path.join(b.BUILD, "bench", "socksify_bench_echo_server")


def start_squid(procs, tmp):
    """Debian's squid in the foreground on 127.0.0.1:<free port>: no cache, every
    client and port allowed, logs off (they would cost it, not us)."""
    port = b.free_port(b.PROXY_HOST)
    sdir = tempfile.mkdtemp(prefix="squid-", dir=tmp)
    os.chmod(tmp, os.stat(tmp).st_mode | 0o711)  # squid runs as 'proxy'
    os.chmod(sdir, 0o777)
    conf = os.path.join(sdir, "squid.conf")
    with open(conf, "w") as f:
        f.write(f"http_port {b.PROXY_HOST}:{port}\ncache deny all\ncache_mem 8 MB\n"
                f"pid_filename {sdir}/squid.pid\ncache_log {sdir}/cache.log\naccess_log none\n"
                f"coredump_dir {sdir}\nshutdown_lifetime 0 seconds\nhttp_access allow all\n"
                "dns_nameservers 127.0.0.1\nvia off\nforwarded_for delete\n")
    p = procs.start(["squid", "-N", "-f", conf], stdout=subprocess.DEVNULL,
                    stderr=open(os.path.join(sdir, "stderr"), "w"))
    b.wait_listening(b.PROXY_HOST, port, p)
    return port


def compare(name, scheme, mode, proxy_port, target, cycles, max_s, reps, budget):
    proxy = f"{b.PROXY_HOST}:{proxy_port}"
    env = b.socksify_env(proxy_port, remote_dns=False)
    env["SOCKSIFY_PROXY"] = f"{scheme}://{proxy}"
    preload = dict(env, LD_PRELOAD=b.LIBRARY)

    def go(args, e):
        m = b.output_match(args, e, max_s,
                           r"cycles=(\d+) seconds=([\d.]+) rate=([\d.]+) cpu_us_per_cycle=([\d.]+)")
        return float(m.group(3)), float(m.group(4))

    variants = {
        "baseline": lambda: go([CLIENT, mode, proxy, target, cycles, max_s], env),
        "socksify": lambda: go([CLIENT, "plain", target, cycles, max_s], preload),
    }
    variants["baseline"]()  # warm-up
    runs = b.alternate(variants, reps, budget)
    rates = {n: [r for r, _ in xs] for n, xs in runs.items()}
    cpu = {n: b.median([c for _, c in xs]) for n, xs in runs.items()}
    for n, xs in rates.items():
        b.log(f"connect_cycles {name} {n}: {b.fmt_vals(xs, 'cycles/s', digits=0)}; median "
              f"{b.median(xs):.0f}; client CPU {cpu[n]:.1f} us/cycle")
    ratio = b.median([x / y for x, y in zip(rates["socksify"], rates["baseline"])])
    return b.result(f"connect cycles via {name} (cycles/s)", b.median(rates["baseline"]),
                    b.median(rates["socksify"]), "cycles/s", ratio, f">= {TARGET}", ratio >= TARGET,
                    note=f"client CPU {cpu['baseline']:.0f} vs {cpu['socksify']:.0f} us/cycle")


def run(default_budget_s=120):
    for path in (CLIENT, ECHO, b.LIBRARY):
        b.require(path, os.path.basename(path))
    cycles = os.environ.get("BENCH_CYCLES", "2000")
    max_s = os.environ.get("BENCH_CYCLE_MAX_S", "30")
    reps = int(os.environ.get("BENCH_REPS", "15"))
    budget = float(os.environ.get("BENCH_BUDGET_S", str(default_budget_s)))
    results = []
    with b.tempdir() as tmp, b.Processes() as procs:
        echo_port = b.start_tcp_echo(procs, ECHO)
        target = f"{b.TARGET_HOST}:{echo_port}"
        squid_port = start_squid(procs, tmp)
        results.append(compare("squid (http)", "http", "http", squid_port, target, cycles, max_s,
                               reps, budget))
        danted_port = b.start_danted(procs, tmp)
        results.append(compare("danted (socks4)", "socks4", "socks4", danted_port, target, cycles,
                               max_s, reps, budget))
    return results


if __name__ == "__main__":
    sys.exit(0 if all(r["verdict"] == "PASS" for r in run()) else 1)
