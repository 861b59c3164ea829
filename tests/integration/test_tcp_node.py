"""node's http.get (libuv event loop, non-blocking connect) through the launcher."""

import os
import unittest

from harness import netns, servers
from harness.testcase import CLIENTS, DANTED_URL, HTTP4, HTTP6, MICROSOCKS_URL, IntegrationTest, describe

NODE = "/usr/bin/node"


class NodeHttpGetThroughLauncher(IntegrationTest):
    start = ("danted", "microsocks")

    def get(self, proxy: str, url: str) -> dict:
        proc = self.socksify([NODE, os.path.join(CLIENTS, "http_get.js"), url], proxy)
        self.assertSucceeded(proc, "node http.get")
        result = self.json_output(proc)
        self.assertEqual(result.get("status"), 200, describe(proc))
        return result

    def test_large_file_through_danted(self):
        since = self.danted.log_size()
        result = self.get(DANTED_URL, f"{HTTP4}/{servers.LARGE_FILE}")
        self.assertEqual(result["bytes"], servers.LARGE_SIZE)
        self.assertEqual(result["sha256"], self.content.sha256(servers.LARGE_FILE))
        self.assertHttpServed(f"/{servers.LARGE_FILE}")
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since,
                                 min_to_client=servers.LARGE_SIZE)

    def test_ipv6_target_through_danted(self):
        result = self.get(DANTED_URL, f"{HTTP6}/{servers.SMALL_FILE}")
        self.assertEqual(result["sha256"], self.content.sha256(servers.SMALL_FILE))
        (rec,) = self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertEqual(rec["peer"], netns.PROXY_OUT6)

    def test_small_file_through_microsocks(self):
        result = self.get(MICROSOCKS_URL, f"{HTTP4}/{servers.SMALL_FILE}")
        self.assertEqual(result["sha256"], self.content.sha256(servers.SMALL_FILE))
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertIn(f"connected to {netns.TARGET4}:{servers.HTTP_PORT}", self.microsocks.log())


if __name__ == "__main__":
    unittest.main()
