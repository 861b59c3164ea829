"""python3 socket.create_connection: a full echo round trip through the launcher."""

import unittest

from harness import netns, servers
from harness.testcase import DANTED_URL, MICROSOCKS_URL, IntegrationTest, describe

SIZE = 1024 * 1024 + 3


class PythonEchoThroughLauncher(IntegrationTest):
    start = ("danted", "microsocks")

    def round_trip(self, proxy: str, host: str, size: int = SIZE) -> dict:
        proc = self.socksify(self.python_client("echo_client.py", host, servers.ECHO_PORT, size), proxy)
        self.assertSucceeded(proc, "echo client")
        result = self.json_output(proc)
        self.assertTrue(result["ok"], describe(proc))
        self.assertEqual(result["received"], size)
        self.assertEqual(result["sha256"], result["expected_sha256"])
        # The program's view is kept: getpeername() names the target, not the proxy.
        self.assertEqual(result["peer"], [host, servers.ECHO_PORT], describe(proc))
        return result

    def test_echo_through_danted(self):
        since = self.danted.log_size()
        self.round_trip(DANTED_URL, netns.TARGET4)
        self.assertEchoServed(min_bytes=SIZE)
        (sess,) = self.assertDantedCarried(f"{netns.TARGET4}.{servers.ECHO_PORT}", since=since)
        self.assertEqual((sess.from_client, sess.to_client), (SIZE, SIZE), sess)

    def test_echo_to_ipv6_target_through_danted(self):
        since = self.danted.log_size()
        self.round_trip(DANTED_URL, netns.TARGET6)
        (rec,) = self.assertEchoServed(min_bytes=SIZE)
        self.assertEqual(rec["peer"], netns.PROXY_OUT6)
        self.assertDantedCarried(f"{netns.TARGET6}.{servers.ECHO_PORT}", since=since, min_to_client=SIZE)

    def test_echo_through_microsocks(self):
        self.round_trip(MICROSOCKS_URL, netns.TARGET4)
        (rec,) = self.assertEchoServed(min_bytes=SIZE)
        self.assertEqual(rec["bytes"], SIZE)
        self.assertIn(f"connected to {netns.TARGET4}:{servers.ECHO_PORT}", self.microsocks.log())


if __name__ == "__main__":
    unittest.main()
