"""Connections for the route tests, one process, given as arguments:
  echo HOST PORT     connect, send a line, read it back
  get HOST PORT PATH HTTP/1.0 GET, the body's length
  many N HOST PORT   N connect+echo+close cycles
Prints one JSON object: a result per argument group ("ok", or the errno name)."""

import errno
import json
import socket
import sys


def echo(host, port):
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"route probe\n")
        got = b""
        while len(got) < 12:
            chunk = s.recv(64)
            if not chunk:
                break
            got += chunk
        return "ok" if got == b"route probe\n" else f"bad echo {got!r}"


def get(host, port, path):
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return "ok" if data.startswith(b"HTTP/1.") and b" 200 " in data.split(b"\r\n")[0] else "bad"


def run(fn, *args):
    try:
        return fn(*args)
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc))


def main(argv):
    results = []
    i = 0
    while i < len(argv):
        kind = argv[i]
        if kind == "echo":
            results.append(run(echo, argv[i + 1], argv[i + 2]))
            i += 3
        elif kind == "get":
            results.append(run(get, argv[i + 1], argv[i + 2], argv[i + 3]))
            i += 4
        elif kind == "many":
            n = int(argv[i + 1])
            outcomes = [run(echo, argv[i + 2], argv[i + 3]) for _ in range(n)]
            results.append("ok" if all(o == "ok" for o in outcomes) else outcomes)
            i += 4
        else:
            raise SystemExit(f"unknown probe {kind}")
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1:])
