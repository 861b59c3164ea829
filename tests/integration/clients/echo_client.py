#!/usr/bin/python3
"""echo_client.py HOST PORT SIZE [TAG]: one TCP round trip through socket.create_connection.

Sends SIZE payload bytes on one thread while reading the echo on another until
SIZE bytes are back, then half-closes and expects EOF with nothing extra. (The
half-close comes last because microsocks tears the whole session down on the
first EOF it sees.) Prints one JSON
line; exit status 0 only if every byte matched.
"""

import hashlib
import json
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payload import payload  # noqa: E402


def main() -> int:
    host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    tag = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    data = payload(size, tag)
    result = {"sent": size}
    try:
        sock = socket.create_connection((host, port), timeout=20)
    except OSError as exc:
        import errno
        result.update(ok=False, stage="connect", errno=errno.errorcode.get(exc.errno, str(exc.errno)),
                      error=str(exc))
        print(json.dumps(result))
        return 2
    result["peer"] = list(sock.getpeername()[:2])

    def send_all() -> None:
        for off in range(0, size, 16384):
            sock.sendall(data[off:off + 16384])

    sender = threading.Thread(target=send_all, daemon=True)
    sender.start()
    received = bytearray()
    while len(received) < size:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    sender.join(20)
    sock.shutdown(socket.SHUT_WR)
    extra = sock.recv(65536) if len(received) == size else b""
    result["extra_after_echo"] = len(extra)
    received += extra
    sock.close()
    result.update(received=len(received), sha256=hashlib.sha256(received).hexdigest(),
                  expected_sha256=hashlib.sha256(data).hexdigest(), ok=bytes(received) == data)
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
