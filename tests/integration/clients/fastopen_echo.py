#!/usr/bin/python3
"""fastopen_echo.py HOST PORT: open a TCP connection the TCP Fast Open way,
sendto(data, MSG_FASTOPEN, address) with no connect(), and read the echo.
Prints JSON {"errno": "OK" | name, "echoed": bool}."""

import errno
import json
import socket
import sys

MSG_FASTOPEN = 0x20000000


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    data = b"fast open through the proxy\n" * 100
    sock = socket.socket()  # blocking: a timeout would make it non-blocking (EINPROGRESS)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, b"\x14" + bytes(15))  # 20 s
    try:
        sock.sendto(data, MSG_FASTOPEN, (host, port))
        got = b""
        while len(got) < len(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
        print(json.dumps({"errno": "OK", "echoed": got == data}))
    except OSError as exc:
        print(json.dumps({"errno": errno.errorcode.get(exc.errno, str(exc.errno)), "echoed": False}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
