"""A proxied connect() interrupted as real programs interrupt it (issue 14, items
2, 3, 9, 6): a signal handler that siglongjmps out of it (as wget's
--connect-timeout does: test_tcp_interrupt_wget), or out of the real
getaddrinfo, alarm(2) around it, pthread_cancel of the thread blocked in
it, and event loops that close sockets whose handshake is still pending.

Each case must leave socksify carrying the next connection (never a direct
packet: the client link is captured, with routes that would let one leave), the
program's socket as it was, and the errno a kernel connect() would give."""

import errno
import os
import subprocess
import time
import unittest

from harness import netns, servers, users
from harness.capture import CapturesLink
from harness.dns_sentinel import WatchesDns
from harness.socks_test_server import Mode
from harness.testcase import PYTHON, IntegrationTest, describe

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = str(servers.HTTP_PORT)


def build_connect_interrupt(workdir: str) -> str:
    """Compiles clients/connect_interrupt.c into workdir; returns its path."""
    client = os.path.join(workdir, "connect_interrupt")
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread", "-o", client,
                    os.path.join(HERE, "clients", "connect_interrupt.c")], check=True)
    return client


class InterruptedConnect(CapturesLink, IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls):
        super().start_extra()
        cls.client = build_connect_interrupt(cls.workdir)

    def run_client(self, mode: str, server, env=None, timeout: float = 30) -> dict:
        proc = self.socksify([self.client, mode, netns.TARGET4, PORT], server.url(), env=env,
                             timeout=timeout)
        self.assertSucceeded(proc, f"connect_interrupt {mode}")
        out = self.json_output(proc)
        out["_describe"] = describe(proc)
        return out

    def assertAllThroughProxy(self, server, count: int) -> None:
        recs = server.wait_records(count, done=False)
        self.assertEqual(len(recs), count, "every connect() reached the proxy")
        for rec in recs:
            self.assertEqual(rec.greeting[:1], b"\x05", rec)
        self.assertNoDirectPackets()

    def test_siglongjmp_out_of_connect_leaves_the_next_one_proxied(self):
        server = self.start_test_server(Mode.SILENCE)
        out = self.run_client("longjmp", server, env={"SOCKSIFY_CONNECT_TIMEOUT": "1500"})
        self.assertEqual(out["jumped"], 2, out["_describe"])
        self.assertFalse(out["nonblocking_after"], f"socket left O_NONBLOCK{out['_describe']}")
        self.assertAllThroughProxy(server, 2)

    def test_alarm_interrupts_connect_with_eintr(self):
        # The kernel's semantics: EINTR when the handler has no SA_RESTART, and the
        # attempt goes on; poll() then sees it end and SO_ERROR says how.
        server = self.start_test_server(Mode.SILENCE)
        out = self.run_client("alarm", server, env={"SOCKSIFY_CONNECT_TIMEOUT": "4000"})
        self.assertEqual(out["errno"], "EINTR", out["_describe"])
        self.assertGreater(out["connect_s"], 1.8, out["_describe"])
        self.assertLess(out["connect_s"], 3.0, out["_describe"])
        self.assertEqual(out["ready"], 1, out["_describe"])
        self.assertEqual(out["so_error"], "ETIMEDOUT", out["_describe"])
        self.assertGreater(out["outcome_s"], 3.5, out["_describe"])
        self.assertLess(out["outcome_s"], 6.0, out["_describe"])
        self.assertAllThroughProxy(server, 1)

    def test_alarm_with_sa_restart_lets_connect_go_on(self):
        server = self.start_test_server(Mode.SILENCE)
        out = self.run_client("alarm-restart", server, env={"SOCKSIFY_CONNECT_TIMEOUT": "2500"})
        self.assertEqual(out["errno"], "ETIMEDOUT", out["_describe"])
        self.assertGreater(out["connect_s"], 2.0, out["_describe"])
        self.assertLess(out["connect_s"], 4.5, out["_describe"])
        self.assertAllThroughProxy(server, 1)

    def test_pthread_cancel_in_connect_unwinds_cleanly(self):
        server = self.start_test_server(Mode.SILENCE)
        out = self.run_client("cancel", server, env={"SOCKSIFY_CONNECT_TIMEOUT": "1500"})
        self.assertTrue(out["cancelled"], out["_describe"])
        self.assertEqual(out["cleanup_ran"], 1, out["_describe"])
        # The thread's socket was closed by its cleanup handler, so its handshake
        # is gone; the next connect() is proxied and times out at the proxy.
        self.assertEqual(out["after"], "ETIMEDOUT", out["_describe"])
        self.assertLess(out["after_s"], 3.0, out["_describe"])
        self.assertAllThroughProxy(server, 2)
        recs = server.wait_records(2, done=True)
        self.assertTrue(recs[0].done, "the cancelled thread's handshake was abandoned")


