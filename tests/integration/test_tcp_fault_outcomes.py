"""Proxy faults seen from a program that retries: the right errno from connect()
(blocking) or from SO_ERROR after poll()/select() (non-blocking), one error line
per failed attempt, no file descriptor left behind after many failures, and no
direct connection to a destination the client could reach on its own.

The destination is an echo server in the client's own namespace (as in
test_tcp_fail_closed): a fallback to a direct connect would reach it and show
in its log. The faults come from our test server: RSTs at each handshake step,
hostile reply lengths, silence. A bound name of 255 bytes is legal and works."""

import time
import unittest

from harness import launcher, netns, servers
from harness.socks_test_server import ATYP_NAME, Mode
from harness.testcase import DEAD_PORT, IntegrationTest, describe

LOCAL_PORT = servers.LOCAL_ECHO_PORT
CLIENT_MODES = ("blocking", "poll", "select")
ATTEMPTS = 10          # per program run, for the prompt faults
SLOW_ATTEMPTS = 3      # per program run, for the faults that wait for the timeout
TIMEOUT_MS = 500
TIMEOUT_ENV = {"SOCKSIFY_CONNECT_TIMEOUT": str(TIMEOUT_MS)}
# An EOF or RST while the reply is still expected: either is a fair report.
BROKEN = ("ECONNRESET", "ECONNABORTED", "EPROTO")


def reply(atyp: int, body: bytes) -> bytes:
    """A success reply (RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT) with a raw address part."""
    return bytes([5, 0, 0, atyp]) + body


