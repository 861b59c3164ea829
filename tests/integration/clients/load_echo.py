#!/usr/bin/python3
"""load_echo.py HOST PORT THREADS PER_THREAD DEADLINE_S: THREADS threads, each
making PER_THREAD connections one after another: connect, send a payload
unique to (thread, connection), read it back, close.

Bounded twice: by the count, and by DEADLINE_S after which no thread starts a
new connection. /proc/self/fd is counted before the threads start and after
they end. Prints one JSON line; exit status 0 only if every connection was made
and every echo matched before the deadline.
"""

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payload import echo_round_trip  # noqa: E402

SIZE = 100
MAX_REPORTED = 10  # failure messages kept; the count is exact


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    threads, per_thread, deadline_s = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    lock = threading.Lock()
    ok = [0]
    failures: list[str] = []
    failed = [0]
    start = time.monotonic()
    deadline = start + deadline_s

    def one(tag: int) -> str | None:
        err = echo_round_trip(host, port, SIZE, tag)
        return f"tag {tag}: {err}" if err else None

    def worker(i: int) -> None:
        for j in range(per_thread):
            if time.monotonic() > deadline:
                return
            err = one(i * per_thread + j)
            with lock:
                if err is None:
                    ok[0] += 1
                else:
                    failed[0] += 1
                    if len(failures) < MAX_REPORTED:
                        failures.append(err)

    before = fd_count()
    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(max(0.0, deadline - time.monotonic()) + 30)
    elapsed = time.monotonic() - start
    time.sleep(0.2)  # a helper thread may still be closing the last proxy connection
    after = fd_count()
    wanted = threads * per_thread
    print(json.dumps({"wanted": wanted, "ok": ok[0], "failed": failed[0], "failures": failures,
                      "elapsed": round(elapsed, 2), "fds_before": before, "fds_after": after,
                      "threads_alive": sum(t.is_alive() for t in pool)}))
    return 0 if ok[0] == wanted else 1


if __name__ == "__main__":
    sys.exit(main())
