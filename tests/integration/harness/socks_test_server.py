"""Our own small SOCKS5 server (RFC 1928, RFC 1929) for exact bytes and fault injection.

It also answers SOCKS4 and SOCKS4a (a first byte of 4): the request lands in
`request`, USERID in `user_id`, a 4a name in `address`; Mode.REFUSE replies CD=`rep`
(91..93), RAW_REPLY sends `raw_reply`, NORMAL relays with CD=90.

It records every byte each client sent during the handshake (greeting, auth,
request) and decodes it, so a test can assert what the proxy saw: the offered
methods, the username and password, CMD, ATYP, the address or name and the port.
CONNECT is relayed normally unless a fault mode says otherwise.

Runs inside the test process on threads. Its sockets come from `socket_factory`:
plain sockets for loopback, or Topology.socket(topo.proxy, ...) to listen in the
proxy namespace and reach the target from there.

Standalone: python3 -m harness.socks_test_server --listen 127.0.0.1:1080 --mode refuse --rep 5
prints one JSON record per connection.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import select
import socket
import struct
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

SocketFactory = Callable[[int, int], socket.socket]

VER = 0x05
AUTH_VER = 0x01
METHOD_NONE, METHOD_USERPASS, METHOD_NO_ACCEPTABLE = 0x00, 0x02, 0xFF
CMD_CONNECT, CMD_BIND, CMD_UDP = 0x01, 0x02, 0x03
ATYP_IPV4, ATYP_NAME, ATYP_IPV6 = 0x01, 0x03, 0x04
REP_OK, REP_FAILURE, REP_NET_UNREACH, REP_HOST_UNREACH, REP_REFUSED = 0, 1, 3, 4, 5
REP_TTL, REP_CMD_UNSUPPORTED = 6, 7

# Bytes that are no SOCKS5 message at all: an HTTP error, as a misconfigured
# "proxy" that is really a web server would send.
GARBAGE = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"


class Mode(enum.Enum):
    NORMAL = "normal"                      # relay CONNECT
    REFUSE = "refuse"                      # answer the request with REP = `rep`, close
    CLOSE_ON_ACCEPT = "close-on-accept"    # accept, close at once
    CLOSE_AFTER_GREETING = "close-after-greeting"  # read greeting, choose method, close
    CLOSE_MID_REPLY = "close-mid-reply"    # send half of a success reply, close
    GARBAGE_GREETING = "garbage-greeting"  # answer the greeting with GARBAGE
    GARBAGE_REPLY = "garbage-reply"        # proper method choice, then GARBAGE as the reply
    SLOW_REPLY = "slow-reply"              # every server byte sent alone, `delay` apart; then relay
    SILENCE = "silence"                    # read the greeting, never answer
    RESET_AT_GREETING = "reset-at-greeting"  # read the greeting, close with RST
    RESET_AFTER_METHOD = "reset-after-method"  # choose the method, close with RST
    RESET_MID_REPLY = "reset-mid-reply"    # send half of a success reply, close with RST
    RAW_REPLY = "raw-reply"                # answer the request with `raw_reply` as is, close
    RAW_REPLY_THEN_SILENCE = "raw-reply-then-silence"  # send `raw_reply`, then hold the line open
    # As microsocks: the greeting is taken with one recv(), whatever came with it
    # (a pipelined auth and request) is dropped, then the request is waited for.
    DROP_AFTER_GREETING = "drop-after-greeting"


@dataclass
class Record:
    """What one client connection sent and what happened to it."""
    conn: int
    peer: str
    raw: bytes = b""             # every handshake byte received, in order
    first_read: bytes = b""      # what the first read found waiting (MSG_PEEK): a pipelined
                                 # client's greeting, auth and request arrive together
    dropped: bytes = b""         # DROP_AFTER_GREETING: the bytes thrown away
    greeting: bytes = b""
    methods: list[int] = field(default_factory=list)
    auth: bytes = b""
    username: bytes | None = None
    password: bytes | None = None
    request: bytes = b""
    cmd: int | None = None
    atyp: int | None = None
    address: str | None = None   # IP text for ATYP 1/4, the name for ATYP 3
    port: int | None = None
    version: int | None = None   # 4 or 5: the first byte the client sent
    user_id: bytes | None = None  # SOCKS4 USERID (without its NUL)
    reply: bytes = b""           # bytes we answered the request with
    relayed_up: int = 0          # application bytes client -> target
    relayed_down: int = 0
    outcome: str = "open"        # relayed / refused / auth-failed / closed-by-mode / error: ...
    done: bool = False

    def to_json(self) -> dict:
        out = asdict(self)
        for key, val in out.items():
            if isinstance(val, bytes):
                out[key] = val.hex()
        return out


class _Closed(Exception):
    """The client closed (or the read timed out) in the middle of a message."""


class SocksTestServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, mode: Mode = Mode.NORMAL,
                 rep: int = REP_REFUSED, auth: tuple[str, str] | None = None,
                 socket_factory: SocketFactory | None = None, hosts: dict[str, str] | None = None,
                 delay: float = 0.05, reply_atyp: int | None = None, io_timeout: float = 10.0,
                 bound_name: bytes = b"bound.socksify.test", raw_reply: bytes = b""):
        self.host, self.port = host, port
        self.mode, self.rep, self.auth = mode, rep, auth
        self.factory = socket_factory or (lambda fam, typ: socket.socket(fam, typ))
        self.hosts = dict(hosts or {})  # name -> address for ATYP 3; never real DNS
        self.delay = delay
        self.reply_atyp = reply_atyp    # None: report the real bound address
        self.io_timeout = io_timeout
        self.bound_name = bound_name    # BND.ADDR when reply_atyp is ATYP_NAME (1 to 255 bytes)
        self.raw_reply = raw_reply      # RAW_REPLY*: the exact bytes sent as the reply
        self._records: list[Record] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None

    # -- lifecycle -------------------------------------------------------
    def start(self) -> "SocksTestServer":
        fam = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        lsock = self.factory(fam, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((self.host, self.port))
        lsock.listen(128)
        lsock.settimeout(0.1)
        self.port = lsock.getsockname()[1]
        self._listener = lsock
        t = threading.Thread(target=self._accept_loop, name="socks-test-accept", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            socks = list(self._sockets)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        end = time.monotonic() + 5
        for t in list(self._threads):
            t.join(max(0.0, end - time.monotonic()))
        if self._listener is not None:
            self._listener.close()
        for s in socks:
            s.close()

    def __enter__(self) -> "SocksTestServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    def url(self, scheme: str = "socks5", userinfo: str = "") -> str:
        at = f"{userinfo}@" if userinfo else ""
        return f"{scheme}://{at}{self.url_host}:{self.port}"

    # -- records ---------------------------------------------------------
    def records(self) -> list[Record]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def wait_records(self, count: int, done: bool = True, deadline_s: float = 5.0) -> list[Record]:
        end = time.monotonic() + deadline_s
        while True:
            recs = [r for r in self.records() if r.done or not done]
            if len(recs) >= count or time.monotonic() > end:
                return recs
            time.sleep(0.02)

    # -- serving ---------------------------------------------------------
    def _track(self, s: socket.socket) -> None:
        with self._lock:
            self._sockets.add(s)

    def _accept_loop(self) -> None:
        n = 0
        while not self._stop.is_set():
            try:
                conn, peer = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            n += 1
            rec = Record(conn=n, peer=peer[0])
            with self._lock:
                self._records.append(rec)
            self._track(conn)
            t = threading.Thread(target=self._serve, args=(conn, rec), name=f"socks-test-{n}", daemon=True)
            t.start()
            self._threads.append(t)

    def _recv_exact(self, conn: socket.socket, n: int, rec: Record, part: str) -> bytes:
        buf = b""
        while len(buf) < n:
            try:
                chunk = conn.recv(n - len(buf))
            except (socket.timeout, OSError) as exc:
                raise _Closed(f"{part}: {exc}") from None
            if not chunk:
                raise _Closed(f"{part}: client closed after {len(buf)} of {n} bytes")
            buf += chunk
            rec.raw += chunk
            setattr(rec, part, getattr(rec, part) + chunk)
        return buf

    def _send(self, conn: socket.socket, data: bytes) -> None:
        if self.mode is Mode.SLOW_REPLY:
            for i in range(len(data)):
                conn.sendall(data[i:i + 1])
                time.sleep(self.delay)
        else:
            conn.sendall(data)

    def _serve(self, conn: socket.socket, rec: Record) -> None:
        conn.settimeout(self.io_timeout)
        try:
            self._handshake_and_relay(conn, rec)
        except _Closed as exc:
            rec.outcome = f"client-closed: {exc}"
        except OSError as exc:
            rec.outcome = f"error: {exc}"
        finally:
            try:
                conn.close()
            except OSError:
                pass
            rec.done = True

    def _handshake_and_relay(self, conn: socket.socket, rec: Record) -> None:
        if self.mode is Mode.CLOSE_ON_ACCEPT:
            rec.outcome = "closed-by-mode"
            return
        try:
            rec.first_read = conn.recv(4096, socket.MSG_PEEK)
        except OSError:
            pass  # the reads below report it
        if self.mode is Mode.DROP_AFTER_GREETING:
            data = conn.recv(4096)
            if len(data) < 2 or len(data) < 2 + data[1]:
                raise _Closed(f"greeting: {len(data)} bytes")
            ver, nmethods = data[0], data[1]
            rec.version = ver
            rec.greeting = data[:2 + nmethods]
            rec.raw += rec.greeting
            rec.dropped = data[2 + nmethods:]
            rec.methods = list(data[2:2 + nmethods])
        else:
            (ver,) = self._recv_exact(conn, 1, rec, "greeting")
            rec.version = ver
            if ver == 4:
                rec.greeting = b""
                rec.request = bytes([ver])
                self._socks4(conn, rec)
                return
            # RFC 1928 §3: VER NMETHODS METHODS
            (nmethods,) = self._recv_exact(conn, 1, rec, "greeting")
            rec.methods = list(self._recv_exact(conn, nmethods, rec, "greeting"))
        if ver != VER:
            rec.outcome = f"bad-version {ver}"
            return
        if self.mode is Mode.SILENCE:
            self._wait_for_close(conn)
            rec.outcome = "silence"
            return
        if self.mode is Mode.RESET_AT_GREETING:
            self._reset(conn, rec)
            return
        if self.mode is Mode.GARBAGE_GREETING:
            conn.sendall(GARBAGE)
            rec.outcome = "closed-by-mode"
            return
        wanted = METHOD_USERPASS if self.auth else METHOD_NONE
        if wanted not in rec.methods:
            conn.sendall(bytes([VER, METHOD_NO_ACCEPTABLE]))
            rec.outcome = "no-acceptable-method"
            return
        self._send(conn, bytes([VER, wanted]))
        if self.mode is Mode.CLOSE_AFTER_GREETING:
            rec.outcome = "closed-by-mode"
            return
        if self.mode is Mode.RESET_AFTER_METHOD:
            self._reset(conn, rec)
            return
        if self.auth and not self._authenticate(conn, rec):
            return
        # RFC 1928 §4: VER CMD RSV ATYP DST.ADDR DST.PORT
        _ver, rec.cmd, _rsv, rec.atyp = self._recv_exact(conn, 4, rec, "request")
        if rec.atyp == ATYP_IPV4:
            rec.address = str(ipaddress.IPv4Address(self._recv_exact(conn, 4, rec, "request")))
        elif rec.atyp == ATYP_IPV6:
            rec.address = str(ipaddress.IPv6Address(self._recv_exact(conn, 16, rec, "request")))
        elif rec.atyp == ATYP_NAME:
            (length,) = self._recv_exact(conn, 1, rec, "request")
            rec.address = self._recv_exact(conn, length, rec, "request").decode("latin-1")
        else:
            self._reply(conn, rec, 8)
            rec.outcome = f"bad-atyp {rec.atyp}"
            return
        rec.port = int.from_bytes(self._recv_exact(conn, 2, rec, "request"), "big")
        if self.mode is Mode.GARBAGE_REPLY:
            conn.sendall(GARBAGE)
            rec.outcome = "closed-by-mode"
            return
        if self.mode is Mode.REFUSE:
            self._reply(conn, rec, self.rep)
            rec.outcome = "refused"
            return
        if self.mode in (Mode.CLOSE_MID_REPLY, Mode.RESET_MID_REPLY):
            full = self._encode_reply(REP_OK, (self.host, 4242))
            half = full[: len(full) // 2]
            conn.sendall(half)
            rec.reply = half
            if self.mode is Mode.RESET_MID_REPLY:
                time.sleep(0.05)  # let the half reach the client before the RST overtakes it
                self._reset(conn, rec)
            else:
                rec.outcome = "closed-by-mode"
            return
        if self.mode in (Mode.RAW_REPLY, Mode.RAW_REPLY_THEN_SILENCE):
            conn.sendall(self.raw_reply)
            rec.reply = self.raw_reply
            if self.mode is Mode.RAW_REPLY_THEN_SILENCE:
                self._wait_for_close(conn)
            rec.outcome = "closed-by-mode"
            return
        if rec.cmd != CMD_CONNECT:
            self._reply(conn, rec, REP_CMD_UNSUPPORTED)
            rec.outcome = f"unsupported-cmd {rec.cmd}"
            return
        upstream = self._connect_target(conn, rec)
        if upstream is None:
            return
        try:
            self._reply(conn, rec, REP_OK, upstream.getsockname()[:2])
            rec.outcome = "relayed"
            self._relay(conn, upstream, rec)
        finally:
            upstream.close()

    def _recv_until_nul(self, conn: socket.socket, rec: Record, limit: int = 1024) -> bytes:
        out = b""
        while len(out) < limit:
            (c,) = self._recv_exact(conn, 1, rec, "request")
            if c == 0:
                return out
            out += bytes([c])
        raise _Closed(f"request: no NUL within {limit} bytes")

    def _socks4(self, conn: socket.socket, rec: Record) -> None:
        """SOCKS4: VN CD DSTPORT DSTIP USERID NUL; 4a: DSTIP 0.0.0.x (x != 0), then HOST NUL."""
        head = self._recv_exact(conn, 7, rec, "request")
        rec.cmd = head[0]
        rec.port = int.from_bytes(head[1:3], "big")
        ip = head[3:7]
        rec.user_id = self._recv_until_nul(conn, rec)
        if ip[:3] == b"\0\0\0" and ip[3] != 0:
            rec.atyp = ATYP_NAME
            rec.address = self._recv_until_nul(conn, rec).decode("latin-1")
        else:
            rec.atyp = ATYP_IPV4
            rec.address = str(ipaddress.IPv4Address(ip))

        def reply4(cd: int, bound: tuple[str, int] = ("0.0.0.0", 0)) -> None:
            data = bytes([0, cd]) + bound[1].to_bytes(2, "big") + ipaddress.IPv4Address(bound[0]).packed
            rec.reply = data
            self._send(conn, data)

        if self.mode is Mode.REFUSE:
            reply4(self.rep)
            rec.outcome = "refused"
            return
        if self.mode in (Mode.RAW_REPLY, Mode.RAW_REPLY_THEN_SILENCE):
            conn.sendall(self.raw_reply)
            rec.reply = self.raw_reply
            if self.mode is Mode.RAW_REPLY_THEN_SILENCE:
                self._wait_for_close(conn)
            rec.outcome = "closed-by-mode"
            return
        if rec.cmd != CMD_CONNECT:
            reply4(91)
            rec.outcome = f"unsupported-cmd {rec.cmd}"
            return
        host = rec.address if rec.atyp == ATYP_IPV4 else self.hosts.get(rec.address or "")
        if host is None:
            reply4(91)
            rec.outcome = f"unknown-name {rec.address}"
            return
        up = self.factory(socket.AF_INET, socket.SOCK_STREAM)
        self._track(up)
        up.settimeout(5)
        try:
            up.connect((host, rec.port))
        except OSError as exc:
            up.close()
            reply4(91)
            rec.outcome = f"target-failed: {exc}"
            return
        try:
            up.settimeout(None)
            reply4(90, up.getsockname()[:2])
            rec.outcome = "relayed"
            self._relay(conn, up, rec)
        finally:
            up.close()

    def _authenticate(self, conn: socket.socket, rec: Record) -> bool:
        # RFC 1929 §2: VER ULEN UNAME PLEN PASSWD; reply VER STATUS
        _ver, ulen = self._recv_exact(conn, 2, rec, "auth")
        rec.username = self._recv_exact(conn, ulen, rec, "auth")
        (plen,) = self._recv_exact(conn, 1, rec, "auth")
        rec.password = self._recv_exact(conn, plen, rec, "auth")
        user, password = self.auth  # type: ignore[misc]
        # auth=("*", ...) takes any login, as Tor does (IsolateSOCKSAuth tells logins apart).
        ok = user == "*" or (rec.username == user.encode() and rec.password == password.encode())
        self._send(conn, bytes([AUTH_VER, 0x00 if ok else 0x01]))
        if not ok:
            rec.outcome = "auth-failed"
        return ok

    def _connect_target(self, conn: socket.socket, rec: Record) -> socket.socket | None:
        host = rec.address
        if rec.atyp == ATYP_NAME:
            host = self.hosts.get(host or "")
            if host is None:
                self._reply(conn, rec, REP_HOST_UNREACH)
                rec.outcome = f"unknown-name {rec.address}"
                return None
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        up = self.factory(fam, socket.SOCK_STREAM)
        self._track(up)
        up.settimeout(5)
        try:
            up.connect((host, rec.port))
        except OSError as exc:
            up.close()
            code = {111: REP_REFUSED, 101: REP_NET_UNREACH, 113: REP_HOST_UNREACH}.get(exc.errno or 0,
                                                                                      REP_FAILURE)
            self._reply(conn, rec, code)
            rec.outcome = f"target-failed: {exc}"
            return None
        up.settimeout(None)
        return up

    def _encode_reply(self, rep: int, bound: tuple[str, int] | None) -> bytes:
        host, port = bound or ("0.0.0.0", 0)
        atyp = self.reply_atyp
        if atyp is None:
            atyp = ATYP_IPV6 if ":" in host else ATYP_IPV4
        if atyp == ATYP_IPV4:
            addr = ipaddress.IPv4Address(host if ":" not in host else "0.0.0.0").packed
        elif atyp == ATYP_IPV6:
            addr = ipaddress.IPv6Address(host if ":" in host else "::").packed
        else:
            addr = bytes([len(self.bound_name)]) + self.bound_name
        return bytes([VER, rep, 0, atyp]) + addr + port.to_bytes(2, "big")

    def _reply(self, conn: socket.socket, rec: Record, rep: int, bound: tuple[str, int] | None = None) -> None:
        data = self._encode_reply(rep, bound)
        rec.reply = data
        self._send(conn, data)

    @staticmethod
    def _reset(conn: socket.socket, rec: Record) -> None:
        """Close with a TCP RST instead of a FIN: SO_LINGER on, timeout 0."""
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
        rec.outcome = "reset-by-mode"

    def _wait_for_close(self, conn: socket.socket) -> None:
        """Hold the connection open, reading and discarding, until the client or stop() ends it."""
        conn.settimeout(0.1)
        end = time.monotonic() + 60
        while not self._stop.is_set() and time.monotonic() < end:
            try:
                if not conn.recv(4096):
                    return
            except socket.timeout:
                continue
            except OSError:
                return

    def _relay(self, a: socket.socket, b: socket.socket, rec: Record) -> None:
        a.settimeout(None)
        open_dirs = {a: b, b: a}
        while open_dirs and not self._stop.is_set():
            readable, _, _ = select.select(list(open_dirs), [], [], 0.2)
            for src in readable:
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                dst = open_dirs[src]
                if not data:
                    # Half-close: pass the EOF on, keep the other direction running.
                    try:
                        dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    del open_dirs[src]
                    continue
                try:
                    dst.sendall(data)
                except OSError:
                    open_dirs.clear()
                    break
                if src is a:
                    rec.relayed_up += len(data)
                else:
                    rec.relayed_down += len(data)


def main(argv: list[str] | None = None) -> int:
    import argparse
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", default="127.0.0.1:1080", help="HOST:PORT ([v6]:port for IPv6)")
    p.add_argument("--mode", default="normal", choices=[m.value for m in Mode])
    p.add_argument("--rep", type=int, default=REP_REFUSED)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--delay", type=float, default=0.05)
    args = p.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    server = SocksTestServer(host.strip("[]"), int(port), Mode(args.mode), args.rep,
                             (args.user, args.password or "") if args.user else None, delay=args.delay)
    server.start()
    print(json.dumps({"event": "ready", "port": server.port}), flush=True)
    seen = 0
    try:
        while True:
            recs = server.records()
            for rec in recs[seen:]:
                while not rec.done:
                    time.sleep(0.05)
                print(json.dumps(rec.to_json()), flush=True)
            seen = len(recs)
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
