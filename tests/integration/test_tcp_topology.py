"""The harness proves itself without socksify: the target is unreachable from the
client except through a proxy, and each proxy works with curl's own SOCKS5 client.

If these fail, every other integration failure is suspect; if they pass, a
failure elsewhere is about socksify."""

import errno
import socket
import unittest

from harness import netns, servers
from harness.capture import CapturesLink
from harness.socks_test_server import ATYP_IPV4, ATYP_NAME, CMD_CONNECT, Mode
from harness.testcase import (DANTED6_URL, DANTED_URL, HTTP4, HTTP6, MICROSOCKS_URL, IntegrationTest,
                              sha256)


class TopologyWithoutSocksify(IntegrationTest):
    uses_launcher = False
    start = ("danted", "microsocks")

    def test_direct_connect_from_client_to_target_fails(self):
        for host in (netns.TARGET4, netns.TARGET6):
            for port in (servers.HTTP_PORT, servers.ECHO_PORT):
                with self.subTest(host=host, port=port):
                    code = self.topo.direct_connect_errno(self.topo.client, host, port)
                    self.assertEqual(errno.errorcode.get(code, code), "ENETUNREACH")

    def test_direct_curl_from_client_to_target_fails(self):
        proc = self.run_direct(["curl", "-sS", "--max-time", "5", f"{HTTP4}/{servers.SMALL_FILE}"])
        self.assertEqual(proc.returncode, 7, proc.stderr)  # couldn't connect
        self.assertEqual(self.http.records("http"), [])

    def test_proxy_namespace_does_not_forward(self):
        for key in ("net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"):
            proc = self.run_direct(["sysctl", "-n", key], ns=self.topo.proxy)
            self.assertEqual(proc.stdout.strip(), b"0", key)

    def test_proxy_reaches_target_directly(self):
        self.assertEqual(self.topo.direct_connect_errno(self.topo.proxy, netns.TARGET4, servers.HTTP_PORT), 0)
        self.assertEqual(self.topo.direct_connect_errno(self.topo.proxy, netns.TARGET6, servers.HTTP_PORT), 0)

    def test_udp_echo_target_answers_the_proxy_namespace(self):
        # For the UDP tests: the UDP echo server starts, answers, and logs the peer.
        udp = servers.start_udp_echo(self.topo, self.workdir)
        for host, family in ((netns.TARGET4, socket.AF_INET), (netns.TARGET6, socket.AF_INET6)):
            with self.subTest(host=host):
                sock = self.topo.socket(self.topo.proxy, family, socket.SOCK_DGRAM)
                sock.settimeout(3)
                try:
                    sock.sendto(b"ping-" + host.encode(), (host, servers.ECHO_PORT))
                    data, _ = sock.recvfrom(100)
                finally:
                    sock.close()
                self.assertEqual(data, b"ping-" + host.encode())
        peers = {r["peer"] for r in udp.wait_records("udp", 2)}
        self.assertEqual(peers, {netns.PROXY_OUT4, netns.PROXY_OUT6})

    def curl_via(self, proxy_url: str, url: str) -> bytes:
        proc = self.run_direct(["curl", "-sS", "--max-time", "20", "-x", proxy_url, url])
        self.assertSucceeded(proc, "curl with its own SOCKS client")
        return proc.stdout

    def test_curl_socks5_through_danted_ipv4_and_ipv6(self):
        since = self.danted.log_size()
        for proxy in (DANTED_URL, DANTED6_URL, DANTED_URL.replace("socks5:", "socks5h:")):
            with self.subTest(proxy=proxy):
                body = self.curl_via(proxy, f"{HTTP4}/{servers.LARGE_FILE}")
                self.assertEqual(sha256(body), self.content.sha256(servers.LARGE_FILE))
        self.assertHttpServed(f"/{servers.LARGE_FILE}", count=3)
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", count=3, since=since,
                                 min_to_client=servers.LARGE_SIZE)

    def test_curl_socks5_to_ipv6_target_through_danted(self):
        body = self.curl_via(DANTED_URL, f"{HTTP6}/{servers.SMALL_FILE}")
        self.assertEqual(body, servers.SMALL_BODY)
        (rec,) = self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertEqual(rec["peer"], netns.PROXY_OUT6)

    def test_curl_socks5_through_microsocks(self):
        body = self.curl_via(MICROSOCKS_URL, f"{HTTP4}/{servers.LARGE_FILE}")
        self.assertEqual(sha256(body), self.content.sha256(servers.LARGE_FILE))
        self.assertHttpServed(f"/{servers.LARGE_FILE}")
        self.assertIn(f"connected to {netns.TARGET4}:{servers.HTTP_PORT}", self.microsocks.log())

    def test_test_server_records_exact_request_and_relays(self):
        server = self.start_test_server()
        body = self.curl_via(server.url(), f"{HTTP4}/{servers.SMALL_FILE}")
        self.assertEqual(body, servers.SMALL_BODY)
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.outcome, "relayed")
        self.assertEqual(rec.request, bytes([5, CMD_CONNECT, 0, ATYP_IPV4, 10, 200, 1, 2]) +
                         servers.HTTP_PORT.to_bytes(2, "big"))
        self.assertGreater(rec.relayed_down, len(servers.SMALL_BODY))
        self.assertHttpServed(f"/{servers.SMALL_FILE}")

    def test_test_server_sees_hostname_with_socks5h(self):
        server = self.start_test_server(hosts={"target.socksify.test": netns.TARGET4})
        body = self.curl_via(server.url("socks5h"), f"http://target.socksify.test:{servers.HTTP_PORT}/"
                                                    f"{servers.SMALL_FILE}")
        self.assertEqual(body, servers.SMALL_BODY)
        (rec,) = server.wait_records(1)
        self.assertEqual((rec.atyp, rec.address, rec.port), (ATYP_NAME, "target.socksify.test", servers.HTTP_PORT))

    def test_test_server_fault_modes_fail_curl(self):
        cases = {
            Mode.REFUSE: 97, Mode.CLOSE_ON_ACCEPT: 97, Mode.CLOSE_AFTER_GREETING: 97,
            Mode.CLOSE_MID_REPLY: 97, Mode.GARBAGE_GREETING: 97, Mode.GARBAGE_REPLY: 97,
        }
        for mode, want in cases.items():
            with self.subTest(mode=mode):
                server = self.start_test_server(mode, port=0)
                proc = self.run_direct(["curl", "-sS", "--max-time", "5", "-x", server.url(),
                                        f"{HTTP4}/{servers.SMALL_FILE}"])
                self.assertEqual(proc.returncode, want, proc.stderr)
                server.stop()
        self.assertEqual(self.http.records("http"), [])

    def test_test_server_slow_reply_still_works(self):
        server = self.start_test_server(Mode.SLOW_REPLY, delay=0.01)
        body = self.curl_via(server.url(), f"{HTTP4}/{servers.SMALL_FILE}")
        self.assertEqual(body, servers.SMALL_BODY)

    def test_test_server_requires_password(self):
        server = self.start_test_server(auth=("alice", "s3cret"))
        body = self.curl_via(server.url(userinfo="alice:s3cret"), f"{HTTP4}/{servers.SMALL_FILE}")
        self.assertEqual(body, servers.SMALL_BODY)
        (rec,) = server.wait_records(1)
        self.assertEqual((rec.username, rec.password), (b"alice", b"s3cret"))
        self.assertEqual(rec.auth, b"\x01\x05alice\x06s3cret")


