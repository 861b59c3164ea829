"""wget (no SOCKS support of its own) through the launcher."""

import unittest

from harness import netns, servers
from harness.testcase import DANTED_URL, HTTP4, MICROSOCKS_URL, IntegrationTest, sha256

WGET = ["wget", "-q", "--tries=1", "--timeout=30", "-O", "-"]


class WgetThroughLauncher(IntegrationTest):
    start = ("danted", "microsocks")

    def test_large_file_through_danted(self):
        since = self.danted.log_size()
        proc = self.socksify(WGET + [f"{HTTP4}/{servers.LARGE_FILE}"], DANTED_URL)
        self.assertSucceeded(proc, "wget")
        self.assertEqual(sha256(proc.stdout), self.content.sha256(servers.LARGE_FILE))
        (rec,) = self.assertHttpServed(f"/{servers.LARGE_FILE}")
        self.assertTrue(rec["user_agent"].startswith("Wget/"), rec)
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since,
                                 min_to_client=servers.LARGE_SIZE)

    def test_small_file_through_microsocks(self):
        proc = self.socksify(WGET + [f"{HTTP4}/{servers.SMALL_FILE}"], MICROSOCKS_URL)
        self.assertSucceeded(proc, "wget")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertIn(f"connected to {netns.TARGET4}:{servers.HTTP_PORT}", self.microsocks.log())


if __name__ == "__main__":
    unittest.main()
