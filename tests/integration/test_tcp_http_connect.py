"""HTTP CONNECT upstreams (http://[user:pass@]host[:port], issue 13): tinyproxy
carries curl, wget, a Python echo client and node; its 407 and 403 become EACCES and
one line; a non-blocking connect stays EINPROGRESS at once; a scripted proxy
sees the exact request bytes and answers garbage or oversized replies, which
fail cleanly (EPROTO). UDP through an HTTP proxy is refused, never sent direct."""

import os
import socket
import threading
import time
import unittest

from harness import launcher, netns, servers
from harness.capture import CapturesLink
from harness.dns_sentinel import WatchesDns
from harness.testcase import CLIENTS, IntegrationTest, describe

TP_PORT = 3128
TP_AUTH_PORT = 3129
USER, PASSWORD = "alice", "Tiny-Secret-42"
OPEN_URL = f"http://{netns.PROXY4}:{TP_PORT}"
AUTH_URL = f"http://{USER}:{PASSWORD}@{netns.PROXY4}:{TP_AUTH_PORT}"
CURL = ["curl", "-sS", "--fail", "--max-time", "30"]
NODE = "/usr/bin/node"
SCRIPTED_PORT = 3130
NOT_ALLOWED_PORT = 2121  # no ConnectPort for it: tinyproxy answers 403


