"""Remote DNS never hands one stand-in address to two names (issue 14 item 11).

A program resolves 70,000 distinct names (more than the 65,536 socksify holds at
once) and then connects to the address its FIRST lookup returned. That name has
been forgotten; before the fix its address had been handed to a newer name, so
the connect went through the proxy to ANOTHER host. Now the address has no name
behind it: the connect fails closed (EHOSTUNREACH, one error line), nothing
leaves directly, and the proxy sees no CONNECT for any other name. The last
name still works, so the proxy was there to be misused."""

import unittest

from harness import netns, servers
from harness.capture import CapturesLink
from harness.dns_sentinel import WatchesDns
from harness.socks_test_server import ATYP_NAME
from harness.testcase import IntegrationTest, describe

COUNT = 70_000
LAST = f"n{COUNT - 1}.reuse.test"


class NameReuse(CapturesLink, WatchesDns, IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls):
        super().start_extra()
        cls.topo.set_resolv_conf(cls.topo.client, "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")

    def test_first_address_fails_closed_after_70000_names(self):
        server = self.start_test_server(hosts={LAST: netns.TARGET4})
        proc = self.socksify(self.python_client("many_names.py", COUNT, servers.ECHO_PORT),
                             server.url("socks5h"), timeout=60)
        self.assertSucceeded(proc, "resolving 70,000 names")
        out = self.json_output(proc)
        self.assertEqual(out["first"], "240.0.0.1", out)
        self.assertEqual(out["first_connect"], {"errno": "EHOSTUNREACH"}, describe(proc))
        self.assertIn(b"refusing 240.0.0.1:%d: a remote-DNS address with no name behind it"
                      % servers.ECHO_PORT, proc.stderr, describe(proc))
        self.assertEqual(out["last_connect"], {"errno": 0, "echo": "ping"}, describe(proc))
        # The only CONNECT the proxy saw is the last name's, by name.
        recs = server.wait_records(1)
        self.assertEqual([(r.atyp, r.address, r.port) for r in server.records()],
                         [(ATYP_NAME, LAST, servers.ECHO_PORT)], recs)
        self.assertEchoServed(min_bytes=4)
        self.assertNoDirectPackets()
        self.assertNoDnsLeak()

    def test_a_used_up_range_fails_new_names_instead_of_reusing(self):
        # A /24 gives 254 addresses, ever: the 255th name fails with EAI_FAIL
        # (and one error line), and the first name keeps its address.
        script = ("import socket, json\n"
                  "def v4(n):\n"
                  "    return socket.getaddrinfo(n, 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]\n"
                  "got = [v4(f'u{i}.reuse.test') for i in range(254)]\n"
                  "try:\n"
                  "    extra = v4('one-too-many.reuse.test')\n"
                  "except socket.gaierror as e:\n"
                  "    extra = 'EAI_FAIL' if e.errno == socket.EAI_FAIL else str(e.errno)\n"
                  "print(json.dumps({'first': got[0], 'last': got[-1], 'unique': len(set(got)),\n"
                  "                  'extra': extra, 'first_again': v4('u0.reuse.test')}))\n")
        server = self.start_test_server()
        proc = self.socksify(["/usr/bin/python3", "-c", script], server.url("socks5h"),
                             env={"SOCKSIFY_FAKE_IPV4": "10.77.0.0/24"})
        self.assertSucceeded(proc, "resolving 255 names in a /24")
        out = self.json_output(proc)
        self.assertEqual(out, {"first": "10.77.0.1", "last": "10.77.0.254", "unique": 254,
                               "extra": "EAI_FAIL", "first_again": "10.77.0.1"}, describe(proc))
        self.assertIn(b"cannot resolve one-too-many.reuse.test: every remote-DNS address (254) has "
                      b"been handed out", proc.stderr, describe(proc))
        self.assertEqual(server.records(), [])
        self.assertNoDirectPackets()
        self.assertNoDnsLeak()


if __name__ == "__main__":
    unittest.main()
