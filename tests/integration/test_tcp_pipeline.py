"""Pipelined SOCKS5 handshake (issue 12): greeting, auth and request leave in one
write; a proxy that drops what follows the greeting (microsocks) gets the
sequential handshake on a fresh connection, remembered for the rest of the
process, unless that retry was as slow (a slow destination, not the proxy).
`ssh -D` takes it. Our test server records what its first read found waiting."""

import errno
import json
import os
import socket
import struct
import time
import unittest

from harness import launcher, netns, servers, users
from harness.launcher import error_lines
from harness.capture import CapturesLink
from harness.socks_test_server import Mode
from harness.ssh_dynamic import SSH_SOCKS_PORT, start_ssh_dynamic
from harness.testcase import DANTED_PORT, HTTP4, MICROSOCKS_PORT, IntegrationTest, describe

CURL = ["curl", "-sS", "--fail", "--max-time", "20"]
DANTED_AUTH_PORT = 1084
USER, PASSWORD = "pipeuser", "pipe-pw-5521"
FALLBACK_LINE = b"does not take a pipelined handshake"


def request(port: int, host: str = netns.TARGET4, cmd: int = 1) -> bytes:
    return bytes([5, cmd, 0, 1]) + socket.inet_aton(host) + struct.pack(">H", port)


def auth(user: str, password: str) -> bytes:
    u, p = user.encode(), password.encode()
    return bytes([1, len(u)]) + u + bytes([len(p)]) + p


