"""IPv6 through the launcher: an IPv6 target literal, and the proxy reached over IPv6."""

import ipaddress
import unittest

from harness import netns, servers
from harness.socks_test_server import ATYP_IPV6, CMD_CONNECT
from harness.testcase import DANTED6_URL, DANTED_URL, HTTP6, MICROSOCKS_URL, IntegrationTest, sha256

CURL = ["curl", "-sS", "--fail", "--max-time", "30"]


class Ipv6ThroughLauncher(IntegrationTest):
    start = ("danted", "microsocks")

    def test_ipv6_target_literal_through_danted(self):
        for proxy in (DANTED_URL, DANTED6_URL):
            with self.subTest(proxy=proxy):
                self.http.clear()
                since = self.danted.log_size()
                proc = self.socksify(CURL + [f"{HTTP6}/{servers.LARGE_FILE}"], proxy)
                self.assertSucceeded(proc, "curl to an IPv6 literal")
                self.assertEqual(sha256(proc.stdout), self.content.sha256(servers.LARGE_FILE))
                (rec,) = self.assertHttpServed(f"/{servers.LARGE_FILE}")
                self.assertEqual(rec["peer"], netns.PROXY_OUT6)
                self.assertDantedCarried(f"{netns.TARGET6}.{servers.HTTP_PORT}", since=since,
                                         min_to_client=servers.LARGE_SIZE)

    def test_ipv6_target_literal_through_microsocks(self):
        proc = self.socksify(CURL + [f"{HTTP6}/{servers.SMALL_FILE}"], MICROSOCKS_URL)
        self.assertSucceeded(proc, "curl to an IPv6 literal")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        (rec,) = self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertEqual(rec["peer"], netns.PROXY_OUT6)

    def test_request_carries_atyp_4_and_the_16_address_bytes(self):
        server = self.start_test_server()
        proc = self.socksify(CURL + [f"{HTTP6}/{servers.SMALL_FILE}"], server.url())
        self.assertSucceeded(proc, "curl through the test server")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        (rec,) = server.wait_records(1)
        expected = (bytes([5, CMD_CONNECT, 0, ATYP_IPV6]) + ipaddress.IPv6Address(netns.TARGET6).packed
                    + servers.HTTP_PORT.to_bytes(2, "big"))
        self.assertEqual(rec.request, expected)
        self.assertEqual(rec.outcome, "relayed")

    def test_test_server_listening_on_ipv6(self):
        server = self.start_test_server(host=netns.PROXY6)
        proc = self.socksify(CURL + [f"{HTTP6}/{servers.SMALL_FILE}"], server.url())
        self.assertSucceeded(proc, "curl through the test server on IPv6")
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.peer, netns.CLIENT6)
        self.assertEqual((rec.address, rec.port), (netns.TARGET6, servers.HTTP_PORT))


if __name__ == "__main__":
    unittest.main()
