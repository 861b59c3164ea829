"""The exact bytes socksify sends the proxy, as our test server saw them."""

import unittest

from harness import netns, servers
from harness.socks_test_server import ATYP_IPV4, CMD_CONNECT, METHOD_NONE
from harness.testcase import HTTP4, IntegrationTest, describe

SIZE = 100_003


class RequestBytesThroughLauncher(IntegrationTest):
    start = ()

    def test_curl_connect_request_is_atyp1_with_target_ip_and_port(self):
        server = self.start_test_server()
        proc = self.socksify(["curl", "-sS", "--fail", "--max-time", "20", f"{HTTP4}/{servers.SMALL_FILE}"],
                             server.url())
        self.assertSucceeded(proc, "curl")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        (rec,) = server.wait_records(1)
        # RFC 1928 §3: no credentials configured, so "no authentication" is the only method to offer.
        self.assertEqual(rec.greeting, bytes([5, 1, METHOD_NONE]), rec)
        # RFC 1928 §4: VER CMD RSV ATYP=1 10.200.1.2 port 8080
        self.assertEqual(rec.request, bytes([5, CMD_CONNECT, 0, ATYP_IPV4, 10, 200, 1, 2, 0x1F, 0x90]))
        # Nothing but the handshake before our reply: no early application data.
        self.assertEqual(rec.raw, rec.greeting + rec.request)
        self.assertEqual(rec.peer, netns.CLIENT4)
        self.assertEqual(rec.outcome, "relayed")
        self.assertHttpServed(f"/{servers.SMALL_FILE}")

    def test_python_echo_request_and_relayed_byte_counts(self):
        server = self.start_test_server()
        proc = self.socksify(self.python_client("echo_client.py", netns.TARGET4, servers.ECHO_PORT, SIZE),
                             server.url())
        self.assertSucceeded(proc, "echo client")
        self.assertTrue(self.json_output(proc)["ok"], describe(proc))
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.request, bytes([5, CMD_CONNECT, 0, ATYP_IPV4, 10, 200, 1, 2]) +
                         servers.ECHO_PORT.to_bytes(2, "big"))
        self.assertEqual((rec.relayed_up, rec.relayed_down), (SIZE, SIZE))
        self.assertEchoServed(min_bytes=SIZE)

    def test_one_handshake_per_connection(self):
        server = self.start_test_server()
        one = ["-sS", "--fail", "--max-time", "20", "-H", "Connection: close", f"{HTTP4}/{servers.SMALL_FILE}"]
        proc = self.socksify(["curl", *one, "--next", *one], server.url())
        self.assertSucceeded(proc, "curl fetching twice")
        self.assertEqual(proc.stdout, servers.SMALL_BODY * 2)
        recs = server.wait_records(2)
        self.assertEqual(len(recs), 2, recs)
        for rec in recs:
            self.assertEqual(rec.raw, bytes([5, 1, 0, 5, 1, 0, 1, 10, 200, 1, 2, 0x1F, 0x90]))


if __name__ == "__main__":
    unittest.main()
