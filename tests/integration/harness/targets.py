#!/usr/bin/python3
"""Target-side servers, run as a separate process inside the target namespace.

    targets.py http    --port 8080 --root DIR --log FILE
    targets.py tcpecho --port 7007 --log FILE
    targets.py udpecho --port 7007 --log FILE

Each listens dual-stack on [::] and appends one JSON object per line to --log:
{"event": "ready"} once bound, then one record per request, connection or
datagram with the peer address as seen by the server. Because only the proxy
namespace can reach the target, a peer of 10.200.1.1 / fd00:201::1 is proof
that the proxy carried the traffic. Standalone on purpose: no harness imports.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import socket
import socketserver
import sys
import threading

_log_lock = threading.Lock()
_log_file = None


def log(**record) -> None:
    line = json.dumps(record, sort_keys=True) + "\n"
    with _log_lock:
        _log_file.write(line)
        _log_file.flush()


def peer_host(addr) -> str:
    host = addr[0]
    # Dual-stack sockets show IPv4 peers as ::ffff:a.b.c.d.
    if host.startswith("::ffff:") and "." in host:
        host = host[len("::ffff:"):]
    return host


class DualStackMixin:
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class HttpServer(DualStackMixin, http.server.ThreadingHTTPServer):
    pass


def make_http_handler(root: str):
    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=root, **kwargs)

        def log_message(self, fmt, *args):  # replaced by the JSON record below
            pass

        def log_request(self, code="-", size="-"):
            log(event="http", peer=peer_host(self.client_address), port=self.client_address[1],
                method=self.command, path=self.path, status=int(code) if str(code).isdigit() else code,
                user_agent=self.headers.get("User-Agent", ""), host=self.headers.get("Host", ""))

    return Handler


class TcpEchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        total = 0
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            sock.sendall(data)
            total += len(data)
        log(event="tcp", peer=peer_host(self.client_address), port=self.client_address[1], bytes=total)


class TcpEchoServer(DualStackMixin, socketserver.ThreadingTCPServer):
    pass


def serve_udp_echo(port: int) -> None:
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    log(event="ready", port=port)
    while True:
        data, addr = sock.recvfrom(65535)
        sock.sendto(data, addr)
        log(event="udp", peer=peer_host(addr), port=addr[1], bytes=len(data))


def main(argv=None) -> int:
    global _log_file
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["http", "tcpecho", "udpecho"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--root", default=".")
    args = parser.parse_args(argv)
    _log_file = open(args.log, "a")
    if args.kind == "udpecho":
        serve_udp_echo(args.port)
        return 0
    if args.kind == "http":
        server = HttpServer(("::", args.port), make_http_handler(os.path.abspath(args.root)))
    else:
        server = TcpEchoServer(("::", args.port), TcpEchoHandler)
    log(event="ready", port=args.port)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
