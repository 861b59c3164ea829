"""The supervised mode (issue 11) when a program's threads meet on one socket
during a connect through the proxy. Our SOCKS server answers CONNECT 300 ms
late, so the supervisor's session is long under way while the other thread
acts. The program (clients/seccomp/connect_race.c) is built here with
musl-gcc -static, so only the supervisor can carry it."""

import os
import shutil
import subprocess
import tempfile
import unittest

from harness import netns, servers
from harness.capture import CapturesLink
from harness.testcase import CLIENTS, TEST_SERVER_PORT, IntegrationTest, describe

BIN = ""  # the built program's directory, set by setUpModule
SLOW_PROXY = f"socks5://{netns.PROXY4}:{TEST_SERVER_PORT}"
ECHOED = b"hello through the race\n"


def setUpModule() -> None:
    global BIN
    BIN = tempfile.mkdtemp(prefix="socksify-seccomp-races-")
    unittest.addModuleCleanup(shutil.rmtree, BIN, True)
    argv = ["musl-gcc", "-static", "-O1", "-pthread", "-o", os.path.join(BIN, "connect_race"),
            os.path.join(CLIENTS, "seccomp", "connect_race.c")]
    proc = subprocess.run(argv, capture_output=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"building failed: {' '.join(argv)}\n{proc.stderr.decode(errors='replace')}")


class SupervisedConnectRaces(CapturesLink, IntegrationTest):
    start = ()

    def race(self, mode: str) -> subprocess.CompletedProcess:
        # Pipelining off: a reply 300 ms late is past its window, which would
        # retry on a second connection to the proxy (one connect, two sessions).
        return self.socksify([os.path.join(BIN, "connect_race"), mode, netns.TARGET4, str(servers.ECHO_PORT)],
                             SLOW_PROXY, ["--mode", "seccomp"], env={"SOCKSIFY_PIPELINE": "off"})

    def test_a_blocking_socket_never_shows_o_nonblock_during_its_connect(self):
        # Another thread's F_GETFL on the socket, all through the handshake,
        # sees the program's own flags: the supervisor never sets O_NONBLOCK on
        # the program's file description (a dup's read would say EAGAIN).
        server = self.start_test_server(connect_delay=0.3)
        proc = self.race("flags")
        self.assertSucceeded(proc, "connect_race flags")
        self.assertEqual(proc.stdout, b"connect 0\nchecks many\nnonblock seen 0\n" + ECHOED)
        recs = server.wait_records(1)
        self.assertEqual(len(recs), 1, [r.to_json() for r in recs])
        rec = recs[0]
        self.assertEqual(rec.outcome, "relayed", rec)
        self.assertGreaterEqual(rec.relayed_up, len(ECHOED), rec)
        self.assertEchoServed(min_bytes=len(ECHOED))
        self.assertNoDirectPackets("connect_race flags")

    def test_two_threads_connecting_one_socket_get_one_tunnel(self):
        # As the kernel: the second connect on a socket whose connect is under
        # way fails with EALREADY (or EISCONN once it is connected) and leaves
        # the first one's tunnel alone; the proxy sees one session.
        server = self.start_test_server(connect_delay=0.3)
        for attempt in range(3):
            with self.subTest(attempt=attempt):
                server.clear()
                self.echo.clear()
                proc = self.race("twice")
                self.assertSucceeded(proc, "connect_race twice")
                lines = proc.stdout.split(b"\n", 2)
                self.assertEqual(lines[0], b"connect 0", describe(proc))
                self.assertIn(lines[1], (b"connect EALREADY", b"connect EISCONN"), describe(proc))
                self.assertEqual(lines[2], ECHOED, describe(proc))
                recs = server.wait_records(2, deadline_s=1.5)  # a second session would be done by then
                self.assertEqual(len(recs), 1, [[r.to_json() for r in recs], describe(proc)])
                self.assertEqual(recs[0].outcome, "relayed", recs[0])
                self.assertEchoServed(min_bytes=len(ECHOED))
        self.assertNoDirectPackets("connect_race twice")


if __name__ == "__main__":
    unittest.main()
