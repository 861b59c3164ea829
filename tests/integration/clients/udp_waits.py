#!/usr/bin/python3
"""udp_waits.py MODE HOST PORT: a UDP client through the launcher that talks to
the test on stdin/stdout (one JSON line out, one line in, per step).

    flood HOST PORT      prints {"port"}; on "go": a blocking recvfrom with
                         SO_RCVTIMEO 1 s while the test floods the port with
                         strays; reports the errno and how long it took
    select HOST PORT     prints {"port"}; on "go" (one stray sent): select, then
                         recvfrom MSG_DONTWAIT; prints {"step"}; on "go" (a stray
                         and a trickle of more): select, then a blocking
                         recvfrom with SO_RCVTIMEO 1 s
    restart HOST PORT    prints {"port"} after one echo; on "go" (the proxy was
                         killed and started again): sends until an echo comes
                         back (at most 40 tries, 0.25 s apart)
    restart-connected    the same on a connected socket (send/recv)

Every mode ends with one more echo, which must be the first datagram delivered
(nothing the test injected may come out), and prints one JSON line."""

import errno
import json
import select
import socket
import struct
import sys
import time


def out(**result) -> None:
    print(json.dumps(result), flush=True)


def rcvtimeo(s: socket.socket, seconds: float) -> None:
    sec = int(seconds)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                 struct.pack("ll", sec, int((seconds - sec) * 1_000_000)))


def timed_recv(s: socket.socket, flags: int = 0) -> dict:
    """One recvfrom: what it delivered, or its errno, and how long it took."""
    t0 = time.monotonic()
    try:
        data, _ = s.recvfrom(2000, flags)
        return {"errno": 0, "data": data.decode(errors="replace"),
                "elapsed": round(time.monotonic() - t0, 3)}
    except OSError as exc:
        return {"errno": exc.errno, "data": None, "elapsed": round(time.monotonic() - t0, 3)}


CONNECTED = False  # restart-connected: send/recv on a connected socket


def send(s: socket.socket, data: bytes, host: str, port: int) -> None:
    if CONNECTED:
        s.send(data)
    else:
        s.sendto(data, (host, port))


def echo(s: socket.socket, host: str, port: int, tag: bytes) -> str:
    rcvtimeo(s, 5)
    send(s, tag, host, port)
    data, addr = s.recvfrom(2000)
    return data.decode(errors="replace") if tuple(addr[:2]) == (host, port) else f"from {addr}"


def main() -> int:
    global CONNECTED
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # blocking: no settimeout
    if mode == "restart-connected":
        CONNECTED = True
        s.connect((host, port))
        mode = "restart"
    first = echo(s, host, port, b"first")  # opens the association, binds our port
    out(port=s.getsockname()[1], first=first)
    sys.stdin.readline()
    r = {"first": first}
    if mode == "flood":
        rcvtimeo(s, 1)
        r["wait"] = timed_recv(s)
    elif mode == "select":
        r["readable"] = bool(select.select([s], [], [], 5)[0])
        r["dontwait"] = timed_recv(s, socket.MSG_DONTWAIT)
        out(step="next")
        sys.stdin.readline()
        r["readable2"] = bool(select.select([s], [], [], 5)[0])
        rcvtimeo(s, 1)
        r["blocking"] = timed_recv(s)
    elif mode == "restart":
        errnos, reply = [], None
        rcvtimeo(s, 0.25)
        for i in range(40):
            try:
                send(s, f"again-{i}".encode(), host, port)
            except OSError as exc:
                errnos.append(exc.errno)
                time.sleep(0.25)
                continue
            got = timed_recv(s)
            if got["errno"] == 0:
                reply = got["data"]
                break
            errnos.append(got["errno"])
        r["errnos"] = [errno.errorcode.get(e, str(e)) for e in errnos]
        r["reply"] = reply
    r["last"] = echo(s, host, port, b"last")
    out(**r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
