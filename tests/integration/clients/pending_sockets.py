#!/usr/bin/python3
"""pending_sockets.py HOST PORT COUNT poll|select: COUNT non-blocking connects
at once (an echo target), all waited for in one poll() or select() call at a
time. Each socket a call reports writable is checked there and then, as an
event loop would use it: SO_ERROR 0, getpeername the target, a send that is
taken whole. At the end every socket echoes its tag back.
Prints one JSON line: how many connects said EINPROGRESS, how many calls it
took, the most one call reported, every socket reported writable too early
(with what it answered), and how many echoes came back exactly."""

import errno
import json
import select
import socket
import sys
import time


def name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno, str(exc.errno))


def check(sock: socket.socket, tag: bytes, host: str, port: int) -> str | None:
    """None if the socket is a ready tunnel, else what gave it away."""
    err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if err != 0:
        return f"SO_ERROR {errno.errorcode.get(err, err)}"
    try:
        peer = sock.getpeername()
    except OSError as exc:
        return f"getpeername {name(exc)}"
    if tuple(peer[:2]) != (host, port):
        return f"getpeername {peer}"
    try:
        sent = sock.send(tag)
    except OSError as exc:
        return f"send {name(exc)}"
    return None if sent == len(tag) else f"send took {sent} of {len(tag)}"


def main() -> int:
    host, port, count, waiter = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    socks = {}
    einprogress = 0
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        einprogress += s.connect_ex((host, port)) == errno.EINPROGRESS
        socks[s.fileno()] = (s, f"tag-{i:04d}|".encode())
    remaining = dict(socks)
    early, calls, largest, first_call_s = [], 0, 0, None
    tunnels = []  # the sockets whose checks passed, in the order reported
    start = time.monotonic()
    deadline = start + 40
    poller = select.poll() if waiter == "poll" else None
    if poller is not None:
        for fd in remaining:
            poller.register(fd, select.POLLOUT)
    while remaining and time.monotonic() < deadline and calls < 10 * count:
        calls += 1
        if poller is not None:
            ready = [fd for fd, ev in poller.poll(5000) if ev]
        else:
            _r, w, _x = select.select([], list(remaining), [], 5)
            ready = list(w)
        if first_call_s is None:
            first_call_s = round(time.monotonic() - start, 3)
        largest = max(largest, len(ready))
        for fd in ready:
            s, tag = remaining.pop(fd)
            if poller is not None:
                poller.unregister(fd)
            problem = check(s, tag, host, port)
            if problem is None:
                tunnels.append((s, tag))
            else:
                early.append({"fd": fd, "after_s": round(time.monotonic() - start, 3),
                              "problem": problem})
    echoed = 0
    for s, tag in tunnels:
        s.setblocking(True)
        s.settimeout(max(0.1, deadline + 10 - time.monotonic()))
        got = b""
        try:
            while len(got) < len(tag):
                chunk = s.recv(len(tag) - len(got))
                if not chunk:
                    break
                got += chunk
        except OSError:
            pass
        echoed += got == tag
    print(json.dumps({"einprogress": einprogress, "calls": calls, "largest": largest,
                      "first_call_s": first_call_s, "never_ready": len(remaining),
                      "early": early[:10], "early_count": len(early), "echoed": echoed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
