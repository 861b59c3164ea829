#!/usr/bin/python3
"""Time to first byte of a small HTTP GET through a proxy far away (issue 12).

A relay of our own (socksify_bench_first_byte_relay, first_byte_relay.cpp) adds
D ms to each direction in front of danted, so each round trip to the proxy
costs 2 x D. Two danteds: one without auth, one with `socksmethod: username`
and a throw-away system user (created with useradd/chpasswd, deleted at the end).
For each of them, in one run, rounds alternating the order:

  curl         curl --socks5-hostname / -x socks5h://user:pw@RELAY URL (curl's own SOCKS5:
               greeting, auth, CONNECT, one round trip each)
  socksify     build/socksify -x socks5h://[user:pw@]RELAY -- curl URL  (pipeline auto)
  sequential   the same with SOCKSIFY_PIPELINE=off (informative)
  early        the same with SOCKSIFY_EARLY_DATA=on (when the library has it)
  proxychains4 proxychains4 -q -f CONF curl URL (informative, when installed)

The figure is curl's own time_starttransfer (from the start of the transfer to
the first response byte, so a launcher's start-up is not in it), median over
rounds. Ratios are to the curl row: <= 0.70 without auth, <= 0.55 with auth,
<= 0.40 with early data (no auth).

env: BENCH_DELAY_MS (25), BENCH_FIRST_BYTE_REPS or BENCH_REPS (15), BENCH_BUDGET_S (120),
     BENCH_PASSWORD_HASH (SHA512; chpasswd -c: YESCRYPT, SHA256, ...),
     BENCH_FIFO (5: the SCHED_FIFO priority of the whole run; 0: none)
"""

import os
import secrets
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

TARGET_NO_AUTH = 0.70
TARGET_AUTH = 0.55
TARGET_EARLY = 0.40
RELAY = os.path.join(b.BUILD, "bench", "socksify_bench_first_byte_relay")
BODY = b"first byte\n" * 40

DANTED_CONF = """\
logoutput: {log}
internal: {host} port = {port}
external: {host}
socksmethod: {method}
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {{ from: 0.0.0.0/0 to: 0.0.0.0/0 }}
socks pass {{ from: 0.0.0.0/0 to: 0.0.0.0/0 }}
"""


def start_danted(procs, tmp, method):
    port = b.free_port(b.PROXY_HOST)
    conf = os.path.join(tmp, f"danted-{method}.conf")
    logf = os.path.join(tmp, f"danted-{method}.log")
    with open(conf, "w") as f:
        f.write(DANTED_CONF.format(log=logf, host=b.PROXY_HOST, port=port, method=method))
    p = procs.start(["danted", "-f", conf, "-p", os.path.join(tmp, f"danted-{method}.pid")],
                    stdout=subprocess.DEVNULL, stderr=open(logf + ".stderr", "w"))
    b.wait_listening(b.PROXY_HOST, port, p)
    return port


def start_relay(procs, target_port, delay_ms):
    port = b.free_port(b.PROXY_HOST)
    p = procs.start([RELAY, b.PROXY_HOST, str(port), b.PROXY_HOST, str(target_port),
                     str(delay_ms)], stdout=subprocess.DEVNULL)
    b.wait_listening(b.PROXY_HOST, port, p)
    return port


class User:
    """A system user for danted's username method (it checks system accounts:
    crypt() of the password against /etc/shadow, in danted, per connection).
    The hash is SHA-512 (5000 rounds, a few ms) unless BENCH_PASSWORD_HASH says
    otherwise: chpasswd's default here, yescrypt, costs danted ~50 ms of CPU per
    login on this machine, a fixed cost both clients pay that says nothing of
    round trips (BENCH_PASSWORD_HASH=YESCRYPT measures with it)."""

    def __init__(self):
        self.name = f"sfybench{os.getpid()}"
        self.password = "pw" + secrets.token_hex(8)
        self.hash = os.environ.get("BENCH_PASSWORD_HASH", "SHA512")

    def __enter__(self):
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", self.name],
                       check=True, capture_output=True, timeout=30)
        subprocess.run(["chpasswd", "-c", self.hash], input=f"{self.name}:{self.password}\n",
                       text=True, check=True, capture_output=True, timeout=30)
        return self

    def __exit__(self, *exc):
        subprocess.run(["userdel", self.name], capture_output=True, timeout=30)
        return False


def proxychains_conf(tmp, port, user):
    conf = os.path.join(tmp, f"proxychains-{port}.conf")
    cred = f" {user.name} {user.password}" if user else ""
    with open(conf, "w") as f:
        f.write(f"strict_chain\nquiet_mode\ntcp_read_time_out 15000\n"
                f"tcp_connect_time_out 8000\n[ProxyList]\nsocks5 {b.PROXY_HOST} {port}{cred}\n")
    return conf


def library_has_early_data():
    try:
        with open(b.LIBRARY, "rb") as f:
            return b"SOCKSIFY_EARLY_DATA" in f.read()
    except OSError:
        return False


