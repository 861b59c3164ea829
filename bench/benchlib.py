"""Shared plumbing for the benchmarks: paths, a throw-away danted, bounded
processes that are always killed, alternating timed runs, medians, results.

Every process a benchmark starts is registered with a Processes scope and
killed (its whole process group, by id) when the scope ends, also on failure.
Traffic stays on 127.0.0.0/8: danted listens on 127.0.0.1, targets on 127.0.0.2.
"""

import contextlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
BUILD = os.environ.get("SOCKSIFY_BUILD_DIR", os.path.join(ROOT, "build"))
# BENCH_LIBRARY: another build of the library (connect_cycles_i386.sh: the i386 one).
LIBRARY = os.environ.get("BENCH_LIBRARY") or os.path.join(BUILD, "libsocksify.so")
LAUNCHER = os.path.join(BUILD, "socksify")
PROXY_HOST = "127.0.0.1"
TARGET_HOST = "127.0.0.2"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def require(path, what):
    if not os.path.exists(path):
        sys.exit(f"bench: {what} not found at {path}; build first: "
                 "cmake -S . -B build -G Ninja && cmake --build build -j2")


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_listening(host, port, proc, timeout=10.0):
    """Polls until host:port accepts a connection (bounded by timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {host}:{port} after {timeout}s")


class Processes:
    """Owns background processes; kills each one's process group on exit."""

    def __init__(self):
        self.procs = []

    def start(self, args, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(args, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in reversed(self.procs):
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=5)
        # danted's children are in its process group; make sure none outlived it.
        for p in self.procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
        return False


DANTED_CONF = """\
logoutput: {log}
internal: {host} port = {port}
external: {host}
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {{ from: 0.0.0.0/0 to: 0.0.0.0/0 }}
socks pass {{ from: 0.0.0.0/0 to: 0.0.0.0/0 }}
"""


def start_danted(procs, tmp):
    """danted in the foreground on 127.0.0.1:<free port>; returns the port."""
    port = free_port(PROXY_HOST)
    conf = os.path.join(tmp, "danted.conf")
    logf = os.path.join(tmp, "danted.log")
    with open(conf, "w") as f:
        f.write(DANTED_CONF.format(log=logf, host=PROXY_HOST, port=port))
    p = procs.start(["danted", "-f", conf, "-p", os.path.join(tmp, "danted.pid")],
                    stdout=subprocess.DEVNULL, stderr=open(logf + ".stderr", "w"))
    wait_listening(PROXY_HOST, port, p)
    return port


def socksify_env(proxy_port, remote_dns=True):
    env = dict(os.environ)
    scheme = "socks5h" if remote_dns else "socks5"
    env["SOCKSIFY_PROXY"] = f"{scheme}://{PROXY_HOST}:{proxy_port}"
    env["SOCKSIFY_DIRECT_LOOPBACK"] = "off"
    env.pop("LD_PRELOAD", None)
    return env


def start_tcp_echo(procs, echo_binary):
    """socksify_bench_echo_server on TARGET_HOST:<free port>; it closes after echoing
    4 bytes, so TIME_WAIT stays on its side (echo_server.cpp). Returns the port."""
    port = free_port(TARGET_HOST)
    echo = procs.start([echo_binary, TARGET_HOST, str(port), "4"])
    wait_listening(TARGET_HOST, port, echo)
    return port


class Proxied(NamedTuple):
    """What a benchmark passes around once danted runs in front of its target."""
    target: str        # "host:port" of the target
    proxy: str         # "host:port" of danted
    proxy_port: int
    env: dict          # socksify's settings (socks5://, loopback proxied), no preload
    preload_env: dict  # the same with LD_PRELOAD=libsocksify.so


def danted_in_front_of(procs, tmp, target_port):
    proxy_port = start_danted(procs, tmp)
    env = socksify_env(proxy_port, remote_dns=False)
    return Proxied(f"{TARGET_HOST}:{target_port}", f"{PROXY_HOST}:{proxy_port}", proxy_port, env,
                   dict(env, LD_PRELOAD=LIBRARY))


def output_match(args, env, max_s, pattern, flags=0):
    """Runs a benchmark binary, bounded by its own MAX_SECONDS plus 30 s for start
    and teardown, and returns the match of `pattern` in its output; raises when
    the output has none."""
    _, out = timed_run(args, env=env, timeout=float(max_s) + 30)
    m = re.search(pattern, out, flags)
    if not m:
        raise RuntimeError(f"no result from {' '.join(args)}: {out[:300]!r}")
    return m


def timed_run(args, env=None, timeout=120):
    """Runs args to completion; returns (wall seconds, stdout). Fails loudly."""
    t0 = time.perf_counter()
    r = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {r.returncode}: {r.stderr.strip()[-500:]}")
    return dt, r.stdout


def alternate(variants, reps, budget_s):
    """Runs each variant's callable once per round, rotating which goes first
    (so a noisy neighbour hits every variant alike), for `reps` rounds or until
    the time budget runs out (at least one round). Returns {name: [values]}."""
    names = list(variants)
    out = {n: [] for n in names}
    start = time.monotonic()
    for r in range(reps):
        if r > 0 and time.monotonic() - start > budget_s:
            log(f"bench: time budget {budget_s}s spent after {r} rounds")
            break
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            out[n].append(variants[n]())
    return out


def median(xs):
    return statistics.median(xs)


def ratio_ci(num, den, level=0.95, resamples=2000, seed=1):
    """Bootstrap confidence interval of median(num) / median(den): on a shared
    machine it tells a real difference from neighbours' noise."""
    import random
    rng = random.Random(seed)
    rs = sorted(statistics.median(rng.choices(num, k=len(num))) /
                statistics.median(rng.choices(den, k=len(den))) for _ in range(resamples))
    lo = rs[int((1 - level) / 2 * resamples)]
    hi = rs[int((1 + level) / 2 * resamples) - 1]
    return lo, hi


def paired_ratio_ci(num, den, level=0.95, resamples=2000, seed=1):
    """Bootstrap confidence interval of the median of num[i] / den[i], the
    pairs (one round's two runs) resampled together."""
    import random
    rng = random.Random(seed)
    pairs = [n / d for n, d in zip(num, den)]
    rs = sorted(statistics.median(rng.choices(pairs, k=len(pairs))) for _ in range(resamples))
    lo = rs[int((1 - level) / 2 * resamples)]
    hi = rs[int((1 + level) / 2 * resamples) - 1]
    return lo, hi


def fmt_vals(xs, unit, scale=1.0, digits=3):
    return "[" + ", ".join(f"{x * scale:.{digits}f}" for x in xs) + f"] {unit}"


def result(name, baseline, socksify, unit, ratio, target, passed, note=""):
    """One summary row; printed as a line and as JSON for run-all."""
    row = dict(name=name, baseline=baseline, socksify=socksify, unit=unit, ratio=ratio,
               target=target, verdict="PASS" if passed else "FAIL", note=note)
    print(f"{name}: baseline {baseline:.4g} {unit}, socksify {socksify:.4g} {unit}, "
          f"ratio {ratio:.3f} (target {target}) -> {row['verdict']}", flush=True)
    out = os.environ.get("SOCKSIFY_BENCH_RESULTS")
    if out:
        with open(out, "a") as f:
            f.write(json.dumps(row) + "\n")
    return row


# dante-client's launcher. NOT ours: ours is LAUNCHER (build/socksify); the
# names clash, so dante's is always called by this absolute path.
DANTE_SOCKSIFY = "/usr/bin/socksify"

DANTE_SOCKS_CONF = """\
route {{
  from: 0.0.0.0/0 to: 0.0.0.0/0 via: {host} port = {port}
  proxyprotocol: socks_v5
  method: none
  command: connect udpassociate
}}
"""


def dante_socksify(tmp, proxy_port, base_env=None):
    """(argv prefix, env) running a program under dante's socksify (libdsocks)
    through the danted on PROXY_HOST:proxy_port, or None when dante-client is
    not installed. SOCKS_AUTOADD_LANROUTES=no: by default libdsocks adds direct
    routes for the LAN networks, and the targets must go through the proxy."""
    try:
        with open(DANTE_SOCKSIFY, "rb") as f:
            if b"libdsocks" not in f.read():
                return None
    except OSError:
        return None
    conf = os.path.join(tmp, "socks.conf")
    with open(conf, "w") as f:
        f.write(DANTE_SOCKS_CONF.format(host=PROXY_HOST, port=proxy_port))
    env = dict(base_env if base_env is not None else os.environ)
    env.pop("LD_PRELOAD", None)
    env["SOCKS_CONF"] = conf
    env["SOCKS_AUTOADD_LANROUTES"] = "no"
    return [DANTE_SOCKSIFY], env


def proxychains(tmp, proxy_port):
    """(argv prefix) running a program under proxychains4 through the danted on
    PROXY_HOST:proxy_port (strict chain, quiet), or None when not installed."""
    import shutil
    pc = shutil.which("proxychains4")
    if not pc:
        return None
    conf = os.path.join(tmp, "proxychains.conf")
    with open(conf, "w") as f:
        f.write(f"strict_chain\nquiet_mode\ntcp_read_time_out 15000\n"
                f"tcp_connect_time_out 8000\n[ProxyList]\nsocks5 {PROXY_HOST} {proxy_port}\n")
    return [pc, "-q", "-f", conf]


def probe(name, fn):
    """Runs an informative variant once. Returns None when it works, else the
    error text (a comparison tool that cannot carry a benchmark is reported,
    never given a figure)."""
    try:
        fn()
        return None
    except Exception as e:  # noqa: BLE001 - any failure is the finding
        msg = str(e).strip()
        log(f"bench: {name} failed, left out of the rounds: {msg[-500:]}")
        return msg


@contextlib.contextmanager
def tempdir():
    with tempfile.TemporaryDirectory(prefix="socksify-bench-") as d:
        yield d
