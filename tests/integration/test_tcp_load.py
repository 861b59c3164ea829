"""Load: 200 threads x 100 connections in one process, each connect + echo +
close through a real proxy, every echo checked, no file descriptor left behind.

Bounded by the count and by DEADLINE_S. The client and proxy namespaces get a
wide ephemeral port range and TIME_WAIT reuse, since 20,000 short connections
from one address would otherwise press against the default range."""

import unittest

from harness import netns, servers
from harness.testcase import DANTED_URL, MICROSOCKS_URL, IntegrationTest, describe

THREADS = 200
PER_THREAD = 100
DEADLINE_S = 80  # measured: about 6 s (microsocks) and 7 s (danted) on 2 cores


class LoadThroughLauncher(IntegrationTest):
    start = ("microsocks", "danted")

    @classmethod
    def start_extra(cls):
        for ns in (cls.topo.client, cls.topo.proxy):
            cls.topo.sysctl(ns, "net.ipv4.ip_local_port_range", "10000 65000")
            cls.topo.sysctl(ns, "net.ipv4.tcp_tw_reuse", "1")

    def run_load(self, proxy: str, what: str) -> int:
        """Run the load client; return the number of connections (all verified)."""
        wanted = THREADS * PER_THREAD
        proc = self.socksify(self.python_client("load_echo.py", netns.TARGET4, servers.ECHO_PORT, THREADS,
                                                PER_THREAD, DEADLINE_S), proxy, timeout=DEADLINE_S + 30)
        result = self.json_output(proc)
        print(f"\nload through {what}: {result['ok']} of {wanted} connections in {result['elapsed']} s "
              f"({result['ok'] / max(result['elapsed'], 0.001):.0f}/s)", flush=True)
        self.assertEqual(result["threads_alive"], 0, describe(proc))
        self.assertEqual(result["failures"], [], describe(proc))
        self.assertEqual(result["ok"], wanted, f"only {result['ok']} of {wanted} before the deadline{describe(proc)}")
        self.assertEqual(result["fds_after"], result["fds_before"], describe(proc))
        self.assertSucceeded(proc, "load_echo.py")
        # Every connection reached the echo server from the proxy, with all its bytes.
        recs = self.echo.wait_records("tcp", wanted, deadline_s=20)
        self.assertEqual(len(recs), wanted)
        self.assertEqual({r["peer"] for r in recs}, {netns.PROXY_OUT4})
        self.assertEqual({r["bytes"] for r in recs}, {100})
        return wanted

    def test_twenty_thousand_echo_connections_through_microsocks(self):
        before = self.microsocks.log().count(f"connected to {netns.TARGET4}:{servers.ECHO_PORT}")
        wanted = self.run_load(MICROSOCKS_URL, "microsocks")
        after = self.microsocks.log().count(f"connected to {netns.TARGET4}:{servers.ECHO_PORT}")
        self.assertEqual(after - before, wanted)

    def test_twenty_thousand_echo_connections_through_danted(self):
        since = self.danted.log_size()
        wanted = self.run_load(DANTED_URL, "danted")
        sessions = self.assertDantedCarried(f"{netns.TARGET4}.{servers.ECHO_PORT}", count=wanted, since=since,
                                            min_to_client=100)
        self.assertEqual(len(sessions), wanted)


if __name__ == "__main__":
    unittest.main()
