"""A blocking connect() runs its handshake on the caller's own thread, with its
signals held, for at most 10 ms (core/inline_handshake.hpp); a handshake still
unfinished then goes to a worker, which replays what was sent and read and goes
on from there, while the caller waits interruptibly as before.

Each case checks what the proxy saw (one connection, the handshake's bytes
exactly once), the bytes through the tunnel, the errno a kernel connect() would
give, and that no packet left the client for anything but the proxy. The
interruption cases of test_tcp_interrupt run again here with the handshake
started inline (pipelining decided: SOCKSIFY_PIPELINE=on)."""

import os
import time
import unittest

import test_tcp_interrupt as interrupt
from test_tcp_http_connect import ScriptedHttpProxy
from harness import netns, servers
from harness.capture import CapturesLink
from harness.socks_test_server import Mode
from harness.testcase import PYTHON, IntegrationTest, describe

HERE = os.path.dirname(os.path.abspath(__file__))
INLINE = {"SOCKSIFY_PIPELINE": "on"}

# N blocking connects (no timeout: Python leaves the socket blocking), each an
# echo round trip.
BLOCKING_ECHOES = """
import json, socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = {"ok": 0, "errors": []}
for i in range(n):
    s = socket.socket()
    rc = s.connect_ex((host, port))
    if rc:
        out["errors"].append(rc)
        s.close()
        continue
    msg = b"ping %d" % i
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        b = s.recv(64)
        if not b:
            break
        got += b
    out["ok"] += got == msg
    s.close()
print(json.dumps(out))
"""

SOCKS5_GREETING = b"\x05\x01\x00"


def socks5_request(port: int) -> bytes:
    return b"\x05\x01\x00\x01" + bytes(map(int, netns.TARGET4.split("."))) + port.to_bytes(2, "big")


class InlineHandshake(CapturesLink, IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls):
        super().start_extra()
        cls.client = interrupt.build_connect_interrupt(cls.workdir)

    def echoes(self, server, n: int, scheme: str = "socks5") -> dict:
        proc = self.socksify([PYTHON, "-c", BLOCKING_ECHOES, netns.TARGET4, str(servers.ECHO_PORT),
                              str(n)], server.url(scheme), env=INLINE)
        self.assertSucceeded(proc, "blocking echoes")
        out = self.json_output(proc)
        out["_describe"] = describe(proc)
        return out

    def assertOneHandshakeEach(self, server, count: int, expected_raw: bytes) -> None:
        recs = server.wait_records(count)
        self.assertEqual(len(recs), count, "one proxy connection per connect()")
        for rec in recs:
            # Sent once: a hand-off replays the record, it never writes again.
            self.assertEqual(rec.raw, expected_raw, rec)
            self.assertEqual(rec.outcome, "relayed", rec)
        self.assertNoDirectPackets()

    def test_fast_proxy_connects_finish_inline(self):
        server = self.start_test_server(Mode.NORMAL)
        out = self.echoes(server, 20)
        self.assertEqual(out["errors"], [], out["_describe"])
        self.assertEqual(out["ok"], 20, out["_describe"])
        self.assertOneHandshakeEach(server, 20, SOCKS5_GREETING + socks5_request(servers.ECHO_PORT))

    def test_slow_socks5_reply_is_handed_off_and_replayed(self):
        # 12 reply bytes 15 ms apart: the window closes after the first, mid-reply.
        server = self.start_test_server(Mode.SLOW_REPLY, delay=0.015)
        out = self.echoes(server, 3)
        self.assertEqual(out["errors"], [], out["_describe"])
        self.assertEqual(out["ok"], 3, out["_describe"])
        self.assertOneHandshakeEach(server, 3, SOCKS5_GREETING + socks5_request(servers.ECHO_PORT))

    def test_slow_socks4_reply_is_handed_off_and_replayed(self):
        server = self.start_test_server(Mode.SLOW_REPLY, delay=0.015)
        out = self.echoes(server, 3, scheme="socks4")
        self.assertEqual(out["errors"], [], out["_describe"])
        self.assertEqual(out["ok"], 3, out["_describe"])
        request = (b"\x04\x01" + servers.ECHO_PORT.to_bytes(2, "big") +
                   bytes(map(int, netns.TARGET4.split("."))) + b"\x00")
        self.assertOneHandshakeEach(server, 3, request)

    def handler_connects(self, restart: bool) -> tuple[dict, object]:
        server = self.start_test_server(Mode.SLOW_REPLY, delay=0.01)
        proc = self.socksify([self.client, "handler-connects", netns.TARGET4, str(servers.ECHO_PORT),
                              "restart" if restart else "norestart"], server.url(), env=INLINE)
        self.assertSucceeded(proc, "connect_interrupt handler-connects")
        out = self.json_output(proc)
        out["_describe"] = describe(proc)
        return out, server

    def test_handler_that_connects_during_an_inline_handshake(self):
        # The 3 ms timer fires while the signals are held: its handler runs when
        # they are given back, outside socksify's frames, and its own connect()
        # is proxied like any other; the SA_RESTART connect() then goes on.
        out, server = self.handler_connects(restart=True)
        self.assertEqual(out["handler"], "OK", out["_describe"])
        self.assertEqual(out["errno"], "OK", out["_describe"])
        recs = server.wait_records(2, done=False)
        self.assertEqual(len(recs), 2, out["_describe"])
        self.assertNoDirectPackets()

    def test_handler_without_sa_restart_interrupts_with_eintr(self):
        # A signal held during the window interrupts as it would have interrupted
        # the kernel's connect(): EINTR at the hand-off, and the attempt goes on.
        out, server = self.handler_connects(restart=False)
        self.assertEqual(out["handler"], "OK", out["_describe"])
        self.assertEqual(out["errno"], "EINTR", out["_describe"])
        # Back right after the handler (whose own connect took ~0.12 s), not
        # after the main handshake's end too.
        self.assertLess(out["connect_s"], 1.0, out["_describe"])
        self.assertEqual(out["ready"], 1, out["_describe"])
        self.assertEqual(out["so_error"], "OK", out["_describe"])
        recs = server.wait_records(2, done=False)
        self.assertEqual(len(recs), 2, out["_describe"])
        self.assertNoDirectPackets()


