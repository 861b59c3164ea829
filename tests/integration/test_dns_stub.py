"""socks5h and the DNS queries programs send themselves (issue 10 item 2):
dig, host, nslookup, aria2c (c-ares), node's dns.resolve4 (c-ares) and a Python
client send their own queries to the resolv.conf nameservers; socksify answers
them with remote-DNS fake addresses, nothing reaches a resolver (the sentinel on
127.0.0.1:53 counts 0 queries, no packet leaves for the second nameserver), and
connecting to an answer reaches the target by name through danted. A query to
a server named explicitly (dig @TARGET) still goes through UDP ASSOCIATE; other
types get NODATA, or with dns_upstream the upstream's answer, over TCP through
the proxy."""

import ipaddress
import json
import os
import subprocess
import unittest

from harness import netns, servers
from harness.capture import CapturesLink
from harness.dns_sentinel import WatchesDns
from harness.testcase import CLIENTS, DANTED_PORT, PYTHON, IntegrationTest, describe

HERE = os.path.dirname(os.path.abspath(__file__))
DNS_RESPONDER = os.path.join(HERE, "harness", "dns_responder.py")
NAME = "target.test"  # known to the proxy's /etc/hosts only
DANTED_H = f"socks5h://{netns.PROXY4}:{DANTED_PORT}"
DANTED_LOCAL = f"socks5://{netns.PROXY4}:{DANTED_PORT}"
SECOND_NS = "10.200.0.77"  # a second nameserver nobody runs: a packet to it is a leak
THIRD_NS6 = "fd00:200::77"  # and an IPv6 one (dig's IPv6 sockets are IPV6_V6ONLY)
DNS_ANSWER = "10.9.8.7"  # what the responder behind the proxy says for every A query
TXT = "upstream-says-hello"
MX_HOST = "mail.target.test"
NO_DATA = 4  # netdb.h h_errno
FAKE_V4 = ipaddress.ip_network("240.0.0.0/4")
NODE_RESOLVE = ("const dns = require('dns'); const http = require('http');"
                "dns.resolve4(process.argv[1], (err, addrs) => {"
                " if (err) { console.log(JSON.stringify({error: err.code})); process.exit(1); }"
                " http.get({host: addrs[0], port: %d, path: '/%s',"
                "           headers: {Host: process.argv[1] + ':%d'}}, (res) => {"
                "  let body = ''; res.on('data', (c) => body += c);"
                "  res.on('end', () => console.log(JSON.stringify({addrs, body})));"
                " }).on('error', (e) => { console.log(JSON.stringify({error: e.code})); process.exit(1); });"
                "});") % (servers.HTTP_PORT, servers.SMALL_FILE, servers.HTTP_PORT)


class DnsStubSetup(CapturesLink, WatchesDns, IntegrationTest):
    """The topology and helpers; the tests are in DnsStub (and in
    test_dns_stub_programs, kept out of the ASan subset: aria2c and curl hang at
    start-up with libasan preloaded alone, see tests/run-all.sh)."""
    start = ()

    @classmethod
    def start_extra(cls):
        cls.start_danted_resolving({NAME: netns.TARGET4})
        # Two system resolvers: the sentinel's address and one nobody runs.
        cls.topo.set_resolv_conf(cls.topo.client, f"nameserver 127.0.0.1\nnameserver {SECOND_NS}\n"
                                                  f"nameserver {THIRD_NS6}\n"
                                                  "options timeout:1 attempts:1\n")
        cls.dns_log = os.path.join(cls.workdir, "dns-responder.log")
        cls.dns = cls.topo.spawn(cls.topo.target, [PYTHON, DNS_RESPONDER, "--port", "53", "--tcp",
                                                   "--log", cls.dns_log, "--answer", DNS_ANSWER,
                                                   "--txt", TXT, "--mx", MX_HOST],
                                 log_path=cls.dns_log + ".out")
        servers.wait_listening(cls.dns, 53, "udp", what="DNS responder")
        super().start_extra()

    def setUp(self):
        super().setUp()
        self.dns_seen = len(self.all_responder_queries())

    def all_responder_queries(self) -> list[dict]:
        with open(self.dns_log) as fh:
            return [r for r in map(json.loads, fh) if r["event"] == "query"]

    def responder_queries(self) -> list[dict]:
        """The queries the server behind the proxy saw during this test."""
        return self.all_responder_queries()[self.dns_seen:]

    def assertNothingLeft(self):
        self.assertNoDnsLeak()
        self.assertNoDirectPackets()
        self.assertEqual(self.responder_queries(), [], "a query reached the server behind the proxy")

    def assertFake(self, text: str, proc) -> None:
        self.assertIn(ipaddress.ip_address(text), FAKE_V4,
                      proc if isinstance(proc, dict) else describe(proc))

    def dig(self, *args: str, env=None):
        proc = self.socksify(["dig", "+time=2", "+tries=1", *args], DANTED_H, env=env)
        self.assertSucceeded(proc, "dig")
        return proc



