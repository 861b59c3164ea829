"""socks5h: names go to the proxy (ATYP 3), and no DNS query leaves the client.

The client namespace's resolv.conf points at 127.0.0.1, where a sentinel UDP
socket records every query: with socks5h it must stay silent. The proxy
namespace has its own /etc/hosts naming the target, which danted resolves."""

import unittest

from harness import netns, servers
from harness.dns_sentinel import WatchesDns
from harness.socks_test_server import ATYP_NAME, CMD_CONNECT
from harness.testcase import DANTED_PORT, IntegrationTest, describe

NAME = "target.socksify.test"
NAME6 = "target6.socksify.test"
DANTED_H = f"socks5h://{netns.PROXY4}:{DANTED_PORT}"


class RemoteDnsThroughLauncher(WatchesDns, IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls):
        cls.start_danted_resolving({NAME: netns.TARGET4, NAME6: netns.TARGET6})

    def test_curl_by_name_through_danted(self):
        since = self.danted.log_size()
        proc = self.socksify(["curl", "-sS", "--fail", "--max-time", "20",
                              f"http://{NAME}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"], DANTED_H)
        self.assertSucceeded(proc, "curl by name with socks5h")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertServedByName(NAME, since)
        self.assertNoDnsLeak()

    def test_request_carries_the_name_as_atyp_3(self):
        server = self.start_test_server(hosts={NAME: netns.TARGET4})
        proc = self.socksify(["curl", "-sS", "--fail", "--max-time", "20",
                              f"http://{NAME}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"], server.url("socks5h"))
        self.assertSucceeded(proc, "curl by name through the test server")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        (rec,) = server.wait_records(1)
        name = NAME.encode()
        self.assertEqual(rec.request, bytes([5, CMD_CONNECT, 0, ATYP_NAME, len(name)]) + name +
                         servers.HTTP_PORT.to_bytes(2, "big"))
        self.assertEqual((rec.atyp, rec.address, rec.port), (ATYP_NAME, NAME, servers.HTTP_PORT))
        self.assertNoDnsLeak()

    def test_python_create_connection_by_name_echoes(self):
        proc = self.socksify(self.python_client("echo_client.py", NAME, servers.ECHO_PORT, 65536), DANTED_H)
        self.assertSucceeded(proc, "echo client by name")
        self.assertTrue(self.json_output(proc)["ok"], describe(proc))
        self.assertEchoServed(min_bytes=65536)
        self.assertNoDnsLeak()

    def test_ipv6_only_name_through_danted(self):
        proc = self.socksify(["curl", "-sS", "--fail", "--max-time", "20",
                              f"http://{NAME6}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"], DANTED_H)
        self.assertSucceeded(proc, "curl by an IPv6-only name with socks5h")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        (rec,) = self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertEqual(rec["peer"], netns.PROXY_OUT6)
        self.assertNoDnsLeak()

    def test_sentinel_catches_local_resolution(self):
        # Control: with socks5 (local DNS) the name is looked up in the client
        # namespace, the sentinel sees the query, and the lookup fails there.
        proc = self.socksify(["curl", "-sS", "--max-time", "10",
                              f"http://{NAME}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"],
                             DANTED_H.replace("socks5h:", "socks5:"))
        self.assertEqual(proc.returncode, 6, describe(proc))  # CURLE_COULDNT_RESOLVE_HOST
        self.assertTrue(self.sentinel.names(NAME.split(".")[0]), "the sentinel saw no query: it would not catch a leak")
        self.assertEqual(self.http.records("http"), [])


if __name__ == "__main__":
    unittest.main()
