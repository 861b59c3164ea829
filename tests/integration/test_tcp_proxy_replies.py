"""What the proxy's reply makes of one connect through the launcher, injected by
our test server: each refusal code (REP) maps to its errno, a dead port, silence
and garbage fail closed with the library's error line, nothing crashes and nothing
reaches the target; a reply sent byte by byte or with any bound address type
works. (Repeated faults from a retrying program - errno per attempt, one error
line each, no fd leaked, no direct fallback - are test_tcp_fault_outcomes.)"""

import time
import unittest

from harness import netns, servers
from harness.socks_test_server import ATYP_IPV6, ATYP_NAME, Mode
from harness.testcase import DEAD_PORT, HTTP4, IntegrationTest, describe

CURL = ["curl", "-sS", "-v", "--max-time", "20"]
URL = f"{HTTP4}/{servers.SMALL_FILE}"


class ProxyRepliesThroughLauncher(IntegrationTest):
    start = ()

    # -- helpers -------------------------------------------------------------------
    def curl(self, proxy: str, env=None):
        return self.socksify(CURL + [URL], proxy, env=env)

    def connect_errno(self, proxy: str, mode: str = "blocking", env=None) -> tuple[dict, object]:
        proc = self.socksify(self.python_client("connect_errno.py", netns.TARGET4, servers.HTTP_PORT, mode),
                             proxy, env=env)
        self.assertSucceeded(proc, "connect_errno.py (it reports the errno, it does not fail)")
        return self.json_output(proc), proc

    def assertNothingReachedTarget(self):
        self.assertEqual(self.http.records("http"), [], "the target was reached although the proxy failed")

    def assertCurlFailsCleanly(self, proxy: str, env=None):
        proc = self.curl(proxy, env=env)
        self.assertFailedCleanly(proc)
        self.assertNotEqual(proc.stdout, servers.SMALL_BODY)
        self.assertNothingReachedTarget()
        return proc

    # -- refusal -------------------------------------------------------------------
    def test_rep5_makes_curl_report_connection_refused(self):
        server = self.start_test_server(Mode.REFUSE, rep=5)
        proc = self.assertCurlFailsCleanly(server.url())
        self.assertEqual(proc.returncode, 7, describe(proc))  # CURLE_COULDNT_CONNECT
        self.assertIn(b"Connection refused", proc.stderr, describe(proc))
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.outcome, "refused")
        self.assertEqual(rec.reply[:2], b"\x05\x05")

    def test_rep5_gives_econnrefused_to_blocking_connect(self):
        server = self.start_test_server(Mode.REFUSE, rep=5)
        result, proc = self.connect_errno(server.url(), "blocking")
        self.assertEqual(result["errno"], "ECONNREFUSED", describe(proc))
        self.assertTrue(self.error_line(proc), describe(proc))

    def test_rep5_gives_econnrefused_to_nonblocking_connect(self):
        server = self.start_test_server(Mode.REFUSE, rep=5)
        result, proc = self.connect_errno(server.url(), "nonblocking")
        self.assertEqual(result["errno"], "ECONNREFUSED", describe(proc))

    def test_other_reply_codes_fail_the_connect(self):
        # RFC 1928 §6 reply codes; 3 and 4 have an obvious errno, the rest only must fail.
        expected = {1: None, 2: None, 3: "ENETUNREACH", 4: "EHOSTUNREACH", 6: None, 7: None, 8: None, 9: None}
        for rep, want in expected.items():
            with self.subTest(rep=rep):
                server = self.start_test_server(Mode.REFUSE, rep=rep, port=0)
                result, proc = self.connect_errno(server.url())
                server.stop()
                self.assertNotEqual(result["errno"], "OK", describe(proc))
                if want:
                    self.assertEqual(result["errno"], want, describe(proc))
                self.assertTrue(self.error_line(proc), describe(proc))
        self.assertNothingReachedTarget()

    # -- nothing there, nothing said ------------------------------------------------
    def test_dead_proxy_port_fails_promptly(self):
        url = f"socks5://{netns.PROXY4}:{DEAD_PORT}"
        start = time.monotonic()
        result, proc = self.connect_errno(url)
        self.assertLess(time.monotonic() - start, 10)
        self.assertEqual(result["errno"], "ECONNREFUSED", describe(proc))
        self.assertTrue(self.error_line(proc), describe(proc))
        self.assertCurlFailsCleanly(url)

    def test_silent_proxy_times_out_after_connect_timeout(self):
        server = self.start_test_server(Mode.SILENCE)
        env = {"SOCKSIFY_CONNECT_TIMEOUT": "1000"}  # milliseconds
        result, proc = self.connect_errno(server.url(), env=env)
        self.assertNotEqual(result["errno"], "OK", describe(proc))
        self.assertGreaterEqual(result["elapsed"], 0.8, f"gave up before the timeout{describe(proc)}")
        self.assertLess(result["elapsed"], 5, f"ignored SOCKSIFY_CONNECT_TIMEOUT{describe(proc)}")
        self.assertTrue(self.error_line(proc), describe(proc))
        start = time.monotonic()
        self.assertCurlFailsCleanly(server.url(), env=env)
        self.assertLess(time.monotonic() - start, 8, "curl waited far beyond SOCKSIFY_CONNECT_TIMEOUT")
        recs = server.wait_records(2, done=False)
        self.assertTrue(all(r.greeting[:1] == b"\x05" for r in recs), recs)

    def test_silent_proxy_times_out_for_nonblocking_connect(self):
        server = self.start_test_server(Mode.SILENCE)
        result, proc = self.connect_errno(server.url(), "nonblocking", env={"SOCKSIFY_CONNECT_TIMEOUT": "1000"})
        self.assertNotEqual(result["errno"], "OK", describe(proc))
        self.assertLess(result["elapsed"], 5, describe(proc))

    # -- broken answers ---------------------------------------------------------------
    def test_broken_servers_fail_cleanly(self):
        for mode in (Mode.GARBAGE_GREETING, Mode.GARBAGE_REPLY, Mode.CLOSE_ON_ACCEPT,
                     Mode.CLOSE_AFTER_GREETING, Mode.CLOSE_MID_REPLY):
            with self.subTest(mode=mode.value):
                server = self.start_test_server(mode, port=0)
                result, proc = self.connect_errno(server.url())
                self.assertNotEqual(result["errno"], "OK", describe(proc))
                self.assertTrue(self.error_line(proc), describe(proc))
                self.assertCurlFailsCleanly(server.url())
                server.stop()

    # -- unusual but valid answers ------------------------------------------------------
    def test_reply_sent_byte_by_byte_still_succeeds(self):
        server = self.start_test_server(Mode.SLOW_REPLY, delay=0.03)
        proc = self.socksify(["curl", "-sS", "--fail", "--max-time", "20", URL], server.url())
        self.assertSucceeded(proc, "curl with a slow proxy")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.outcome, "relayed")

    def test_reply_with_any_bound_address_type_succeeds(self):
        # RFC 1928 §6: BND may be any ATYP; the client must read exactly its length.
        for atyp in (ATYP_IPV6, ATYP_NAME):
            with self.subTest(atyp=atyp):
                self.http.clear()
                server = self.start_test_server(reply_atyp=atyp, port=0)
                proc = self.socksify(["curl", "-sS", "--fail", "--max-time", "20", URL], server.url())
                server.stop()
                self.assertSucceeded(proc, f"curl with a reply of ATYP {atyp}")
                self.assertEqual(proc.stdout, servers.SMALL_BODY)
                self.assertHttpServed(f"/{servers.SMALL_FILE}")

    def error_line(self, proc) -> list:
        from harness.launcher import error_lines
        return error_lines(proc.stderr)


if __name__ == "__main__":
    unittest.main()
