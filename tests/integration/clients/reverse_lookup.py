#!/usr/bin/python3
"""reverse_lookup.py NAME: resolve NAME forward, then ask for the name behind the
address again, every way a program might.

Forward: gethostbyname (IPv4) and getaddrinfo(AF_INET6). Backward, for each
address: gethostbyaddr and getnameinfo(NI_NAMEREQD). Prints one JSON line;
failures are reported as strings, never raised.
"""

import json
import socket
import sys


def attempt(func):
    try:
        return func()
    except OSError as exc:
        return f"error: {type(exc).__name__}: {exc}"


def main() -> int:
    name = sys.argv[1]
    out = {"name": name}
    v4 = attempt(lambda: socket.gethostbyname(name))
    v6 = attempt(lambda: socket.getaddrinfo(name, 80, socket.AF_INET6, socket.SOCK_STREAM)[0][4][0])
    out["v4"], out["v6"] = v4, v6
    for key, addr in (("v4", v4), ("v6", v6)):
        if addr.startswith("error"):
            continue
        out[f"{key}_gethostbyaddr"] = attempt(lambda: socket.gethostbyaddr(addr)[0])
        sockaddr = (addr, 80) if key == "v4" else (addr, 80, 0, 0)
        out[f"{key}_getnameinfo"] = attempt(lambda: socket.getnameinfo(sockaddr, socket.NI_NAMEREQD)[0])
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
