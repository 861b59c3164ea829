"""A tiny DNS responder for the UDP tests, run in the target namespace.

    dns_responder.py --port 53 --log FILE --answer 10.9.8.7

Answers every A query with one A record (the --answer address), every other
query type with an empty NOERROR answer, and logs each query as a JSON line
{"event": "query", "peer": ..., "name": ..., "type": ...}. Dual-stack.
"""

import argparse
import json
import socket
import struct


def parse_question(packet: bytes) -> tuple[str, int, int]:
    """(name, qtype, end offset of the question)."""
    labels, i = [], 12
    while packet[i]:
        n = packet[i]
        labels.append(packet[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype = struct.unpack("!H", packet[i + 1:i + 3])[0]
    return ".".join(labels), qtype, i + 5


def answer(packet: bytes, address: bytes) -> bytes:
    tid, flags = struct.unpack("!HH", packet[:4])
    name, qtype, end = parse_question(packet)
    rd = flags & 0x0100
    an = 1 if qtype == 1 else 0
    head = struct.pack("!HHHHHH", tid, 0x8000 | rd | 0x0080, 1, an, 0, 0)  # QR, RD copied, RA
    body = packet[12:end]
    if an:
        body += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + address
    return head + body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--answer", required=True)
    args = parser.parse_args()
    address = socket.inet_aton(args.answer)
    log = open(args.log, "a", buffering=1)
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", args.port))
    log.write(json.dumps({"event": "ready", "port": args.port}) + "\n")
    while True:
        packet, peer = sock.recvfrom(4096)
        try:
            name, qtype, _ = parse_question(packet)
            sock.sendto(answer(packet, address), peer)
        except (IndexError, struct.error):
            continue
        host = peer[0][7:] if peer[0].startswith("::ffff:") else peer[0]
        log.write(json.dumps({"event": "query", "peer": host, "name": name, "type": qtype}) + "\n")


if __name__ == "__main__":
    main()
