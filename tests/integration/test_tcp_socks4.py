"""SOCKS4 and SOCKS4a upstreams (socks4://, socks4a://): curl and a Python echo
client through danted speaking v4 (danted has no 4a), the exact request bytes
our test server saw (USERID, the 0.0.0.x form and the name for 4a), every v4
reply code -> errno with one error line, an IPv6 destination and UDP refused;
socks4a through OpenSSH's `ssh -D` (4, 4a and 5) by address and by name.
Nothing leaves the client for anything but the proxy."""

import errno
import os
import socket
import threading
import unittest

from harness import netns, servers
from harness.ssh_dynamic import SSH_SOCKS_PORT, start_ssh_dynamic
from harness.capture import CapturesLink
from harness import launcher
from harness.launcher import error_lines
from harness.socks_test_server import ATYP_NAME, Mode
from harness.testcase import DANTED_PORT, HTTP4, IntegrationTest, describe

DANTED4 = f"socks4://{netns.PROXY4}:{DANTED_PORT}"
NAME = "target.socksify.test"
CURL = ["curl", "-sS", "--fail", "--max-time", "20"]


class Socks4ThroughLauncher(CapturesLink, IntegrationTest):
    start = ("danted",)

    def connect_errno(self, proxy: str, host: str = netns.TARGET4,
                      port: int = servers.HTTP_PORT) -> tuple[dict, object]:
        proc = self.socksify(self.python_client("connect_errno.py", host, port, "blocking"), proxy)
        self.assertSucceeded(proc, "connect_errno.py (it reports the errno, it does not fail)")
        return self.json_output(proc), proc

    def assertOneErrorLine(self, proc, text: bytes) -> None:
        lines = error_lines(proc.stderr)
        self.assertEqual(len(lines), 1, describe(proc))
        self.assertIn(text, lines[0], describe(proc))

    # -- danted, a real v4 server -------------------------------------------------
    def test_curl_through_danted_socks4(self):
        since = self.danted.log_size()
        proc = self.socksify(CURL + [f"{HTTP4}/{servers.SMALL_FILE}"], DANTED4)
        self.assertSucceeded(proc, "curl over socks4")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)
        self.assertNoDirectPackets("curl over socks4")

    def test_python_echo_through_danted_socks4(self):
        size = 256 * 1024 + 7
        since = self.danted.log_size()
        proc = self.socksify(self.python_client("echo_client.py", netns.TARGET4, servers.ECHO_PORT, size),
                             DANTED4)
        self.assertSucceeded(proc, "echo client over socks4")
        result = self.json_output(proc)
        self.assertTrue(result["ok"], describe(proc))
        self.assertEqual(result["received"], size)
        self.assertEqual(result["peer"], [netns.TARGET4, servers.ECHO_PORT], describe(proc))
        self.assertEchoServed(min_bytes=size)
        (sess,) = self.assertDantedCarried(f"{netns.TARGET4}.{servers.ECHO_PORT}", since=since)
        self.assertEqual((sess.from_client, sess.to_client), (size, size), sess)
        self.assertNoDirectPackets("echo over socks4")

    # -- exact bytes ---------------------------------------------------------------
    def test_socks4_request_bytes_carry_ip_port_and_userid(self):
        server = self.start_test_server()
        proc = self.socksify(CURL + [f"{HTTP4}/{servers.SMALL_FILE}"], server.url("socks4", "fred"))
        self.assertSucceeded(proc, "curl over socks4 with a user id")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        (rec,) = server.wait_records(1)
        # VN=4 CD=1 DSTPORT=8080 DSTIP=10.200.1.2 USERID="fred" NUL, and nothing before our reply.
        self.assertEqual(rec.raw, bytes([4, 1, 0x1F, 0x90, 10, 200, 1, 2]) + b"fred\0", rec)
        self.assertEqual(rec.request, rec.raw)
        self.assertEqual(rec.reply[:2], bytes([0, 90]))
        self.assertEqual(rec.outcome, "relayed")
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertNoDirectPackets("socks4 request bytes")

    def test_socks4a_sends_the_name_after_0_0_0_1(self):
        server = self.start_test_server(hosts={NAME: netns.TARGET4})
        proc = self.socksify(CURL + [f"http://{NAME}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"],
                             server.url("socks4a", "u"))
        self.assertSucceeded(proc, "curl by name over socks4a")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.raw, bytes([4, 1, 0x1F, 0x90, 0, 0, 0, 1]) + b"u\0" + NAME.encode() + b"\0",
                         rec)
        self.assertEqual((rec.atyp, rec.address, rec.user_id), (ATYP_NAME, NAME, b"u"))
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertNoDirectPackets("socks4a by name")

    # -- refusals ------------------------------------------------------------------
    def test_every_v4_reply_code_gives_its_errno(self):
        for cd, name in ((91, "ECONNREFUSED"), (92, "EACCES"), (93, "EACCES")):
            with self.subTest(cd=cd):
                server = self.start_test_server(Mode.REFUSE, rep=cd, port=1091 + cd - 91)
                result, proc = self.connect_errno(server.url("socks4"))
                self.assertEqual(result["errno"], name, describe(proc))
                self.assertOneErrorLine(proc, b"SOCKS4")
                (rec,) = server.wait_records(1)
                self.assertEqual(rec.reply, bytes([0, cd, 0, 0, 0, 0, 0, 0]))
        self.assertEqual(self.http.records("http"), [], "the target was reached although refused")
        self.assertNoDirectPackets("refused v4 connects")

    def test_malformed_reply_is_eproto(self):
        # A SOCKS5 server's method choice where a v4 reply should be.
        server = self.start_test_server(Mode.RAW_REPLY, raw_reply=bytes([5, 0, 0, 0, 0, 0, 0, 0]))
        result, proc = self.connect_errno(server.url("socks4"))
        self.assertEqual(result["errno"], "EPROTO", describe(proc))
        self.assertOneErrorLine(proc, b"malformed SOCKS4 reply")
        self.assertNoDirectPackets("malformed v4 reply")

    def test_ipv6_destination_is_refused_with_eafnosupport(self):
        server = self.start_test_server()
        result, proc = self.connect_errno(server.url("socks4"), netns.TARGET6)
        self.assertEqual(result["errno"], "EAFNOSUPPORT", describe(proc))
        self.assertOneErrorLine(proc, b"SOCKS4 cannot carry an IPv6 destination")
        # Refused before a request byte went out.
        for rec in server.wait_records(1):
            self.assertEqual(rec.request, b"", rec)
        self.assertNoDirectPackets("IPv6 over socks4")

    def test_udp_is_refused_never_sent_direct(self):
        proc = self.socksify(self.python_client("udp_client.py", "send", netns.TARGET4, servers.ECHO_PORT),
                             DANTED4)
        self.assertNoCrash(proc)
        result = self.json_output(proc)
        self.assertFalse(result["ok"], describe(proc))
        self.assertEqual(result["errno"], errno.EOPNOTSUPP, describe(proc))
        self.assertOneErrorLine(proc, b"a SOCKS4 proxy carries TCP only")
        self.assertNoDirectPackets("UDP over socks4")

    def test_check_connects_over_socks4_and_fails_udp_without_sending(self):
        argv = [launcher.require_launcher(), "-x", f"socks4://fred@{netns.PROXY4}:{DANTED_PORT}", "--check",
                "--check-target", f"{netns.TARGET4}:{servers.ECHO_PORT}"]
        proc = self.topo.run(self.topo.client, argv, timeout=60, env=launcher.clean_env(None))
        self.assertNoCrash(proc)
        self.assertIn(f"  connect {netns.TARGET4}:{servers.ECHO_PORT}: ok".encode(), proc.stdout, describe(proc))
        self.assertIn(b"  greeting: skipped (SOCKS4 has none)", proc.stdout, describe(proc))
        self.assertIn(b"  auth: skipped (SOCKS4 sends the user id in the request)", proc.stdout, describe(proc))
        # No UDP ASSOCIATE is sent to a SOCKS4 proxy (it would have been a CONNECT to 0.0.0.0:0):
        # with UDP on (the default) the step fails, saying why, and so does --check.
        self.assertIn(b"  udp associate: FAILED: a SOCKS4 proxy carries TCP only", proc.stdout, describe(proc))
        self.assertNotEqual(proc.returncode, 0, describe(proc))
        self.assertEchoServed(min_bytes=0)  # --check connects and closes, sending nothing
        proc = self.topo.run(self.topo.client, argv, timeout=60, env=launcher.clean_env({"SOCKSIFY_UDP": "off"}))
        self.assertEqual(proc.returncode, 0, describe(proc))
        self.assertNoDirectPackets("--check over socks4")

    def test_password_in_a_socks4_url_is_refused(self):
        proc = self.socksify(CURL + [f"{HTTP4}/{servers.SMALL_FILE}"],
                             f"socks4://fred:hunter2@{netns.PROXY4}:{DANTED_PORT}")
        self.assertNotEqual(proc.returncode, 0, describe(proc))
        self.assertIn(b"SOCKS4 has no password", proc.stderr, describe(proc))
        self.assertNotIn(b"hunter2", proc.stderr, describe(proc))
        self.assertNoDirectPackets("socks4 URL with a password")