class TinyproxyCarries(CapturesLink, IntegrationTest):
    start = ("danted",)

    @classmethod
    def start_extra(cls) -> None:
        super().start_extra()
        cls.tp = servers.start_tinyproxy(cls.topo, cls.workdir, port=TP_PORT)
        cls.tp_auth = servers.start_tinyproxy(cls.topo, cls.workdir, port=TP_AUTH_PORT,
                                              auth=(USER, PASSWORD))

    def curl(self, proxy: str):
        proc = self.socksify(CURL + [f"http://{netns.TARGET4}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"],
                             proxy)
        self.assertSucceeded(proc, "curl")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        (rec,) = self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertNoDirectPackets()
        return proc

    def test_curl_through_tinyproxy(self):
        self.curl(OPEN_URL)
        self.assertIn(f"CONNECT {netns.TARGET4}:{servers.HTTP_PORT}", self.tp.log())

    def test_curl_through_tinyproxy_with_basic_auth(self):
        proc = self.curl(AUTH_URL)
        self.assertNotIn(PASSWORD.encode(), proc.stderr)

    def test_wget_through_tinyproxy(self):
        proc = self.socksify(["wget", "-q", "--tries=1", "--timeout=30", "-O", "-",
                              f"http://{netns.TARGET4}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"],
                             AUTH_URL)
        self.assertSucceeded(proc, "wget")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertNoDirectPackets()

    def test_python_echo_through_tinyproxy(self):
        size = 256 * 1024 + 1
        proc = self.socksify(self.python_client("echo_client.py", netns.TARGET4, servers.ECHO_PORT, size),
                             AUTH_URL)
        self.assertSucceeded(proc, "echo client")
        result = self.json_output(proc)
        self.assertTrue(result["ok"], describe(proc))
        self.assertEqual(result["received"], size)
        self.assertEqual(result["sha256"], result["expected_sha256"])
        self.assertEqual(result["peer"], [netns.TARGET4, servers.ECHO_PORT], describe(proc))
        self.assertEchoServed(min_bytes=size)
        self.assertNoDirectPackets()

    def test_node_through_tinyproxy(self):
        proc = self.socksify([NODE, os.path.join(CLIENTS, "http_get.js"),
                              f"http://{netns.TARGET4}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"],
                             OPEN_URL)
        self.assertSucceeded(proc, "node http.get")
        out = self.json_output(proc)
        self.assertEqual(out["status"], 200, describe(proc))
        self.assertEqual(out["bytes"], len(servers.SMALL_BODY), describe(proc))
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertNoDirectPackets()

    def connect_errno(self, proxy: str, port: int, mode: str = "blocking") -> tuple[dict, object]:
        proc = self.socksify(self.python_client("connect_errno.py", netns.TARGET4, port, mode), proxy)
        self.assertNoCrash(proc)
        return self.json_output(proc), proc

    def assertOneErrorLine(self, proc, *texts: str) -> None:
        lines = launcher.error_lines(proc.stderr)
        self.assertEqual(len(lines), 1, describe(proc))
        self.assertTrue(any(t.encode() in lines[0] for t in texts), describe(proc))
        self.assertNotIn(PASSWORD.encode(), proc.stderr, describe(proc))

    def test_wrong_password_is_eacces_with_one_line(self):
        url = f"http://{USER}:wrong@{netns.PROXY4}:{TP_AUTH_PORT}"
        result, proc = self.connect_errno(url, servers.ECHO_PORT)
        self.assertEqual(result["errno"], "EACCES", describe(proc))
        # tinyproxy answers wrong credentials with 401 (407 is for none at all)
        self.assertOneErrorLine(proc, "401", "407")
        self.assertEqual(self.echo.records("tcp"), [])
        self.assertNoDirectPackets()

    def test_no_credentials_is_eacces(self):
        result, proc = self.connect_errno(f"http://{netns.PROXY4}:{TP_AUTH_PORT}", servers.ECHO_PORT)
        self.assertEqual(result["errno"], "EACCES", describe(proc))
        self.assertOneErrorLine(proc, "407")

    def test_port_not_allowed_is_eacces_with_one_line(self):
        result, proc = self.connect_errno(OPEN_URL, NOT_ALLOWED_PORT)
        self.assertEqual(result["errno"], "EACCES", describe(proc))
        self.assertOneErrorLine(proc, "403")
        self.assertNoDirectPackets()

    def test_nonblocking_connect_is_einprogress_at_once(self):
        result, proc = self.connect_errno(OPEN_URL, servers.ECHO_PORT, "nonblocking")
        self.assertEqual(result["connect_returned"], "EINPROGRESS", describe(proc))
        self.assertLess(result["connect_call_s"], 0.5, describe(proc))
        self.assertEqual(result["errno"], "OK", describe(proc))
        self.assertNoDirectPackets()

    def test_failover_past_an_http_proxy_that_hangs_up_unanswered(self):
        silent = ScriptedHttpProxy(self.topo, b"")  # reads the request, closes without a byte
        self.addCleanup(silent.stop)
        first = f"http://{netns.PROXY4}:{SCRIPTED_PORT}"
        result, proc = self.connect_errno(f"{first},{OPEN_URL}", servers.ECHO_PORT)
        self.assertEqual(result["errno"], "OK", describe(proc))
        self.assertEqual(len(silent.requests), 1, describe(proc))
        self.assertTrue(self.echo.wait_records("tcp", 1), describe(proc))
        self.assertNoDirectPackets()

    def test_a_refusing_http_proxy_is_final(self):
        refusing = ScriptedHttpProxy(self.topo, b"HTTP/1.1 403 Forbidden\r\n\r\n")
        self.addCleanup(refusing.stop)
        first = f"http://{netns.PROXY4}:{SCRIPTED_PORT}"
        since = len(self.tp.log())
        result, proc = self.connect_errno(f"{first},{OPEN_URL}", servers.ECHO_PORT)
        self.assertEqual(result["errno"], "EACCES", describe(proc))
        self.assertOneErrorLine(proc, "403")
        self.assertEqual(len(refusing.requests), 1, describe(proc))
        self.assertNotIn("CONNECT", self.tp.log()[since:])  # the second proxy never asked
        self.assertNoDirectPackets()

    def test_chain_socks5_then_http(self):
        from harness.testcase import DANTED_URL
        since = self.danted.log_size()
        before = len(self.tp.log())
        proc = self.socksify(self.python_client("echo_client.py", netns.TARGET4, servers.ECHO_PORT, 4096),
                             f"{DANTED_URL},{OPEN_URL}", env={"SOCKSIFY_PROXY_MODE": "chain"})
        self.assertSucceeded(proc, "echo client through danted then tinyproxy")
        self.assertTrue(self.json_output(proc)["ok"], describe(proc))
        self.assertDantedCarried(f"{netns.PROXY4}.{TP_PORT}", since=since)  # danted reached tinyproxy
        self.assertIn(f"CONNECT {netns.TARGET4}:{servers.ECHO_PORT}", self.tp.log()[before:])
        self.assertNoDirectPackets()

    def test_check_reaches_the_target_and_fails_udp_without_sending(self):
        argv = [launcher.require_launcher(), "-x", AUTH_URL, "--check", "--check-target",
                f"{netns.TARGET4}:{servers.ECHO_PORT}"]
        proc = self.topo.run(self.topo.client, argv, timeout=60, env=launcher.clean_env())
        self.assertNoCrash(proc)
        out = proc.stdout.decode("utf-8", "replace")
        self.assertIn(f"connect {netns.TARGET4}:{servers.ECHO_PORT}: ok", out, describe(proc))
        self.assertNotIn("proxy chose", out, describe(proc))  # no SOCKS5 method read from HTTP bytes
        self.assertIn(f"auth: ok (Basic credentials for user '{USER}' sent with CONNECT)", out,
                      describe(proc))
        self.assertIn("an HTTP proxy carries TCP only", out, describe(proc))
        self.assertNotEqual(proc.returncode, 0, describe(proc))  # UDP on (the default) cannot pass
        self.assertNotIn(PASSWORD.encode(), proc.stdout + proc.stderr)
        self.assertTrue(self.echo.wait_records("tcp", 1), describe(proc))
        proc = self.topo.run(self.topo.client, argv, timeout=60, env=launcher.clean_env(
            {"SOCKSIFY_UDP": "off"}))
        self.assertEqual(proc.returncode, 0, describe(proc))
        self.assertNoDirectPackets()

    def test_udp_through_an_http_proxy_is_refused_not_direct(self):
        udp = servers.start_udp_echo(self.topo, self.workdir, port=servers.ECHO_PORT + 10)
        proc = self.socksify(self.python_client("udp_client.py", "send", netns.TARGET4,
                                                servers.ECHO_PORT + 10), OPEN_URL)
        self.assertNoCrash(proc)
        result = self.json_output(proc)
        self.assertNotEqual(result.get("errno"), "OK", describe(proc))
        lines = launcher.error_lines(proc.stderr)
        self.assertEqual(len(lines), 1, describe(proc))
        self.assertIn(b"HTTP", lines[0], describe(proc))
        self.assertEqual(udp.records("udp"), [])
        self.assertNoDirectPackets()


