"""The supervised mode (issue 11): programs LD_PRELOAD cannot reach (Go, static
musl, liburing) run under the launcher's seccomp user-notification supervisor.
Their TCP connects go through the proxy, nothing leaves the client for anything
but the proxy (CapturesLink), and when the supervisor dies the program's next
connect fails instead of going direct. The test programs are built here, from
clients/seccomp/, with Debian's golang-go, musl-tools and liburing-dev (no
network: standard library only)."""

import concurrent.futures
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import launcher, netns, servers
from harness.capture import CapturesLink
from harness.dns_sentinel import WatchesDns
from harness.socks_test_server import Mode
from harness.testcase import CLIENTS, DANTED6_URL, DANTED_PORT, DANTED_URL, TEST_SERVER_PORT, HTTP4, MICROSOCKS_URL, IntegrationTest, describe

SOURCES = os.path.join(CLIENTS, "seccomp")
URL = f"{HTTP4}/{servers.SMALL_FILE}"


def _build(argv: list[str], env: dict[str, str], cwd: str) -> None:
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError(f"building failed: {' '.join(argv)}\n{proc.stderr.decode(errors='replace')}")


BIN = ""  # the built programs, set by setUpModule


def go_cache() -> str:
    """A Go build cache that outlives the run (in the build tree): a cold one
    compiles net/http and its dependencies, most of this module's time; the
    cache is content-addressed, so sharing it between runs is safe."""
    if os.environ.get("GOCACHE"):
        return os.environ["GOCACHE"]
    build_dir = os.environ.get("SOCKSIFY_BUILD_DIR") or os.path.join(launcher.REPO_ROOT, "build")
    return os.path.join(build_dir, "go-cache")


def setUpModule() -> None:
    global BIN
    BIN = tempfile.mkdtemp(prefix="socksify-seccomp-")
    os.chmod(BIN, 0o755)  # the unprivileged test runs the programs as nobody
    unittest.addModuleCleanup(shutil.rmtree, BIN, True)
    env = dict(os.environ, GOFLAGS="-mod=mod", GOCACHE=go_cache(),
               GOPATH=os.path.join(BIN, "gopath"), GOPROXY="off", GO111MODULE="off")
    src = os.path.join(SOURCES, "gohttp.go")
    go_builds = [  # one after the other: the second reuses most of what the first compiled
        (["go", "build", "-o", os.path.join(BIN, "gohttp-static"), src], dict(env, CGO_ENABLED="0")),
        (["go", "build", "-o", os.path.join(BIN, "gohttp-cgo"), src], dict(env, CGO_ENABLED="1")),
    ]
    c_builds = [  # beside the Go ones
        (["musl-gcc", "-static", "-O1", "-o", os.path.join(BIN, "musl_connect"),
          os.path.join(SOURCES, "musl_connect.c")], env),
        (["musl-gcc", "-static", "-O1", "-pthread", "-o", os.path.join(BIN, "signal_connect"),
          os.path.join(SOURCES, "signal_connect.c")], env),
        (["gcc", "-O1", "-o", os.path.join(BIN, "uring_connect"),
          os.path.join(SOURCES, "uring_connect.c"), "-luring"], env),
        (["gcc", "-O1", "-o", os.path.join(BIN, "deny_syscall"),
          os.path.join(SOURCES, "deny_syscall.c")], env),
    ]

    def go_in_turn() -> None:
        for argv, e in go_builds:
            _build(argv, e, BIN)

    with concurrent.futures.ThreadPoolExecutor(1 + len(c_builds)) as pool:
        futures = [pool.submit(go_in_turn)] + [pool.submit(_build, argv, e, BIN) for argv, e in c_builds]
        for f in futures:
            f.result()


