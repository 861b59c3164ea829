"""50 threads in one process, each a full echo round trip through the launcher at once."""

import unittest

from harness import netns, servers
from harness.testcase import DANTED_URL, MICROSOCKS_URL, IntegrationTest, describe

THREADS = 50
SIZE = 64 * 1024 + 1


class ConcurrentEchoThroughLauncher(IntegrationTest):
    start = ("danted", "microsocks")

    def run_threads(self, proxy: str) -> None:
        proc = self.socksify(self.python_client("concurrent_echo.py", netns.TARGET4, servers.ECHO_PORT,
                                                THREADS, SIZE), proxy, timeout=90)
        result = self.json_output(proc)
        self.assertEqual(result["failures"], {}, describe(proc))
        self.assertEqual(result["ok"], THREADS)
        self.assertSucceeded(proc, "concurrent echo")
        recs = self.assertEchoServed(count=THREADS, min_bytes=SIZE)
        self.assertEqual(len(recs), THREADS)
        self.assertTrue(all(r["bytes"] == SIZE for r in recs), recs)
        # 50 distinct connections, each from its own proxy-side port.
        self.assertEqual(len({r["port"] for r in recs}), THREADS)

    def test_fifty_threads_through_danted(self):
        since = self.danted.log_size()
        self.run_threads(DANTED_URL)
        sessions = self.assertDantedCarried(f"{netns.TARGET4}.{servers.ECHO_PORT}", count=THREADS,
                                            since=since, min_to_client=SIZE)
        self.assertEqual(len(sessions), THREADS)

    def test_fifty_threads_through_microsocks(self):
        before = self.microsocks.log().count(f"connected to {netns.TARGET4}:{servers.ECHO_PORT}")
        self.run_threads(MICROSOCKS_URL)
        after = self.microsocks.log().count(f"connected to {netns.TARGET4}:{servers.ECHO_PORT}")
        self.assertEqual(after - before, THREADS)


if __name__ == "__main__":
    unittest.main()