class Pipeline(CapturesLink, IntegrationTest):
    start = ("danted", "microsocks")

    @classmethod
    def start_extra(cls) -> None:
        super().start_extra()
        cls.user = users.TestUser()
        cls.addClassCleanup(cls.user.delete)
        cls.user.create()
        cls.danted_auth = servers.start_danted(cls.topo, cls.workdir, method="username",
                                               port=DANTED_AUTH_PORT)

    def get_small(self, proxy: str, env: dict[str, str] | None = None):
        return self.socksify(CURL + [f"{HTTP4}/{servers.SMALL_FILE}"], proxy, env=env)

    def two_echoes(self, proxy: str, env: dict[str, str] | None = None):
        started = time.monotonic()
        proc = self.socksify(self.python_client("two_echoes.py", netns.TARGET4, str(servers.ECHO_PORT)),
                             proxy, env=env, input=b"\n", timeout=20)
        return proc, time.monotonic() - started

    # -- exact bytes, one segment --------------------------------------------------
    def test_no_auth_greeting_and_connect_arrive_together(self):
        server = self.start_test_server()
        proc = self.get_small(server.url())
        self.assertSucceeded(proc, "curl through the test server")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.first_read.hex(), (bytes([5, 1, 0]) + request(servers.HTTP_PORT)).hex())
        self.assertEqual(rec.methods, [0])
        self.assertNoDirectPackets()

    def test_auth_greeting_login_and_connect_arrive_together(self):
        server = self.start_test_server(auth=(USER, PASSWORD))
        proc = self.get_small(server.url(userinfo=f"{USER}:{PASSWORD}"))
        self.assertSucceeded(proc, "curl through the test server with a login")
        (rec,) = server.wait_records(1)
        want = bytes([5, 1, 2]) + auth(USER, PASSWORD) + request(servers.HTTP_PORT)
        self.assertEqual(rec.first_read.hex(), want.hex())
        self.assertEqual(rec.username, USER.encode())
        self.assertNoDirectPackets()

    def test_pipeline_off_sends_the_greeting_alone(self):
        server = self.start_test_server()
        proc = self.get_small(server.url(), env={"SOCKSIFY_PIPELINE": "off"})
        self.assertSucceeded(proc, "curl with pipelining off")
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.first_read.hex(), "050100")
        self.assertEqual(rec.request.hex(), request(servers.HTTP_PORT).hex())

    # -- fallback --------------------------------------------------------------------
    def test_proxy_that_drops_pipelined_bytes_gets_a_sequential_retry_remembered(self):
        server = self.start_test_server(Mode.DROP_AFTER_GREETING)
        proc, took = self.two_echoes(server.url(), env={"SOCKSIFY_LOG_LEVEL": "info"})
        self.assertSucceeded(proc, "two echoes through a proxy that drops pipelined bytes")
        self.assertEqual(json.loads(proc.stdout.decode().splitlines()[-1]),
                         {"first": "ok", "second": "ok"})
        self.assertLess(took, 5.0, "the fallback waited too long")
        recs = server.wait_records(3)
        self.assertEqual(len(recs), 3, [r.to_json() for r in recs])
        # 1: pipelined, the request dropped; 2: fresh and sequential; 3: the
        # second connection of the process, sequential from the start.
        self.assertEqual(recs[0].dropped.hex(), request(servers.ECHO_PORT).hex())
        self.assertNotEqual(recs[0].outcome, "relayed")
        for rec in recs[1:]:
            self.assertEqual(rec.first_read.hex(), "050100", rec.to_json())
            self.assertEqual(rec.dropped, b"")
            self.assertEqual(rec.outcome, "relayed")
        self.assertEqual(proc.stderr.count(FALLBACK_LINE), 1, describe(proc))
        self.assertNoDirectPackets()

    def test_pipeline_on_never_falls_back(self):
        server = self.start_test_server(Mode.DROP_AFTER_GREETING)
        proc = self.get_small(server.url(), env={"SOCKSIFY_PIPELINE": "on",
                                                 "SOCKSIFY_CONNECT_TIMEOUT": "1500"})
        self.assertNotEqual(proc.returncode, 0, describe(proc))
        recs = server.wait_records(1)
        self.assertEqual(len(recs), 1)
        self.assertEqual(self.http.records("http"), [])

    def test_a_slow_destination_is_not_taken_for_a_proxy_that_drops_pipelined_bytes(self):
        # The destination takes 0.6 s to accept, more than the 200 ms window, for
        # the first connection and its sequential retry; then it is quick.
        server = self.start_test_server(connect_delay=0.6, connect_delay_conns={1, 2})
        proc, took = self.two_echoes(server.url(), env={"SOCKSIFY_LOG_LEVEL": "info"})
        self.assertSucceeded(proc, "two echoes through a proxy in front of a slow destination")
        self.assertEqual(json.loads(proc.stdout.decode().splitlines()[-1]),
                         {"first": "ok", "second": "ok"})
        self.assertLess(took, 5.0)
        recs = server.wait_records(3)
        self.assertEqual(len(recs), 3, [r.to_json() for r in recs])
        pipelined = (bytes([5, 1, 0]) + request(servers.ECHO_PORT)).hex()
        # 1: pipelined, no reply within the window; 2: the sequential retry, as
        # slow: the destination, not the proxy; 3: pipelined again, not remembered
        # as a proxy that drops the bytes.
        self.assertEqual(recs[0].first_read.hex(), pipelined)
        self.assertEqual(recs[1].first_read.hex(), "050100")
        self.assertEqual(recs[1].outcome, "relayed")
        self.assertEqual(recs[2].first_read.hex(), pipelined, recs[2].to_json())
        self.assertEqual(recs[2].outcome, "relayed")
        self.assertNotIn(FALLBACK_LINE, proc.stderr, describe(proc))
        self.assertIn(b"a slow destination, not a proxy that drops pipelined bytes", proc.stderr,
                      describe(proc))
        self.assertNoDirectPackets()

    def test_microsocks_falls_back_without_a_visible_failure(self):
        before = self.microsocks.log().count("connected to")
        proc, took = self.two_echoes(f"socks5://{netns.PROXY4}:{MICROSOCKS_PORT}",
                                     env={"SOCKSIFY_LOG_LEVEL": "info"})
        self.assertSucceeded(proc, "two echoes through microsocks")
        self.assertEqual(json.loads(proc.stdout.decode().splitlines()[-1]),
                         {"first": "ok", "second": "ok"})
        self.assertLess(took, 5.0)
        # One probe for the process, then both connections sequential.
        self.assertEqual(proc.stderr.count(FALLBACK_LINE), 1, describe(proc))
        servers.wait_for(lambda: self.microsocks.log().count("connected to") >= before + 2)
        self.assertEqual(self.microsocks.log().count("connected to"), before + 2)
        self.assertNoDirectPackets()

    # -- early data (item 3) -----------------------------------------------------------
    def early(self, server, env: dict[str, str] | None = None):
        proc = self.socksify(self.python_client("early_data.py", netns.TARGET4, str(servers.ECHO_PORT)),
                             server.url(), env=env, timeout=20)
        self.assertSucceeded(proc, "early_data.py")
        return json.loads(proc.stdout.decode().splitlines()[-1]), proc

    def test_early_data_rides_behind_the_connect_request(self):
        # The server waits up to 2 s for application bytes before it answers the
        # CONNECT: with early data they are there already.
        server = self.start_test_server(await_data=2.0)
        out, proc = self.early(server, {"SOCKSIFY_EARLY_DATA": "on"})
        self.assertEqual(out["so_error"], 0, describe(proc))
        self.assertEqual(out["recv"], "hello-early\n", describe(proc))
        self.assertLess(out["writable_after"], 1.0)
        (rec,) = server.wait_records(1)
        self.assertTrue(rec.raw.startswith(bytes([5, 1, 0]) + request(servers.ECHO_PORT)), rec.to_json())
        self.assertEqual(rec.early, b"hello-early\n", rec.to_json())
        self.assertEqual(rec.outcome, "relayed")
        self.assertNoDirectPackets()

    def test_without_early_data_the_first_bytes_wait_for_the_reply(self):
        server = self.start_test_server(await_data=0.5)
        # pipeline on: under auto the server's wait for data would look like a stall.
        out, proc = self.early(server, {"SOCKSIFY_PIPELINE": "on"})
        self.assertEqual(out["recv"], "hello-early\n", describe(proc))
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.early, b"", rec.to_json())
        self.assertGreaterEqual(out["writable_after"], 0.5)

    def test_early_data_refused_connect_is_econnrefused_on_the_first_read(self):
        server = self.start_test_server(Mode.REFUSE, rep=5, await_data=2.0)
        out, proc = self.early(server, {"SOCKSIFY_EARLY_DATA": "on"})
        self.assertEqual(out["so_error"], 0, describe(proc))
        self.assertEqual(out["send"], len(b"hello-early\n"), describe(proc))
        self.assertEqual(out["recv"], "ECONNREFUSED", describe(proc))
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.early, b"hello-early\n", rec.to_json())
        self.assertEqual(rec.outcome, "refused")
        self.assertEqual(len(error_lines(proc.stderr)), 1, describe(proc))
        self.assertNoDirectPackets()

    def test_early_data_through_an_unreachable_proxy_fails_the_connect(self):
        proc = self.socksify(self.python_client("early_data.py", netns.TARGET4, str(servers.ECHO_PORT)),
                             f"socks5://{netns.PROXY4}:1", env={"SOCKSIFY_EARLY_DATA": "on"}, timeout=20)
        self.assertSucceeded(proc, "early_data.py through nothing")
        out = json.loads(proc.stdout.decode().splitlines()[-1])
        self.assertEqual(out["so_error"], errno.ECONNREFUSED, describe(proc))
        self.assertEqual(len(error_lines(proc.stderr)), 1, describe(proc))
        self.assertNoDirectPackets()

    # -- --check says whether the proxy took it (item 4) ------------------------------
    def check(self, proxy: str, env: dict[str, str] | None = None):
        target = f"{netns.TARGET4}:{servers.ECHO_PORT}"
        argv = [launcher.require_launcher(), "-x", proxy, "--check", "--check-target", target]
        # Our test server relays no UDP.
        return self.topo.run(self.topo.client, argv, timeout=60,
                             env=launcher.clean_env({"SOCKSIFY_UDP": "off", **(env or {})}))

    def test_check_reports_pipelining(self):
        taker = self.start_test_server()
        proc = self.check(taker.url())
        self.assertSucceeded(proc, "--check against a proxy that takes pipelining")
        self.assertIn(b"pipeline: ok (took greeting, auth and request in one write)", proc.stdout,
                      describe(proc))
        dropper = self.start_test_server(Mode.DROP_AFTER_GREETING, port=0)
        proc = self.check(dropper.url())
        self.assertSucceeded(proc, "--check against a proxy that drops pipelined bytes")
        self.assertIn(b"pipeline: ok (not taken (proxy does not take a pipelined handshake)",
                      proc.stdout, describe(proc))
        proc = self.check(dropper.url(), env={"SOCKSIFY_PIPELINE": "off"})
        self.assertIn(b"pipeline: skipped (pipeline off)", proc.stdout, describe(proc))

    # -- chains: hop by hop ------------------------------------------------------------
    def test_chain_hops_are_each_pipelined(self):
        server = self.start_test_server()
        since = self.danted.log_size()
        proc = self.socksify(CURL + [f"{HTTP4}/{servers.SMALL_FILE}"],
                             f"{server.url()},socks5://{netns.PROXY4}:{DANTED_PORT}",
                             env={"SOCKSIFY_PROXY_MODE": "chain", "SOCKSIFY_LOG_LEVEL": "info"})
        self.assertSucceeded(proc, "curl through test server -> danted")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        (rec,) = server.wait_records(1)
        # Hop 1 gets its greeting and the CONNECT to hop 2 in one segment; hop 2's
        # own pipelined greeting and CONNECT then arrive (relayed) after hop 1's reply.
        self.assertEqual(rec.first_read.hex(),
                         (bytes([5, 1, 0]) + request(DANTED_PORT, netns.PROXY4)).hex())
        self.assertNotIn(FALLBACK_LINE, proc.stderr)
        # danted's client is hop 1, in the proxy namespace.
        sessions = self.danted.wait_sessions(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)
        self.assertEqual([s.client_host for s in sessions], [netns.PROXY4], self.danted.log_since(since))
        self.assertNoDirectPackets()

    # -- danted takes it -------------------------------------------------------------
    def test_danted_takes_the_pipelined_handshake(self):
        since = self.danted.log_size()
        proc = self.get_small(f"socks5://{netns.PROXY4}:{DANTED_PORT}", env={"SOCKSIFY_LOG_LEVEL": "info"})
        self.assertSucceeded(proc, "curl through danted")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertNotIn(FALLBACK_LINE, proc.stderr)
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)
        self.assertNoDirectPackets()

    def test_danted_takes_the_pipelined_login(self):
        since = self.danted_auth.log_size()
        url = f"socks5://{self.user.name}:{self.user.password}@{netns.PROXY4}:{DANTED_AUTH_PORT}"
        proc = self.get_small(url, env={"SOCKSIFY_LOG_LEVEL": "info", "SOCKSIFY_PIPELINE": "on"})
        self.assertSucceeded(proc, "curl through danted with a login, pipelined")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertTrue(self.danted_auth.wait_sessions(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since),
                        self.danted_auth.log_since(since))
        self.assertNoDirectPackets()


