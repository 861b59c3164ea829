"""curl through the launcher: exact bytes arrive, and the proxy carried them."""

import unittest

from harness import netns, servers
from harness.testcase import DANTED6_URL, DANTED_URL, HTTP4, MICROSOCKS_URL, IntegrationTest, describe, sha256

CURL = ["curl", "-sS", "--fail", "--max-time", "30"]


class CurlThroughLauncher(IntegrationTest):
    start = ("danted", "microsocks")

    def test_small_file_through_danted_arrives_exactly(self):
        since = self.danted.log_size()
        proc = self.socksify(CURL + [f"{HTTP4}/{servers.SMALL_FILE}"], DANTED_URL)
        self.assertSucceeded(proc, "curl")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since,
                                 min_to_client=len(servers.SMALL_BODY))

    def test_large_file_through_danted_matches_sha256(self):
        since = self.danted.log_size()
        proc = self.socksify(CURL + [f"{HTTP4}/{servers.LARGE_FILE}"], DANTED_URL)
        self.assertSucceeded(proc, "curl")
        self.assertEqual(len(proc.stdout), servers.LARGE_SIZE, describe(proc))
        self.assertEqual(sha256(proc.stdout), self.content.sha256(servers.LARGE_FILE))
        self.assertHttpServed(f"/{servers.LARGE_FILE}")
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since,
                                 min_to_client=servers.LARGE_SIZE)

    def test_proxy_given_by_ipv6_address(self):
        since = self.danted.log_size()
        proc = self.socksify(CURL + [f"{HTTP4}/{servers.SMALL_FILE}"], DANTED6_URL)
        self.assertSucceeded(proc, "curl")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        (sess,) = self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)
        self.assertEqual(sess.client_host, netns.CLIENT6)

    def test_proxy_from_environment_instead_of_option(self):
        since = self.danted.log_size()
        proc = self.socksify(CURL + [f"{HTTP4}/{servers.SMALL_FILE}"], None, env={"SOCKSIFY_PROXY": DANTED_URL})
        self.assertSucceeded(proc, "curl with SOCKSIFY_PROXY")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)

    def test_large_file_through_microsocks_matches_sha256(self):
        proc = self.socksify(CURL + [f"{HTTP4}/{servers.LARGE_FILE}"], MICROSOCKS_URL)
        self.assertSucceeded(proc, "curl")
        self.assertEqual(sha256(proc.stdout), self.content.sha256(servers.LARGE_FILE))
        self.assertHttpServed(f"/{servers.LARGE_FILE}")
        self.assertIn(f"{netns.CLIENT4}: connected to {netns.TARGET4}:{servers.HTTP_PORT}", self.microsocks.log())

    def test_success_prints_no_socksify_error(self):
        proc = self.socksify(CURL + [f"{HTTP4}/{servers.SMALL_FILE}"], DANTED_URL)
        self.assertSucceeded(proc, "curl")
        self.assertNotIn(b"socksify[", proc.stderr, describe(proc))


if __name__ == "__main__":
    unittest.main()
