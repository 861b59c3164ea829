"""Fail closed, proven where a direct path exists.

Here the destination is a server in the client's own subnet (the client
namespace itself, 10.200.0.1), which the client could reach directly and the
proxy can reach too. Through a working proxy the server sees the proxy's
address as the peer, never the client's; through a failing proxy the program's
connect fails and the server sees nothing at all: no fallback to a direct
connection. Loopback, by default, goes direct."""

import unittest

from harness import netns, servers
from harness.socks_test_server import Mode
from harness.testcase import DANTED_URL, DEAD_PORT, IntegrationTest, describe

LOCAL_PORT = servers.LOCAL_ECHO_PORT
SIZE = 50_000


class FailClosedThroughLauncher(IntegrationTest):
    start = ("local_echo",)

    @classmethod
    def start_extra(cls):
        # This danted connects out on the client side, where the destination is.
        cls.danted = servers.start_danted(cls.topo, cls.workdir, external=(netns.PROXY4, netns.PROXY6))

    def echo_to(self, host: str, proxy: str, env=None):
        return self.socksify(self.python_client("echo_client.py", host, LOCAL_PORT, SIZE), proxy, env=env)

    def test_reachable_destination_still_goes_through_the_proxy(self):
        since = self.danted.log_size()
        proc = self.echo_to(netns.CLIENT4, DANTED_URL)
        self.assertSucceeded(proc, "echo to the client's own subnet")
        self.assertTrue(self.json_output(proc)["ok"], describe(proc))
        (rec,) = self.local_echo.wait_records("tcp", 1)
        self.assertEqual(rec["peer"], netns.PROXY4, "connection came directly, not from the proxy")
        self.assertDantedCarried(f"{netns.CLIENT4}.{LOCAL_PORT}", since=since, min_to_client=SIZE)

    def test_failing_proxy_never_falls_back_to_a_direct_connection(self):
        cases = [("refused", lambda: self.start_test_server(Mode.REFUSE, rep=5, port=0).url()),
                 ("garbage", lambda: self.start_test_server(Mode.GARBAGE_REPLY, port=0).url()),
                 ("dead port", lambda: f"socks5://{netns.PROXY4}:{DEAD_PORT}"),
                 ("silence", lambda: self.start_test_server(Mode.SILENCE, port=0).url())]
        for name, make_url in cases:
            with self.subTest(proxy=name):
                proc = self.echo_to(netns.CLIENT4, make_url(), env={"SOCKSIFY_CONNECT_TIMEOUT": "1000"})
                self.assertNoCrash(proc)
                result = self.json_output(proc)
                self.assertFalse(result["ok"], f"connected although the proxy failed{describe(proc)}")
                self.assertEqual(result.get("stage"), "connect", describe(proc))
                self.assertEqual(self.local_echo.records("tcp"), [], "a direct connection reached the server")

    def test_a_raw_connect_syscall_is_routed_too(self):
        # syscall(SYS_connect) must not be a way around the proxy.
        proc = self.socksify(self.python_client("raw_syscall_connect.py", netns.CLIENT4, LOCAL_PORT),
                             f"socks5://{netns.PROXY4}:{DEAD_PORT}")
        self.assertNoCrash(proc)
        self.assertEqual(self.json_output(proc)["errno"], "ECONNREFUSED", describe(proc))
        self.assertEqual(self.local_echo.records("tcp"), [], "a direct connection reached the server")
        proc = self.socksify(self.python_client("raw_syscall_connect.py", netns.CLIENT4, LOCAL_PORT),
                             DANTED_URL)
        self.assertEqual(self.json_output(proc)["errno"], "OK", describe(proc))
        (rec,) = self.local_echo.wait_records("tcp", 1)
        self.assertEqual(rec["peer"], netns.PROXY4, "the raw connect went around the proxy")

    def test_tcp_fast_open_is_routed_too(self):
        # sendto(MSG_FASTOPEN, address) connects without connect().
        proc = self.socksify(self.python_client("fastopen_echo.py", netns.CLIENT4, LOCAL_PORT),
                             f"socks5://{netns.PROXY4}:{DEAD_PORT}")
        self.assertEqual(self.json_output(proc)["errno"], "ECONNREFUSED", describe(proc))
        self.assertEqual(self.local_echo.records("tcp"), [], "a direct connection reached the server")
        proc = self.socksify(self.python_client("fastopen_echo.py", netns.CLIENT4, LOCAL_PORT),
                             DANTED_URL)
        self.assertTrue(self.json_output(proc)["echoed"], describe(proc))
        (rec,) = self.local_echo.wait_records("tcp", 1)
        self.assertEqual(rec["peer"], netns.PROXY4, "TCP Fast Open went around the proxy")

    def test_loopback_goes_direct_by_default(self):
        since = self.danted.log_size()
        proc = self.echo_to("127.0.0.1", DANTED_URL)
        self.assertSucceeded(proc, "echo to loopback")
        self.assertTrue(self.json_output(proc)["ok"], describe(proc))
        (rec,) = self.local_echo.wait_records("tcp", 1)
        self.assertEqual(rec["peer"], "127.0.0.1")
        self.assertEqual(self.danted.sessions(since), [])


if __name__ == "__main__":
    unittest.main()
