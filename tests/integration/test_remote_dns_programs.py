"""socks5h with more programs and the edges of remote DNS.

wget, python's urllib and node's http.get (getaddrinfo on libuv's threadpool)
fetch http://NAME:PORT/ through danted, which resolves the name in the proxy
namespace; the DNS sentinel in the client namespace sees no query. A name the
proxy cannot resolve fails promptly with one error line. The fake address
maps back to the name (gethostbyaddr, getnameinfo). socks5:// without the h
keeps resolving locally (here from the client's /etc/hosts) and sends ATYP 1."""

import ipaddress
import os
import time
import unittest

from harness import launcher, netns, servers
from harness.dns_sentinel import WatchesDns
from harness.socks_test_server import ATYP_IPV4, CMD_CONNECT
from harness.testcase import CLIENTS, DANTED_PORT, IntegrationTest, describe

NAME = "origin.socksify.test"          # known to the proxy only
LOCAL_NAME = "local-origin.socksify.test"  # known to the client's /etc/hosts only
UNKNOWN = "no-such-host.socksify.invalid"  # known to nobody (RFC 6761 .invalid)
DANTED_H = f"socks5h://{netns.PROXY4}:{DANTED_PORT}"
URL = f"http://{NAME}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"
NODE = "/usr/bin/node"
FAKE_V4 = ipaddress.ip_network("240.0.0.0/4")
FAKE_V6 = ipaddress.ip_network("100::/64")
PROMPT_S = 5


class RemoteDnsProgramsThroughLauncher(WatchesDns, IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls):
        # The proxy resolves from its hosts file only; its DNS goes to a port nobody
        # listens on, so an unknown name fails there at once.
        cls.start_danted_resolving({NAME: netns.TARGET4}, client_names={LOCAL_NAME: netns.TARGET4})

    # -- programs fetching by name ------------------------------------------------
    def test_wget_fetches_by_name_without_a_dns_query(self):
        since = self.danted.log_size()
        proc = self.socksify(["wget", "-q", "-O", "-", "--tries=1", "--timeout=20", URL], DANTED_H)
        self.assertSucceeded(proc, "wget by name with socks5h")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertServedByName(NAME, since)
        self.assertNoDnsLeak()

    def test_python_urlopen_fetches_by_name_without_a_dns_query(self):
        since = self.danted.log_size()
        proc = self.socksify(self.python_client("urlopen.py", URL), DANTED_H)
        self.assertSucceeded(proc, "urllib.request by name with socks5h")
        result = self.json_output(proc)
        self.assertEqual((result.get("status"), result.get("sha256")),
                         (200, self.content.sha256(servers.SMALL_FILE)), describe(proc))
        self.assertServedByName(NAME, since)
        self.assertNoDnsLeak()

    def test_node_http_get_fetches_by_name_without_a_dns_query(self):
        since = self.danted.log_size()
        proc = self.socksify([NODE, os.path.join(CLIENTS, "http_get.js"), URL], DANTED_H)
        self.assertSucceeded(proc, "node http.get by name with socks5h")
        result = self.json_output(proc)
        self.assertEqual((result.get("status"), result.get("sha256")),
                         (200, self.content.sha256(servers.SMALL_FILE)), describe(proc))
        self.assertServedByName(NAME, since)
        self.assertNoDnsLeak()

    # -- a name the proxy cannot resolve ---------------------------------------------
    def test_unknown_name_fails_promptly_with_one_error_line(self):
        since = self.danted.log_size()
        start = time.monotonic()
        # A name gets one fake address, so curl tries once: one failure, one line.
        proc = self.socksify(["curl", "-sS", "--max-time", "20",
                              f"http://{UNKNOWN}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"], DANTED_H)
        elapsed = time.monotonic() - start
        self.assertFailedCleanly(proc)
        self.assertLess(elapsed, PROMPT_S, f"failing took {elapsed:.1f} s{describe(proc)}")
        errors = launcher.error_lines(proc.stderr)
        self.assertEqual(len(errors), 1, f"want exactly one error line{describe(proc)}")
        self.assertIn(UNKNOWN.encode(), errors[0], f"the error line does not name the host{describe(proc)}")
        self.assertIn(f"{netns.PROXY4}:{DANTED_PORT}".encode(), errors[0],
                      f"the error line does not name the proxy{describe(proc)}")
        self.assertEqual(self.http.records("http"), [])
        self.assertEqual(self.danted.sessions(since), [])
        self.assertNoDnsLeak()

    # -- the way back: fake address to name -------------------------------------------
    def test_fake_addresses_map_back_to_the_name(self):
        proc = self.socksify(self.python_client("reverse_lookup.py", NAME), DANTED_H)
        self.assertSucceeded(proc, "reverse_lookup.py")
        result = self.json_output(proc)
        self.assertIn(ipaddress.ip_address(result["v4"]), FAKE_V4, describe(proc))
        self.assertIn(ipaddress.ip_address(result["v6"]), FAKE_V6, describe(proc))
        for key in ("v4_gethostbyaddr", "v4_getnameinfo", "v6_gethostbyaddr", "v6_getnameinfo"):
            self.assertEqual(result.get(key), NAME, f"{key}{describe(proc)}")
        self.assertNoDnsLeak()

    # -- socks5:// without h: local resolution ------------------------------------------
    def test_socks5_without_h_resolves_locally_and_sends_atyp_1(self):
        server = self.start_test_server()
        proc = self.socksify(["curl", "-sS", "--fail", "--max-time", "20",
                              f"http://{LOCAL_NAME}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"], server.url("socks5"))
        self.assertSucceeded(proc, "curl by a locally known name with socks5://")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.request, bytes([5, CMD_CONNECT, 0, ATYP_IPV4]) +
                         ipaddress.IPv4Address(netns.TARGET4).packed + servers.HTTP_PORT.to_bytes(2, "big"),
                         f"request bytes {rec.request.hex()}{describe(proc)}")
        self.assertEqual(rec.outcome, "relayed")
        (http_rec,) = self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertEqual(http_rec["host"], f"{LOCAL_NAME}:{servers.HTTP_PORT}")
        self.assertNoDnsLeak()  # /etc/hosts answered; nothing went to the network either


if __name__ == "__main__":
    unittest.main()
