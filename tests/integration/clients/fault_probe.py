#!/usr/bin/python3
"""fault_probe.py HOST PORT MODE N: N TCP connects that are expected to fail, and
whether they left file descriptors behind.

MODE blocking: socket.connect() on a blocking socket and the errno it raises.
MODE poll / select: O_NONBLOCK socket, connect_ex (EINPROGRESS expected), then
wait for writability with poll() or select() and read SO_ERROR.
Every socket is closed after its attempt. /proc/self/fd is counted before the
first attempt and after the last: a failed connect must not leak the proxy
connection or anything else. Prints one JSON line; exit status 0 whatever the
outcome (the test judges it).
"""

import errno
import json
import os
import select
import signal
import socket
import sys
import time

WAIT_S = 30  # far beyond any timeout a test sets; a hang shows as "TIMEOUT"


class _GaveUp(Exception):
    pass


def _give_up(_signum, _frame):
    raise _GaveUp()


def name(code: int) -> str:
    return "OK" if code == 0 else errno.errorcode.get(code, str(code))


def open_fds() -> dict[int, str]:
    fds = {}
    for entry in os.listdir("/proc/self/fd"):
        try:
            fds[int(entry)] = os.readlink(f"/proc/self/fd/{entry}")
        except OSError:
            pass  # the directory listing's own fd, gone by now
    return fds


def attempt(host: str, port: int, mode: str) -> dict:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    start = time.monotonic()
    out = {}
    try:
        if mode == "blocking":
            # A truly blocking socket (settimeout would make it non-blocking
            # underneath): the library alone must end the wait. An alarm bounds it.
            signal.signal(signal.SIGALRM, _give_up)
            signal.alarm(WAIT_S)
            try:
                sock.connect((host, port))
                code = 0
            except _GaveUp:
                code = -1
            except OSError as exc:
                code = exc.errno or -1
            finally:
                signal.alarm(0)
        else:
            sock.setblocking(False)
            code = sock.connect_ex((host, port))
            out["connect_returned"] = name(code)
            out["connect_call_s"] = round(time.monotonic() - start, 3)
            if code == errno.EINPROGRESS:
                if mode == "poll":
                    poller = select.poll()
                    poller.register(sock, select.POLLOUT)
                    ready = bool(poller.poll(WAIT_S * 1000))
                else:
                    _r, w, _x = select.select([], [sock], [], WAIT_S)
                    ready = bool(w)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) if ready else -1
        out["errno"] = "TIMEOUT" if code == -1 else name(code)
    finally:
        sock.close()
    out["elapsed"] = round(time.monotonic() - start, 3)
    return out


def main() -> int:
    host, port, mode, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    before = open_fds()
    attempts = [attempt(host, port, mode) for _ in range(count)]
    time.sleep(0.2)  # a helper thread may still be finishing the last attempt
    after = open_fds()
    print(json.dumps({
        "mode": mode,
        "errnos": sorted({a["errno"] for a in attempts}),
        "attempts": attempts,
        "fds_before": len(before),
        "fds_after": len(after),
        "new_fds": {str(fd): target for fd, target in after.items() if before.get(fd) != target},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