class SupervisedMode(CapturesLink, IntegrationTest):
    start = ("danted", "microsocks")


    @classmethod
    def start_extra(cls) -> None:
        super().start_extra()
        cls.udp_echo = servers.start_udp_echo(cls.topo, cls.workdir, port=servers.ECHO_PORT)

    bin = property(lambda self: BIN)

    def prog(self, name: str) -> str:
        return os.path.join(BIN, name)

    def test_the_built_programs_are_what_the_tests_need(self):
        # The cgo build is dynamically linked (the case LD_PRELOAD silently misses),
        # the other static; both are found as Go programs (--debug is not needed).
        file_out = subprocess.run(["file", "-b", self.prog("gohttp-cgo")], capture_output=True).stdout
        self.assertIn(b"dynamically linked", file_out)
        file_out = subprocess.run(["file", "-b", self.prog("gohttp-static")], capture_output=True).stdout
        self.assertIn(b"statically linked", file_out)

    def assertGotBody(self, proc, count: int = 1) -> None:
        self.assertSucceeded(proc, "Go client")
        self.assertIn(servers.SMALL_BODY, proc.stdout, describe(proc))
        self.assertIn(f"ok {count}".encode(), proc.stdout, describe(proc))

    def test_go_cgo_get_by_ip_through_danted(self):
        since = self.danted.log_size()
        proc = self.socksify([self.prog("gohttp-cgo"), URL], DANTED_URL)
        self.assertGotBody(proc)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)
        self.assertNoDirectPackets("Go cgo client")
        self.assertNotIn(b"warning", proc.stderr, describe(proc))

    def test_go_static_get_by_ip_through_danted(self):
        since = self.danted.log_size()
        proc = self.socksify([self.prog("gohttp-static"), URL], DANTED_URL)
        self.assertGotBody(proc)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)
        self.assertNoDirectPackets("Go static client")
        # Auto mode supervises it: the static-binary warning of the preload mode is gone.
        self.assertNotIn(b"statically linked", proc.stderr, describe(proc))

    def test_go_cgo_and_static_through_microsocks(self):
        for name in ("gohttp-cgo", "gohttp-static"):
            with self.subTest(name):
                self.http.clear()
                proc = self.socksify([self.prog(name), URL], MICROSOCKS_URL)
                self.assertGotBody(proc)
                self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertIn(f"{netns.CLIENT4}: connected to {netns.TARGET4}:{servers.HTTP_PORT}",
                      self.microsocks.log())
        self.assertNoDirectPackets("Go clients through microsocks")

    def test_100_goroutines_connect_at_once(self):
        since = self.danted.log_size()
        proc = self.socksify([self.prog("gohttp-static"), URL, "100"], DANTED_URL, timeout=60)
        self.assertGotBody(proc, 100)
        self.assertHttpServed(f"/{servers.SMALL_FILE}", count=100)
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", count=100, since=since)
        self.assertNoDirectPackets("100 goroutines")

    def test_an_unprivileged_user_runs_a_go_program_supervised(self):
        # Not root: the supervisor reaches its child's descriptors and memory
        # (pidfd_getfd, process_vm_readv) with a plain user's rights, and a
        # daemon-style grandchild stays its descendant (child subreaper).
        since = self.danted.log_size()
        script = (f"d=$(mktemp -d); ( ({self.prog('gohttp-static')} {URL} > $d/out; touch $d/done) & ); "
                  "for i in $(seq 200); do [ -e $d/done ] && break; sleep 0.1; done; cat $d/out; rm -r $d")
        argv = launcher.command(["/bin/sh", "-c", script], DANTED_URL, ["--mode", "seccomp"])
        proc = self.topo.run(self.topo.client, ["setpriv", "--reuid=65534", "--regid=65534",
                                                "--clear-groups", "--", *argv],
                             env=launcher.clean_env(), timeout=30)
        self.assertSucceeded(proc, "supervised as nobody")
        self.assertIn(servers.SMALL_BODY, proc.stdout, describe(proc))
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)
        self.assertNoDirectPackets("supervised as nobody")

    def test_forced_seccomp_mode_on_a_dynamic_c_program(self):
        # --mode seccomp takes any program; curl makes its connect through libc,
        # which the filter traps like Go's raw one (no library preloaded).
        proc = self.socksify(["curl", "-sS", "--fail", "--max-time", "20", URL], DANTED_URL,
                             ["--mode", "seccomp"])
        self.assertSucceeded(proc, "curl")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertNoDirectPackets("curl --mode seccomp")

    def test_static_musl_program_connects_by_ip_through_the_proxy(self):
        proc = self.socksify([self.prog("musl_connect"), netns.TARGET4, str(servers.ECHO_PORT)],
                             DANTED_URL)
        self.assertSucceeded(proc, "musl_connect")
        self.assertEqual(proc.stdout, b"hello from musl\n")
        self.assertEchoServed()
        self.assertNoDirectPackets("static musl program")

    def assertMuslModesPrint(self, proxy_url: str, cases) -> None:
        """musl_connect in each (mode, expected) of cases prints expected, then the echo."""
        for mode, expected in cases:
            with self.subTest(mode):
                proc = self.socksify([self.prog("musl_connect"), netns.TARGET4, str(servers.ECHO_PORT), mode],
                                     proxy_url)
                self.assertSucceeded(proc, f"musl_connect {mode} via {proxy_url}")
                self.assertEqual(proc.stdout, expected + b"hello from musl\n")

    def test_nonblocking_cloexec_socket_keeps_its_flags_after_the_swap(self):
        # The session runs on the program's own socket (an IPv4 proxy): the
        # program still sees O_NONBLOCK and FD_CLOEXEC, writability, SO_ERROR 0.
        proc = self.socksify([self.prog("musl_connect"), netns.TARGET4, str(servers.ECHO_PORT), "nonblock"],
                             DANTED_URL)
        self.assertSucceeded(proc, "musl_connect nonblock")
        self.assertEqual(proc.stdout, b"connect returned 0\nflags nonblock=1 cloexec=1\nhello from musl\n")
        self.assertEchoServed()
        self.assertNoDirectPackets("non-blocking static musl program")

    def test_ipv4_socket_through_an_ipv6_proxy_is_swapped_with_its_flags_and_options(self):
        # The session runs on the program's own socket unless the proxy needs
        # another family: an AF_INET socket and an IPv6 proxy take the swap
        # path (our AF_INET6 socket installed under the program's number).
        self.assertMuslModesPrint(DANTED6_URL, (
            ("nonblock", b"connect returned 0\nflags nonblock=1 cloexec=1\n"),
            ("opts", b"nodelay=1 keepalive=1 rcvbuf=131072\n")))
        self.assertEchoServed()
        self.assertNoDirectPackets("IPv4 socket through the IPv6 proxy")

    def test_a_route_to_a_named_ipv6_proxy_takes_the_swap_path(self):
        # The unnamed list's proxy is IPv4, the route's group's an IPv6 one:
        # whether the program's AF_INET socket can carry the session is judged
        # against the route's group, not the unnamed list.
        since = self.danted.log_size()
        proc = self.socksify([self.prog("musl_connect"), netns.TARGET4, str(servers.ECHO_PORT)], None,
                             env={"SOCKSIFY_PROXY": f"{DANTED_URL}; six {DANTED6_URL}",
                                  "SOCKSIFY_ROUTE": f":{servers.ECHO_PORT} via six"})
        self.assertSucceeded(proc, "musl_connect routed to the IPv6 proxy")
        self.assertEqual(proc.stdout, b"hello from musl\n")
        (session,) = self.assertDantedCarried(f"{netns.TARGET4}.{servers.ECHO_PORT}", since=since)
        self.assertEqual(session.client_host, netns.CLIENT6, session)  # the route's proxy
        self.assertNoDirectPackets("a route to a named IPv6 proxy")

    def test_getpeername_names_the_destination_not_the_proxy(self):
        # Go reads the peer with getpeername right after connect (RemoteAddr).
        for dst in (f"{netns.TARGET4}:{servers.ECHO_PORT}", f"[{netns.TARGET6}]:{servers.ECHO_PORT}"):
            with self.subTest(dst):
                proc = self.socksify([self.prog("gohttp-static"), "-peer", dst], DANTED_URL)
                self.assertSucceeded(proc, "gohttp -peer")
                self.assertEqual(proc.stdout, f"peer {dst}\n".encode())
        self.assertNoDirectPackets("getpeername")

    def test_socket_options_set_before_connect_are_carried(self):
        # A blocking socket always gets our socket in its place. opts:
        # TCP_NODELAY, SO_KEEPALIVE and SO_RCVBUF (65536: the kernel reports
        # twice that) go with it. timeouts: SO_RCVTIMEO and SO_SNDTIMEO too (or
        # a blocking read could hang), and a socket bound before connect stays
        # connectable (the kernel's port is the old socket's: ours takes the
        # address alone).
        self.assertMuslModesPrint(DANTED_URL, (("opts", b"nodelay=1 keepalive=1 rcvbuf=131072\n"),
                                               ("timeouts", b"rcvtimeo=1.500000 sndtimeo=2.500000\n")))
        self.assertNoDirectPackets("musl_connect with options")

    def test_refused_destination_gives_the_proxy_errno(self):
        # Nothing listens on the target's port 9: danted answers "connection
        # refused" (REP 5), which the program gets as its connect's errno.
        proc = self.socksify([self.prog("musl_connect"), netns.TARGET4, "9"], DANTED_URL)
        self.assertEqual(proc.returncode, 1, describe(proc))
        self.assertEqual(proc.stdout, b"connect: Connection refused\n")
        self.assertNoDirectPackets("refused destination")

    def test_signals_during_a_slow_handshake_do_not_restart_it(self):
        # SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: once the supervisor took the
        # call, signals (SIGURG every ms, SA_RESTART, as Go's preemption) do not
        # interrupt it; without the flag each one restarts connect and a new
        # handshake begins. The proxy sends each reply byte 30 ms apart.
        server = self.start_test_server(Mode.SLOW_REPLY, delay=0.03)
        proc = self.socksify([self.prog("signal_connect"), netns.TARGET4, str(servers.ECHO_PORT)],
                             f"socks5://{netns.PROXY4}:{TEST_SERVER_PORT}", ["--mode", "seccomp"])
        self.assertSucceeded(proc, "signal_connect")
        self.assertEqual(proc.stdout, b"connected after many signals\nhello through signals\n")
        self.assertEqual(len(server.records()), 1, server.records())
        self.assertNoDirectPackets("signals during the handshake")

    def test_liburing_connect_falls_back_to_connect_through_the_proxy(self):
        # Debian's liburing 2.3 makes its system calls with inline `syscall`
        # instructions, so only the filter can stop the ring: io_uring_setup gets
        # ENOSYS and the program falls back to connect(2), which is trapped.
        proc = self.socksify([self.prog("uring_connect"), netns.TARGET4, str(servers.ECHO_PORT)],
                             DANTED_URL, ["--mode", "seccomp"])
        self.assertSucceeded(proc, "uring_connect")
        self.assertIn(b"io_uring_queue_init: Function not implemented; falling back", proc.stdout,
                      describe(proc))
        self.assertTrue(proc.stdout.endswith(b"hello from uring\n"), describe(proc))
        self.assertEchoServed()
        self.assertNoDirectPackets("liburing program")

    def test_connected_udp_goes_through_dantes_udp_relay(self):
        since = self.danted.log_size()
        dst = f"{netns.TARGET4}:{servers.ECHO_PORT}"
        proc = self.socksify([self.prog("gohttp-static"), "-udp", dst], DANTED_URL,
                             env={"GOHTTP_UDP_ECHO": "1"})
        self.assertSucceeded(proc, "Go connected UDP")
        self.assertEqual(proc.stdout, f"sent\necho hello from {dst}\n".encode())
        recs = self.udp_echo.wait_records("udp", 1)
        self.assertTrue(recs, "the UDP echo server saw nothing")
        self.assertIn(recs[-1]["peer"], (netns.PROXY_OUT4, netns.PROXY_OUT6), recs)
        self.assertNoDirectPackets("Go connected UDP")

    def test_connected_udp_follows_a_route_to_a_named_proxy(self):
        # The unnamed list's proxy (microsocks) has no UDP ASSOCIATE; the route
        # sends this destination to danted, which relays it.
        dst = f"{netns.TARGET4}:{servers.ECHO_PORT}"
        proc = self.socksify([self.prog("gohttp-static"), "-udp", dst], None,
                             env={"GOHTTP_UDP_ECHO": "1",
                                  "SOCKSIFY_PROXY": f"{MICROSOCKS_URL}; relay {DANTED_URL}",
                                  "SOCKSIFY_ROUTE": f":{servers.ECHO_PORT} via relay"})
        self.assertSucceeded(proc, "Go connected UDP routed to danted")
        self.assertEqual(proc.stdout, f"sent\necho hello from {dst}\n".encode())
        recs = self.udp_echo.wait_records("udp", 1)
        self.assertTrue(recs, "the UDP echo server saw nothing")
        self.assertIn(recs[-1]["peer"], (netns.PROXY_OUT4, netns.PROXY_OUT6), recs)
        self.assertNoDirectPackets("Go connected UDP routed to a named proxy")

    def test_quic_style_udp_fails_fast_when_the_proxy_has_no_udp(self):
        # An http:// proxy carries no UDP: the connect fails with EOPNOTSUPP at
        # once, before anything is sent (no proxy even listens here), so a QUIC
        # client falls back to TCP instead of waiting.
        started = time.monotonic()
        proc = self.socksify([self.prog("gohttp-static"), "-udp", f"{netns.TARGET4}:443"],
                             f"http://{netns.PROXY4}:3128")
        elapsed = time.monotonic() - started
        self.assertEqual(proc.returncode, 1, describe(proc))
        self.assertIn(b"operation not supported", proc.stdout, describe(proc))
        self.assertLess(elapsed, 10, describe(proc))  # a Go start-up under load, no timeout
        self.assertNoDirectPackets("UDP 443 via an http proxy")

    def test_udp_unconnected_sendto_is_refused_not_sent_direct(self):
        proc = self.socksify([self.prog("gohttp-static"), "-udpto", f"{netns.TARGET4}:{servers.ECHO_PORT}"],
                             DANTED_URL)
        self.assertEqual(proc.returncode, 1, describe(proc))
        self.assertIn(b"permission denied", proc.stdout, describe(proc))
        self.assertIn(b"refusing sendto", proc.stderr, describe(proc))
        self.assertNoDirectPackets("Go UDP sendto")

    def test_udp_to_loopback_is_sent_by_the_supervisor_exactly_once(self):
        # Loopback is direct by the rules: the supervisor performs the connect and
        # the sendto itself, on the program's own socket, with the bytes it checked.
        for mode in ("-udp", "-udpto"):
            with self.subTest(mode):
                sock = self.topo.socket(self.topo.client, socket.AF_INET, socket.SOCK_DGRAM)
                self.addCleanup(sock.close)
                sock.bind(("127.0.0.1", 0))
                sock.settimeout(5)
                port = sock.getsockname()[1]
                proc = self.socksify([self.prog("gohttp-static"), mode, f"127.0.0.1:{port}"], DANTED_URL)
                self.assertSucceeded(proc, f"gohttp {mode}")
                self.assertEqual(proc.stdout, b"sent\n")
                data, peer = sock.recvfrom(100)
                self.assertEqual(data, b"hello")
                self.assertEqual(peer[0], "127.0.0.1")
                sock.settimeout(0.2)
                with self.assertRaises(socket.timeout):
                    sock.recvfrom(100)  # once, not twice

    def test_supervisor_killed_mid_run_next_connect_fails(self):
        argv = launcher.command([self.prog("gohttp-static"), "-lines", URL], DANTED_URL)
        proc = self.topo.popen(self.topo.client, argv, env=launcher.clean_env())
        children: list[str] = []
        try:
            proc.stdin.write(b"1\n")
            proc.stdin.flush()
            self.assertEqual(proc.stdout.readline().strip(), f"ok {len(servers.SMALL_BODY)}".encode())
            # ip netns exec execs the launcher: proc.pid is the supervisor, the Go
            # program its child.
            with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as fh:
                children = fh.read().split()
            self.assertEqual(len(children), 1, children)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
            self.capture.clear()
            proc.stdin.write(b"2\n")
            proc.stdin.flush()
            line = proc.stdout.readline().strip()
            self.assertTrue(line.startswith(b"err"), line)
            self.assertIn(b"function not implemented", line)  # ENOSYS: the kernel's answer
        finally:
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                stream.close()
            for pid in children:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.assertNoDirectPackets("after the supervisor died")

    def test_setuid_program_in_the_tree_runs_without_gaining_privilege(self):
        # no_new_privs: a set-user-ID program exec'd inside the supervised tree
        # keeps the caller's ids (here a setuid-nobody copy of id(1), run by root).
        setuid_id = os.path.join(self.bin, "id-setuid-nobody")
        shutil.copy("/usr/bin/id", setuid_id)
        os.chown(setuid_id, 65534, -1)
        os.chmod(setuid_id, 0o4755)
        direct = self.run_direct([setuid_id, "-u"])
        self.assertEqual(direct.stdout, b"65534\n", describe(direct))  # the bit works here
        proc = self.socksify(["/bin/sh", "-c", f"{setuid_id} -u"], DANTED_URL, ["--mode", "seccomp"])
        self.assertSucceeded(proc, "setuid id")
        self.assertEqual(proc.stdout, b"0\n", describe(proc))

    def test_preload_mode_on_go_programs_warns(self):
        # Unproxied, as warned: a loopback port nothing listens on fails at once
        # (the target, reachable through the proxy only, cost the 20 s timeout).
        closed = "http://127.0.0.1:9/"
        proc = self.socksify([self.prog("gohttp-static"), closed], DANTED_URL, ["--mode", "preload"])
        self.assertIn(b"is statically linked: LD_PRELOAD cannot reach it", proc.stderr, describe(proc))
        self.assertIn(b"connection refused", proc.stdout + proc.stderr, describe(proc))
        proc = self.socksify([self.prog("gohttp-cgo"), closed], DANTED_URL, ["--mode", "preload"])
        self.assertIn(b"is a Go program: it makes its own system calls", proc.stderr, describe(proc))
        self.assertIn(b"connection refused", proc.stdout + proc.stderr, describe(proc))
        self.assertNoDirectPackets("Go programs in preload mode, to loopback")

    def test_a_kernel_without_a_needed_call_refuses_the_program_by_name(self):
        # Each call the supervised mode needs fails with ENOSYS, as on a kernel
        # without it (a filter of the test's own around the launcher): the Go
        # program is refused with the feature named, and never runs.
        cases = [(317, "seccomp user notification"),  # seccomp(2)
                 (434, "pidfd_open"), (438, "pidfd_getfd"),
                 (16, "SECCOMP_IOCTL_NOTIF_ADDFD")]  # ioctl(2)
        for nr, feature in cases:
            with self.subTest(feature=feature):
                argv = [self.prog("deny_syscall"), str(nr),
                        *launcher.command([self.prog("gohttp-static"), URL], DANTED_URL,
                                          ["--mode", "seccomp"])]
                proc = self.topo.run(self.topo.client, argv, env=launcher.clean_env(), timeout=30)
                self.assertEqual(proc.returncode, 125, describe(proc))
                self.assertIn(b"refusing to run", proc.stderr, describe(proc))
                self.assertIn(f"the supervised mode needs {feature}".encode(), proc.stderr,
                              describe(proc))
                self.assertNotIn(servers.SMALL_BODY, proc.stdout, describe(proc))
        self.assertNoDirectPackets("launches refused for a missing kernel feature")

    def test_check_shows_the_mode_and_kernel_features(self):
        proc = self.socksify([], DANTED_URL, ["--mode", "seccomp", "--check"])
        self.assertIn(b"mode: seccomp\n", proc.stdout, describe(proc))
        self.assertIn(b"kernel: user notification, ADDFD, pidfd_open, pidfd_getfd, WAIT_KILLABLE_RECV: "
                      b"the supervised mode can run", proc.stdout, describe(proc))