class DnsStub(DnsStubSetup):
    # -- programs with their own resolver -------------------------------------------
    def test_dig_without_server_gets_a_fake_address(self):
        proc = self.dig("+short", NAME)
        self.assertFake(proc.stdout.decode().strip(), proc)
        self.assertNothingLeft()

    def test_dig_over_tcp_gets_a_fake_address(self):
        proc = self.dig("+tcp", "+short", NAME)
        self.assertFake(proc.stdout.decode().strip(), proc)
        self.assertNothingLeft()

    def test_dig_reports_the_system_resolver_as_server(self):
        proc = self.dig(NAME)
        out = proc.stdout.decode()
        self.assertIn("status: NOERROR", out)
        self.assertIn("SERVER: 127.0.0.1#53(127.0.0.1)", out, describe(proc))
        self.assertNothingLeft()

    def test_dig_at_each_system_resolver_is_answered_over_udp_and_tcp(self):
        for server in (SECOND_NS, THIRD_NS6, "127.0.0.53"):
            for transport in ("+notcp", "+tcp"):
                proc = self.dig(f"@{server}", transport, NAME)
                out = proc.stdout.decode()
                self.assertIn("status: NOERROR", out, describe(proc))
                self.assertIn(f"SERVER: {server}#53", out, describe(proc))
                self.assertRegex(out, r"IN\s+A\s+24\d\.", describe(proc))
            proc = self.dig(f"@{server}", "+short", "AAAA", NAME)
            self.assertIn(ipaddress.ip_address(proc.stdout.decode().strip()),
                          ipaddress.ip_network("100::/64"), describe(proc))
        self.assertNothingLeft()

    def test_host_and_nslookup_get_fake_addresses(self):
        for argv in (["host", "-W", "2", NAME], ["nslookup", "-timeout=2", NAME]):
            proc = self.socksify(argv, DANTED_H)
            self.assertSucceeded(proc, argv[0])
            out = proc.stdout.decode()
            self.assertRegex(out, r"24\d\.\d+\.\d+\.\d+", describe(proc))
            self.assertNotIn("timed out", out)
        self.assertNothingLeft()

    def test_node_dns_resolve4_answer_reaches_the_target_by_name(self):
        since = self.danted.log_size()
        proc = self.socksify(["/usr/bin/node", "-e", NODE_RESOLVE, NAME], DANTED_H)
        self.assertSucceeded(proc, "node dns.resolve4")
        r = self.json_output(proc)
        self.assertFake(r["addrs"][0], proc)
        self.assertEqual(r["body"].encode(), servers.SMALL_BODY)
        self.assertServedByName(NAME, since)
        self.assertNothingLeft()

    # -- the socket calls, one by one -----------------------------------------------
    def query(self, *args: str, env=None) -> dict:
        proc = self.socksify([PYTHON, os.path.join(CLIENTS, "dns_query.py"), *args], DANTED_H,
                             env=env)
        self.assertSucceeded(proc, "dns_query.py")
        self.assertNotIn(b"socksify[", proc.stderr, describe(proc))
        return self.json_output(proc)

    def test_unconnected_udp_answer_comes_from_the_resolver_and_reaches_the_target(self):
        for server in ("127.0.0.1", SECOND_NS, "127.0.0.53"):
            since = self.danted.log_size()
            r = self.query("udp", server, NAME, str(servers.HTTP_PORT))
            self.assertEqual((r["id"], r["qr"], r["rcode"], r["source"]), (0x1234, True, 0, [server, 53]))
            self.assertEqual(r["body"].encode(), servers.SMALL_BODY)
            self.assertServedByName(NAME, since)
            self.http.clear()
        self.assertNothingLeft()

    def test_connected_nonblocking_udp_is_readable_and_names_the_resolver(self):
        since = self.danted.log_size()
        r = self.query("connected", SECOND_NS, NAME, str(servers.HTTP_PORT))
        self.assertEqual(r["peer"], [SECOND_NS, 53])
        self.assertTrue(r["readable"])
        self.assertEqual((r["id"], r["source"]), (0x4321, [SECOND_NS, 53]))
        self.assertEqual(r["body"].encode(), servers.SMALL_BODY)
        self.assertServedByName(NAME, since)
        self.assertNothingLeft()

    def test_sendmsg_sendmmsg_and_write_queries_are_answered(self):
        since = self.danted.log_size()
        r = self.query("calls", SECOND_NS, NAME, str(servers.HTTP_PORT))
        self.assertEqual((r["sendmsg"]["id"], r["sendmsg"]["source"]), (0x6001, [SECOND_NS, 53]))
        self.assertFake(r["sendmsg"]["answers"][0]["data"], r)
        self.assertEqual((r["mmsg"]["sent"], r["mmsg"]["received"]), (2, 2), r)
        self.assertEqual([(a["id"], a["source"]) for a in r["mmsg"]["answers"]],
                         [(0x7000, [SECOND_NS, 53]), (0x7001, [SECOND_NS, 53])])
        self.assertEqual(r["write"]["id"], 0x6002)
        self.assertFake(r["write"]["answers"][0]["data"], r)
        self.assertEqual(r["body"].encode(), servers.SMALL_BODY)
        self.assertServedByName(NAME, since)
        self.assertNothingLeft()

    def test_tcp_query_in_two_writes_is_answered_and_names_the_resolver(self):
        since = self.danted.log_size()
        r = self.query("tcp", SECOND_NS, NAME, str(servers.HTTP_PORT))
        self.assertEqual((r["peer"], r["id"], r["rcode"]), ([SECOND_NS, 53], 0x5555, 0))
        self.assertEqual(r["body"].encode(), servers.SMALL_BODY)
        self.assertServedByName(NAME, since)
        self.assertNothingLeft()

    # -- other types, and servers the user named -----------------------------------
    def test_other_types_get_nodata_without_an_upstream(self):
        for qtype in (15, 16, 33):  # MX, TXT, SRV
            r = self.query("type", "127.0.0.1", NAME, str(qtype))
            self.assertEqual((r["rcode"], r["answers"]), (0, []), qtype)
        proc = self.dig("MX", NAME)
        self.assertIn("status: NOERROR", proc.stdout.decode())
        self.assertIn("ANSWER: 0", proc.stdout.decode())
        self.assertNothingLeft()

    def test_other_types_go_to_the_upstream_over_tcp_through_the_proxy(self):
        env = {"SOCKSIFY_DNS_UPSTREAM": f"{netns.TARGET4}:53"}
        r = self.query("type", "127.0.0.1", NAME, "16", env=env)
        self.assertEqual((r["id"], r["rcode"]), (0x1234, 0))
        self.assertEqual([a["data"] for a in r["answers"]], [TXT])
        proc = self.dig("TXT", NAME, env=env)
        self.assertIn(f'"{TXT}"', proc.stdout.decode(), describe(proc))
        # A still comes from the table, never from the upstream.
        proc = self.dig("+short", NAME, env=env)
        self.assertFake(proc.stdout.decode().strip(), proc)
        seen = self.responder_queries()
        self.assertEqual([(q["transport"], q["type"], q["peer"]) for q in seen],
                         [("tcp", 16, netns.PROXY_OUT4)] * 2, seen)
        self.assertNoDnsLeak()
        self.assertNoDirectPackets()

    def test_res_query_of_other_types_asks_the_upstream_too(self):
        # glibc's res_query runs inside libc (shim/resolv.cpp answers it): the
        # same dns_upstream serves it, synchronously, over TCP through the proxy.
        client = os.path.join(self.workdir, "resolv_client")
        if not os.path.exists(client):
            subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread", "-o", client,
                            os.path.join(CLIENTS, "resolv_client.c"), "-lresolv"], check=True)
        argv = [client, "mx", NAME, str(servers.HTTP_PORT), servers.SMALL_FILE]
        results = {}
        for label, env in (("none", None), ("upstream", {"SOCKSIFY_DNS_UPSTREAM": f"{netns.TARGET4}:53"})):
            proc = self.socksify(argv, DANTED_H, env=env)
            self.assertSucceeded(proc, "resolv_client mx")
            results[label] = self.json_output(proc)
        self.assertEqual((results["none"]["rc"], results["none"]["h_errno"]), (-1, NO_DATA), results)
        self.assertGreater(results["upstream"]["rc"], 12, results)
        seen = self.responder_queries()
        self.assertEqual([(q["transport"], q["type"], q["peer"]) for q in seen],
                         [("tcp", 15, netns.PROXY_OUT4)], seen)
        self.assertNoDnsLeak()
        self.assertNoDirectPackets()

    def test_dig_at_an_explicit_server_goes_through_udp_associate(self):
        since = self.danted.log_size()
        proc = self.dig(f"@{netns.TARGET4}", "+short", NAME)
        self.assertEqual(proc.stdout.decode().strip(), DNS_ANSWER, describe(proc))
        seen = self.responder_queries()
        self.assertEqual([(q["transport"], q["peer"]) for q in seen], [("udp", netns.PROXY_OUT4)], seen)
        self.assertIn("udpassociate", self.danted.log()[since:])
        self.assertNoDnsLeak()
        self.assertNoDirectPackets()

    def test_localhost_is_loopback_and_a_direct_rule_name_asks_the_real_resolver(self):
        proc = self.dig("+short", "localhost")
        self.assertEqual(proc.stdout.decode().strip(), "127.0.0.1", describe(proc))
        proc = self.dig("+short", "AAAA", "localhost")
        self.assertEqual(proc.stdout.decode().strip(), "::1", describe(proc))
        self.assertNoDnsLeak()
        # A name the user sends direct is resolved where the program asks, as
        # getaddrinfo() of it would be: the query reaches the (trap) resolver.
        proc = self.socksify([PYTHON, os.path.join(CLIENTS, "dns_query.py"), "type", "127.0.0.1",
                              "intranet.corp.test", "1"], DANTED_H,
                             env={"SOCKSIFY_DIRECT": ".corp.test"}, timeout=30)
        self.assertNotEqual(proc.returncode, 0)  # the trap never answers: a timeout
        self.assertEqual(len(self.sentinel.names("intranet")), 1, describe(proc))
        self.assertEqual(self.sentinel.names("target"), [])
        self.assertNoDirectPackets()

    def test_local_dns_scheme_leaves_queries_alone(self):
        # socks5:// resolves locally, as before: the query goes to the sentinel.
        proc = self.socksify(["dig", "+time=1", "+tries=1", "+short", NAME], DANTED_LOCAL)
        self.assertTrue(self.sentinel.names("target"), describe(proc))
        self.assertNotIn(b"240.", proc.stdout)


if __name__ == "__main__":
    unittest.main()