PROXY_LOCAL_PORT = 7011


@unittest.skipUnless(os.path.exists("/usr/sbin/sshd"), "openssh-server not installed")
class Socks4aThroughSshDynamic(CapturesLink, IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls) -> None:
        super().start_extra()
        cls.sshd, cls.ssh = start_ssh_dynamic(cls.topo, cls.workdir)

    def test_curl_and_python_echo_over_socks4a_through_ssh_d(self):
        url = f"socks4a://{netns.PROXY4}:{SSH_SOCKS_PORT}"
        proc = self.socksify(CURL + [f"{HTTP4}/{servers.SMALL_FILE}"], url)
        self.assertSucceeded(proc, f"curl over socks4a through ssh -D{self.ssh.log()[-2000:]}")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        size = 128 * 1024 + 1
        proc = self.socksify(self.python_client("echo_client.py", netns.TARGET4, servers.ECHO_PORT, size), url)
        self.assertSucceeded(proc, "echo client over socks4a through ssh -D")
        self.assertEqual(self.json_output(proc)["received"], size)
        self.assertEchoServed(min_bytes=size)
        # ssh -v names each forward it opened: both went to the target's address.
        self.assertIn(f"for {netns.TARGET4} port {servers.HTTP_PORT},", self.ssh.log())
        self.assertIn(f"for {netns.TARGET4} port {servers.ECHO_PORT},", self.ssh.log())
        self.assertNoDirectPackets("socks4a through ssh -D")

    def test_name_goes_to_ssh_d_in_the_socks4a_form(self):
        # "localhost" means the proxy's loopback once it is the proxy that resolves it
        # (direct_loopback off): an echo server there proves ssh got the name, not an address.
        listeners = []
        for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            try:
                ls = self.topo.socket(self.topo.proxy, fam, socket.SOCK_STREAM)
                ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                ls.bind((host, PROXY_LOCAL_PORT))
                ls.listen(4)
                ls.settimeout(10)
                listeners.append(ls)
            except OSError:
                pass
        self.assertTrue(listeners)
        served = []

        def echo(ls):
            try:
                conn, _ = ls.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                total = 0
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    conn.sendall(data)
                    total += len(data)
                served.append(total)

        threads = [threading.Thread(target=echo, args=(ls,), daemon=True) for ls in listeners]
        for t in threads:
            t.start()
        try:
            proc = self.socksify(self.python_client("echo_client.py", "localhost", PROXY_LOCAL_PORT, 4096),
                                 f"socks4a://{netns.PROXY4}:{SSH_SOCKS_PORT}",
                                 env={"SOCKSIFY_DIRECT_LOOPBACK": "off"})
            self.assertSucceeded(proc, "echo client by name over socks4a through ssh -D")
            self.assertEqual(self.json_output(proc)["received"], 4096, describe(proc))
        finally:
            for ls in listeners:
                try:
                    ls.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in accept()
                except OSError:
                    pass
                ls.close()
            for t in threads:
                t.join(5)
        self.assertEqual(served, [4096])
        self.assertIn(f"for localhost port {PROXY_LOCAL_PORT},", self.ssh.log())
        self.assertNoDirectPackets("socks4a name through ssh -D")


if __name__ == "__main__":
    unittest.main()
