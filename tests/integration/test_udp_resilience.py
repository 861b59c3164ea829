"""UDP sockets through danted when things go wrong around them (issue 14):
stray datagrams (from addresses other than the relay's, which are dropped)
must not stretch the program's receive timeout or block a receive the kernel
would not have blocked (item 7); pthread_cancel of a thread blocked in
recvfrom() cancels it cleanly (item 3); after the proxy restarts, the socket
re-associates on its next send instead of failing for ever (item 11). Nothing
injected is delivered, and no packet leaves except to the proxy."""

import errno
import json
import os
import socket
import subprocess
import threading
import time
import unittest

from harness import launcher, netns, servers
from harness.capture import CapturesLink
from harness.testcase import DANTED_URL, IntegrationTest, describe

UDP_ECHO = servers.ECHO_PORT
RESTART_PORT = 1086  # a danted of the restart test's own, killed and started again
HERE = os.path.dirname(os.path.abspath(__file__))


class UdpResilience(CapturesLink, IntegrationTest):
    start = ("danted",)

    @classmethod
    def start_extra(cls) -> None:
        super().start_extra()
        cls.udp_echo = servers.start_udp_echo(cls.topo, cls.workdir, port=UDP_ECHO)

    def setUp(self) -> None:
        super().setUp()
        self.udp_echo.clear()

    # -- helpers -----------------------------------------------------------------
    def start_client(self, mode: str, proxy: str = DANTED_URL):
        argv = launcher.command(self.python_client("udp_waits.py", mode, netns.TARGET4, UDP_ECHO),
                                proxy)
        proc = self.topo.popen(self.topo.client, argv, env=launcher.clean_env())
        self.addCleanup(self.reap, proc)
        return proc

    @staticmethod
    def reap(proc) -> None:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()

    def read_step(self, proc) -> dict:
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            _out, err = proc.communicate()
            self.fail(f"client ended early\n{err.decode(errors='replace')}")
        return json.loads(line)

    def go(self, proc) -> None:
        proc.stdin.write(b"go\n")
        proc.stdin.flush()

    def finish(self, proc) -> tuple[dict, bytes]:
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err.decode(errors="replace"))
        self.assertNotIn(b"terminate called", err)
        r = json.loads(out.decode().splitlines()[-1])
        # The next datagram delivered is the target's answer, never an injected one.
        self.assertEqual(r["last"], "last", r)
        return r, err

    def stray_socket(self) -> socket.socket:
        sock = self.topo.socket(self.topo.proxy, socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        return sock

    @staticmethod
    def forged() -> bytes:
        # A SOCKS header naming the target: only the source address tells it
        # from a real reply of the relay's.
        return (bytes([0, 0, 0, 1]) + socket.inet_aton(netns.TARGET4) +
                UDP_ECHO.to_bytes(2, "big") + b"forged")

    def trickle(self, port: int, seconds: float, every_s: float) -> threading.Thread:
        """Strays to the client's port from the proxy's host (not the relay's
        port) every `every_s` for `seconds` (bounded by count too)."""
        sock = self.stray_socket()
        stop_at = time.monotonic() + seconds

        def run():
            for i in range(int(seconds / every_s) + 1):
                if time.monotonic() > stop_at:
                    return
                try:
                    sock.sendto(self.forged() if i % 2 else b"stray", (netns.CLIENT4, port))
                except OSError:
                    return
                time.sleep(every_s)
        t = threading.Thread(target=run, daemon=True)
        t.start()
        self.addCleanup(t.join, seconds + 2)
        return t

    # -- item 7 ------------------------------------------------------------------
    def test_a_stray_flood_does_not_stretch_a_one_second_receive_timeout(self):
        proc = self.start_client("flood")
        step = self.read_step(proc)
        self.assertEqual(step["first"], "first", step)
        self.trickle(step["port"], seconds=4, every_s=0.002)
        time.sleep(0.1)  # the flood is on before the receive starts
        self.go(proc)
        r, _err = self.finish(proc)
        wait = r["wait"]
        # What the kernel says when SO_RCVTIMEO runs out, when it runs out.
        self.assertEqual((wait["errno"], wait["data"]), (errno.EAGAIN, None), r)
        self.assertGreaterEqual(wait["elapsed"], 0.9, r)
        self.assertLess(wait["elapsed"], 2.0, f"the strays restarted the wait: {r}")
        self.assertUdpEchoFromProxy(2)
        self.assertNoDirectPackets("stray flood")

    def test_after_select_saw_only_a_stray_receives_end_as_the_kernel_would(self):
        proc = self.start_client("select")
        step = self.read_step(proc)
        strays = self.stray_socket()
        strays.sendto(self.forged(), (netns.CLIENT4, step["port"]))
        time.sleep(0.2)  # queued at the client before it selects
        self.go(proc)
        self.assertEqual(self.read_step(proc), {"step": "next"})
        strays.sendto(b"stray", (netns.CLIENT4, step["port"]))
        time.sleep(0.2)
        # ... and more strays while the blocking receive waits its second.
        self.trickle(step["port"], seconds=3, every_s=0.1)
        self.go(proc)
        r, _err = self.finish(proc)
        self.assertTrue(r["readable"], r)
        # Readable, then nothing to give: a non-blocking receive says EAGAIN at once.
        self.assertEqual((r["dontwait"]["errno"], r["dontwait"]["data"]), (errno.EAGAIN, None), r)
        self.assertLess(r["dontwait"]["elapsed"], 0.5, r)
        self.assertTrue(r["readable2"], r)
        # A blocking one waits only its own SO_RCVTIMEO (1 s), strays or not.
        self.assertEqual((r["blocking"]["errno"], r["blocking"]["data"]), (errno.EAGAIN, None), r)
        self.assertLess(r["blocking"]["elapsed"], 2.0, f"the strays restarted the wait: {r}")
        self.assertNoDirectPackets("strays after select")

    # -- item 3 ------------------------------------------------------------------
    def test_cancelling_a_thread_blocked_in_recvfrom_runs_its_cleanup(self):
        exe = os.path.join(self.workdir, "udp_cancel")
        subprocess.run(["cc", "-O1", "-pthread", "-o", exe,
                        os.path.join(HERE, "clients", "udp_cancel.c")], check=True,
                       capture_output=True, timeout=60)
        proc = self.socksify([exe, netns.TARGET4, str(UDP_ECHO)], DANTED_URL, timeout=30)
        self.assertSucceeded(proc, "udp_cancel")
        r = self.json_output(proc)
        self.assertEqual((r["first"], r["first_rc"]), ("first", 5), describe(proc))
        self.assertEqual((r["cancel_rc"], r["join_rc"], r["canceled"], r["cleanup_ran"]),
                         (0, 0, True, True), describe(proc))
        # The socket is as it was: the next round trip works.
        self.assertEqual((r["last"], r["last_rc"]), ("last", 4), describe(proc))
        self.assertUdpEchoFromProxy(2)
        self.assertNoDirectPackets("cancel in recvfrom")

    # -- item 11 -----------------------------------------------------------------
    def test_after_the_proxy_restarts_the_socket_reassociates_on_its_next_send(self):
        self.restart("restart")

    def test_after_the_proxy_restarts_a_connected_socket_reassociates_too(self):
        self.restart("restart-connected")

    def restart(self, mode: str) -> None:
        first = servers.start_danted(self.topo, self.workdir, port=RESTART_PORT)
        proc = self.start_client(mode, proxy=f"socks5://{netns.PROXY4}:{RESTART_PORT}")
        step = self.read_step(proc)
        self.assertEqual(step["first"], "first", step)
        first.proc.stop()
        self.capture.clear()  # from here on nothing may go around the proxy
        self.go(proc)  # the client sends every 0.25 s while the proxy is down ...
        time.sleep(1.0)
        second = servers.start_danted(self.topo, self.workdir, port=RESTART_PORT)  # ... and back
        self.addCleanup(second.proc.stop)
        r, err = self.finish(proc)
        self.assertIsNotNone(r["reply"], f"never re-associated: {r}\n{err.decode(errors='replace')}")
        self.assertTrue(r["reply"].startswith("again-"), r)
        # While the proxy was down: the errors of a proxy that is not there
        # (the attempt's own, or ECONNRESET between attempts), or a reply that
        # never came; then the new association carried the datagrams.
        self.assertTrue(r["errnos"], r)
        self.assertLessEqual(set(r["errnos"]), {"ECONNREFUSED", "ECONNRESET", "EAGAIN"}, r)
        self.assertIn("udpassociate", second.log(), "the new danted carried no association")
        self.assertIn(b"ended the UDP association", err)
        self.assertIn(b"a new UDP association replaces", err)
        self.assertNoDirectPackets("proxy restart")

    # -- assertions ----------------------------------------------------------------
    def assertUdpEchoFromProxy(self, count: int) -> list[dict]:
        recs = self.udp_echo.wait_records("udp", count)
        self.assertGreaterEqual(len(recs), count, f"echo logged {recs}")
        for rec in recs:
            self.assertIn(rec["peer"], (netns.PROXY_OUT4, netns.PROXY_OUT6), rec)
        return recs


if __name__ == "__main__":
    unittest.main()