NAME = "target.socksify.test"


class NamesGoToTheHttpProxy(WatchesDns, CapturesLink, IntegrationTest):
    """http:// is remote DNS: the program's name travels in the CONNECT line and
    tinyproxy resolves it from the proxy namespace's /etc/hosts; no query leaves."""
    start = ()

    @classmethod
    def start_extra(cls) -> None:
        super().start_extra()
        dns = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
        cls.topo.set_resolv_conf(cls.topo.client, dns)
        cls.topo.set_hosts(cls.topo.client, "127.0.0.1 localhost\n::1 localhost\n")
        cls.topo.set_resolv_conf(cls.topo.proxy, dns)
        cls.topo.set_hosts(cls.topo.proxy, f"127.0.0.1 localhost\n{netns.TARGET4} {NAME}\n")
        cls.tp = servers.start_tinyproxy(cls.topo, cls.workdir, port=TP_PORT)

    def test_curl_by_name_through_tinyproxy(self):
        proc = self.socksify(CURL + [f"http://{NAME}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"],
                             OPEN_URL)
        self.assertSucceeded(proc, "curl by name")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertIn(f"CONNECT {NAME}:{servers.HTTP_PORT}", self.tp.log())
        self.assertNoDnsLeak()
        self.assertNoDirectPackets()


