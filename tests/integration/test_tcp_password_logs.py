"""The password never reaches a log line. With SOCKSIFY_LOG_LEVEL=debug (and -d)
every run below logs plenty, to stderr or to SOCKSIFY_LOG_FILE, for a password
given in the proxy URL (percent-encoded) or in SOCKSIFY_PASSWORD: accepted,
rejected by the proxy, and with the proxy dead. Neither the password nor its
percent-encoded form may appear in stderr, stdout or the log file.
(The launcher's --check output is covered elsewhere.)"""

import os
import unittest
import urllib.parse

from harness import launcher, netns, servers
from harness.testcase import DEAD_PORT, HTTP4, MICROSOCKS_AUTH_PORT, IntegrationTest, describe

USER = "loguser"
PASSWORD = "Zq8-vault:Pw@4417-kestrel"   # distinctive; ':' and '@' need percent-encoding in a URL
WRONG = "Zq8-wrong:Pw@9902-plover"
CURL = ["curl", "-sS", "--fail", "--max-time", "20", f"{HTTP4}/{servers.SMALL_FILE}"]
DEBUG = {"SOCKSIFY_LOG_LEVEL": "debug"}


def forms(secret: str) -> list[bytes]:
    """The secret as a log line could carry it: plain, percent-encoded (both hex cases)."""
    quoted = urllib.parse.quote(secret, safe="")
    return sorted({secret.encode(), quoted.encode(), quoted.lower().encode()})


class PasswordNeverLoggedThroughLauncher(IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls):
        cls.microsocks = servers.start_microsocks(cls.topo, cls.workdir, port=MICROSOCKS_AUTH_PORT,
                                                  user=USER, password=PASSWORD)

    # -- helpers ---------------------------------------------------------------------
    def url(self, password: str | None, port: int = MICROSOCKS_AUTH_PORT) -> str:
        if password is None:
            return f"socks5://{netns.PROXY4}:{port}"
        return f"socks5://{USER}:{urllib.parse.quote(password, safe='')}@{netns.PROXY4}:{port}"

    def run_logged(self, proxy: str, secret: str, env: dict | None = None, to_file: bool = False,
                   options: list[str] | None = None):
        """curl through the launcher at debug level; assert the secret is in no
        output, and that there was output to search. Returns (proc, log text)."""
        env = {**DEBUG, **(env or {})}
        log_path = None
        if to_file:
            log_path = os.path.join(self.workdir, f"socksify-{self.id().rsplit('.', 1)[-1]}-{len(env)}.log")
            if os.path.exists(log_path):
                os.unlink(log_path)
            env["SOCKSIFY_LOG_FILE"] = log_path
        proc = self.socksify(CURL, proxy, env=env, options=options)
        self.assertNoCrash(proc)
        log_text = b""
        if log_path:
            self.assertTrue(os.path.exists(log_path), f"no log file at {log_path}{describe(proc)}")
            with open(log_path, "rb") as fh:
                log_text = fh.read()
        logged = proc.stderr + log_text
        self.assertIn(b"socksify[", logged, f"nothing was logged, so nothing was checked{describe(proc)}")
        for form in forms(secret):
            self.assertNotIn(form, proc.stderr, f"password form {form!r} on stderr{describe(proc)}")
            self.assertNotIn(form, proc.stdout, f"password form {form!r} on stdout{describe(proc)}")
            self.assertNotIn(form, log_text, f"password form {form!r} in the log file:\n{log_text.decode()}")
        return proc, log_text

    def assertWorked(self, proc):
        self.assertSucceeded(proc, "curl with the right password")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)

    def assertRejected(self, proc, log_text: bytes):
        self.assertNotEqual(proc.returncode, 0, describe(proc))
        self.assertTrue(launcher.error_lines(proc.stderr + log_text),
                        f"no error line in stderr or the log file{describe(proc)}")
        self.assertEqual(self.http.records("http"), [])

    # -- the password is right ---------------------------------------------------------
    def test_accepted_password_from_url_is_not_logged(self):
        for to_file in (False, True):
            with self.subTest(log_file=to_file):
                proc, _ = self.run_logged(self.url(PASSWORD), PASSWORD, to_file=to_file)
                self.assertWorked(proc)

    def test_accepted_password_from_environment_is_not_logged(self):
        env = {"SOCKSIFY_USERNAME": USER, "SOCKSIFY_PASSWORD": PASSWORD}
        for to_file in (False, True):
            with self.subTest(log_file=to_file):
                proc, _ = self.run_logged(self.url(None), PASSWORD, env=env, to_file=to_file)
                self.assertWorked(proc)

    def test_accepted_password_with_launcher_debug_flag_is_not_logged(self):
        proc, _ = self.run_logged(self.url(PASSWORD), PASSWORD, options=["-d"])
        self.assertWorked(proc)

    def test_the_password_really_went_to_the_proxy(self):
        # Control: the same URL through our test server, which records the auth bytes.
        server = self.start_test_server(auth=(USER, PASSWORD))
        proc, _ = self.run_logged(server.url(userinfo=f"{USER}:{urllib.parse.quote(PASSWORD, safe='')}"),
                                  PASSWORD)
        self.assertWorked(proc)
        (rec,) = server.wait_records(1)
        self.assertEqual((rec.username, rec.password), (USER.encode(), PASSWORD.encode()))

    # -- the password is wrong ----------------------------------------------------------
    def test_rejected_password_is_not_logged(self):
        env = {"SOCKSIFY_USERNAME": USER, "SOCKSIFY_PASSWORD": WRONG}
        for source, proxy, extra in (("url", self.url(WRONG), None), ("environment", self.url(None), env)):
            for to_file in (False, True):
                with self.subTest(source=source, log_file=to_file):
                    before = self.microsocks.log().count("connected to")
                    proc, log_text = self.run_logged(proxy, WRONG, env=extra, to_file=to_file)
                    self.assertRejected(proc, log_text)
                    self.assertEqual(self.microsocks.log().count("connected to"), before)

    # -- the proxy is dead --------------------------------------------------------------
    def test_password_for_a_dead_proxy_is_not_logged(self):
        env = {"SOCKSIFY_USERNAME": USER, "SOCKSIFY_PASSWORD": PASSWORD}
        for source, proxy, extra in (("url", self.url(PASSWORD, DEAD_PORT), None),
                                     ("environment", self.url(None, DEAD_PORT), env)):
            for to_file in (False, True):
                with self.subTest(source=source, log_file=to_file):
                    proc, log_text = self.run_logged(proxy, PASSWORD, env=extra, to_file=to_file)
                    self.assertRejected(proc, log_text)


if __name__ == "__main__":
    unittest.main()
