#!/usr/bin/python3
"""connect_errno.py HOST PORT [blocking|nonblocking]: report how one TCP connect ends.

blocking:    socket.connect() and the errno it raises.
nonblocking: connect on an O_NONBLOCK socket, poll for writability, then SO_ERROR,
             the way event-loop programs learn the outcome.
Prints one JSON line {"errno": "ECONNREFUSED" | "OK" | ..., "elapsed": seconds}.
"""

import errno
import json
import select
import socket
import sys
import time


def name(code: int) -> str:
    return "OK" if code == 0 else errno.errorcode.get(code, str(code))


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "blocking"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    start = time.monotonic()
    result = {"mode": mode}
    if mode == "blocking":
        try:
            sock.connect((host, port))
            code = 0
        except OSError as exc:
            code = exc.errno or -1
        result["errno"] = name(code)
    else:
        sock.setblocking(False)
        call_start = time.monotonic()
        code = sock.connect_ex((host, port))
        # How long connect() itself held the caller: an event loop is frozen for that long.
        result["connect_call_s"] = round(time.monotonic() - call_start, 3)
        result["connect_returned"] = name(code)
        if code == errno.EINPROGRESS:
            poller = select.poll()
            poller.register(sock, select.POLLOUT)
            events = poller.poll(60000)
            result["poll"] = [ev for _fd, ev in events]
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        result["errno"] = name(code)
    result["elapsed"] = round(time.monotonic() - start, 3)
    sock.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
