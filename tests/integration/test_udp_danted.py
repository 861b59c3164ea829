"""UDP through danted's UDP ASSOCIATE relay (RFC 1928 §7), with the target
reachable only through the proxy: dig against a DNS responder, python
sendto/recvfrom and connected UDP, IPv6, payload sizes up to the largest the
relay carries, 8 threads on one socket, and datagrams injected from addresses
other than the relay's, which must never be delivered."""

import errno
import json
import os
import socket
import unittest

from harness import netns, servers
from harness.testcase import (DANTED6_URL, DANTED_URL, DEAD_PORT, PYTHON, IntegrationTest,
                              describe)

HERE = os.path.dirname(os.path.abspath(__file__))
DNS_RESPONDER = os.path.join(HERE, "harness", "dns_responder.py")
UDP_ECHO = servers.ECHO_PORT
DNS_PORT = 53
DNS_ANSWER = "10.9.8.7"
# Found by `udp_client.py maxsize` (test_largest_payload_the_relay_carries):
# danted relays whole IPv4 datagrams, so the limit is the kernel's 65507-byte
# UDP payload minus our 10-byte header.
LARGEST_IPV4_PAYLOAD = 65507 - 10


class UdpThroughDanted(IntegrationTest):
    start = ("danted",)

    @classmethod
    def start_extra(cls) -> None:
        cls.udp_echo = servers.start_udp_echo(cls.topo, cls.workdir, port=UDP_ECHO)
        cls.dns_log = os.path.join(cls.workdir, "dns-responder.log")
        cls.dns = cls.topo.spawn(cls.topo.target, [PYTHON, DNS_RESPONDER, "--port", str(DNS_PORT),
                                                   "--log", cls.dns_log, "--answer", DNS_ANSWER],
                                 log_path=cls.dns_log + ".out")
        servers.wait_listening(cls.dns, DNS_PORT, "udp", what="DNS responder")

    def setUp(self) -> None:
        super().setUp()
        self.udp_echo.clear()

    # -- helpers -----------------------------------------------------------------
    def udp_client(self, *args, proxy: str = DANTED_URL, timeout: float = 60) -> dict:
        proc = self.socksify(self.python_client("udp_client.py", *args), proxy, timeout=timeout)
        self.assertSucceeded(proc, "udp client")
        result = self.json_output(proc)
        self.assertTrue(result["ok"], describe(proc))
        self.assertNotIn(b"socksify[", proc.stderr, describe(proc))  # no warnings, no errors
        return result

    def dns_queries(self) -> list[dict]:
        with open(self.dns_log) as fh:
            return [r for r in map(json.loads, fh) if r["event"] == "query"]

    def assertUdpEchoFromProxy(self, count: int) -> list[dict]:
        """The UDP echo target saw `count` datagrams, every one from the proxy's
        target-side address: only the relay can reach the target."""
        recs = self.udp_echo.wait_records("udp", count)
        self.assertGreaterEqual(len(recs), count, f"echo logged {recs}")
        for rec in recs:
            self.assertIn(rec["peer"], (netns.PROXY_OUT4, netns.PROXY_OUT6), rec)
        return recs

    def assertDantedRelayedUdp(self, since: int) -> None:
        log = self.danted.log()[since:]
        self.assertIn("udpassociate", log, f"danted logged no UDP association\n{log[-3000:]}")

    # -- tests ---------------------------------------------------------------------
    def test_dig_gets_its_answer_from_a_dns_server_behind_the_proxy(self):
        since = self.danted.log_size()
        before = len(self.dns_queries())
        proc = self.socksify(["dig", f"@{netns.TARGET4}", "-p", str(DNS_PORT), "target.test", "A",
                              "+short", "+tries=1", "+timeout=5"], DANTED_URL)
        self.assertSucceeded(proc, "dig")
        self.assertEqual(proc.stdout.decode().split(), [DNS_ANSWER], describe(proc))
        queries = self.dns_queries()[before:]
        self.assertEqual([(q["name"], q["peer"]) for q in queries],
                         [("target.test", netns.PROXY_OUT4)], queries)
        self.assertDantedRelayedUdp(since)

    def test_dig_over_ipv6_through_an_ipv6_proxy(self):
        before = len(self.dns_queries())
        proc = self.socksify(["dig", f"@{netns.TARGET6}", "-p", str(DNS_PORT), "v6.target.test",
                              "A", "+short", "+tries=1", "+timeout=5"], DANTED6_URL)
        self.assertSucceeded(proc, "dig over IPv6")
        self.assertEqual(proc.stdout.decode().split(), [DNS_ANSWER], describe(proc))
        queries = self.dns_queries()[before:]
        self.assertEqual([(q["name"], q["peer"]) for q in queries],
                         [("v6.target.test", netns.PROXY_OUT6)], queries)

    def test_dig_over_ipv6_through_an_ipv4_proxy_address(self):
        # dig's IPv6 sockets are IPV6_V6ONLY, so no v4-mapped path to an IPv4
        # relay: socksify asks for an IPv6 relay ("::" in UDP ASSOCIATE) and
        # danted, which also listens on IPv6, gives one.
        before = len(self.dns_queries())
        proc = self.socksify(["dig", f"@{netns.TARGET6}", "-p", str(DNS_PORT), "v6.target.test",
                              "A", "+short", "+tries=1", "+timeout=5"], DANTED_URL)
        self.assertSucceeded(proc, "dig over IPv6")
        self.assertEqual(proc.stdout.decode().split(), [DNS_ANSWER], describe(proc))
        queries = self.dns_queries()[before:]
        self.assertEqual([(q["name"], q["peer"]) for q in queries],
                         [("v6.target.test", netns.PROXY_OUT6)], queries)

    def test_sendto_recvfrom_echo_reports_the_target_as_source(self):
        since = self.danted.log_size()
        r = self.udp_client("echo", netns.TARGET4, UDP_ECHO, 1, 5, 100, 1400)
        for res in r["results"]:
            self.assertEqual(res["from"], [netns.TARGET4, UDP_ECHO], res)
            self.assertEqual(res["sent"], res["size"], res)  # payload length, not + header
        self.assertUdpEchoFromProxy(4)
        self.assertDantedRelayedUdp(since)

    def test_connected_udp_sends_and_receives_and_shows_the_target_as_peer(self):
        r = self.udp_client("connected", netns.TARGET4, UDP_ECHO)
        self.assertEqual(r["peer"], [netns.TARGET4, UDP_ECHO])
        self.assertEqual((r["first"], r["second"], r["third"], r["fourth"]),
                         ("connected-send", "connected-write", "connected-recvfrom", "again"))
        self.assertEqual(r["third_from"], [netns.TARGET4, UDP_ECHO])
        self.assertUdpEchoFromProxy(4)

    def test_ipv6_echo_through_an_ipv4_proxy(self):
        # The relay is IPv4 (v4-mapped on this AF_INET6 socket), the target
        # IPv6: every reply header is 22 bytes where 10 were first expected.
        r = self.udp_client("echo", netns.TARGET6, UDP_ECHO, 1, 22, 23, 3000)
        for res in r["results"]:
            self.assertEqual(res["from"][:2], [netns.TARGET6, UDP_ECHO], res)
        (rec, *_) = self.assertUdpEchoFromProxy(4)
        self.assertEqual(rec["peer"], netns.PROXY_OUT6)

    def test_ipv6_echo_through_an_ipv6_proxy(self):
        r = self.udp_client("echo", netns.TARGET6, UDP_ECHO, 1, 1000, proxy=DANTED6_URL)
        for res in r["results"]:
            self.assertEqual(res["from"][:2], [netns.TARGET6, UDP_ECHO], res)
        self.assertUdpEchoFromProxy(2)

    def test_ipv4_socket_through_an_ipv6_proxy(self):
        # The control connection goes over IPv6; danted relays this IPv4
        # socket's datagrams on an IPv4 relay address.
        r = self.udp_client("echo", netns.TARGET4, UDP_ECHO, 1, 1000, proxy=DANTED6_URL)
        for res in r["results"]:
            self.assertEqual(res["from"], [netns.TARGET4, UDP_ECHO], res)
        self.assertUdpEchoFromProxy(2)

    def test_largest_payload_the_relay_carries(self):
        r = self.udp_client("maxsize", netns.TARGET4, UDP_ECHO, 1000, 65507)
        self.assertEqual(r["largest"], LARGEST_IPV4_PAYLOAD, r)
        # One byte more than the kernel can carry with our header: the kernel's error.
        self.assertEqual(r["too_big_errno"], errno.EMSGSIZE, r)

    def test_payload_sizes_from_one_byte_to_the_largest_echo_exactly(self):
        sizes = [1, 2, 9, 10, 11, 21, 22, 23, 255, 256, 508, 1024, 1400, 1472, 1473, 1500,
                 4096, 8192, 16384, 32768, 65000, LARGEST_IPV4_PAYLOAD - 1, LARGEST_IPV4_PAYLOAD]
        r = self.udp_client("echo", netns.TARGET4, UDP_ECHO, *sizes)
        self.assertEqual([res["received"] for res in r["results"]], sizes)
        recs = self.assertUdpEchoFromProxy(len(sizes))
        self.assertEqual(sorted(rec["bytes"] for rec in recs[-len(sizes):]), sorted(sizes))

    def test_eight_threads_share_one_socket(self):
        r = self.udp_client("threads", netns.TARGET4, UDP_ECHO, 8, 200, timeout=90)
        self.assertEqual((r["sent"], r["received"]), (1600, 1600), r)

    def test_recv_flags_and_buffer_shapes_behave_like_the_kernel(self):
        r = self.udp_client("semantics", netns.TARGET4, UDP_ECHO)
        self.assertEqual(r["dontwait_errno"], errno.EAGAIN)
        self.assertEqual(r["peek"], ["peek-me", "peek-me", True])
        self.assertEqual(r["short"], ["0123", True])
        self.assertEqual(r["trunc_flag"], [16, "0123"])
        self.assertEqual(r["scatter"], [8, "abcdefgh", False])
        self.assertEqual(r["empty"], 0)

    def test_datagrams_from_other_addresses_are_not_delivered(self):
        argv = self.launcher_argv(self.python_client("udp_client.py", "inject", netns.TARGET4,
                                                      UDP_ECHO), DANTED_URL)
        proc = self.topo.popen(self.topo.client, argv, env=self.launcher_env())
        try:
            line = proc.stdout.readline()
            self.assertTrue(line, proc.stderr.read() if proc.poll() is not None else "no output")
            port = json.loads(line)["port"]
            # A SOCKS header naming the target, so that only the source address
            # tells it from a real reply.
            forged = (bytes([0, 0, 0, 1]) + socket.inet_aton(netns.TARGET4) +
                      UDP_ECHO.to_bytes(2, "big") + b"forged")
            # From the proxy's own address (the relay's host, another port) ...
            for sock, dst in ((self.topo.socket(self.topo.proxy, socket.AF_INET, socket.SOCK_DGRAM),
                               (netns.CLIENT4, port)),
                              # ... and from inside the client namespace, over loopback.
                              (self.topo.socket(self.topo.client, socket.AF_INET, socket.SOCK_DGRAM),
                               ("127.0.0.1", port))):
                with sock:
                    sock.sendto(forged, dst)
                    sock.sendto(b"plain", dst)
            proc.stdin.write(b"go\n")
            proc.stdin.flush()
            out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(proc.returncode, 0, err.decode(errors="replace"))
        r = json.loads(out.decode().splitlines()[-1])
        self.assertEqual((r["first"], r["second"], r["extra"]), ("first", "second", []), r)
        self.assertEqual(r["second_from"], [netns.TARGET4, UDP_ECHO])
        self.assertIn(b"not the proxy's relay", err)  # said once, rate-limited

    def test_a_udp_socket_inherited_across_exec_goes_through_the_proxy(self):
        # The parent (no socksify) makes the socket and execs the launcher; the
        # library adopts it at start-up. Without that its datagrams would go out
        # directly (and find no route to the target).
        from harness import launcher
        child = launcher.command(self.python_client("udp_client.py", "child", netns.TARGET4,
                                                    UDP_ECHO), DANTED_URL)
        proc = self.run_direct(self.python_client("udp_client.py", "parent", *child))
        self.assertSucceeded(proc, "inherited socket")
        r = self.json_output(proc)
        self.assertEqual((r["errno"], r["reply"]), (0, "inherited"), describe(proc))
        self.assertEqual(r["reply_from"], [netns.TARGET4, UDP_ECHO])
        self.assertUdpEchoFromProxy(1)

    def test_remote_dns_refuses_dns_that_would_bypass_the_proxy(self):
        # With socks5h, a query to a local resolver would leak the name.
        proc = self.socksify(self.python_client("udp_client.py", "send", "127.0.0.1", DNS_PORT),
                             f"socks5h://{netns.PROXY4}:1080")
        self.assertSucceeded(proc, "udp client")
        self.assertEqual(self.json_output(proc)["errno"], errno.EACCES, describe(proc))
        self.assertIn(b"DNS would bypass the proxy", proc.stderr)

    def test_dead_proxy_fails_closed_even_for_a_directly_reachable_destination(self):
        # A UDP echo the client could reach directly (in the proxy namespace, on
        # its client-side address): with the proxy down, nothing may go there.
        log_path = os.path.join(self.workdir, "proxy-side-udpecho.log")
        proc_echo = self.topo.spawn(self.topo.proxy, [PYTHON, servers.TARGETS_SCRIPT, "udpecho",
                                                      "--port", "7009", "--log", log_path],
                                    log_path=log_path + ".out")
        echo = servers.TargetServer(proc_echo, log_path, 7009)
        try:
            servers.wait_listening(proc_echo, 7009, "udp", what="proxy-side UDP echo")
            proc = self.socksify(self.python_client("udp_client.py", "send", netns.PROXY4, 7009),
                                 f"socks5://{netns.PROXY4}:{DEAD_PORT}")
            self.assertSucceeded(proc, "udp client")
            self.assertEqual(self.json_output(proc)["errno"], errno.ECONNREFUSED, describe(proc))
            self.assertEqual(len([ln for ln in proc.stderr.splitlines() if b": error: " in ln]), 1,
                             describe(proc))
            self.assertEqual(echo.records("udp"), [], "a datagram went around the proxy")
            # Control: without socksify the client does reach it.
            direct = self.run_direct(self.python_client("udp_client.py", "send", netns.PROXY4, 7009))
            self.assertEqual(self.json_output(direct)["reply"], "probe", describe(direct))
        finally:
            proc_echo.stop()

    # -- launcher plumbing for popen ---------------------------------------------
    def launcher_argv(self, program, proxy):
        from harness import launcher
        return launcher.command(program, proxy)

    def launcher_env(self):
        from harness import launcher
        return launcher.clean_env()


if __name__ == "__main__":
    unittest.main()
