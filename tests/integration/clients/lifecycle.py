#!/usr/bin/python3
"""lifecycle.py SCENARIO HOST PORT [ARG]: TCP echo round trips from processes
made in the ways real programs make them. Every echo is a 4 KiB payload unique
to its tag, read back and compared.

fork          3 children, each one echo after os.fork(); the parent one echo too
threads-fork  8 threads doing echoes while the main thread forks 5 children
              that each do one echo (a lock held by a thread at fork time
              must not hang the child)
spawn URL     os.posix_spawn of curl URL (stdout to a pipe), inheriting LD_PRELOAD
daemon FILE   double fork, setsid, close fds 0-2, then one echo; the daemon
              writes its JSON result to FILE (nobody is left to read stdout)

Prints one JSON line {"ok": bool, ...}; exit status 0 only if ok. Every wait is
bounded: children get an alarm, the parent waits with a deadline.
"""

import hashlib
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payload import echo_round_trip  # noqa: E402

SIZE = 4096
CHILD_ALARM_S = 20
HUNG = 99  # a child's exit status when its alarm fired


def echo(host: str, port: int, tag: int) -> str:
    """One round trip; "ok" or what went wrong."""
    return echo_round_trip(host, port, SIZE, tag) or "ok"


def in_child(body) -> None:
    """Run body() in a forked child under an alarm; never return."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(CHILD_ALARM_S)
    status = 1
    try:
        status = 0 if body() == "ok" else 1
    finally:
        os._exit(status)


def reap(pids: list[int], deadline_s: float = CHILD_ALARM_S + 5) -> dict[int, object]:
    """Exit status per child (or "signal N"), waiting at most deadline_s in all."""
    out: dict[int, object] = {}
    end = time.monotonic() + deadline_s
    while len(out) < len(pids) and time.monotonic() < end:
        for pid in pids:
            if pid in out:
                continue
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                out[pid] = (os.WEXITSTATUS(status) if os.WIFEXITED(status)
                            else f"signal {os.WTERMSIG(status)}")
        time.sleep(0.02)
    for pid in pids:
        if pid not in out:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            out[pid] = "still running at the deadline"
    return out


def scenario_fork(host: str, port: int) -> dict:
    pids = []
    for i in range(3):
        pid = os.fork()
        if pid == 0:
            in_child(lambda i=i: echo(host, port, 100 + i))
        pids.append(pid)
    parent = echo(host, port, 1)
    statuses = list(reap(pids).values())
    return {"ok": parent == "ok" and statuses == [0, 0, 0], "parent": parent, "children": statuses}


def scenario_threads_fork(host: str, port: int) -> dict:
    stop = threading.Event()
    results: list[str] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        n = 0
        while not stop.is_set() and n < 200:
            r = echo(host, port, 1000 * (i + 1) + n)
            with lock:
                results.append(r)
            n += 1

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(8)]
    for t in pool:
        t.start()
    pids = []
    for i in range(5):
        time.sleep(0.05)  # fork while the threads are mid-handshake, mid-echo
        pid = os.fork()
        if pid == 0:
            in_child(lambda i=i: echo(host, port, 200 + i))
        pids.append(pid)
    statuses = list(reap(pids).values())
    stop.set()
    for t in pool:
        t.join(30)
    bad = [r for r in results if r != "ok"]
    return {"ok": statuses == [0] * 5 and not bad and len(results) >= 8, "children": statuses,
            "thread_echoes": len(results), "thread_failures": bad[:5]}


def scenario_spawn(url: str) -> dict:
    read_end, write_end = os.pipe()
    actions = [(os.POSIX_SPAWN_DUP2, write_end, 1), (os.POSIX_SPAWN_CLOSE, read_end)]
    pid = os.posix_spawn("/usr/bin/curl", ["curl", "-sS", "--fail", "--max-time", "20", url],
                         dict(os.environ), file_actions=actions)
    os.close(write_end)
    body = b""
    with os.fdopen(read_end, "rb") as fh:
        body = fh.read()
    status = reap([pid])[pid]
    return {"ok": status == 0, "status": status, "bytes": len(body),
            "sha256": hashlib.sha256(body).hexdigest(), "ld_preload": os.environ.get("LD_PRELOAD", "")}


def scenario_daemon(host: str, port: int, result_file: str) -> dict:
    launcher_sid = os.getsid(0)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        # The daemon: no controlling terminal, no stdio. Its socket will be fd 0.
        signal.alarm(CHILD_ALARM_S)
        for fd in (0, 1, 2):
            os.close(fd)
        record = {"pid": os.getpid(), "sid": os.getsid(0), "launcher_sid": launcher_sid}
        try:
            record["echo"] = echo(host, port, 300)
        finally:
            tmp = result_file + ".tmp"
            with open(tmp, "w") as fh:
                fh.write(json.dumps(record))
            os.rename(tmp, result_file)
            os._exit(0)
    status = reap([pid])[pid]
    return {"ok": status == 0, "first_child": status}


def main() -> int:
    scenario = sys.argv[1]
    if scenario == "spawn":
        result = scenario_spawn(sys.argv[2])
    else:
        host, port = sys.argv[2], int(sys.argv[3])
        if scenario == "fork":
            result = scenario_fork(host, port)
        elif scenario == "threads-fork":
            result = scenario_threads_fork(host, port)
        elif scenario == "daemon":
            result = scenario_daemon(host, port, sys.argv[4])
        else:
            raise SystemExit(f"unknown scenario {scenario}")
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
