#!/usr/bin/python3
"""concurrent_echo.py HOST PORT THREADS SIZE: THREADS simultaneous connections, each
a full echo round trip of its own SIZE-byte payload, every byte checked.

All threads connect, then wait on a barrier, so the handshakes and the data
really overlap. Prints one JSON line; exit status 0 only if every thread's
bytes came back exactly.
"""

import errno
import json
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payload import payload  # noqa: E402


def main() -> int:
    host, port, threads, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    barrier = threading.Barrier(threads, timeout=30)
    results = [None] * threads

    def worker(i: int) -> None:
        data = payload(size, tag=i)
        try:
            sock = socket.create_connection((host, port), timeout=30)
        except OSError as exc:
            results[i] = f"connect: {errno.errorcode.get(exc.errno, exc.errno)} {exc}"
            try:
                barrier.abort()
            except threading.BrokenBarrierError:
                pass
            return
        try:
            barrier.wait()
            received = bytearray()
            for off in range(0, size, 4096):
                sock.sendall(data[off:off + 4096])
                want = min(size, off + 4096)
                while len(received) < want:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    received += chunk
            sock.shutdown(socket.SHUT_WR)
            tail = sock.recv(1)
            if received != data:
                first_bad = next((k for k in range(min(len(received), size)) if received[k] != data[k]),
                                 min(len(received), size))
                results[i] = f"mismatch: got {len(received)} bytes, first difference at {first_bad}"
            elif tail:
                results[i] = "extra bytes after the echo"
            else:
                results[i] = "ok"
        except (OSError, threading.BrokenBarrierError) as exc:
            results[i] = f"error: {type(exc).__name__} {exc}"
        finally:
            sock.close()

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(60)
    failures = {i: r for i, r in enumerate(results) if r != "ok"}
    print(json.dumps({"threads": threads, "ok": threads - len(failures), "failures": failures}))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
