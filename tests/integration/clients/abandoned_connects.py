#!/usr/bin/python3
"""abandoned_connects.py HOST PORT TOTAL BATCH: under RLIMIT_NOFILE 64, start TOTAL
non-blocking connects, BATCH at a time, and close each batch while its handshakes
are still pending (an event loop giving up on slow connections). Reports the
errors seen, the most threads the process had, how long the slowest connect()
call took, and the descriptors left over at the end."""

import errno
import json
import os
import resource
import socket
import sys
import time


def threads() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass  # EMFILE: counted where the sockets fail
    return -1


def main() -> int:
    host, port, total, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    before = len(os.listdir("/proc/self/fd"))  # before the limit: nothing else open yet
    errors: dict[str, int] = {}
    in_progress = 0
    max_threads = threads()
    slowest = 0.0
    started = 0
    deadline = time.monotonic() + 60
    while started < total and time.monotonic() < deadline:
        socks = []
        for _ in range(min(batch, total - started)):
            started += 1
            try:
                s = socket.socket()
            except OSError as exc:
                errors[errno.errorcode.get(exc.errno, str(exc.errno))] = errors.get(
                    errno.errorcode.get(exc.errno, str(exc.errno)), 0) + 1
                continue
            s.setblocking(False)
            t0 = time.monotonic()
            rc = s.connect_ex((host, port))
            slowest = max(slowest, time.monotonic() - t0)
            if rc == errno.EINPROGRESS:
                in_progress += 1
            else:
                name = errno.errorcode.get(rc, str(rc))
                errors[name] = errors.get(name, 0) + 1
            socks.append(s)
        time.sleep(0.05)  # the workers have picked the handshakes up
        max_threads = max(max_threads, threads())
        for s in socks:
            s.close()
    time.sleep(0.2)
    try:
        extra = len(os.listdir("/proc/self/fd")) - before
    except OSError:
        extra = -1
    print(json.dumps({"started": started, "in_progress": in_progress, "errors": errors,
                      "max_threads": max_threads, "slowest_connect_s": round(slowest, 4),
                      "extra_fds": extra}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
