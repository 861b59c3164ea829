"""netcat-openbsd through the launcher: bytes written to its stdin go to the echo
server and come back on its stdout, exactly."""

import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "clients"))

from harness import launcher, netns, servers  # noqa: E402
from harness.testcase import DANTED_URL, MICROSOCKS_URL, IntegrationTest, describe  # noqa: E402
from payload import payload  # noqa: E402

SIZE = 256 * 1024 + 5
# -w bounds every wait, so a broken tunnel cannot hang the test; -q 0 quits as soon
# as stdin closes (which the interactive test does only once the echo is complete).
NC = ["nc", "-q", "0", "-w", "10"]


class NetcatThroughLauncher(IntegrationTest):
    start = ("danted", "microsocks")

    def interactive_echo(self, proxy: str, host: str) -> None:
        """Keep nc's stdin open until the whole echo is back, as a person typing
        would: no half-close, which microsocks does not support (it ends the
        session on the first EOF it sees)."""
        data = payload(SIZE, tag=7)
        argv = launcher.command(NC + [host, str(servers.ECHO_PORT)], proxy)
        proc = self.topo.popen(self.topo.client, argv, env=launcher.clean_env())
        writer = threading.Thread(target=self._feed, args=(proc, data), daemon=True)
        writer.start()
        received = bytearray()
        deadline = time.monotonic() + 30
        os.set_blocking(proc.stdout.fileno(), False)
        while len(received) < SIZE and time.monotonic() < deadline:
            chunk = proc.stdout.read(65536)
            if chunk:
                received += chunk
            elif chunk == b"" or proc.poll() is not None:
                if proc.poll() is not None:
                    received += proc.stdout.read() or b""
                    break
            else:
                time.sleep(0.01)
        proc.stdin.close()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        writer.join(5)
        err = proc.stderr.read()
        result = subprocess.CompletedProcess(argv, proc.returncode, bytes(received), err)
        self.assertEqual(len(received), SIZE, describe(result))
        self.assertTrue(bytes(received) == data, "echoed bytes differ from the bytes sent")
        self.assertSucceeded(result, "nc")

    @staticmethod
    def _feed(proc: subprocess.Popen, data: bytes) -> None:
        try:
            for off in range(0, len(data), 16384):
                proc.stdin.write(data[off:off + 16384])
                proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass

    def test_nc_echo_through_danted(self):
        since = self.danted.log_size()
        self.interactive_echo(DANTED_URL, netns.TARGET4)
        self.assertEchoServed(min_bytes=SIZE)
        (sess,) = self.assertDantedCarried(f"{netns.TARGET4}.{servers.ECHO_PORT}", since=since)
        self.assertEqual((sess.from_client, sess.to_client), (SIZE, SIZE), sess)

    def test_nc_half_close_through_danted(self):
        # -N: shutdown(SHUT_WR) after stdin's EOF; the echo must still arrive in full,
        # and the echo server's EOF must end nc.
        data = payload(SIZE, tag=8)
        proc = self.socksify(["nc", "-N", "-w", "10", netns.TARGET4, str(servers.ECHO_PORT)], DANTED_URL,
                             input=data)
        self.assertSucceeded(proc, "nc -N")
        self.assertEqual(len(proc.stdout), SIZE, describe(proc))
        self.assertTrue(proc.stdout == data, "echoed bytes differ from the bytes sent")
        self.assertEchoServed(min_bytes=SIZE)

    def test_nc_echo_to_ipv6_target_through_danted(self):
        self.interactive_echo(DANTED_URL, netns.TARGET6)
        (rec,) = self.assertEchoServed(min_bytes=SIZE)
        self.assertEqual(rec["peer"], netns.PROXY_OUT6)

    def test_nc_echo_through_microsocks(self):
        self.interactive_echo(MICROSOCKS_URL, netns.TARGET4)
        self.assertEchoServed(min_bytes=SIZE)
        self.assertIn(f"connected to {netns.TARGET4}:{servers.ECHO_PORT}", self.microsocks.log())


if __name__ == "__main__":
    unittest.main()
