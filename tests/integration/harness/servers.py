"""Start and stop the servers the integration tests talk to, each inside a namespace.

Every start function returns only once the server listens (checked in the
server's own /proc/PID/net tables, so no probe connection pollutes its log),
and raises ServerStartError with the server's log if it does not within a
bounded time. Every process is owned by the Topology and stopped with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field

from . import netns
from .netns import Process, Topology

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS_SCRIPT = os.path.join(HERE, "targets.py")
PYTHON = "/usr/bin/python3"

SOCKS_PORT = 1080
HTTP_PORT = 8080
ECHO_PORT = 7007
LOCAL_ECHO_PORT = 7008  # the client namespace's own echo server ("local_echo")

SMALL_FILE = "hello.txt"
SMALL_BODY = b"socksify integration target: hello through the proxy\n"
LARGE_FILE = "large.bin"
LARGE_SIZE = 4 * 1024 * 1024 + 17  # not a multiple of any buffer size


class ServerStartError(RuntimeError):
    pass


# -- readiness -----------------------------------------------------------------
_TCP_LISTEN = "0A"


def _bound_ports(pid: int, proto: str) -> set[int]:
    """Ports with a socket in LISTEN (tcp) or bound (udp) state in pid's namespace."""
    ports: set[int] = set()
    for table in (proto, proto + "6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as fh:
                lines = fh.read().splitlines()[1:]
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in lines:
            cols = line.split()
            if len(cols) < 4:
                continue
            port = int(cols[1].rsplit(":", 1)[1], 16)
            if proto == "tcp" and cols[3] != _TCP_LISTEN:
                continue
            ports.add(port)
    return ports


def wait_listening(proc: Process, port: int, proto: str = "tcp", what: str = "server",
                   deadline_s: float = 10.0) -> None:
    end = time.monotonic() + deadline_s
    while True:
        if not proc.alive():
            raise ServerStartError(
                f"{what} exited with status {proc.popen.returncode} before listening on {proto}/{port}\n"
                f"command: {' '.join(proc.argv)}\n--- log ---\n{proc.log()}")
        if port in _bound_ports(proc.pid, proto):
            return
        if time.monotonic() > end:
            proc.stop()
            raise ServerStartError(
                f"{what} not listening on {proto}/{port} after {deadline_s} s\n"
                f"command: {' '.join(proc.argv)}\n--- log ---\n{proc.log()}")
        time.sleep(0.05)


def wait_for(predicate, deadline_s: float = 5.0, interval_s: float = 0.05):
    """Poll predicate() until it returns something truthy or the deadline passes."""
    end = time.monotonic() + deadline_s
    while True:
        value = predicate()
        if value or time.monotonic() > end:
            return value
        time.sleep(interval_s)


# -- target servers -----------------------------------------------------------
@dataclass
class TargetServer:
    proc: Process
    log_path: str
    port: int

    def records(self, event: str | None = None) -> list[dict]:
        out = []
        try:
            with open(self.log_path) as fh:
                for line in fh:
                    line = line.strip()
                    if not line.startswith("{"):
                        continue
                    rec = json.loads(line)
                    if event is None or rec.get("event") == event:
                        out.append(rec)
        except FileNotFoundError:
            pass
        return out

    def wait_records(self, event: str, count: int, deadline_s: float = 5.0) -> list[dict]:
        """Records are written after the response, so give the server a moment."""
        wait_for(lambda: len(self.records(event)) >= count, deadline_s)
        return self.records(event)

    def clear(self) -> None:
        """Forget earlier records (the server appends, so truncate is safe)."""
        with open(self.log_path, "r+") as fh:
            fh.truncate(0)


@dataclass
class HttpContent:
    root: str
    files: dict[str, bytes] = field(default_factory=dict)

    def sha256(self, name: str) -> str:
        return hashlib.sha256(self.files[name]).hexdigest()


def make_http_content(workdir: str) -> HttpContent:
    root = os.path.join(workdir, "www")
    os.makedirs(root, exist_ok=True)
    rng = random.Random(0x50C5)  # fixed seed: the same bytes every run
    files = {SMALL_FILE: SMALL_BODY, LARGE_FILE: rng.randbytes(LARGE_SIZE)}
    for name, data in files.items():
        with open(os.path.join(root, name), "wb") as fh:
            fh.write(data)
    return HttpContent(root, files)


def _start_target(topo: Topology, kind: str, port: int, workdir: str, extra: list[str],
                  ns: str | None = None) -> TargetServer:
    ns = ns or topo.target
    log_path = os.path.join(workdir, f"{kind}-{ns}-{port}.log")
    proc = topo.spawn(ns, [PYTHON, TARGETS_SCRIPT, kind, "--port", str(port),
                                    "--log", log_path, *extra], log_path=log_path + ".out")
    wait_listening(proc, port, "udp" if kind == "udpecho" else "tcp", what=f"target {kind}")
    return TargetServer(proc, log_path, port)


def start_http_target(topo: Topology, workdir: str, port: int = HTTP_PORT) -> tuple[TargetServer, HttpContent]:
    content = make_http_content(workdir)
    return _start_target(topo, "http", port, workdir, ["--root", content.root]), content


def start_http_root(topo: Topology, workdir: str, root: str, port: int) -> TargetServer:
    """Another HTTP target in the target namespace, serving the files under `root`."""
    return _start_target(topo, "http", port, workdir, ["--root", root])


def start_tcp_echo(topo: Topology, workdir: str, port: int = ECHO_PORT, ns: str | None = None) -> TargetServer:
    """A TCP echo server, in the target namespace unless `ns` says otherwise."""
    return _start_target(topo, "tcpecho", port, workdir, [], ns)


def start_udp_echo(topo: Topology, workdir: str, port: int = ECHO_PORT) -> TargetServer:
    return _start_target(topo, "udpecho", port, workdir, [])


FTP_PORT = 2121


def start_ftp_target(topo: Topology, workdir: str, root: str, port: int = FTP_PORT) -> TargetServer:
    """pyftpdlib (Debian's python3-pyftpdlib) in the target namespace: anonymous,
    read-write, serving `root`; its log says which data-connection mode was used."""
    log_path = os.path.join(workdir, f"ftp-{topo.target}-{port}.log")
    proc = topo.spawn(topo.target, [PYTHON, "-m", "pyftpdlib", "-i", netns.TARGET4, "-p", str(port),
                                    "-d", root, "-w", "-D"], log_path=log_path)
    wait_listening(proc, port, "tcp", what="FTP target (python3 -m pyftpdlib)")
    return TargetServer(proc, log_path, port)


# -- danted -------------------------------------------------------------------
@dataclass
class Danted:
    proc: Process
    workdir: str
    log_path: str
    port: int

    def log(self) -> str:
        try:
            with open(self.log_path, errors="replace") as fh:
                return fh.read()
        except FileNotFoundError:
            return ""

    def log_size(self) -> int:
        try:
            return os.path.getsize(self.log_path)
        except FileNotFoundError:
            return 0

    def log_since(self, offset: int) -> str:
        return self.log()[offset:]

    def sessions(self, since: int = 0) -> list["DantedSession"]:
        """TCP CONNECT sessions in danted's log (after byte offset `since`)."""
        by_key: dict[tuple[str, str], DantedSession] = {}
        order: list[DantedSession] = []
        for line in self.log_since(since).splitlines():
            m = _DANTED_OPEN.search(line)
            if m:
                sess = DantedSession(client=m.group(2), internal=m.group(3), external=m.group(4),
                                     target=m.group(5), user=m.group(1) or None)
                by_key[(sess.client, sess.target)] = sess
                order.append(sess)
                continue
            m = _DANTED_CLOSE.search(line)
            if m:
                client, target = _strip_user(m.group(2)), m.group(7)
                sess = by_key.get((client, target))
                if sess is None:
                    sess = DantedSession(client=client, internal=m.group(3), external=m.group(6),
                                         target=target)
                    order.append(sess)
                sess.to_client, sess.from_client = int(m.group(1)), int(m.group(4))
                sess.to_target, sess.from_target = int(m.group(5)), int(m.group(8))
                sess.closed = True
        return order

    def blocked(self, since: int = 0) -> list[str]:
        """Log lines where danted refused a client (bad password, no method, ...)."""
        return [ln for ln in self.log_since(since).splitlines() if ": block(" in ln]

    def wait_blocked(self, text: str, since: int = 0, deadline_s: float = 5.0) -> list[str]:
        """Block lines containing `text`, waiting for danted to write them."""
        return wait_for(lambda: [ln for ln in self.blocked(since) if text in ln], deadline_s) or []

    def wait_sessions(self, target: str, count: int = 1, closed: bool = True, since: int = 0,
                      deadline_s: float = 5.0) -> list["DantedSession"]:
        """Sessions to `target` ("host.port", danted's notation), waiting up to
        deadline_s for `count` of them (closed ones, if asked) to be logged:
        danted logs after the client may already have seen its data."""
        def matching():
            return [s for s in self.sessions(since) if s.target == target and (s.closed or not closed)]
        wait_for(lambda: len(matching()) >= count, deadline_s)
        return matching()


# danted writes endpoints as ADDRESS.PORT, optionally prefixed by "username%USER@".
_EP = r"((?:\S+%\S+@)?[0-9A-Fa-f:.]+)"
_DANTED_OPEN = re.compile(
    r"pass\(\d+\): tcp/connect \[: (?:\S+%(\S+)@)?([0-9A-Fa-f:.]+) ([0-9A-Fa-f:.]+) -> "
    r"([0-9A-Fa-f:.]+) ([0-9A-Fa-f:.]+)\s*$")
_DANTED_CLOSE = re.compile(
    r"pass\(\d+\): tcp/connect \]: (\d+) -> " + _EP + r" ([0-9A-Fa-f:.]+) -> (\d+), (\d+) -> "
    r"([0-9A-Fa-f:.]+) ([0-9A-Fa-f:.]+) -> (\d+)")


def _strip_user(endpoint: str) -> str:
    return endpoint.rsplit("@", 1)[-1]


@dataclass
class DantedSession:
    """One CONNECT as danted logged it. Endpoints are "address.port"."""
    client: str
    internal: str
    external: str
    target: str
    user: str | None = None
    closed: bool = False
    from_client: int = 0  # bytes danted read from the client
    to_client: int = 0
    to_target: int = 0
    from_target: int = 0

    @property
    def client_host(self) -> str:
        return self.client.rsplit(".", 1)[0]


def _danted_config(workdir: str, method: str, port: int, external: tuple[str, ...]) -> str:
    externals = "".join(f"external: {addr}\n" for addr in external)
    return f"""# written by the socksify integration harness
logoutput: {os.path.join(workdir, 'danted.log')}
debug: 0
internal: {netns.PROXY4} port = {port}
internal: {netns.PROXY6} port = {port}
{externals}socksmethod: {method}
clientmethod: none
user.privileged: root
user.unprivileged: nobody
timeout.negotiate: 10
timeout.io: 60

client pass {{
    from: 0/0 to: 0/0
    log: error connect disconnect
}}
socks pass {{
    from: 0/0 to: 0/0
    command: bind connect udpassociate bindreply udpreply
    log: error connect disconnect
}}
"""


def start_danted(topo: Topology, workdir: str, method: str = "none", port: int = SOCKS_PORT,
                 external: tuple[str, ...] = (netns.PROXY_OUT4, netns.PROXY_OUT6)) -> Danted:
    """danted on the proxy's client-side addresses; method "none" or "username"
    (username checks system users, see users.py). It connects out from the
    `external` addresses: the target side by default."""
    if method not in ("none", "username"):
        raise ValueError(method)
    ddir = tempfile.mkdtemp(prefix=f"danted-{method}-", dir=workdir)
    conf = os.path.join(ddir, "danted.conf")
    with open(conf, "w") as fh:
        fh.write(_danted_config(ddir, method, port, external))
    danted = shutil.which("danted") or "/usr/sbin/danted"
    proc = topo.spawn(topo.proxy, [danted, "-f", conf, "-p", os.path.join(ddir, "danted.pid"), "-N", "1"],
                      log_path=os.path.join(ddir, "danted.stderr"))
    d = Danted(proc, ddir, os.path.join(ddir, "danted.log"), port)
    try:
        wait_listening(proc, port, what="danted")
    except ServerStartError as exc:
        raise ServerStartError(f"{exc}\n--- danted.log ---\n{d.log()}\n--- config ---\n"
                               f"{_danted_config(ddir, method, port, external)}") from None
    return d


# -- microsocks ---------------------------------------------------------------
@dataclass
class Microsocks:
    proc: Process
    host: str
    port: int

    def log(self) -> str:
        return self.proc.log()


def start_microsocks(topo: Topology, workdir: str, host: str = netns.PROXY4, port: int = SOCKS_PORT,
                     user: str | None = None, password: str | None = None) -> Microsocks:
    argv = [shutil.which("microsocks") or "/usr/bin/microsocks", "-i", host, "-p", str(port)]
    if user is not None:
        argv += ["-u", user, "-P", password or ""]
    log_path = os.path.join(workdir, f"microsocks-{host.replace(':', '_')}-{port}.log")
    proc = topo.spawn(topo.proxy, argv, log_path=log_path)
    wait_listening(proc, port, what="microsocks")
    return Microsocks(proc, host, port)


# -- tinyproxy (HTTP CONNECT) ---------------------------------------------------

TINYPROXY_PORT = 3128


@dataclass
class Tinyproxy:
    proc: Process
    workdir: str
    log_path: str
    port: int

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except FileNotFoundError:
            return ""


def start_tinyproxy(topo: Topology, workdir: str, port: int = TINYPROXY_PORT,
                    connect_ports: tuple[int, ...] = (HTTP_PORT, ECHO_PORT),
                    auth: tuple[str, str] | None = None) -> Tinyproxy:
    """tinyproxy in the proxy namespace on PROXY4:port (and PROXY6), allowing
    CONNECT from the client namespace to `connect_ports` only (any other port
    gets 403), with BasicAuth when `auth` is (user, password) (else 407)."""
    tdir = tempfile.mkdtemp(prefix=f"tinyproxy-{port}-", dir=workdir)
    log_path = os.path.join(tdir, "tinyproxy.log")
    lines = [f"Port {port}", "Timeout 10", f"LogFile \"{log_path}\"", "LogLevel Info",
             f"PidFile \"{os.path.join(tdir, 'tinyproxy.pid')}\"", "MaxClients 100",
             "DisableViaHeader Yes", f"Allow {netns.CLIENT4}", f"Allow {netns.CLIENT6}",
             # a SOCKS proxy in the same namespace, as the hop before it in a chain
             f"Allow {netns.PROXY4}", f"Allow {netns.PROXY_OUT4}"]
    lines += [f"ConnectPort {p}" for p in connect_ports]
    if auth is not None:
        lines.append(f"BasicAuth {auth[0]} {auth[1]}")
    conf = os.path.join(tdir, "tinyproxy.conf")
    with open(conf, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    binary = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
    proc = topo.spawn(topo.proxy, [binary, "-d", "-c", conf],
                      log_path=os.path.join(tdir, "tinyproxy.stderr"))
    t = Tinyproxy(proc, tdir, log_path, port)
    try:
        wait_listening(proc, port, what="tinyproxy")
    except ServerStartError as exc:
        raise ServerStartError(f"{exc}\n--- tinyproxy.log ---\n{t.log()}\n--- config ---\n"
                               + "\n".join(lines)) from None
    return t