class ScriptedHttpProxy:
    """A one-shot-per-connection HTTP proxy in the proxy namespace: records the
    bytes up to CRLFCRLF, answers `reply`, then sends `banner` as the tunnel's
    first bytes and closes."""

    def __init__(self, topo, reply: bytes, banner: bytes = b"", port: int = SCRIPTED_PORT):
        self.reply, self.banner = reply, banner
        self.requests: list[bytes] = []
        self.sock = topo.socket(topo.proxy, socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((netns.PROXY4, port))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stop_flag = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        deadline = time.monotonic() + 60
        while not self.stop_flag and time.monotonic() < deadline:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while b"\r\n\r\n" not in data and len(data) < 65536:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    self.requests.append(data)
                    self.respond(conn)
                    time.sleep(0.2)
                except OSError:
                    pass

    def respond(self, conn) -> None:
        # reply and banner in one segment: the client must not swallow the banner
        conn.sendall(self.reply + self.banner)

    def stop(self):
        self.stop_flag = True
        self.thread.join(5)
        self.sock.close()


# Reads the tunnel's first bytes (the proxy's banner) right after connect.
BANNER_CLIENT = (
    "import json, socket, sys\n"
    "s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)\n"
    "try:\n"
    "    s.connect((sys.argv[1], int(sys.argv[2])))\n"
    "    s.settimeout(5)\n"
    "    data = b''\n"
    "    while len(data) < int(sys.argv[3]):\n"
    "        c = s.recv(100)\n"
    "        if not c: break\n"
    "        data += c\n"
    "    print(json.dumps({'errno': 'OK', 'data': data.decode('latin-1')}))\n"
    "except OSError as e:\n"
    "    import errno\n"
    "    print(json.dumps({'errno': errno.errorcode.get(e.errno, str(e.errno))}))\n")


class ScriptedProxyReplies(CapturesLink, IntegrationTest):
    start = ()

    def scripted(self, reply: bytes, banner: bytes = b"") -> ScriptedHttpProxy:
        server = ScriptedHttpProxy(self.topo, reply, banner)
        self.addCleanup(server.stop)
        return server

    def banner_client(self, proxy_url: str, host: str, want: int):
        proc = self.socksify(["/usr/bin/python3", "-c", BANNER_CLIENT, host, str(servers.ECHO_PORT),
                              str(want)], proxy_url)
        self.assertNoCrash(proc)
        return self.json_output(proc), proc

    URL = f"http://{netns.PROXY4}:{SCRIPTED_PORT}"

    def test_exact_request_bytes_and_tunnel_bytes_kept(self):
        server = self.scripted(b"HTTP/1.1 200 Connection established\r\nX-A: b\r\n\r\n", b"BANNER-1")
        result, proc = self.banner_client(self.URL, netns.TARGET4, 8)
        self.assertEqual(result, {"errno": "OK", "data": "BANNER-1"}, describe(proc))
        self.assertEqual(server.requests, [f"CONNECT {netns.TARGET4}:{servers.ECHO_PORT} HTTP/1.1\r\n"
                                           f"Host: {netns.TARGET4}:{servers.ECHO_PORT}\r\n\r\n".encode()])
        self.assertNoDirectPackets()

    def test_exact_request_bytes_ipv6_and_basic_auth(self):
        server = self.scripted(b"HTTP/1.0 200 OK\r\n\r\n", b"B6")
        url = f"http://Aladdin:open%20sesame@{netns.PROXY4}:{SCRIPTED_PORT}"
        result, proc = self.banner_client(url, netns.TARGET6, 2)
        self.assertEqual(result, {"errno": "OK", "data": "B6"}, describe(proc))
        self.assertEqual(server.requests, [f"CONNECT [{netns.TARGET6}]:{servers.ECHO_PORT} HTTP/1.1\r\n"
                                           f"Host: [{netns.TARGET6}]:{servers.ECHO_PORT}\r\n"
                                           "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"
                                           "\r\n".encode()])
        self.assertNoDirectPackets()

    def failed(self, reply: bytes, errno_name: str):
        self.scripted(reply)
        result, proc = self.banner_client(self.URL, netns.TARGET4, 1)
        self.assertEqual(result["errno"], errno_name, describe(proc))
        self.assertEqual(len(launcher.error_lines(proc.stderr)), 1, describe(proc))
        self.assertNoDirectPackets()

    def test_garbage_reply_is_eproto(self):
        self.failed(b"\x05\x00\x00\x01garbage\r\n\r\n", "EPROTO")

    def test_oversized_reply_is_eproto(self):
        self.failed(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 20000 + b"\r\n\r\n", "EPROTO")

    def test_502_is_ehostunreach(self):
        self.failed(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", "EHOSTUNREACH")

    def test_504_is_etimedout(self):
        self.failed(b"HTTP/1.1 504 Gateway Timeout\r\n\r\n", "ETIMEDOUT")


if __name__ == "__main__":
    unittest.main()