class FaultOutcomesThroughLauncher(IntegrationTest):
    start = ("local_echo",)

    # -- helpers -------------------------------------------------------------------
    def probe(self, proxy: str, client_mode: str, count: int, env=None) -> tuple[dict, object]:
        proc = self.socksify(self.python_client("fault_probe.py", netns.CLIENT4, LOCAL_PORT, client_mode, count),
                             proxy, env=env, timeout=60)
        self.assertSucceeded(proc, "fault_probe.py (it reports, it does not fail)")
        return self.json_output(proc), proc

    def assertFaultOutcome(self, make_url, expected: tuple[str, ...], count: int = ATTEMPTS, env=None,
                           max_s: float = 2.0) -> None:
        """For every client mode: each of `count` connects fails with an errno in
        `expected` within max_s, non-blocking ones after EINPROGRESS; one error
        line per attempt; the fd count is unchanged; no direct connection."""
        for client_mode in CLIENT_MODES:
            with self.subTest(client=client_mode):
                result, proc = self.probe(make_url(), client_mode, count, env)
                self.assertEqual(len(result["attempts"]), count, describe(proc))
                for att in result["attempts"]:
                    self.assertIn(att["errno"], expected, f"attempt {att}{describe(proc)}")
                    self.assertLess(att["elapsed"], max_s, f"attempt {att}{describe(proc)}")
                    if client_mode != "blocking":
                        self.assertEqual(att["connect_returned"], "EINPROGRESS", f"attempt {att}{describe(proc)}")
                self.assertEqual(result["fds_after"], result["fds_before"],
                                 f"fds leaked after {count} failed connects: {result['new_fds']}{describe(proc)}")
                errors = launcher.error_lines(proc.stderr)
                self.assertEqual(len(errors), count, f"want one error line per failed connect{describe(proc)}")
                self.assertNoDirectConnection()

    def assertNoDirectConnection(self):
        time.sleep(0.1)  # the echo server logs when a connection ends
        peers = [r["peer"] for r in self.local_echo.records("tcp")]
        self.assertNotIn(netns.CLIENT4, peers, "the client connected directly to the destination")
        self.assertEqual(peers, [], "the destination was reached although the proxy failed")
        self.assertEqual(self.echo.records("tcp"), [])

    def server_url(self, mode: Mode, **kwargs):
        return lambda: self.start_test_server(mode, port=0, **kwargs).url()

    # -- RST at each step of the handshake ------------------------------------------
    def test_reset_at_greeting_gives_econnreset(self):
        self.assertFaultOutcome(self.server_url(Mode.RESET_AT_GREETING), ("ECONNRESET",))

    def test_reset_after_method_choice_gives_econnreset(self):
        self.assertFaultOutcome(self.server_url(Mode.RESET_AFTER_METHOD), ("ECONNRESET",))

    def test_reset_in_the_middle_of_the_reply_gives_econnreset(self):
        self.assertFaultOutcome(self.server_url(Mode.RESET_MID_REPLY), ("ECONNRESET",))

    # -- reply lengths ----------------------------------------------------------------
    def test_bound_name_of_255_bytes_is_accepted(self):
        # RFC 1928 §5: a domain name is one length byte and up to 255 octets.
        name = b"b" * 63 + b"." + b"c" * 63 + b"." + b"d" * 63 + b"." + b"e" * 63
        self.assertEqual(len(name), 255)
        for client_mode in CLIENT_MODES:
            with self.subTest(client=client_mode):
                server = self.start_test_server(reply_atyp=ATYP_NAME, bound_name=name, port=0)
                result, proc = self.probe(server.url(), client_mode, 3)
                self.assertEqual(result["errnos"], ["OK"], describe(proc))
                self.assertEqual(result["fds_after"], result["fds_before"], describe(proc))
                recs = server.wait_records(3)
                self.assertEqual([r.outcome for r in recs], ["relayed"] * 3)
                self.assertTrue(all(r.reply[3:5] == bytes([ATYP_NAME, 255]) for r in recs), recs)
        # Every connection came from the proxy, none directly.
        recs = self.local_echo.wait_records("tcp", 9)
        self.assertEqual(len(recs), 9, recs)
        self.assertEqual({r["peer"] for r in recs}, {netns.PROXY4}, recs)

    def test_name_length_beyond_the_bytes_sent_fails(self):
        # Length 255, then 20 bytes and EOF: the reply never completes.
        self.assertFaultOutcome(self.server_url(Mode.RAW_REPLY, raw_reply=reply(ATYP_NAME, b"\xff" + b"x" * 20)),
                                BROKEN)

    def test_name_length_beyond_the_bytes_sent_on_an_open_line_times_out(self):
        # The same, but the proxy keeps the connection open: only the timeout ends it.
        self.assertFaultOutcome(
            self.server_url(Mode.RAW_REPLY_THEN_SILENCE, raw_reply=reply(ATYP_NAME, b"\xff" + b"x" * 20)),
            ("ETIMEDOUT",), count=SLOW_ATTEMPTS, env=TIMEOUT_ENV, max_s=TIMEOUT_MS / 1000 + 1.5)

    def test_unknown_address_type_in_the_reply_gives_eproto(self):
        # ATYP 2 does not exist: its length is unknowable, so nothing after it can be read.
        self.assertFaultOutcome(self.server_url(Mode.RAW_REPLY, raw_reply=reply(2, b"\x01\x02\x03\x04\x00\x50")),
                                ("EPROTO",))

    def test_wrong_version_in_the_reply_fails(self):
        self.assertFaultOutcome(self.server_url(Mode.RAW_REPLY, raw_reply=b"\x04\x5a\x00\x50\x0a\x00\x00\x01"),
                                ("EPROTO",) + BROKEN)

    # -- silence -------------------------------------------------------------------------
    def test_silent_proxy_gives_etimedout_after_connect_timeout(self):
        self.assertFaultOutcome(self.server_url(Mode.SILENCE), ("ETIMEDOUT",), count=SLOW_ATTEMPTS,
                                env=TIMEOUT_ENV, max_s=TIMEOUT_MS / 1000 + 1.5)

    # -- the faults other modules cover for errno, here for fds and fallback ---------------
    def test_refusal_and_dead_port_leave_no_fds(self):
        with self.subTest(proxy="rep 5"):
            self.assertFaultOutcome(self.server_url(Mode.REFUSE, rep=5), ("ECONNREFUSED",))
        with self.subTest(proxy="dead port"):
            self.assertFaultOutcome(lambda: f"socks5://{netns.PROXY4}:{DEAD_PORT}", ("ECONNREFUSED",))

    def test_closed_and_garbage_handshakes_leave_no_fds(self):
        for mode in (Mode.CLOSE_ON_ACCEPT, Mode.CLOSE_AFTER_GREETING, Mode.CLOSE_MID_REPLY,
                     Mode.GARBAGE_GREETING, Mode.GARBAGE_REPLY):
            with self.subTest(proxy=mode.value):
                self.assertFaultOutcome(self.server_url(mode), BROKEN)


if __name__ == "__main__":
    unittest.main()
