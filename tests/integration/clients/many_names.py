#!/usr/bin/python3
"""many_names.py COUNT PORT: resolves COUNT distinct names (n0.reuse.test, ...),
then connects to the FIRST name's address and to the LAST one's, sending "ping"
and reading the echo. Prints one JSON line: both addresses, the resolve time,
and each attempt's outcome (errno name, or the bytes echoed).

Issue 14 item 11: with 65,536 names held, the oldest address went to a new
name, so the first connect reached another host."""

import errno
import json
import socket
import sys
import time


def attempt(addr) -> dict:
    s = socket.socket()
    s.settimeout(10)
    try:
        s.connect(addr)
        s.sendall(b"ping")
        return {"errno": 0, "echo": s.recv(4).decode(errors="replace")}
    except OSError as exc:
        return {"errno": errno.errorcode.get(exc.errno, str(exc.errno))}
    finally:
        s.close()


def main() -> int:
    count, port = int(sys.argv[1]), int(sys.argv[2])
    start = time.monotonic()
    first = last = None
    for i in range(count):
        addr = socket.getaddrinfo(f"n{i}.reuse.test", port, socket.AF_INET, socket.SOCK_STREAM)[0][4]
        first = first or addr
        last = addr
    result = {"first": first[0], "last": last[0], "resolve_s": round(time.monotonic() - start, 3)}
    result["first_connect"] = attempt(first)
    result["last_connect"] = attempt(last)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
