"""A scripted SOCKS5 UDP ASSOCIATE server (RFC 1928 §7) for fault tests: it
answers UDP ASSOCIATE (no authentication) and is itself the relay and the echo
target, so that tests decide exactly what comes back: a relay address of
0.0.0.0, fragments, sources named by host name, a control connection that
closes. Sockets are made inside the proxy namespace by the caller's factory;
everything runs on threads of the test process and stops with stop()."""

from __future__ import annotations

import enum
import socket
import struct
import threading


class Behaviour(enum.Enum):
    ECHO = "echo"                      # reply with header(source = the datagram's DST)
    ZERO_BND = "zero-bnd"              # like ECHO, but announce the relay as 0.0.0.0:port
    FRAGMENT_FIRST = "fragment-first"  # a FRAG=1 datagram, then the echo
    NAME_SOURCE_FIRST = "name-first"   # a datagram from "unknown.test" (ATYP 3), then the echo
    CLOSE_AFTER_FIRST = "close"        # echo the first datagram, then close the control connection


def header(atyp: int, addr: bytes, port: int, frag: int = 0) -> bytes:
    if atyp == 3:
        addr = bytes([len(addr)]) + addr
    return bytes([0, 0, frag, atyp]) + addr + struct.pack("!H", port)


def parse_header(data: bytes) -> tuple[int, bytes, int, int]:
    """(atyp, address bytes, port, header length)."""
    atyp = data[3]
    if atyp == 1:
        return atyp, data[4:8], struct.unpack("!H", data[8:10])[0], 10
    if atyp == 4:
        return atyp, data[4:20], struct.unpack("!H", data[20:22])[0], 22
    n = data[4]
    return atyp, data[5:5 + n], struct.unpack("!H", data[5 + n:7 + n])[0], 7 + n


class UdpRelayServer:
    def __init__(self, socket_factory, host: str, port: int, behaviour: Behaviour = Behaviour.ECHO):
        self.socket_factory = socket_factory
        self.host, self.port = host, port
        self.behaviour = behaviour
        self.requests: list[bytes] = []  # raw UDP ASSOCIATE requests
        self.datagrams: list[tuple[tuple, bytes]] = []  # (client address, datagram) received
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.sockets: list[socket.socket] = []
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        lsock = self.socket_factory(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((self.host, self.port))
        lsock.listen(8)
        lsock.settimeout(0.2)
        self.sockets.append(lsock)
        self._thread(self._accept_loop, lsock)

    def stop(self) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=3)
        for s in self.sockets:
            s.close()

    def _thread(self, fn, *args) -> None:
        t = threading.Thread(target=fn, args=args, daemon=True)
        t.start()
        self.threads.append(t)

    def _accept_loop(self, lsock: socket.socket) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.sockets.append(conn)
            self._thread(self._session, conn)

    @staticmethod
    def _read(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError("client closed")
            data += chunk
        return data

    def _session(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            ver, nmethods = self._read(conn, 2)
            self._read(conn, nmethods)
            conn.sendall(b"\x05\x00")
            req = self._read(conn, 4)
            atyp = req[3]
            rest = self._read(conn, {1: 6, 4: 18}.get(atyp, 0) or self._read(conn, 1)[0] + 2)
            with self.lock:
                self.requests.append(req + rest)
            relay = self.socket_factory(socket.AF_INET, socket.SOCK_DGRAM)
            relay.bind((self.host, 0))
            relay.settimeout(0.2)
            self.sockets.append(relay)
            bnd = "0.0.0.0" if self.behaviour is Behaviour.ZERO_BND else self.host
            conn.sendall(b"\x05\x00\x00\x01" + socket.inet_aton(bnd) +
                         struct.pack("!H", relay.getsockname()[1]))
            self._relay(conn, relay)
        except (OSError, ConnectionError, ValueError):
            pass
        finally:
            conn.close()

    def _relay(self, conn: socket.socket, relay: socket.socket) -> None:
        first = True
        while not self.stopping.is_set():
            try:
                data, client = relay.recvfrom(70000)
            except socket.timeout:
                continue
            with self.lock:
                self.datagrams.append((client, data))
            atyp, addr, port, hlen = parse_header(data)
            reply = header(atyp, addr, port) + data[hlen:]
            if self.behaviour is Behaviour.FRAGMENT_FIRST:
                relay.sendto(header(atyp, addr, port, frag=1) + b"fragment", client)
            if self.behaviour is Behaviour.NAME_SOURCE_FIRST:
                relay.sendto(header(3, b"unknown.test", port) + b"from-a-name", client)
            relay.sendto(reply, client)
            if self.behaviour is Behaviour.CLOSE_AFTER_FIRST and first:
                conn.close()
                return
            first = False