class Fifo:
    """Runs the benchmark, and every process it starts (they inherit it), under
    SCHED_FIFO priority BENCH_FIFO (5; 0: leave the policy alone). Each variant
    is a few context switches between curl, socksify's worker, the relay and
    danted, and on a shared 2-core machine at load 20 every one of them waited
    several ms for a CPU (socksify's worker handing the socket to curl: 10-20 ms
    by the relay's clock), which says nothing of round trips. All variants get
    the same policy. None of these processes spins, and the kernel's RT
    throttling (sched_rt_runtime_us) leaves the machine 5% whatever happens."""

    def __init__(self):
        self.prio = int(os.environ.get("BENCH_FIFO", "5"))
        self.old = None

    def __enter__(self):
        if self.prio > 0:
            try:
                self.old = (os.sched_getscheduler(0), os.sched_getparam(0))
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(self.prio))
            except (OSError, AttributeError) as e:
                b.log(f"first_byte: SCHED_FIFO not available ({e}); neighbours' load will show")
                self.old = None
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            os.sched_setscheduler(0, self.old[0], self.old[1])
        return False

    def note(self):
        return f"SCHED_FIFO {self.prio}" if self.old is not None else "SCHED_OTHER"


def run_all():
    with Fifo() as fifo:
        return measure(fifo)


def measure(fifo):
    for path in (RELAY, b.LAUNCHER, b.LIBRARY):
        b.require(path, os.path.basename(path))
    delay = int(os.environ.get("BENCH_DELAY_MS", "25"))
    reps = int(os.environ.get("BENCH_FIRST_BYTE_REPS", os.environ.get("BENCH_REPS", "15")))
    budget = float(os.environ.get("BENCH_BUDGET_S", "120"))
    import shutil
    pc = shutil.which("proxychains4")
    early = library_has_early_data()
    with b.tempdir() as tmp, b.Processes() as procs, User() as user:
        page = os.path.join(tmp, "small")
        with open(page, "wb") as f:
            f.write(BODY)
        http_port = b.free_port(b.TARGET_HOST)
        srv = procs.start([sys.executable, os.path.join(b.BENCH_DIR, "http_sendfile_server.py"),
                           b.TARGET_HOST, str(http_port), page])
        b.wait_listening(b.TARGET_HOST, http_port, srv)
        url = f"http://{b.TARGET_HOST}:{http_port}/small"
        curl = ["curl", "-sS", "--fail", "--max-time", "20", "-o", "/dev/null",
                "-w", "%{time_starttransfer} %{size_download}"]
        env = b.socksify_env(0)
        env.pop("SOCKSIFY_PROXY")
        for k in ("SOCKSIFY_PIPELINE", "SOCKSIFY_EARLY_DATA"):
            env.pop(k, None)

        def ttfb(args, e=None):
            _, out = b.timed_run(args, env=e or env, timeout=30)
            t, size = out.split()
            if int(size) != len(BODY):
                raise RuntimeError(f"short body ({size} bytes) from {' '.join(args)}")
            return float(t)

        cases = {}
        for case, method, u in (("no auth", "none", None), ("login", "username", user)):
            relay = start_relay(procs, start_danted(procs, tmp, method), delay)
            cred = f"{u.name}:{u.password}@" if u else ""
            proxy = f"socks5h://{cred}{b.PROXY_HOST}:{relay}"
            sx = [b.LAUNCHER, "-x", proxy, "--"] + curl + [url]
            variants = {
                "curl": lambda proxy=proxy: ttfb(curl + ["-x", proxy, url]),
                "socksify": lambda sx=sx: ttfb(sx, dict(env, SOCKSIFY_PIPELINE="auto")),
                "sequential": lambda sx=sx: ttfb(sx, dict(env, SOCKSIFY_PIPELINE="off")),
            }
            if early:
                variants["early"] = lambda sx=sx: ttfb(sx, dict(env, SOCKSIFY_EARLY_DATA="on"))
            if pc:
                pconf = proxychains_conf(tmp, relay, u)
                variants["proxychains4"] = lambda pconf=pconf: ttfb(
                    [pc, "-q", "-f", pconf] + curl + [url])
            for v in variants.values():  # warm-up: danted's children, page cache
                v()
            cases[case] = b.alternate(variants, reps, budget / 2)
    rows = []
    for case, times in cases.items():
        med = {n: b.median(xs) for n, xs in times.items()}
        base = med["curl"]
        for n, xs in times.items():
            b.log(f"first_byte {case} {n}: median {med[n] * 1000:.1f} ms, ratio "
                  f"{med[n] / base:.3f}; {b.fmt_vals(sorted(xs), 'ms', 1000, 1)}")
        target = TARGET_AUTH if case == "login" else TARGET_NO_AUTH
        ratio = med["socksify"] / base
        lo, hi = b.ratio_ci(times["socksify"], times["curl"])
        hashed = f", {user.hash} password" if case == "login" else ""
        note = (f"D={delay} ms each way{hashed}, {fifo.note()}, {len(times['curl'])} rounds; "
                f"95% CI {lo:.3f}-{hi:.3f}; "
                + "; ".join(f"{n} {med[n] * 1000:.0f} ms ({med[n] / base:.2f})"
                            for n in times if n not in ("curl", "socksify")))
        rows.append(b.result(f"first byte, {case} (ms)", base * 1000, med["socksify"] * 1000,
                             "ms", ratio, f"<= {target}", ratio <= target, note=note))
        if case == "no auth" and "early" in med:
            er = med["early"] / base
            rows.append(b.result("first byte, early data (ms)", base * 1000, med["early"] * 1000,
                                 "ms", er, f"<= {TARGET_EARLY}", er <= TARGET_EARLY,
                                 note=f"D={delay} ms, no auth, {fifo.note()}"))
    return rows


def run():
    """For run_all.py: every row (it takes a list)."""
    return run_all()


if __name__ == "__main__":
    sys.exit(0 if all(r["verdict"] == "PASS" for r in run_all()) else 1)
