"""UDP ASSOCIATE against a scripted relay (harness/udp_relay.py) in the proxy
namespace, for what a real proxy rarely does: announce its relay as 0.0.0.0,
send fragments or datagrams from a host name, close the control connection
(the next send re-associates),
offer only an IPv4 relay to an IPv6-only socket."""

import errno
import time
import unittest

from harness import netns
from harness.testcase import IntegrationTest, describe
from harness.udp_relay import Behaviour, UdpRelayServer

RELAY_PORT = 1095
TARGET = (netns.TARGET4, 7007)  # never reached: the scripted relay echoes itself
URL = f"socks5://{netns.PROXY4}:{RELAY_PORT}"


class UdpAgainstScriptedRelay(IntegrationTest):
    start = ()

    def relay(self, behaviour: Behaviour) -> UdpRelayServer:
        topo = self.topo
        server = UdpRelayServer(lambda fam, typ: topo.socket(topo.proxy, fam, typ), netns.PROXY4,
                                RELAY_PORT, behaviour)
        server.start()
        self.addCleanup(server.stop)
        return server

    def client(self, *args):
        proc = self.socksify(self.python_client("udp_client.py", *args), URL, timeout=30)
        self.assertSucceeded(proc, "udp client")
        result = self.json_output(proc)
        self.assertTrue(result["ok"], describe(proc))
        return proc, result

    def test_relay_announced_as_zero_address_is_reached_at_the_proxy_address(self):
        server = self.relay(Behaviour.ZERO_BND)
        proc, r = self.client("echo", *TARGET, 1, 300)
        self.assertEqual([x["same"] for x in r["results"]], [True, True], describe(proc))
        self.assertEqual(len(server.datagrams), 2)
        # The request named our port (RFC 1928 §7 DST), with a zero address.
        (req,) = server.requests
        self.assertEqual(req[:4], b"\x05\x03\x00\x01")
        self.assertEqual(req[4:8], b"\x00\x00\x00\x00")
        self.assertNotEqual(req[8:10], b"\x00\x00")

    def test_fragments_are_dropped_and_the_next_datagram_delivered(self):
        self.relay(Behaviour.FRAGMENT_FIRST)
        proc, r = self.client("echo", *TARGET, 5, 50)
        self.assertEqual([(x["same"], x["received"]) for x in r["results"]], [(True, 5), (True, 50)],
                         describe(proc))
        self.assertIn(b"dropping a fragmented UDP datagram", proc.stderr)

    def test_a_source_named_by_an_unknown_host_name_is_dropped(self):
        self.relay(Behaviour.NAME_SOURCE_FIRST)
        proc, r = self.client("echo", *TARGET, 7)
        self.assertEqual(r["results"][0]["from"], list(TARGET), describe(proc))
        self.assertIn(b"a host name with no address to show", proc.stderr)

    def test_a_send_after_the_proxy_closed_the_control_connection_reassociates(self):
        # Issue 14 item 11: the socket no longer fails for ever (ECONNRESET);
        # its next send opens a new association. This relay ends each one
        # after its first datagram, so each of the two later sends needs one.
        server = self.relay(Behaviour.CLOSE_AFTER_FIRST)
        proc, r = self.client("afterclose", *TARGET)
        self.assertEqual(r["before"], "before")
        self.assertEqual(r["errnos"], [0, 0], describe(proc))
        self.assertEqual(len(server.requests), 3, describe(proc))
        # The relay thread records a datagram when it reads it, which can be
        # after the client has exited (seen once under load): wait, bounded.
        deadline = time.monotonic() + 3
        while len(server.datagrams) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual([d[-5:] for _c, d in server.datagrams], [b"efore", b"after", b"after"])
        # One line for each association that ended, naming the destination.
        lines = [ln for ln in proc.stderr.splitlines() if b"ended the UDP association" in ln]
        self.assertEqual(len(lines), 2, describe(proc))
        self.assertIn(f"{netns.TARGET4}:7007".encode(), lines[0])
        renewed = [ln for ln in proc.stderr.splitlines() if b"a new UDP association replaces" in ln]
        self.assertEqual(len(renewed), 2, describe(proc))

    def test_ipv6_only_socket_with_an_ipv4_relay_fails_with_a_reason(self):
        self.relay(Behaviour.ECHO)  # offers an IPv4 relay whatever it is asked
        proc, r = self.client("v6only", netns.TARGET6, 7007)
        self.assertEqual(r["errno"], errno.EAFNOSUPPORT, describe(proc))
        self.assertIn(b"IPv6-only (IPV6_V6ONLY)", proc.stderr)


if __name__ == "__main__":
    unittest.main()