NAME = "origin.socksify.test"  # known to the proxy's /etc/hosts only


class SupervisedRemoteDns(WatchesDns, CapturesLink, IntegrationTest):
    """socks5h: a Go program's own resolver asks the supervisor's DNS stub
    (its UDP connect to port 53 is redirected), gets a fake address, and its
    connect to that address goes to danted by name. The trap resolver on
    127.0.0.1:53 (the client's resolv.conf) sees no query."""
    start = ()

    @classmethod
    def start_extra(cls) -> None:
        super().start_extra()
        cls.start_danted_resolving({NAME: netns.TARGET4})

    def test_go_get_by_name_through_danted_without_a_dns_query(self):
        url = f"http://{NAME}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"
        for name in ("gohttp-cgo", "gohttp-static"):
            with self.subTest(name):
                self.http.clear()
                since = self.danted.log_size()
                proc = self.socksify([os.path.join(BIN, name), url],
                                     f"socks5h://{netns.PROXY4}:{DANTED_PORT}")
                self.assertSucceeded(proc, f"{name} by name")
                self.assertIn(servers.SMALL_BODY, proc.stdout, describe(proc))
                self.assertServedByName(NAME, since)
        self.assertNoDnsLeak()
        self.assertNoDirectPackets("Go by name")

    # A Go or static program exec'd by a preloaded (dynamic) one: the library's
    # exec guard hands it to `socksify --mode seccomp` (before: it ran unproxied).
    def test_go_programs_run_by_a_preloaded_shell_are_supervised(self):
        by_name = f"http://{NAME}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"
        for name, url in (("gohttp-static", by_name), ("gohttp-cgo", URL)):
            with self.subTest(name):
                self.http.clear()
                since = self.danted.log_size()
                proc = self.socksify(["/bin/sh", "-c", f"{os.path.join(BIN, name)} {url}"],
                                     f"socks5h://{netns.PROXY4}:{DANTED_PORT}")
                self.assertSucceeded(proc, f"sh -c {name}")
                self.assertIn(servers.SMALL_BODY, proc.stdout, describe(proc))
                self.assertIn(b"ok 1", proc.stdout, describe(proc))
                if url == by_name:
                    self.assertServedByName(NAME, since)
                else:
                    self.assertHttpServed(f"/{servers.SMALL_FILE}")
                    self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)
        self.assertNoDnsLeak()
        self.assertNoDirectPackets("Go programs exec'd by a preloaded shell")

    def test_python_subprocess_of_a_static_musl_program_is_supervised(self):
        script = ("import subprocess, sys; "
                  f"sys.exit(subprocess.run([{os.path.join(BIN, 'musl_connect')!r}, "
                  f"{netns.TARGET4!r}, {str(servers.ECHO_PORT)!r}]).returncode)")
        proc = self.socksify(["/usr/bin/python3", "-c", script],
                             f"socks5h://{netns.PROXY4}:{DANTED_PORT}")
        self.assertSucceeded(proc, "python -> musl_connect")
        self.assertEqual(proc.stdout, b"hello from musl\n", describe(proc))
        self.assertEchoServed()
        self.assertNoDnsLeak()
        self.assertNoDirectPackets("static musl program exec'd by python")

    def test_a_supervised_child_shares_the_trees_name_table(self):
        # A preloaded python resolves NAME (a fake address of the tree's table),
        # then runs the static Go client on that address: its supervisor (handed
        # the exec) attaches the same table through SOCKSIFY_NAME_TABLE, so the
        # address still means NAME and danted resolves it. With a table of its
        # own the supervisor would know no name behind the address.
        script = ("import socket, subprocess, sys; "
                  f"a = socket.getaddrinfo({NAME!r}, {servers.HTTP_PORT}, socket.AF_INET, "
                  "socket.SOCK_STREAM)[0][4][0]; print('fake', a, flush=True); "
                  f"sys.exit(subprocess.run([{os.path.join(BIN, 'gohttp-static')!r}, "
                  f"'http://%s:{servers.HTTP_PORT}/{servers.SMALL_FILE}' % a]).returncode)")
        proc = self.socksify(["/usr/bin/python3", "-c", script],
                             f"socks5h://{netns.PROXY4}:{DANTED_PORT}")
        self.assertSucceeded(proc, "python -> gohttp-static on a fake address")
        fake = proc.stdout.split(b"\n", 1)[0].split()[-1].decode()
        self.assertNotEqual(fake, netns.TARGET4, describe(proc))
        self.assertIn(servers.SMALL_BODY, proc.stdout, describe(proc))
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertNoDnsLeak()
        self.assertNoDirectPackets("supervised child on the tree's fake address")

    def test_without_a_known_launcher_the_exec_is_refused(self):
        # The library cannot hand the exec over: one line, EACCES, nothing sent.
        prog = os.path.join(BIN, "musl_connect")
        proc = self.socksify(["/usr/bin/env", "-u", "SOCKSIFY_LAUNCHER_PATH", "/bin/sh", "-c",
                              f"{prog} {netns.TARGET4} {servers.ECHO_PORT}"],
                             f"socks5h://{netns.PROXY4}:{DANTED_PORT}")
        self.assertNotEqual(proc.returncode, 0, describe(proc))
        self.assertEqual(proc.stdout, b"", describe(proc))
        self.assertIn(f"socksify: refusing to exec {prog}: it is statically linked, which LD_PRELOAD "
                      "cannot reach, and the socksify launcher is not known (SOCKSIFY_LAUNCHER_PATH)".encode(), proc.stderr,
                      describe(proc))
        self.assertEqual(self.echo.records(), [], "the echo server was reached")
        self.assertNoDirectPackets("refused exec")


if __name__ == "__main__":
    unittest.main()
