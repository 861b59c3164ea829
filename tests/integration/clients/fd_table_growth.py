"""fd_table_growth.py TARGET PORT: a non-blocking connect through socksify and a
poll() for writability, as curl does, then a 4-byte TCP echo. Prints one JSON
line with the kernel's descriptor-table size (FDSize in /proc/self/status) and
the thread count at the start, once connect() returned EINPROGRESS (socksify's
connect worker runs the handshake then) and after the poll (socksify moved the
poll's stand-in eventfd high: core/own_fds.hpp), and how long the poll took.

Growing the table while a second thread shares it waits for an RCU grace period
in the kernel (6-40 ms): the table must have grown before socksify's thread
existed, never during the poll."""

import errno
import json
import resource
import select
import socket
import sys
import time

TIMEOUT_S = 5
LIMIT = 4096


def status() -> dict:
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return {"fdsize": int(fields["FDSize"]), "threads": int(fields["Threads"])}


def main() -> None:
    target, port = sys.argv[1], int(sys.argv[2])
    # One soft limit whatever this environment's: socksify's numbers start at
    # 1024 under it (core/own_fds.cpp), so the table must reach 2048 slots.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, hard if hard >= LIMIT else LIMIT))
    start = status()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    rc = s.connect_ex((target, port))
    connecting = status()
    p = select.poll()
    p.register(s.fileno(), select.POLLOUT)
    t0 = time.monotonic()
    events = p.poll(TIMEOUT_S * 1000)
    poll_ms = (time.monotonic() - t0) * 1000
    polled = status()
    so_error = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    s.setblocking(True)
    s.settimeout(TIMEOUT_S)
    s.sendall(b"ping")
    got = b""
    while len(got) < 4:
        chunk = s.recv(4 - len(got))
        if not chunk:
            break
        got += chunk
    s.close()
    print(json.dumps({"ok": True, "connect": errno.errorcode.get(rc, rc), "start": start,
                      "connecting": connecting, "polled": polled, "poll_ms": round(poll_ms, 3),
                      "events": [e for _, e in events], "so_error": so_error,
                      "echo": got.decode(errors="replace")}), flush=True)


if __name__ == "__main__":
    main()
