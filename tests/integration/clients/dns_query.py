"""Sends its own DNS query (as c-ares, dig or Chromium do) and connects to the
answer in the same process; prints one JSON line with what it saw.

    dns_query.py udp SERVER NAME PORT        unconnected sendto/recvfrom, then HTTP GET
    dns_query.py connected SERVER NAME PORT  connect, send/recv (non-blocking, poll), getpeername
    dns_query.py tcp SERVER NAME PORT        TCP, the query written in two parts, getpeername
    dns_query.py type SERVER NAME QTYPE      one query of QTYPE over UDP: rcode and answers
    dns_query.py calls SERVER NAME PORT      sendmsg/recvmsg, write/read on a connected
                                             socket, sendmmsg/recvmmsg (ctypes): one query each

PORT is the HTTP port fetched at the first A answer (/hello.txt).
"""

import ctypes
import json
import os
import select
import socket
import struct
import sys

QTYPE_A = 1


def query(name: str, qtype: int, qid: int) -> bytes:
    head = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return head + qname + struct.pack("!HH", qtype, 1)


def skip_name(msg: bytes, i: int) -> int:
    while True:
        n = msg[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += 1 + n


def parse(msg: bytes) -> dict:
    qid, flags, qd, an, _, _ = struct.unpack("!HHHHHH", msg[:12])
    i = 12
    for _ in range(qd):
        i = skip_name(msg, i) + 4
    answers = []
    for _ in range(an):
        i = skip_name(msg, i)
        rtype, _, ttl, size = struct.unpack("!HHIH", msg[i:i + 10])
        rdata = msg[i + 10:i + 10 + size]
        i += 10 + size
        if rtype == 1:
            answers.append({"type": rtype, "ttl": ttl, "data": socket.inet_ntoa(rdata)})
        elif rtype == 16:
            answers.append({"type": rtype, "ttl": ttl, "data": rdata[1:].decode()})
        else:
            answers.append({"type": rtype, "ttl": ttl, "data": rdata.hex()})
    return {"id": qid, "rcode": flags & 0xF, "qr": bool(flags & 0x8000), "answers": answers}


def fetch(address: str, port: int, host: str) -> str:
    with socket.create_connection((address, port), timeout=10) as c:
        c.sendall(f"GET /hello.txt HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode())
        data = b""
        while chunk := c.recv(65536):
            data += chunk
    return data.split(b"\r\n\r\n", 1)[-1].decode(errors="replace")


def first_a(r: dict) -> str | None:
    return next((a["data"] for a in r["answers"] if a["type"] == QTYPE_A), None)


class Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class Msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32), ("iov", ctypes.POINTER(Iovec)),
                ("iovlen", ctypes.c_size_t), ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class Mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", Msghdr), ("len", ctypes.c_uint)]


def sockaddr_in(host: str, port: int) -> bytes:
    # sa_family in host order, then port and address in network order, 8 zero bytes.
    return struct.pack("=H", socket.AF_INET) + struct.pack("!H4s", port, socket.inet_aton(host)) + bytes(8)


def mmsg_round(s: socket.socket, server: str, name: str) -> dict:
    """sendmmsg of two queries to SERVER:53, recvmmsg of both answers (libc via ctypes, so
    the preloaded hooks see the calls as a C program's)."""
    libc = ctypes.CDLL(None, use_errno=True)
    to = ctypes.create_string_buffer(sockaddr_in(server, 53), 16)
    queries = [query(name, QTYPE_A, 0x7000 + i) for i in range(2)]
    bufs = [ctypes.create_string_buffer(q, len(q)) for q in queries]
    iovs = [Iovec(ctypes.cast(b, ctypes.c_void_p), len(q)) for b, q in zip(bufs, queries)]
    msgs = (Mmsghdr * 2)()
    for i in range(2):
        msgs[i].hdr.name = ctypes.cast(to, ctypes.c_void_p)
        msgs[i].hdr.namelen = 16
        msgs[i].hdr.iov = ctypes.pointer(iovs[i])
        msgs[i].hdr.iovlen = 1
    sent = libc.sendmmsg(s.fileno(), msgs, 2, 0)
    rbufs = [ctypes.create_string_buffer(1500) for _ in range(2)]
    riovs = [Iovec(ctypes.cast(b, ctypes.c_void_p), 1500) for b in rbufs]
    names = [ctypes.create_string_buffer(16) for _ in range(2)]
    rmsgs = (Mmsghdr * 2)()
    for i in range(2):
        rmsgs[i].hdr.name = ctypes.cast(names[i], ctypes.c_void_p)
        rmsgs[i].hdr.namelen = 16
        rmsgs[i].hdr.iov = ctypes.pointer(riovs[i])
        rmsgs[i].hdr.iovlen = 1
    select.select([s], [], [], 5)
    got = libc.recvmmsg(s.fileno(), rmsgs, 2, 0x10000, None)  # MSG_WAITFORONE
    answers = []
    for i in range(max(got, 0)):
        port, addr = struct.unpack("!H4s", names[i].raw[2:8])
        answers.append({**parse(rbufs[i].raw[:rmsgs[i].len]), "source": [socket.inet_ntoa(addr), port]})
    return {"sent": sent, "received": got, "answers": answers}


def calls(server: str, name: str) -> dict:
    out = {}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendmsg([query(name, QTYPE_A, 0x6001)[:7], query(name, QTYPE_A, 0x6001)[7:]], [], 0, (server, 53))
    msg, _, _, src = s.recvmsg(4096)
    out["sendmsg"] = {**parse(msg), "source": [src[0], src[1]]}
    out["mmsg"] = mmsg_round(s, server, name)
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.connect((server, 53))
    os.write(c.fileno(), query(name, QTYPE_A, 0x6002))
    select.select([c], [], [], 5)
    out["write"] = parse(os.read(c.fileno(), 4096))
    return out


def main() -> None:
    mode, server, name = sys.argv[1], sys.argv[2], sys.argv[3]
    out: dict = {"mode": mode}
    if mode in ("udp", "type"):
        qtype = int(sys.argv[4]) if mode == "type" else QTYPE_A
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.sendto(query(name, qtype, 0x1234), (server, 53))
        msg, src = s.recvfrom(4096)
        out.update(parse(msg), source=[src[0], src[1]])
    elif mode == "connected":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.connect((server, 53))
        out["peer"] = list(s.getpeername())
        s.send(query(name, QTYPE_A, 0x4321))
        readable, _, _ = select.select([s], [], [], 5)
        out["readable"] = bool(readable)
        msg, src = s.recvfrom(4096)
        out.update(parse(msg), source=[src[0], src[1]])
    elif mode == "tcp":
        s = socket.create_connection((server, 53), timeout=5)
        out["peer"] = list(s.getpeername())
        q = query(name, QTYPE_A, 0x5555)
        framed = struct.pack("!H", len(q)) + q
        s.send(framed[:5])  # a partial write: the rest follows
        s.send(framed[5:])
        size = struct.unpack("!H", s.recv(2, socket.MSG_WAITALL))[0]
        out.update(parse(s.recv(size, socket.MSG_WAITALL)))
    elif mode == "calls":
        out.update(calls(server, name))
        out["answers"] = out["sendmsg"]["answers"]
    else:
        raise SystemExit(f"unknown mode {mode}")
    address = first_a(out)
    if mode != "type" and address is not None:
        out["body"] = fetch(address, int(sys.argv[4]), name)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
