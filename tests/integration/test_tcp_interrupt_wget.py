"""wget --connect-timeout through a stalled proxy (issue 14, item 2): wget
siglongjmps out of connect() from its SIGALRM handler. Every try must reach
the proxy; before the fix the jump left socksify's re-entry flag set and the
second try connected directly. Separate from test_tcp_interrupt, which also
runs under ASan (wget stays out of that subset: see tests/run-all.sh)."""

import time
import unittest

from harness import netns, servers
from harness.capture import CapturesLink
from harness.socks_test_server import Mode
from harness.testcase import IntegrationTest, describe


class WgetConnectTimeout(CapturesLink, IntegrationTest):
    start = ()

    def test_wget_connect_timeout_retries_through_the_proxy(self):
        server = self.start_test_server(Mode.SILENCE)
        start = time.monotonic()
        proc = self.socksify(["wget", "-q", "-O", "/dev/null", "--connect-timeout=2", "--tries=3",
                              "--waitretry=0",
                              f"http://{netns.TARGET4}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"],
                             server.url(), timeout=40)
        elapsed = time.monotonic() - start
        self.assertNoCrash(proc)
        self.assertEqual(proc.returncode, 4, f"wget: network failure expected{describe(proc)}")
        self.assertLess(elapsed, 15, describe(proc))
        recs = server.wait_records(3, done=False)
        self.assertEqual(len(recs), 3, "every try reached the proxy")
        for rec in recs:
            self.assertEqual(rec.greeting[:1], b"\x05", rec)
        self.assertNoDirectPackets()


if __name__ == "__main__":
    unittest.main()