class LinkCaptureSeesDirectPackets(CapturesLink, IntegrationTest):
    """The capture that other modules use to prove nothing went around the proxy:
    it records a direct packet (the client now has a default route toward the
    non-forwarding proxy namespace), and records nothing direct when curl's own
    SOCKS client uses danted."""

    uses_launcher = False

    def test_a_direct_connect_is_captured(self):
        code = self.topo.direct_connect_errno(self.topo.client, netns.TARGET4, servers.HTTP_PORT, timeout=0.5)
        self.assertEqual(errno.errorcode.get(code, code), "ETIMEDOUT")  # dropped by the proxy's kernel
        direct = [str(p) for p in self.capture.direct()]
        self.assertIn(f"tcp {netns.CLIENT4} -> {netns.TARGET4}:{servers.HTTP_PORT}", direct)

    def test_a_direct_udp_datagram_is_captured(self):
        sock = self.topo.socket(self.topo.client, socket.AF_INET6, socket.SOCK_DGRAM)
        sock.sendto(b"x", (netns.TARGET6, 53))
        sock.close()
        self.assertIn(f"udp {netns.CLIENT6} -> {netns.TARGET6}:53", [str(p) for p in self.capture.direct()])

    def test_curl_through_danted_sends_nothing_direct(self):
        proc = self.run_direct(["curl", "-sS", "--max-time", "5", "--socks5", f"{netns.PROXY4}:1080",
                                f"{HTTP4}/{servers.SMALL_FILE}"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNoDirectPackets("curl --socks5")
        self.assertTrue(self.capture.packets, "the capture saw not even the packets to the proxy")


if __name__ == "__main__":
    unittest.main()
