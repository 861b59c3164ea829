"""UDP client run through the launcher; prints one JSON line with what it saw.

    udp_client.py echo HOST PORT SIZE...     sendto/recvfrom, one datagram per size
    udp_client.py connected HOST PORT        connect, send/recv, getpeername
    udp_client.py threads HOST PORT THREADS COUNT   threads share one socket
    udp_client.py maxsize HOST PORT LOW HIGH largest payload echoed whole
    udp_client.py inject HOST PORT           datagrams from a non-relay address are dropped
    udp_client.py semantics HOST PORT        MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT, scatter/gather
    udp_client.py afterclose HOST PORT       sends after the proxy closed the association
    udp_client.py v6only HOST PORT           sendto on an IPV6_V6ONLY socket; reports the errno
    udp_client.py byname NAME PORT           resolve, then unconnected and connected echo
    udp_client.py parent PROGRAM ARGS...     exec PROGRAM ARGS... FD with an inherited UDP socket
    udp_client.py child HOST PORT FD         echo over the inherited socket FD
    udp_client.py send HOST PORT             one sendto; reports the errno
"""

import hashlib
import json
import os
import select
import socket
import sys
import threading
import time


def family_of(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def payload(tag: str, size: int) -> bytes:
    """size bytes starting with tag, the rest derived from it (so corruption shows)."""
    head = tag.encode() + b"|"
    filler = hashlib.sha256(tag.encode()).digest()
    body = (filler * (size // len(filler) + 1))
    return (head + body)[:size] if size >= len(head) else body[:size]


def out(**result) -> None:
    print(json.dumps(result), flush=True)


def echo(host: str, port: int, sizes: list[int]) -> None:
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.settimeout(5)
    results = []
    for size in sizes:
        data = payload(f"echo-{size}", size)
        sent = s.sendto(data, (host, port))
        got, addr = s.recvfrom(70000)
        results.append({"size": size, "sent": sent, "received": len(got), "same": got == data,
                        "from": [addr[0], addr[1]]})
    out(ok=all(r["same"] for r in results), results=results, family=int(s.family))


def connected(host: str, port: int) -> None:
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.settimeout(5)
    s.connect((host, port))
    peer = s.getpeername()
    s.send(b"connected-send")
    first = s.recv(1000)
    # write()/read() on the descriptor, as C programs do.
    os.write(s.fileno(), b"connected-write")
    select.select([s], [], [], 5)  # the socket is non-blocking (settimeout)
    second = os.read(s.fileno(), 1000)
    # recvfrom on a connected socket reports the peer, not the relay.
    s.send(b"connected-recvfrom")
    third, addr = s.recvfrom(1000)
    s.connect((host, port))  # reconnecting to the same peer is fine
    s.send(b"again")
    fourth = s.recv(1000)
    out(ok=True, peer=[peer[0], peer[1]], first=first.decode(), second=second.decode(),
        third=third.decode(), third_from=[addr[0], addr[1]], fourth=fourth.decode())


def threads(host: str, port: int, nthreads: int, count: int) -> None:
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.settimeout(10)
    lock = threading.Lock()
    sent: dict[str, bytes] = {}
    received: dict[str, int] = {}
    corrupt: list[str] = []
    errors: list[str] = []

    def worker(t: int) -> None:
        try:
            for j in range(count):
                tag = f"t{t}-{j}"
                data = payload(tag, 16 + (t * 131 + j * 17) % 1400)
                with lock:
                    sent[tag] = data
                s.sendto(data, (host, port))
                got, _ = s.recvfrom(70000)  # any thread's reply: all are tallied
                got_tag = got.split(b"|", 1)[0].decode(errors="replace")
                with lock:
                    received[got_tag] = received.get(got_tag, 0) + 1
                    if sent.get(got_tag) != got:
                        corrupt.append(got_tag)
        except Exception as exc:  # reported, not raised: the JSON line says what failed
            with lock:
                errors.append(f"thread {t}: {exc!r}")

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(nthreads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    missing = sorted(set(sent) - set(received))
    dupes = sorted(k for k, v in received.items() if v != 1)
    unknown = sorted(set(received) - set(sent))
    out(ok=not (missing or dupes or unknown or corrupt or errors), sent=len(sent),
        received=sum(received.values()), missing=missing[:20], duplicated=dupes[:20],
        unknown=unknown[:20], corrupt=corrupt[:20], errors=errors[:20])


def maxsize(host: str, port: int, low: int, high: int) -> None:
    """Binary search for the largest payload echoed whole, between low (known
    good) and high; then the errno for one byte more than the kernel allows."""
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.settimeout(2)

    def works(size: int) -> bool:
        data = payload(f"max-{size}", size)
        try:
            s.sendto(data, (host, port))
        except OSError:
            return False
        try:
            while True:
                got, _ = s.recvfrom(70000)
                if got.startswith(f"max-{size}|".encode()):
                    return got == data
        except socket.timeout:
            return False

    if not works(low):
        out(ok=False, why=f"{low} bytes did not echo")
        return
    lo, hi = low, high + 1  # lo works, hi does not (or is past the range)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if works(mid):
            lo = mid
        else:
            hi = mid
    try:
        s.sendto(payload("too-big", 65508), (host, port))
        too_big_errno = 0
    except OSError as exc:
        too_big_errno = exc.errno
    out(ok=True, largest=lo, too_big_errno=too_big_errno)


def inject(host: str, port: int) -> None:
    """Prints {"port": P} once associated, waits for a line on stdin (the test
    injects datagrams to port P from non-relay addresses meanwhile), then asks
    the target again: only the relay's datagrams may be delivered."""
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(b"first", (host, port))  # opens the association, binds our port
    first, _ = s.recvfrom(1000)
    print(json.dumps({"port": s.getsockname()[1]}), flush=True)
    sys.stdin.readline()
    s.sendto(b"second", (host, port))
    second, addr = s.recvfrom(1000)
    s.settimeout(1)
    extra = []
    try:
        while True:
            extra.append(s.recvfrom(1000)[0].decode(errors="replace"))
    except socket.timeout:
        pass
    out(ok=True, first=first.decode(), second=second.decode(), second_from=[addr[0], addr[1]],
        extra=extra)


def semantics(host: str, port: int) -> None:
    """recv flags and buffer shapes behave as on a plain UDP socket."""
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.settimeout(5)
    r = {}
    # Nothing queued yet: MSG_DONTWAIT says EAGAIN (after the association opened).
    s.sendto(b"warm-up", (host, port))
    s.recvfrom(100)
    s.settimeout(None)  # a blocking socket: python then calls recv() without polling first
    try:
        s.recv(100, socket.MSG_DONTWAIT)
        r["dontwait_errno"] = 0
    except BlockingIOError as exc:
        r["dontwait_errno"] = exc.errno
    s.settimeout(5)
    # MSG_PEEK leaves the datagram queued.
    s.sendto(b"peek-me", (host, port))
    peeked, paddr = s.recvfrom(100, socket.MSG_PEEK)
    again, aaddr = s.recvfrom(100)
    r["peek"] = [peeked.decode(), again.decode(), paddr == aaddr]
    # A short buffer truncates; recvmsg says MSG_TRUNC.
    s.sendto(b"0123456789abcdef", (host, port))
    data, _, flags, _ = s.recvmsg(4)
    r["short"] = [data.decode(), bool(flags & socket.MSG_TRUNC)]
    # MSG_TRUNC as a flag: the real length is returned.
    s.sendto(b"0123456789abcdef", (host, port))
    buf = bytearray(4)
    n = s.recv_into(buf, 4, socket.MSG_TRUNC)
    r["trunc_flag"] = [n, bytes(buf).decode()]
    # Gather out, scatter in.
    s.sendmsg([b"ab", b"", b"cdefg", b"h"], [], 0, (host, port))
    b1, b2, b3 = bytearray(3), bytearray(0), bytearray(10)
    n, _, flags, _ = s.recvmsg_into([b1, b2, b3])
    r["scatter"] = [n, (bytes(b1) + bytes(b3[:n - 3])).decode(), bool(flags & socket.MSG_TRUNC)]
    # An empty datagram.
    s.sendto(b"", (host, port))
    empty, _ = s.recvfrom(100)
    r["empty"] = len(empty)
    out(ok=True, **r)


def afterclose(host: str, port: int) -> None:
    """One round trip, then (the proxy having closed the control connection)
    two more sends: both must fail."""
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(b"before", (host, port))
    got, _ = s.recvfrom(1000)
    errnos = []
    for _ in range(2):
        time.sleep(0.5)
        try:
            s.sendto(b"after", (host, port))
            errnos.append(0)
        except OSError as exc:
            errnos.append(exc.errno)
    out(ok=True, before=got.decode(), errnos=errnos)


def v6only(host: str, port: int) -> None:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        s.sendto(b"v6only", (host, port))
        out(ok=True, errno=0)
    except OSError as exc:
        out(ok=True, errno=exc.errno)


def byname(name: str, port: int) -> None:
    """Resolve name (through socksify's resolver hooks), then sendto/recvfrom
    unconnected and send/recv connected to the address it gave."""
    addr = socket.getaddrinfo(name, port, socket.AF_INET, socket.SOCK_DGRAM)[0][4][0]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(b"by-name-sendto", (addr, port))
    first, first_from = s.recvfrom(1000)
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(5)
    c.connect((addr, port))
    c.send(b"by-name-connected")
    second, second_from = c.recvfrom(1000)
    out(ok=True, address=addr, first=first.decode(), first_from=[first_from[0], first_from[1]],
        second=second.decode(), second_from=[second_from[0], second_from[1]],
        peer=list(c.getpeername()))


def parent(argv: list[str]) -> None:
    """Makes an unbound UDP socket, then execs argv + [its fd]: the program that
    inherits it (under socksify) never called socket() for it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.set_inheritable(True)
    os.execvp(argv[0], argv + [str(s.fileno())])


def child(host: str, port: int, fd: int) -> None:
    s = socket.socket(fileno=fd)
    s.settimeout(5)
    try:
        s.sendto(b"inherited", (host, port))
        got, addr = s.recvfrom(1000)
        out(ok=True, errno=0, reply=got.decode(), reply_from=[addr[0], addr[1]])
    except OSError as exc:
        out(ok=True, errno=exc.errno or -1, reply=None)


def send(host: str, port: int) -> None:
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        s.sendto(b"probe", (host, port))
    except OSError as exc:
        out(ok=False, errno=exc.errno)
        return
    try:
        got, _ = s.recvfrom(1000)
        out(ok=True, errno=0, reply=got.decode())
    except socket.timeout:
        out(ok=True, errno=0, reply=None)


def main() -> None:
    if sys.argv[1] == "parent":
        parent(sys.argv[2:])
        return
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "echo":
        echo(host, port, [int(x) for x in sys.argv[4:]])
    elif cmd == "connected":
        connected(host, port)
    elif cmd == "threads":
        threads(host, port, int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "maxsize":
        maxsize(host, port, int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "inject":
        inject(host, port)
    elif cmd == "semantics":
        semantics(host, port)
    elif cmd == "afterclose":
        afterclose(host, port)
    elif cmd == "v6only":
        v6only(host, port)
    elif cmd == "byname":
        byname(host, port)
    elif cmd == "child":
        child(host, port, int(sys.argv[4]))
    elif cmd == "send":
        send(host, port)
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
