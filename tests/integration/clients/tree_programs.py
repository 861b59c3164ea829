#!/usr/bin/python3
"""tree_programs.py MODE ...: process trees that resolve a name in one process
and connect to its fake address in another (issue 10 item 1). Each mode prints
JSON on stdout.

  echo ADDR PORT            connect, send "ping", read the echo: {"errno", "echo"}
  loop COUNT PORT           for each of COUNT names (n<i>.loop.test) resolve it here,
                            then fork+exec `echo ADDR PORT`: {"names": [...], "results": [...]}
  feed COUNT PORT CHILDREN  start CHILDREN exec'd children first, then resolve COUNT names
                            (n<i>.feed.test), handing each address to a child as soon as it
                            is resolved; each child connects to every address it is given:
                            {"resolved": {name: addr}, "results": [[addr, errno], ...]}
  daemon NAME PORT OUTFILE  resolve NAME, then double-fork a setsid daemon that waits
                            until this process has exited and execs `echo ADDR PORT`
                            with stdout to OUTFILE: prints {"addr"} and exits at once
  closerange NAME URLPATH   close_range(3, ~0) before anything else, resolve NAME, and
                            exec curl http://ADDR<URLPATH> (nothing printed by us)
"""

import ctypes
import errno
import json
import os
import socket
import subprocess
import sys
import time

PYTHON = "/usr/bin/python3"
SELF = os.path.abspath(__file__)


def v4(name: str, port: int = 0) -> str:
    return socket.getaddrinfo(name, port, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]


def attempt(addr: str, port: int) -> dict:
    s = socket.socket()
    s.settimeout(10)
    try:
        s.connect((addr, port))
        s.sendall(b"ping")
        return {"errno": 0, "echo": s.recv(4).decode(errors="replace")}
    except OSError as exc:
        return {"errno": errno.errorcode.get(exc.errno, str(exc.errno))}
    finally:
        s.close()


def loop(count: int, port: int) -> dict:
    names, results = [], []
    for i in range(count):
        name = f"n{i}.loop.test"
        addr = v4(name, port)
        proc = subprocess.run([PYTHON, SELF, "echo", addr, str(port)], capture_output=True, timeout=20)
        names.append([name, addr])
        try:
            results.append(json.loads(proc.stdout))
        except ValueError:
            results.append({"errno": "no output", "stderr": proc.stderr.decode(errors="replace")})
    return {"names": names, "results": results}


def connect_stdin(port: int) -> None:
    # A child of `feed`: one address per line, one connect each.
    for line in sys.stdin:
        addr = line.strip()
        print(json.dumps([addr, attempt(addr, port)["errno"]]), flush=True)


def feed(count: int, port: int, children: int) -> dict:
    kids = [subprocess.Popen([PYTHON, SELF, "connect-stdin", str(port)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True) for _ in range(children)]
    resolved = {}
    for i in range(count):
        name = f"n{i}.feed.test"
        resolved[name] = v4(name, port)
        kid = kids[i % children]
        kid.stdin.write(resolved[name] + "\n")
        kid.stdin.flush()
    results = []
    for kid in kids:
        out, _ = kid.communicate(timeout=60)
        results += [json.loads(line) for line in out.splitlines() if line.strip()]
    return {"resolved": resolved, "results": results}


def daemon(name: str, port: int, outfile: str) -> None:
    addr = v4(name, port)
    main_pid = os.getpid()
    if os.fork() == 0:
        os.setsid()
        # As daemons do: off the caller's pipes, or whoever waits for their end waits for us.
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        if os.fork() == 0:
            # Wait (bounded) until the main program is gone.
            for _ in range(200):
                try:
                    os.kill(main_pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.02)
            time.sleep(0.2)
            fd = os.open(outfile + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.close(fd)
            pid = os.fork()
            if pid == 0:
                os.execv(PYTHON, [PYTHON, SELF, "echo", addr, str(port)])
            os.waitpid(pid, 0)
            os.rename(outfile + ".tmp", outfile)
            os._exit(0)
        os._exit(0)
    print(json.dumps({"addr": addr}), flush=True)
    os.wait()  # the intermediate child, gone at once


def closerange(name: str, urlpath: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.close_range(3, ctypes.c_uint(0xFFFFFFFF), 0) != 0:
        sys.exit(f"close_range: {os.strerror(ctypes.get_errno())}")
    addr = v4(name)
    os.execv("/usr/bin/curl", ["curl", "-sS", "--fail", "--max-time", "20", f"http://{addr}{urlpath}"])


def main() -> int:
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "echo":
        print(json.dumps(attempt(args[0], int(args[1]))))
    elif mode == "loop":
        print(json.dumps(loop(int(args[0]), int(args[1]))))
    elif mode == "connect-stdin":
        connect_stdin(int(args[0]))
    elif mode == "feed":
        print(json.dumps(feed(int(args[0]), int(args[1]), int(args[2]))))
    elif mode == "daemon":
        daemon(args[0], int(args[1]), args[2])
    elif mode == "closerange":
        closerange(args[0], args[1])
    else:
        sys.exit(f"unknown mode {mode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
