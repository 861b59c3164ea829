"""SOCKS BIND (`bind on`): a program that listens for a peer to connect back, as
an FTP client in active mode does, listens at danted instead. The client namespace
cannot be reached from the target namespace at all, so a peer that reaches the
program proves the proxy carried it. Python programs only (this module also runs
with the ASan library preloaded); FTP clients: test_tcp_bind_ftp."""

import json
import socket
import unittest

from harness import launcher, netns, servers
from harness.testcase import DANTED_URL, IntegrationTest, describe

BIND_ON = {"SOCKSIFY_BIND": "on"}


class BindThroughDanted(IntegrationTest):
    start = ("danted",)

    def listen_and_connect_back(self, mode: str, env: dict[str, str],
                                host: str = netns.CLIENT4) -> tuple[dict, dict, bytes]:
        """Run bind_accept.py through the launcher; connect to where it says it listens
        from the target namespace, send a payload, read the answer."""
        argv = launcher.command(self.python_client("bind_accept.py", host, mode), DANTED_URL)
        proc = self.topo.popen(self.topo.client, argv, env=launcher.clean_env(env))
        try:
            first = json.loads(proc.stdout.readline() or b"{}")
            self.assertIn("listening", first, proc.stderr.read1() if proc.poll() is not None else b"")
            host, port = first["listening"]
            peer = self.topo.socket(self.topo.target, socket.AF_INET6 if ":" in host else socket.AF_INET)
            peer.settimeout(20)
            peer.connect((host, port))
            peer.sendall(b"hello from the target")
            peer.shutdown(2 - 1)  # SHUT_WR: the program reads to end of stream
            answer = b""
            while chunk := peer.recv(4096):
                answer += chunk
            peer.close()
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 0, f"bind_accept failed: {err.decode(errors='replace')}")
        return first, json.loads(out.splitlines()[-1]), answer

    def assertCarried(self, first: dict, result: dict, answer: bytes, v6: bool = False) -> None:
        host, port = first["listening"]
        self.assertEqual(host, netns.PROXY_OUT6 if v6 else netns.PROXY_OUT4,
                         "getsockname should name the proxy's target side")
        self.assertNotEqual(port, 0)
        self.assertEqual(result["data"], "hello from the target")
        self.assertEqual(answer, b"ack:hello from the target")
        self.assertEqual(result["peer"][0], netns.TARGET6 if v6 else netns.TARGET4, result)
        self.assertEqual(result["getpeername"], result["peer"], result)
        self.assertEqual(result["second_accept"], "EAGAIN", result)

    def test_blocking_accept_through_danted(self):
        self.assertCarried(*self.listen_and_connect_back("blocking", BIND_ON))

    def test_event_loop_accept_through_danted(self):
        self.assertCarried(*self.listen_and_connect_back("nonblocking", BIND_ON))

    def test_ipv6_listener_through_danted(self):
        self.assertCarried(*self.listen_and_connect_back("blocking", BIND_ON, host=netns.CLIENT6), v6=True)

    def test_without_bind_on_the_listener_stays_local(self):
        proc = self.socksify(["python3", "-c",
                              "import socket; s = socket.socket(); s.bind(('%s', 0)); s.listen(1);"
                              "print(s.getsockname()[0])" % netns.CLIENT4], DANTED_URL)
        self.assertSucceeded(proc, "local listener")
        self.assertEqual(proc.stdout.strip().decode(), netns.CLIENT4)

    def test_fixed_port_and_loopback_listeners_stay_local(self):
        script = ("import socket\n"
                  "a = socket.socket(); a.bind(('%s', 47011)); a.listen(1)\n"
                  "b = socket.socket(); b.bind(('127.0.0.1', 0)); b.listen(1)\n"
                  "c = socket.create_connection(b.getsockname())\n"  # a local server still works
                  "conn, _ = b.accept(); c.sendall(b'x'); print(a.getsockname()[1], conn.recv(1).decode())\n"
                  % netns.CLIENT4)
        proc = self.socksify(["python3", "-c", script], DANTED_URL, env=BIND_ON)
        self.assertSucceeded(proc, "local listeners with bind on")
        self.assertEqual(proc.stdout.split(), [b"47011", b"x"], describe(proc))

    def test_bound_socket_that_connects_instead_is_proxied_as_usual(self):
        # bind to port 0, look at the address (opens a BIND), then connect: the
        # socket becomes a plain one and the connect goes through the proxy.
        since = self.danted.log_size()
        script = ("import socket\n"
                  "s = socket.socket(); s.bind(('%s', 0)); s.getsockname()\n"
                  "s.connect(('%s', %d)); s.sendall(b'GET /%s HTTP/1.0\\r\\n\\r\\n')\n"
                  "print(s.makefile('rb').read().split(b'\\r\\n\\r\\n', 1)[1].decode(), end='')\n"
                  % (netns.CLIENT4, netns.TARGET4, servers.HTTP_PORT, servers.SMALL_FILE))
        proc = self.socksify(["python3", "-c", script], DANTED_URL, env=BIND_ON)
        self.assertSucceeded(proc, "bind then connect")
        self.assertEqual(proc.stdout, servers.SMALL_BODY, describe(proc))
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)

    def test_dead_proxy_fails_listen_closed(self):
        script = ("import socket\n"
                  "s = socket.socket(); s.bind(('%s', 0))\n"
                  "try:\n    s.listen(1); print('listening', s.getsockname())\n"
                  "except OSError as e:\n    print('listen', e.errno)\n" % netns.CLIENT4)
        proc = self.socksify(["python3", "-c", script], f"socks5://{netns.PROXY4}:1099", env=BIND_ON)
        self.assertSucceeded(proc, "listen with a dead proxy")
        self.assertEqual(proc.stdout.strip(), b"listen 111", describe(proc))
        self.assertEqual(len(launcher.error_lines(proc.stderr)), 1, describe(proc))


if __name__ == "__main__":
    unittest.main()