@unittest.skipUnless(os.path.exists("/usr/sbin/sshd"), "openssh-server not installed")
class PipelineThroughSshDynamic(CapturesLink, IntegrationTest):
    """OpenSSH's `ssh -D` takes the pipelined greeting and CONNECT."""
    start = ()

    @classmethod
    def start_extra(cls) -> None:
        super().start_extra()
        cls.sshd, cls.ssh = start_ssh_dynamic(cls.topo, cls.workdir)

    def url(self) -> str:
        return f"socks5://{netns.PROXY4}:{SSH_SOCKS_PORT}"

    def forwards(self, port: int) -> int:
        # ssh -v names each forward it opens.
        return self.ssh.log().count(f"for {netns.TARGET4} port {port},")

    def test_ssh_d_takes_the_pipelined_handshake_without_a_fallback(self):
        before = self.forwards(servers.ECHO_PORT)
        proc = self.socksify(self.python_client("two_echoes.py", netns.TARGET4, str(servers.ECHO_PORT)),
                             self.url(), env={"SOCKSIFY_LOG_LEVEL": "info"}, input=b"\n", timeout=20)
        self.assertSucceeded(proc, f"two echoes through ssh -D{self.ssh.log()[-2000:]}")
        self.assertEqual(json.loads(proc.stdout.decode().splitlines()[-1]),
                         {"first": "ok", "second": "ok"})
        self.assertNotIn(FALLBACK_LINE, proc.stderr, describe(proc))
        self.assertNotIn(b"asking again one message per round trip", proc.stderr, describe(proc))
        # Two connections, two forwards: no sequential retry.
        servers.wait_for(lambda: self.forwards(servers.ECHO_PORT) >= before + 2)
        self.assertEqual(self.forwards(servers.ECHO_PORT), before + 2, self.ssh.log()[-2000:])
        self.assertNoDirectPackets("pipelined through ssh -D")

    def test_ssh_d_carries_curl_with_pipeline_on(self):
        # `on` never falls back: a server that dropped the request would fail this.
        proc = self.socksify(CURL + [f"{HTTP4}/{servers.SMALL_FILE}"], self.url(),
                             env={"SOCKSIFY_PIPELINE": "on", "SOCKSIFY_CONNECT_TIMEOUT": "3000"})
        self.assertSucceeded(proc, f"curl through ssh -D, pipeline on{self.ssh.log()[-2000:]}")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertNoDirectPackets("curl pipelined through ssh -D")

    def test_check_says_ssh_d_took_it(self):
        argv = [launcher.require_launcher(), "-x", self.url(), "--check", "--check-target",
                f"{netns.TARGET4}:{servers.ECHO_PORT}"]
        proc = self.topo.run(self.topo.client, argv, timeout=60,
                             env=launcher.clean_env({"SOCKSIFY_UDP": "off"}))
        self.assertSucceeded(proc, "--check through ssh -D")
        self.assertIn(b"pipeline: ok (took greeting, auth and request in one write)", proc.stdout,
                      describe(proc))


if __name__ == "__main__":
    unittest.main()
