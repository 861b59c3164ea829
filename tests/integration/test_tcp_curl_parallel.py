"""Issue 14 item 4, as curl meets it: `curl -Z` with 100 transfers at once
through danted, every handshake pending in the same poll(): all complete with
the exact bytes, and nothing went around the proxy."""

import unittest

from harness import netns, servers
from harness.capture import CapturesLink
from harness.testcase import DANTED_URL, HTTP4, IntegrationTest, describe

COUNT = 100


class CurlParallelTransfers(CapturesLink, IntegrationTest):
    start = ("danted",)

    def test_one_hundred_parallel_transfers_complete_exactly(self):
        since = self.danted.log_size()
        url = f"{HTTP4}/{servers.SMALL_FILE}"
        argv = ["curl", "-sS", "--max-time", "30", "-Z", "--parallel-max", str(COUNT),
                "--parallel-immediate", "-w", "%{http_code} %{size_download}\\n"]
        for _ in range(COUNT):
            argv += ["-o", "/dev/null", url]
        proc = self.socksify(argv, DANTED_URL, timeout=60)
        self.assertSucceeded(proc, "curl -Z")
        lines = proc.stdout.decode().split()
        self.assertEqual(lines, ["200", str(len(servers.SMALL_BODY))] * COUNT, describe(proc))
        self.assertHttpServed(f"/{servers.SMALL_FILE}", COUNT)
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", COUNT, since=since)
        self.assertNoDirectPackets("curl -Z")


if __name__ == "__main__":
    unittest.main()
