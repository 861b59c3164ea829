"""Issue 14 item 4: poll() and select() over more non-blocking connects in
their handshake than the 64 stand-ins there used to be room for. Each socket
a call reports writable must be a ready tunnel at that moment (SO_ERROR 0,
getpeername the target, send taken), and every one must become ready."""

import unittest

from harness import netns, servers
from harness.capture import CapturesLink
from harness.socks_test_server import Mode
from harness.testcase import IntegrationTest, describe

COUNT = 200
# Each of the 12 server bytes of a handshake 50 ms apart: 0.6 s in which
# every socket's TCP connection to the proxy is up (so the kernel alone would
# report it writable) while its tunnel is not.
DELAY_S = 0.05


class ManyPendingConnectsInOneCall(CapturesLink, IntegrationTest):
    start = ()

    def run_client(self, waiter: str) -> dict:
        server = self.start_test_server(Mode.SLOW_REPLY, delay=DELAY_S)
        proc = self.socksify(self.python_client("pending_sockets.py", netns.TARGET4,
                                                servers.ECHO_PORT, COUNT, waiter), server.url(),
                             timeout=60)
        self.assertSucceeded(proc, f"pending_sockets.py {waiter}")
        out = self.json_output(proc)
        self.assertEqual(out["einprogress"], COUNT, describe(proc))
        self.assertEqual((out["early_count"], out["early"]), (0, []),
                         f"reported writable before the tunnel was ready{describe(proc)}")
        self.assertEqual(out["never_ready"], 0, describe(proc))
        self.assertEqual(out["echoed"], COUNT, describe(proc))
        # No call came back before the first handshake could have finished.
        self.assertGreaterEqual(out["first_call_s"], 12 * DELAY_S * 0.8, describe(proc))
        recs = server.wait_records(COUNT)
        self.assertEqual(len(recs), COUNT, describe(proc))
        self.assertEqual({r.port for r in recs}, {servers.ECHO_PORT})
        self.assertEchoServed(COUNT, min_bytes=len("tag-0000|"))
        self.assertNoDirectPackets(waiter)
        return out

    def test_poll_over_200_pending_sockets_reports_each_only_once_ready(self):
        self.run_client("poll")

    def test_select_over_200_pending_sockets_reports_each_only_once_ready(self):
        self.run_client("select")


if __name__ == "__main__":
    unittest.main()
