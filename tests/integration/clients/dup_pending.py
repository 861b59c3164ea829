#!/usr/bin/python3
"""dup_pending.py HOST PORT PATH: a non-blocking connect(), then dup() of the socket
and close() of the original while the handshake is pending. The handshake must
go on for the dup: poll it writable, SO_ERROR 0, GET PATH over it. Reports the
body and whether the closed number was free again afterwards."""

import json
import os
import select
import socket
import sys


def main() -> int:
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = socket.socket()
    s.setblocking(False)
    rc = s.connect_ex((host, port))
    original = s.fileno()
    copy = os.dup(original)
    s.close()  # the original number, while the handshake runs
    p = select.poll()
    p.register(copy, select.POLLOUT)
    ready = p.poll(10000)
    err = socket.socket(fileno=os.dup(copy)).getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    c = socket.socket(fileno=copy)
    c.setblocking(True)
    c.settimeout(10)
    c.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
    data = b""
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        data += chunk
    c.close()
    probe = os.open("/dev/null", os.O_RDONLY)  # lowest free number
    print(json.dumps({"connect": rc, "ready": bool(ready), "so_error": err,
                      "body": data.split(b"\r\n\r\n", 1)[-1].decode("latin-1"),
                      "original_free": probe <= original}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
