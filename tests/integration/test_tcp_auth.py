"""RFC 1929 username/password through the launcher: danted with a test-created system
user, microsocks with -u/-P, and our test server for the exact bytes."""

import unittest

from harness import launcher, netns, servers, users
from harness.socks_test_server import METHOD_USERPASS
from harness.testcase import (HTTP4, MICROSOCKS_AUTH_PORT, IntegrationTest, TEST_SERVER_PORT, describe)

CURL = ["curl", "-sS", "--fail", "--max-time", "20"]
DANTED_AUTH_PORT = 1084
MS_USER, MS_PASSWORD = "msuser", "ms-pw-7261"


class AuthThroughLauncher(IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls) -> None:
        cls.user = users.TestUser()
        cls.addClassCleanup(cls.user.delete)
        cls.user.create()
        cls.danted = servers.start_danted(cls.topo, cls.workdir, method="username", port=DANTED_AUTH_PORT)
        cls.microsocks = servers.start_microsocks(cls.topo, cls.workdir, port=MICROSOCKS_AUTH_PORT,
                                                  user=MS_USER, password=MS_PASSWORD)

    def danted_url(self, user: str, password: str) -> str:
        return f"socks5://{user}:{password}@{netns.PROXY4}:{DANTED_AUTH_PORT}"

    def ms_url(self, user: str, password: str) -> str:
        return f"socks5://{user}:{password}@{netns.PROXY4}:{MICROSOCKS_AUTH_PORT}"

    def get_small(self, proxy, env=None):
        return self.socksify(CURL + [f"{HTTP4}/{servers.SMALL_FILE}"], proxy, env=env)

    # -- danted, system user ----------------------------------------------------
    def test_danted_accepts_system_user_from_url(self):
        since = self.danted.log_size()
        proc = self.get_small(self.danted_url(self.user.name, self.user.password))
        self.assertSucceeded(proc, "curl with credentials in the URL")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since, user=self.user.name)
        self.assertNotIn(self.user.password.encode(), proc.stderr)

    def test_danted_accepts_credentials_from_environment(self):
        since = self.danted.log_size()
        proc = self.get_small(f"socks5://{netns.PROXY4}:{DANTED_AUTH_PORT}",
                              env={"SOCKSIFY_USERNAME": self.user.name, "SOCKSIFY_PASSWORD": self.user.password})
        self.assertSucceeded(proc, "curl with SOCKSIFY_USERNAME/SOCKSIFY_PASSWORD")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since, user=self.user.name)

    def test_danted_wrong_password_fails_cleanly(self):
        since = self.danted.log_size()
        wrong = "not-" + self.user.password
        proc = self.get_small(self.danted_url(self.user.name, wrong))
        self.assertFailedCleanly(proc, secret=wrong)
        self.assertEqual(self.http.records("http"), [], "target reached despite the wrong password")
        self.assertTrue(self.danted.wait_blocked("password authentication failed", since),
                        f"danted did not log the failed password check:\n{self.danted.log_since(since)}")
        self.assertEqual(self.danted.sessions(since), [])

    def test_danted_without_credentials_fails_cleanly(self):
        proc = self.get_small(f"socks5://{netns.PROXY4}:{DANTED_AUTH_PORT}")
        self.assertFailedCleanly(proc)
        self.assertEqual(self.http.records("http"), [])

    # -- microsocks -u/-P -----------------------------------------------------------
    def test_microsocks_accepts_password(self):
        proc = self.get_small(self.ms_url(MS_USER, MS_PASSWORD))
        self.assertSucceeded(proc, "curl through microsocks with a password")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertIn(f"connected to {netns.TARGET4}:{servers.HTTP_PORT}", self.microsocks.log())

    def test_microsocks_wrong_password_fails_cleanly(self):
        before = self.microsocks.log().count("connected to")
        proc = self.get_small(self.ms_url(MS_USER, "wrong-pw-1234"))
        self.assertFailedCleanly(proc, secret="wrong-pw-1234")
        self.assertEqual(self.http.records("http"), [])
        self.assertEqual(self.microsocks.log().count("connected to"), before)

    def test_python_client_sees_a_connect_error_on_wrong_password(self):
        proc = self.socksify(self.python_client("connect_errno.py", netns.TARGET4, servers.HTTP_PORT),
                             self.ms_url(MS_USER, "wrong-pw-1234"))
        self.assertNoCrash(proc)
        result = self.json_output(proc)
        self.assertNotEqual(result["errno"], "OK", describe(proc))
        self.assertTrue(launcher.error_lines(proc.stderr), f"no socksify error line{describe(proc)}")
        self.assertEqual(self.http.records("http"), [])

    # -- exact bytes ---------------------------------------------------------------
    def test_rfc1929_bytes_as_the_proxy_sees_them(self):
        server = self.start_test_server(auth=("alice", "pa55-word"))
        proc = self.get_small(server.url(userinfo="alice:pa55-word"))
        self.assertSucceeded(proc, "curl through the test server with a password")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        (rec,) = server.wait_records(1)
        self.assertIn(METHOD_USERPASS, rec.methods, rec)
        self.assertEqual(rec.greeting, bytes([5, len(rec.methods), *rec.methods]))
        # RFC 1929 §2: VER=1 ULEN UNAME PLEN PASSWD
        self.assertEqual(rec.auth, b"\x01\x05alice\x09pa55-word")
        self.assertEqual(rec.outcome, "relayed")
        self.assertEqual(server.port, TEST_SERVER_PORT)


if __name__ == "__main__":
    unittest.main()
