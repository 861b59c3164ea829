"""Event-loop programs (curl, node, nginx) connect with O_NONBLOCK and wait for
writability. ARCHITECTURE.md: connect must not hold such a caller for the SOCKS
handshake; poll reports writability when the tunnel is ready and SO_ERROR the
SOCKS outcome."""

import unittest

from harness import netns, servers
from harness.socks_test_server import Mode
from harness.testcase import IntegrationTest, describe

# A connect() that takes longer than this has frozen the caller's event loop for
# a SOCKS round trip (each proxy byte below arrives 0.1 s apart).
PROMPT_S = 0.5


class NonBlockingConnectThroughLauncher(IntegrationTest):
    start = ()

    def nonblocking(self, server, env=None) -> dict:
        proc = self.socksify(self.python_client("connect_errno.py", netns.TARGET4, servers.HTTP_PORT,
                                                "nonblocking"), server.url(), env=env)
        self.assertSucceeded(proc, "connect_errno.py nonblocking")
        result = self.json_output(proc)
        result["_describe"] = describe(proc)
        return result

    def test_connect_does_not_block_on_a_slow_proxy(self):
        server = self.start_test_server(Mode.SLOW_REPLY, delay=0.1)
        result = self.nonblocking(server)
        self.assertEqual(result["errno"], "OK", result["_describe"])
        self.assertLess(result["connect_call_s"], PROMPT_S,
                        f"non-blocking connect() held the caller for the whole handshake{result['_describe']}")
        self.assertEqual(result["connect_returned"], "EINPROGRESS", result["_describe"])

    def test_connect_does_not_block_on_a_silent_proxy(self):
        server = self.start_test_server(Mode.SILENCE)
        result = self.nonblocking(server, env={"SOCKSIFY_CONNECT_TIMEOUT": "1500"})
        self.assertNotEqual(result["errno"], "OK", result["_describe"])
        self.assertLess(result["connect_call_s"], PROMPT_S,
                        f"non-blocking connect() held the caller until the timeout{result['_describe']}")
        self.assertLess(result["elapsed"], 6, result["_describe"])

    def test_connect_to_a_dead_proxy_does_not_block(self):
        # Control: with nothing listening, the answer is immediate either way.
        proc = self.socksify(self.python_client("connect_errno.py", netns.TARGET4, servers.HTTP_PORT,
                                                "nonblocking"), f"socks5://{netns.PROXY4}:1099")
        result = self.json_output(proc)
        self.assertEqual(result["errno"], "ECONNREFUSED", describe(proc))
        self.assertLess(result["elapsed"], PROMPT_S, describe(proc))

    def early_io(self, waiter):
        # Each reply byte 0.1 s apart: the handshake is surely still running
        # when the client tries its I/O.
        server = self.start_test_server(Mode.SLOW_REPLY, delay=0.1)
        proc = self.socksify(self.python_client("early_io.py", netns.TARGET4, servers.HTTP_PORT,
                                                f"/{servers.SMALL_FILE}", waiter), server.url())
        self.assertSucceeded(proc, f"early_io.py {waiter}")
        out = self.json_output(proc)
        # What the kernel answers on a socket still connecting: nothing may reach
        # the proxy in the middle of the SOCKS exchange.
        self.assertEqual(out["connect"], "EINPROGRESS", describe(proc))
        self.assertEqual(out["early_send"], "EAGAIN", describe(proc))
        self.assertEqual(out["early_recv"], "EAGAIN", describe(proc))
        self.assertEqual(out["early_peer"], "ENOTCONN", describe(proc))
        self.assertTrue(out["writable"], describe(proc))
        self.assertEqual(out["so_error"], 0, describe(proc))
        self.assertEqual(out["peer"], [netns.TARGET4, servers.HTTP_PORT], describe(proc))
        self.assertEqual(out["body"].encode("latin-1"), servers.SMALL_BODY, describe(proc))
        (rec,) = server.records()
        self.assertEqual(rec.port, servers.HTTP_PORT)

    def test_io_before_the_tunnel_is_ready_waits_select(self):
        self.early_io("select")

    def test_io_before_the_tunnel_is_ready_waits_epoll(self):
        self.early_io("epoll")

    def test_tunnels_cost_no_descriptors_of_their_own(self):
        server = self.start_test_server(Mode.NORMAL)
        proc = self.socksify(self.python_client("nonblocking_fd_cost.py", netns.TARGET4,
                                                servers.HTTP_PORT, 30), server.url())
        self.assertSucceeded(proc, "nonblocking_fd_cost.py")
        out = self.json_output(proc)
        self.assertEqual(out["ready"], 30, describe(proc))
        self.assertEqual(out["extra_fds"], 0, describe(proc))
        self.assertEqual(out["after_close"], 0, describe(proc))


if __name__ == "__main__":
    unittest.main()
