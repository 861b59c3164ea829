#!/usr/bin/python3
"""two_echoes.py HOST PORT: one echo round trip, then "first ok" on stdout; wait
for a line on stdin; a second round trip (a new connection). For tests that
change the proxies between two connections of one process. Prints JSON last."""

import json
import socket
import sys


def echo(host: str, port: int, payload: bytes) -> str:
    try:
        with socket.create_connection((host, port), timeout=20) as s:
            s.sendall(payload)
            got = b""
            while len(got) < len(payload):
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        return "ok" if got == payload else "short"
    except OSError as exc:
        return f"error {exc.errno}"


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    first = echo(host, port, b"first connection\n" * 64)
    print(f"first {first}", flush=True)
    sys.stdin.readline()
    second = echo(host, port, b"second connection\n" * 64)
    print(json.dumps({"first": first, "second": second}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
