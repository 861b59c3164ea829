#!/usr/bin/python3
"""early_data.py HOST PORT: a non-blocking client that writes as soon as its
connect is writable (as a browser sends its request), then reads the answer.
Prints one JSON line: connect, so_error, send (bytes or errno name), recv (the
echoed text or errno name), seconds from connect to writable."""

import errno
import json
import select
import socket
import sys
import time

PAYLOAD = b"hello-early\n"


def name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno, str(exc.errno))


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    started = time.monotonic()
    out = {"connect": errno.errorcode.get(sock.connect_ex((host, port)), "OK")}
    _r, w, _x = select.select([], [sock], [], 10)
    out["writable_after"] = round(time.monotonic() - started, 3)
    out["so_error"] = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    try:
        out["send"] = sock.send(PAYLOAD)
    except OSError as exc:
        out["send"] = name(exc)
    got = b""
    deadline = time.monotonic() + 10
    while len(got) < len(PAYLOAD) and time.monotonic() < deadline:
        r, _w, _x = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        try:
            chunk = sock.recv(4096)
        except BlockingIOError:
            continue  # the proxy's replies, read and kept from us: nothing yet
        except OSError as exc:
            out["recv"] = name(exc)
            break
        if not chunk:
            out["recv"] = "EOF"
            break
        got += chunk
    out.setdefault("recv", got.decode("latin-1"))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
