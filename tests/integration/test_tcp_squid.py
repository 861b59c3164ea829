"""HTTP CONNECT through Debian's squid (issue 13): curl and `git clone` over
dumb HTTP, with and without Basic auth (basic_ncsa_auth), a wrong password ->
EACCES and one line, and a chain socks5 (danted) -> http (squid) -> socks4a
(our test server) -> target. Each case checks squid's access log for the
CONNECT and that no packet left the client for anything but the proxy."""

import json
import os
import subprocess
import unittest

from harness import launcher, netns, servers
from harness.capture import CapturesLink
from harness.testcase import DANTED_PORT, HTTP4, TEST_SERVER_PORT, IntegrationTest, describe

SQUID = f"http://{netns.PROXY4}:{servers.SQUID_PORT}"
AUTH_PORT = servers.SQUID_PORT + 1
USER, PASSWORD = "squiduser", "s3cret pass"
SQUID_AUTH = f"http://{USER}:s3cret%20pass@{netns.PROXY4}:{AUTH_PORT}"
CURL = ["curl", "-sS", "--fail", "--max-time", "20", f"{HTTP4}/{servers.SMALL_FILE}"]
TARGET = f"{netns.TARGET4}:{servers.HTTP_PORT}"


class SquidThroughLauncher(CapturesLink, IntegrationTest):
    start = ("danted",)

    @classmethod
    def start_extra(cls) -> None:
        super().start_extra()
        cls.squid = servers.start_squid(cls.topo, cls.workdir)
        cls.squid_auth = servers.start_squid(cls.topo, cls.workdir, port=AUTH_PORT, auth=(USER, PASSWORD))
        # A bare repository served as plain files (git's dumb HTTP protocol).
        src = os.path.join(cls.workdir, "repo-src")
        bare = os.path.join(cls.content.root, "repo.git")
        env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
                   GIT_COMMITTER_EMAIL="t@t", HOME=cls.workdir)
        run = lambda *a, cwd=None: subprocess.run(a, cwd=cwd, env=env, check=True, capture_output=True)
        run("git", "init", "-q", "-b", "main", src)
        with open(os.path.join(src, "README"), "w") as fh:
            fh.write("cloned through squid\n")
        run("git", "add", "README", cwd=src)
        run("git", "commit", "-q", "-m", "one", cwd=src)
        run("git", "clone", "-q", "--bare", src, bare)
        run("git", "update-server-info", cwd=bare)

    def assertSquidConnected(self, squid, since: int, target: str = TARGET) -> None:
        connects = squid.connects(since)
        self.assertIn(target, connects, squid.access_log()[since:])

    def test_curl_through_squid(self):
        since = len(self.squid.access_log())
        proc = self.socksify(CURL, SQUID)
        self.assertSucceeded(proc, "curl through squid")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        servers.wait_for(lambda: self.squid.connects(since))
        self.assertSquidConnected(self.squid, since)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertNoDirectPackets()

    def test_curl_through_squid_with_basic_auth(self):
        since = len(self.squid_auth.access_log())
        proc = self.socksify(CURL, SQUID_AUTH)
        self.assertSucceeded(proc, "curl through squid with Basic auth")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        servers.wait_for(lambda: self.squid_auth.connects(since))
        self.assertSquidConnected(self.squid_auth, since)
        self.assertIn(USER, self.squid_auth.access_log()[since:])
        self.assertNoDirectPackets()

    def test_wrong_password_is_eacces_and_one_line(self):
        url = f"http://{USER}:wrong@{netns.PROXY4}:{AUTH_PORT}"
        proc = self.socksify(self.python_client("connect_errno.py", netns.TARGET4, servers.HTTP_PORT), url)
        self.assertEqual(json.loads(proc.stdout)["errno"], "EACCES", describe(proc))
        self.assertEqual(len(launcher.error_lines(proc.stderr)), 1, describe(proc))
        self.assertNotIn(b"wrong", proc.stderr)
        self.assertNoDirectPackets()

    def git_clone(self, proxy_url: str) -> subprocess.CompletedProcess:
        dest = os.path.join(self.workdir, f"clone-{self.id().rsplit('.', 1)[-1]}")
        proc = self.socksify(["git", "clone", "-q", f"{HTTP4}/repo.git", dest], proxy_url,
                             env={"HOME": self.workdir, "GIT_TERMINAL_PROMPT": "0"})
        self.assertSucceeded(proc, "git clone over http")
        with open(os.path.join(dest, "README")) as fh:
            self.assertEqual(fh.read(), "cloned through squid\n")
        return proc

    def test_git_clone_over_http_through_squid(self):
        since = len(self.squid.access_log())
        self.git_clone(SQUID)
        servers.wait_for(lambda: self.squid.connects(since))
        self.assertSquidConnected(self.squid, since)
        self.assertNoDirectPackets()

    def test_git_clone_over_http_through_squid_with_basic_auth(self):
        since = len(self.squid_auth.access_log())
        self.git_clone(SQUID_AUTH)
        servers.wait_for(lambda: self.squid_auth.connects(since))
        self.assertSquidConnected(self.squid_auth, since)
        self.assertNoDirectPackets()

    def test_chain_socks5_http_socks4a(self):
        # danted (socks5) -> squid (http) -> our test server (socks4a) -> target, by name.
        name = "chain.squid.test"
        server = self.start_test_server(hosts={name: netns.TARGET4})
        since = len(self.squid.access_log())
        d0 = self.danted.log_size()
        chain = (f"socks5://{netns.PROXY4}:{DANTED_PORT},{SQUID},"
                 f"socks4a://{netns.PROXY4}:{TEST_SERVER_PORT}")
        url = f"http://{name}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"
        proc = self.socksify(["curl", "-sS", "--fail", "--max-time", "20", url], chain,
                             env={"SOCKSIFY_PROXY_MODE": "chain", "SOCKSIFY_DNS": "remote"})
        self.assertSucceeded(proc, "curl through socks5 -> http -> socks4a")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        # danted carried the hop to squid; squid CONNECTed to the test server,
        # which got a SOCKS4a request for the name (0.0.0.x form) and reached the target.
        sessions = self.danted.wait_sessions(f"{netns.PROXY4}.{servers.SQUID_PORT}", since=d0)
        self.assertEqual(len(sessions), 1, self.danted.log_since(d0))
        servers.wait_for(lambda: self.squid.connects(since))
        self.assertSquidConnected(self.squid, since, f"{netns.PROXY4}:{TEST_SERVER_PORT}")
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.version, 4, rec)
        self.assertEqual(rec.address, name)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertNoDirectPackets()


if __name__ == "__main__":
    unittest.main()
