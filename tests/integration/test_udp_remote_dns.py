"""socks5h and UDP: a datagram to a remote-DNS fake address carries the name to
the proxy (RFC 1928 §7 header ATYP 3), danted resolves it in the proxy
namespace, and no DNS query leaves the client."""

import ipaddress
import unittest

from harness import netns, servers
from harness.testcase import DANTED_PORT, IntegrationTest, describe

NAME = "udp-target.socksify.test"
DANTED_H = f"socks5h://{netns.PROXY4}:{DANTED_PORT}"
UDP_ECHO = servers.ECHO_PORT


class UdpByNameThroughDanted(IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls):
        # No resolver the client could use (127.0.0.1 has none): only the proxy knows the name.
        cls.topo.set_resolv_conf(cls.topo.client, "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        cls.topo.set_hosts(cls.topo.client, "127.0.0.1 localhost\n::1 localhost\n")
        cls.topo.set_hosts(cls.topo.proxy, f"127.0.0.1 localhost\n{netns.TARGET4} {NAME}\n")
        cls.danted = servers.start_danted(cls.topo, cls.workdir, port=DANTED_PORT)  # reads the proxy's hosts
        cls.udp_echo = servers.start_udp_echo(cls.topo, cls.workdir, port=UDP_ECHO)

    def test_datagrams_to_a_fake_address_reach_the_named_target(self):
        proc = self.socksify(self.python_client("udp_client.py", "byname", NAME, UDP_ECHO), DANTED_H)
        self.assertSucceeded(proc, "udp client")
        r = self.json_output(proc)
        self.assertTrue(r["ok"], describe(proc))
        # The resolver hooks handed out a fake address (default range 240.0.0.0/4).
        self.assertIn(ipaddress.ip_address(r["address"]), ipaddress.ip_network("240.0.0.0/4"), r)
        self.assertEqual((r["first"], r["second"]), ("by-name-sendto", "by-name-connected"), r)
        # A connected socket keeps the program's view: the fake address.
        self.assertEqual(r["peer"], [r["address"], UDP_ECHO])
        self.assertEqual(r["second_from"], [r["address"], UDP_ECHO])
        # Unconnected, the relay reports where the reply really came from.
        self.assertEqual(r["first_from"], [netns.TARGET4, UDP_ECHO])
        recs = self.udp_echo.wait_records("udp", 2)
        self.assertEqual([rec["peer"] for rec in recs], [netns.PROXY_OUT4] * 2, recs)
        self.assertNotIn(b"socksify[", proc.stderr, describe(proc))


if __name__ == "__main__":
    unittest.main()
