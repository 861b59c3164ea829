#!/usr/bin/python3
"""nonblocking_fd_cost.py HOST PORT N: open N non-blocking connections, wait until
each is writable, and report how many descriptors the process holds beyond
those N sockets (the library must not keep any of its own per connection)."""

import json
import os
import select
import socket
import sys


def main() -> int:
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    before = len(os.listdir("/proc/self/fd"))
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((host, port))
        socks.append(s)
    ready = 0
    for s in socks:
        _r, w, _x = select.select([], [s], [], 20)
        ready += bool(w) and s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
    after = len(os.listdir("/proc/self/fd"))
    for s in socks:
        s.close()
    print(json.dumps({"ready": ready, "extra_fds": after - before - n,
                      "after_close": len(os.listdir("/proc/self/fd")) - before}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