class ResolverInterrupted(WatchesDns, CapturesLink, IntegrationTest):
    """socks5:// resolves locally: the real getaddrinfo runs under socksify's
    re-entry guard (so libc's own DNS socket goes out untouched). A handler that
    siglongjmps out of it must not leave the guard set."""
    start = ()

    @classmethod
    def start_extra(cls):
        super().start_extra()
        cls.topo.set_resolv_conf(cls.topo.client, "nameserver 127.0.0.1\noptions timeout:5 attempts:1\n")
        cls.client = build_connect_interrupt(cls.workdir)

    def test_siglongjmp_out_of_getaddrinfo_leaves_the_next_connect_proxied(self):
        server = self.start_test_server(Mode.NORMAL)
        proc = self.socksify([self.client, "gai-longjmp", netns.TARGET4, PORT, "slow.socksify.test"],
                             server.url())
        self.assertSucceeded(proc, "connect_interrupt gai-longjmp")
        out = self.json_output(proc)
        self.assertEqual(out["jumped"], 1, describe(proc))
        self.assertEqual(out["connect"], "OK", describe(proc))
        self.assertTrue(self.sentinel.names("slow"), "the resolver was asked (and never answered)")
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.port, servers.HTTP_PORT)
        self.assertNoDirectPackets()


# Run as a user allowed one process (itself): no helper thread can be created.
NO_THREADS_CLIENT = """
import errno, json, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
out = {}
for mode in ("nonblocking", "blocking"):
    s = socket.socket()
    s.setblocking(mode == "blocking")
    t0 = time.monotonic()
    rc = s.connect_ex((host, port))
    out[mode] = errno.errorcode.get(rc, str(rc)) if rc else "OK"
    out[mode + "_s"] = round(time.monotonic() - t0, 3)
    s.close()
print(json.dumps(out))
"""


class AbandonedHandshakes(CapturesLink, IntegrationTest):
    start = ()

    def test_no_helper_thread_fails_connect_at_once(self):
        server = self.start_test_server(Mode.SLOW_REPLY, delay=0.3)
        with users.TestUser() as user:
            proc = self.socksify(["setpriv", f"--reuid={user.name}", f"--regid={user.name}",
                                  "--clear-groups", "prlimit", "--nproc=1:1", PYTHON, "-c",
                                  NO_THREADS_CLIENT, netns.TARGET4, PORT], server.url())
        self.assertSucceeded(proc, "connect without threads")
        out = self.json_output(proc)
        # Never the handshake run in the caller instead (6.2 s of an event loop).
        self.assertEqual(out["nonblocking"], "EAGAIN", describe(proc))
        self.assertLess(out["nonblocking_s"], 0.1, describe(proc))
        self.assertEqual(out["blocking"], "EAGAIN", describe(proc))
        self.assertLess(out["blocking_s"], 0.1, describe(proc))
        self.assertEqual(server.records(), [], "nothing reached the proxy")
        self.assertNoDirectPackets()

    def test_closed_pending_sockets_are_cancelled_at_once(self):
        # Each server byte 0.3 s apart: the CONNECT request would follow ~0.6 s
        # after the greeting, long after the program closed the socket.
        server = self.start_test_server(Mode.SLOW_REPLY, delay=0.3)
        proc = self.socksify(self.python_client("abandoned_connects.py", netns.TARGET4, PORT, 300, 40),
                             server.url(), timeout=60)
        self.assertSucceeded(proc, "abandoned_connects.py")
        out = self.json_output(proc)
        self.assertEqual(out["started"], 300, describe(proc))
        self.assertEqual(out["errors"], {}, describe(proc))
        self.assertEqual(out["in_progress"], 300, describe(proc))
        self.assertLessEqual(out["max_threads"], 1 + 32, describe(proc))
        self.assertLess(out["slowest_connect_s"], 0.1, describe(proc))
        self.assertEqual(out["extra_fds"], 0, describe(proc))
        time.sleep(1.0)  # a handshake that went on would send its CONNECT by now
        recs = server.records()
        self.assertGreater(len(recs), 0, "no handshake ever started")
        sent = [r for r in recs if r.request]
        self.assertEqual(len(sent), 0, f"{len(sent)} of {len(recs)} CONNECTs sent after close()")
        self.assertNoDirectPackets()

    def test_a_dup_goes_on_with_the_handshake_when_the_original_is_closed(self):
        server = self.start_test_server(Mode.SLOW_REPLY, delay=0.1)
        proc = self.socksify(self.python_client("dup_pending.py", netns.TARGET4, PORT,
                                                f"/{servers.SMALL_FILE}"), server.url())
        self.assertSucceeded(proc, "dup_pending.py")
        out = self.json_output(proc)
        self.assertEqual(out["connect"], errno.EINPROGRESS, describe(proc))
        self.assertTrue(out["ready"], describe(proc))
        self.assertEqual(out["so_error"], 0, describe(proc))
        self.assertEqual(out["body"].encode("latin-1"), servers.SMALL_BODY, describe(proc))
        self.assertTrue(out["original_free"], f"the closed number stayed taken{describe(proc)}")
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.port, servers.HTTP_PORT)
        self.assertNoDirectPackets()


if __name__ == "__main__":
    unittest.main()
