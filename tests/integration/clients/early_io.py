#!/usr/bin/python3
"""early_io.py HOST PORT PATH select|epoll: a non-blocking client that misbehaves
the way a hasty event loop might: it sends, receives and asks for its peer
before the connection is writable, then waits (select or epoll), checks
SO_ERROR and fetches PATH over HTTP/1.0.
Prints one JSON line with what each step returned and the response body."""

import errno
import json
import select
import socket
import sys


def attempt(fn):
    try:
        fn()
        return "OK"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))


def main() -> int:
    host, port, path, waiter = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    out = {"connect": errno.errorcode.get(sock.connect_ex((host, port)), "OK")}
    out["early_send"] = attempt(lambda: sock.send(b"X"))
    out["early_recv"] = attempt(lambda: sock.recv(16))
    out["early_peer"] = attempt(sock.getpeername)
    if waiter == "select":
        _r, w, _x = select.select([], [sock], [], 30)
        out["writable"] = bool(w)
    else:
        ep = select.epoll()
        ep.register(sock.fileno(), select.EPOLLOUT)
        events = ep.poll(30)
        out["writable"] = any(ev & select.EPOLLOUT for _fd, ev in events)
        ep.close()
    out["so_error"] = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    out["peer"] = list(sock.getpeername())
    sock.setblocking(True)
    sock.settimeout(30)
    sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    out["body"] = data.split(b"\r\n\r\n", 1)[-1].decode("latin-1")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
