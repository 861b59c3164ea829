"""A tiny DNS responder for the UDP tests, run in the target namespace.

    dns_responder.py --port 53 --log FILE --answer 10.9.8.7 [--txt TEXT] [--mx HOST] [--tcp]

Answers every A query with one A record (the --answer address), TXT queries
with one TXT record holding --txt and MX queries with "10 HOST" when given,
every other query type with an
empty NOERROR answer, and logs each query as a JSON line
{"event": "query", "peer": ..., "name": ..., "type": ..., "transport": "udp"|"tcp"}.
Dual-stack; with --tcp it answers length-framed queries over TCP too (RFC 7766).
"""

import argparse
import json
import socket
import struct
import threading


def parse_question(packet: bytes) -> tuple[str, int, int]:
    """(name, qtype, end offset of the question)."""
    labels, i = [], 12
    while packet[i]:
        n = packet[i]
        labels.append(packet[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype = struct.unpack("!H", packet[i + 1:i + 3])[0]
    return ".".join(labels), qtype, i + 5


MX_HOST: bytes | None = None  # --mx, as a wire-form name


def answer(packet: bytes, address: bytes, txt: bytes | None) -> bytes:
    tid, flags = struct.unpack("!HH", packet[:4])
    name, qtype, end = parse_question(packet)
    rd = flags & 0x0100
    records = b""
    if qtype == 1:
        records = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + address
    elif qtype == 16 and txt is not None:
        rdata = bytes([len(txt)]) + txt
        records = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 60, len(rdata)) + rdata
    elif qtype == 15 and MX_HOST is not None:
        rdata = struct.pack("!H", 10) + MX_HOST
        records = b"\xc0\x0c" + struct.pack("!HHIH", 15, 1, 60, len(rdata)) + rdata
    an = 1 if records else 0
    head = struct.pack("!HHHHHH", tid, 0x8000 | rd | 0x0080, 1, an, 0, 0)  # QR, RD copied, RA
    return head + packet[12:end] + records


def plain_host(peer) -> str:
    return peer[0][7:] if peer[0].startswith("::ffff:") else peer[0]


def tcp_listener(port: int) -> socket.socket:
    srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    srv.bind(("::", port))
    srv.listen(16)
    return srv


def serve_tcp(srv: socket.socket, address: bytes, txt: bytes | None, log) -> None:
    while True:
        conn, peer = srv.accept()
        conn.settimeout(5)
        try:
            while True:
                head = conn.recv(2, socket.MSG_WAITALL)
                if len(head) < 2:
                    break
                (size,) = struct.unpack("!H", head)
                packet = conn.recv(size, socket.MSG_WAITALL)
                name, qtype, _ = parse_question(packet)
                reply = answer(packet, address, txt)
                conn.sendall(struct.pack("!H", len(reply)) + reply)
                log.write(json.dumps({"event": "query", "peer": plain_host(peer), "name": name,
                                      "type": qtype, "transport": "tcp"}) + "\n")
        except (OSError, IndexError, struct.error):
            pass
        finally:
            conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--answer", required=True)
    parser.add_argument("--txt")
    parser.add_argument("--mx")
    parser.add_argument("--tcp", action="store_true")
    args = parser.parse_args()
    global MX_HOST
    if args.mx:
        MX_HOST = b"".join(bytes([len(p)]) + p.encode() for p in args.mx.split(".")) + b"\0"
    address = socket.inet_aton(args.answer)
    txt = args.txt.encode() if args.txt is not None else None
    log = open(args.log, "a", buffering=1)
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", args.port))
    if args.tcp:
        srv = tcp_listener(args.port)  # listening before "ready"
        threading.Thread(target=serve_tcp, args=(srv, address, txt, log), daemon=True).start()
    log.write(json.dumps({"event": "ready", "port": args.port}) + "\n")
    while True:
        packet, peer = sock.recvfrom(4096)
        try:
            name, qtype, _ = parse_question(packet)
            sock.sendto(answer(packet, address, txt), peer)
        except (IndexError, struct.error):
            continue
        log.write(json.dumps({"event": "query", "peer": plain_host(peer), "name": name,
                              "type": qtype, "transport": "udp"}) + "\n")


if __name__ == "__main__":
    main()