DRIBBLE_PORT = 3130


class DribblingHttpProxy(ScriptedHttpProxy):
    """An HTTP CONNECT proxy in the proxy namespace that answers 200 one byte per
    `delay` seconds, then a banner (the tunnel's first bytes), then closes: the
    inline window closes mid-reply and the worker must go on from there without
    swallowing the banner."""

    def __init__(self, topo, delay: float, banner: bytes):
        self.delay = delay
        super().__init__(topo, b"HTTP/1.1 200 Connection established\r\n\r\n", banner,
                         port=DRIBBLE_PORT)

    def respond(self, conn) -> None:
        for i in range(len(self.reply)):
            conn.sendall(self.reply[i:i + 1])
            time.sleep(self.delay)
        conn.sendall(self.banner)


BANNER_CLIENT = (
    "import json, socket, sys\n"
    "s = socket.socket()\n"
    "rc = s.connect_ex((sys.argv[1], int(sys.argv[2])))\n"
    "data = b''\n"
    "while not rc and len(data) < int(sys.argv[3]):\n"
    "    c = s.recv(100)\n"
    "    if not c: break\n"
    "    data += c\n"
    "print(json.dumps({'rc': rc, 'data': data.decode('latin-1')}))\n")


class InlineHttpConnect(CapturesLink, IntegrationTest):
    start = ()

    def test_slow_http_reply_is_handed_off_and_the_banner_kept(self):
        # 39 reply bytes 3 ms apart: the window closes a few bytes in.
        proxy = DribblingHttpProxy(self.topo, 0.003, b"BANNER")
        self.addCleanup(proxy.stop)
        proc = self.socksify([PYTHON, "-c", BANNER_CLIENT, netns.TARGET4, str(servers.ECHO_PORT), "6"],
                             f"http://{netns.PROXY4}:{DRIBBLE_PORT}")
        self.assertSucceeded(proc, "banner client")
        out = self.json_output(proc)
        self.assertEqual(out, {"rc": 0, "data": "BANNER"}, describe(proc))
        self.assertEqual(len(proxy.requests), 1, "one CONNECT, sent once")
        self.assertTrue(proxy.requests[0].startswith(
            f"CONNECT {netns.TARGET4}:{servers.ECHO_PORT} HTTP/1.1\r\n".encode()), proxy.requests)
        self.assertEqual(proxy.requests[0].count(b"CONNECT"), 1, proxy.requests)
        self.assertNoDirectPackets()


class InterruptedInlineConnect(interrupt.InterruptedConnect):
    """test_tcp_interrupt's siglongjmp, alarm, SA_RESTART and pthread_cancel cases
    with the handshake begun inline and handed off (the silent proxy never
    answers within the window)."""

    def run_client(self, mode: str, server, env=None, timeout: float = 30) -> dict:
        return super().run_client(mode, server, env=dict(env or {}, **INLINE), timeout=timeout)


if __name__ == "__main__":
    unittest.main()
