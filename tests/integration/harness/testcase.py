"""unittest base class: one topology per test class, target servers in the target
namespace, the proxies the class asks for in the proxy namespace, and helpers to
run a program through the launcher in the client namespace."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import unittest

from . import launcher, netns, servers
from .netns import Topology
from .socks_test_server import Mode, SocksTestServer

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS = os.path.join(os.path.dirname(HERE), "clients")
PYTHON = "/usr/bin/python3"

DANTED_PORT = 1080
MICROSOCKS_PORT = 1081
MICROSOCKS_AUTH_PORT = 1082
TEST_SERVER_PORT = 1090
DEAD_PORT = 1099  # nothing ever listens here

DANTED_URL = f"socks5://{netns.PROXY4}:{DANTED_PORT}"
DANTED6_URL = f"socks5://[{netns.PROXY6}]:{DANTED_PORT}"
MICROSOCKS_URL = f"socks5://{netns.PROXY4}:{MICROSOCKS_PORT}"

HTTP4 = f"http://{netns.TARGET4}:{servers.HTTP_PORT}"
HTTP6 = f"http://[{netns.TARGET6}]:{servers.HTTP_PORT}"

CRASH_MARKERS = (b"Segmentation fault", b"core dumped", b"Aborted", b"terminate called",
                 b"AddressSanitizer", b"runtime error:")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def describe(proc: subprocess.CompletedProcess) -> str:
    def clip(data: bytes) -> str:
        text = data.decode("utf-8", "replace")
        return text if len(text) < 2000 else text[:2000] + f"... ({len(data)} bytes)"
    return (f"\ncommand: {' '.join(map(str, proc.args))}\nexit status: {proc.returncode}"
            f"\n--- stderr ---\n{clip(proc.stderr)}\n--- stdout ---\n{clip(proc.stdout)}")


class IntegrationTest(unittest.TestCase):
    """Subclasses set `start` to the servers they need besides the targets:
    "danted", "microsocks", and "local_echo" (a TCP echo server in the client
    namespace on servers.LOCAL_ECHO_PORT: a destination the client could reach
    directly, for proving that it does not)."""

    uses_launcher = True
    start: tuple[str, ...] = ("danted",)
    topo: Topology
    workdir: str

    @classmethod
    def setUpClass(cls) -> None:
        topo = Topology()
        cls.addClassCleanup(topo.close)  # runs even if setUpClass fails below
        cls.topo = topo.__enter__()
        # SOCKSIFY_ITEST_KEEP=1 keeps configs and logs (danted.log, target logs) to read after a run.
        cls.workdir = cls.topo.make_workdir(keep=bool(os.environ.get("SOCKSIFY_ITEST_KEEP")))
        cls.http, cls.content = servers.start_http_target(cls.topo, cls.workdir)
        cls.echo = servers.start_tcp_echo(cls.topo, cls.workdir)
        if "danted" in cls.start:
            cls.danted = servers.start_danted(cls.topo, cls.workdir, port=DANTED_PORT)
        if "microsocks" in cls.start:
            cls.microsocks = servers.start_microsocks(cls.topo, cls.workdir, port=MICROSOCKS_PORT)
        if "local_echo" in cls.start:
            cls.local_echo = servers.start_tcp_echo(cls.topo, cls.workdir, servers.LOCAL_ECHO_PORT,
                                                    ns=cls.topo.client)
        cls.start_extra()

    @classmethod
    def start_extra(cls) -> None:
        """Hook for class-specific servers."""

    @classmethod
    def start_danted_resolving(cls, proxy_names: dict[str, str],
                               client_names: dict[str, str] | None = None) -> None:
        """Remote-DNS setup: danted on DANTED_PORT in a proxy namespace whose own
        /etc/hosts is all that names `proxy_names` (name -> address); the client's
        /etc/hosts holds only localhost and `client_names`. Both namespaces send DNS
        to 127.0.0.1, where nothing answers unless a test listens for leaks there."""
        dns = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
        lines = lambda names: "".join(f"{addr} {name}\n" for name, addr in (names or {}).items())
        cls.topo.set_resolv_conf(cls.topo.client, dns)
        cls.topo.set_hosts(cls.topo.client, "127.0.0.1 localhost\n::1 localhost\n" + lines(client_names))
        cls.topo.set_resolv_conf(cls.topo.proxy, dns)
        cls.topo.set_hosts(cls.topo.proxy, "127.0.0.1 localhost\n" + lines(proxy_names))
        cls.danted = servers.start_danted(cls.topo, cls.workdir, port=DANTED_PORT)  # reads the proxy's hosts

    def setUp(self) -> None:
        if self.uses_launcher:
            try:
                launcher.require_launcher()
            except launcher.LauncherMissing as exc:
                self.fail(str(exc))
        self.http.clear()
        self.echo.clear()
        if "local_echo" in self.start:
            self.local_echo.clear()

    # -- our own SOCKS server in the proxy namespace -------------------------
    def start_test_server(self, mode: Mode = Mode.NORMAL, **kwargs) -> SocksTestServer:
        kwargs.setdefault("host", netns.PROXY4)
        kwargs.setdefault("port", TEST_SERVER_PORT)
        topo = self.topo
        server = SocksTestServer(mode=mode, socket_factory=lambda fam, typ: topo.socket(topo.proxy, fam, typ),
                                 **kwargs)
        server.start()
        self.addCleanup(server.stop)
        return server

    # -- running programs -------------------------------------------------------
    def socksify(self, program: list[str], proxy_url: str | None, options: list[str] | None = None,
                 env: dict[str, str] | None = None, timeout: float = 30,
                 input: bytes | None = None) -> subprocess.CompletedProcess:
        """Run program through the launcher in the client namespace."""
        argv = launcher.command(program, proxy_url, options)
        try:
            return self.topo.run(self.topo.client, argv, timeout=timeout, env=launcher.clean_env(env),
                                 input=input)
        except subprocess.TimeoutExpired as exc:
            self.fail(f"timed out after {timeout} s: {' '.join(argv)}\n--- stderr ---\n"
                      f"{(exc.stderr or b'').decode('utf-8', 'replace')}")

    def run_direct(self, program: list[str], timeout: float = 30, ns: str | None = None,
                   input: bytes | None = None) -> subprocess.CompletedProcess:
        """Run program without socksify (default: in the client namespace)."""
        return self.topo.run(ns or self.topo.client, program, timeout=timeout, env=launcher.clean_env(),
                             input=input)

    def python_client(self, script: str, *args: str) -> list[str]:
        return [PYTHON, os.path.join(CLIENTS, script), *map(str, args)]

    # -- assertions ---------------------------------------------------------------
    def assertSucceeded(self, proc: subprocess.CompletedProcess, what: str = "") -> None:
        self.assertEqual(proc.returncode, 0, f"{what} failed{describe(proc)}")
        self.assertNoCrash(proc)

    def assertNoCrash(self, proc: subprocess.CompletedProcess) -> None:
        self.assertGreaterEqual(proc.returncode, 0, f"killed by signal {-proc.returncode}{describe(proc)}")
        self.assertLess(proc.returncode, 128, f"exit status looks like a signal{describe(proc)}")
        for marker in CRASH_MARKERS:
            self.assertNotIn(marker, proc.stderr, f"crash marker {marker!r}{describe(proc)}")

    def assertFailedCleanly(self, proc: subprocess.CompletedProcess, secret: str | None = None) -> None:
        """The program failed (non-zero), did not crash, and the library said why
        in one `socksify[PID]: error: ...` line, without leaking the password."""
        self.assertNotEqual(proc.returncode, 0, f"program should have failed{describe(proc)}")
        self.assertNoCrash(proc)
        self.assertTrue(launcher.error_lines(proc.stderr),
                        f"no 'socksify[PID]: error: ...' line on stderr{describe(proc)}")
        if secret:
            self.assertNotIn(secret.encode(), proc.stderr, f"password leaked to stderr{describe(proc)}")
            self.assertNotIn(secret.encode(), proc.stdout, f"password leaked to stdout{describe(proc)}")

    def json_output(self, proc: subprocess.CompletedProcess) -> dict:
        lines = [ln for ln in proc.stdout.decode("utf-8", "replace").splitlines() if ln.startswith("{")]
        self.assertTrue(lines, f"client printed no JSON result{describe(proc)}")
        return json.loads(lines[-1])

    def assertHttpServed(self, path: str, count: int = 1) -> list[dict]:
        """The target served `path` to the proxy's target-side address: only a proxy
        can reach the target, so this proves the proxy carried the request."""
        recs = [r for r in self.http.wait_records("http", count) if r["path"] == path]
        self.assertGreaterEqual(len(recs), count, f"target did not log {count} GET {path}: {self.http.records()}")
        for rec in recs:
            self.assertIn(rec["peer"], (netns.PROXY_OUT4, netns.PROXY_OUT6), f"request not from the proxy: {rec}")
            self.assertEqual(rec["status"], 200, rec)
        return recs

    def assertEchoServed(self, count: int = 1, min_bytes: int = 1) -> list[dict]:
        recs = self.echo.wait_records("tcp", count)
        self.assertGreaterEqual(len(recs), count, f"echo server logged {len(recs)} connections: {recs}")
        for rec in recs:
            self.assertIn(rec["peer"], (netns.PROXY_OUT4, netns.PROXY_OUT6), f"echo peer not the proxy: {rec}")
            self.assertGreaterEqual(rec["bytes"], min_bytes, rec)
        return recs

    def assertDantedCarried(self, target: str, count: int = 1, since: int = 0,
                            min_to_client: int = 0, user: str | None = None) -> list:
        """danted's log shows `count` CONNECT sessions from the client namespace to
        `target` ("host.port"), each having sent at least min_to_client bytes back."""
        sessions = self.danted_for(user).wait_sessions(target, count, since=since)
        self.assertGreaterEqual(len(sessions), count,
                                f"danted logged {len(sessions)} sessions to {target}, wanted {count}\n"
                                f"--- danted.log ---\n{self.danted_for(user).log()[-4000:]}")
        for sess in sessions:
            self.assertIn(sess.client_host, (netns.CLIENT4, netns.CLIENT6), sess)
            self.assertGreaterEqual(sess.to_client, min_to_client, sess)
            if user is not None:
                self.assertEqual(sess.user, user, sess)
        return sessions

    def danted_for(self, user: str | None):
        return self.danted
