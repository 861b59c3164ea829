"""The password never appears in anything socksify writes: succeeding and failing
programs at log level debug (and with -d), with the password in the proxy URL (plain
and percent-encoded), in SOCKSIFY_PASSWORD and in a config file, on stderr, stdout, in
SOCKSIFY_LOG_FILE, and in `socksify --check` output.

PasswordNeverLoggedThroughLauncher: curl through microsocks with auth, the password
accepted, rejected by the proxy, and with the proxy dead; neither the password nor
its percent-encoded form may appear. PasswordHygiene: danted with a test-created
system user, config files (broken, world-readable), --check, and a password with
special characters through our test server."""

import os
import subprocess
import unittest
import urllib.parse

from harness import launcher, netns, servers, users
from harness.testcase import DEAD_PORT, HTTP4, MICROSOCKS_AUTH_PORT, IntegrationTest, describe

CURL = ["curl", "-sS", "--fail", "--max-time", "20", f"{HTTP4}/{servers.SMALL_FILE}"]

# PasswordNeverLoggedThroughLauncher: microsocks' user.
USER = "loguser"
PASSWORD = "Zq8-vault:Pw@4417-kestrel"   # distinctive; ':' and '@' need percent-encoding in a URL
WRONG = "Zq8-wrong:Pw@9902-plover"
DEBUG = {"SOCKSIFY_LOG_LEVEL": "debug"}


def logged_forms(secret: str) -> list[bytes]:
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
        for form in logged_forms(secret):
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


# PasswordHygiene: danted on its own port with a system user.
DANTED_AUTH_PORT = 1084
# Special characters that need percent-encoding in a URL, for the test server.
ODD_USER, ODD_PASSWORD = "hyg", "P@ss:w0rd#Hyg1ene/%"


class PasswordHygiene(IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls) -> None:
        cls.user = users.TestUser(password="Hyg13neSecretPw" + os.urandom(4).hex())
        cls.addClassCleanup(cls.user.delete)
        cls.user.create()
        cls.danted = servers.start_danted(cls.topo, cls.workdir, method="username", port=DANTED_AUTH_PORT)

    def setUp(self) -> None:
        super().setUp()
        self.log_file = os.path.join(self.workdir, f"{self.id().rsplit('.', 1)[-1]}.log")
        self.outputs: list[tuple[str, bytes]] = []

    # -- helpers --------------------------------------------------------------------
    def run_logged(self, what: str, program: list[str], proxy_url: str | None, env: dict | None = None,
                   options: list[str] | None = None) -> subprocess.CompletedProcess:
        env = {"SOCKSIFY_LOG_LEVEL": "debug", **(env or {})}
        proc = self.socksify(program, proxy_url, options=options, env=env)
        self.outputs += [(f"{what} stdout", proc.stdout), (f"{what} stderr", proc.stderr)]
        return proc

    def check(self, what: str, proxy_url: str | None, env: dict | None = None) -> subprocess.CompletedProcess:
        """socksify -d --check, its output collected like the programs'."""
        argv = [launcher.require_launcher()] + (["-x", proxy_url] if proxy_url else []) + ["-d", "--check"]
        proc = self.topo.run(self.topo.client, argv, timeout=60, env=launcher.clean_env(env))
        self.outputs += [(f"{what} --check stdout", proc.stdout), (f"{what} --check stderr", proc.stderr)]
        return proc

    def write_config(self, name: str, text: str, mode: int = 0o600) -> str:
        path = os.path.join(self.workdir, name)
        with open(path, "w") as fh:
            fh.write(text)
        os.chmod(path, mode)
        return path

    def assertNeverWritten(self, *secrets: str) -> None:
        """No output collected so far, nor the log file, holds any form of a secret."""
        blobs = list(self.outputs)
        if os.path.exists(self.log_file):
            with open(self.log_file, "rb") as fh:
                blobs.append(("log file", fh.read()))
        self.assertTrue(any(data for _, data in blobs), "nothing was written at all: the test proves nothing")
        forms = set()
        for s in secrets:
            forms |= {s, urllib.parse.quote(s, safe=""), urllib.parse.quote(s)}
        for where, data in blobs:
            for form in forms:
                self.assertNotIn(form.encode(), data, f"password form {form!r} found in {where}:\n"
                                 f"{data.decode('utf-8', 'replace')[-3000:]}")

    def auth_url(self, password: str, port: int = DANTED_AUTH_PORT, user: str | None = None) -> str:
        quoted = urllib.parse.quote(password, safe="")
        return f"socks5://{user or self.user.name}:{quoted}@{netns.PROXY4}:{port}"

    # -- succeeding programs --------------------------------------------------------
    def test_password_in_url_succeeding_and_failing(self):
        wrong = "Wr0ngHyg13ne" + os.urandom(3).hex()
        env = {"SOCKSIFY_LOG_FILE": self.log_file}
        ok = self.run_logged("curl ok", CURL, self.auth_url(self.user.password), env)
        self.assertSucceeded(ok, "curl with the password in the URL")
        self.assertEqual(ok.stdout, servers.SMALL_BODY)
        bad = self.run_logged("curl wrong", CURL, self.auth_url(wrong), env)
        self.assertNotEqual(bad.returncode, 0, describe(bad))
        echo = self.run_logged("python wrong", self.python_client("connect_errno.py", netns.TARGET4,
                                                                   servers.ECHO_PORT), self.auth_url(wrong), env)
        self.assertNoCrash(echo)
        dead = self.run_logged("curl dead proxy", CURL, self.auth_url(wrong, port=DEAD_PORT), env)
        self.assertNotEqual(dead.returncode, 0, describe(dead))
        self.check("url ok", self.auth_url(self.user.password))
        self.check("url wrong", self.auth_url(wrong))
        with open(self.log_file, "rb") as fh:
            logged = fh.read()
        self.assertIn(b"debug", logged, "the log file got no debug lines: the test proves little")
        self.assertIn(f"{self.user.name}:***@".encode(), logged, "the proxy was not logged masked")
        self.assertNeverWritten(self.user.password, wrong)

    def test_password_from_environment(self):
        wrong = "EnvWr0ngHyg" + os.urandom(3).hex()
        base = f"socks5://{netns.PROXY4}:{DANTED_AUTH_PORT}"
        for what, pw in (("env ok", self.user.password), ("env wrong", wrong)):
            env = {"SOCKSIFY_USERNAME": self.user.name, "SOCKSIFY_PASSWORD": pw}
            proc = self.run_logged(what, CURL, base, env)
            self.assertEqual(proc.returncode == 0, pw == self.user.password, describe(proc))
            self.check(what, base, env)
        # A password with no user to go with it is a configuration error that names the variable only.
        proc = self.run_logged("env orphan password", CURL, base, {"SOCKSIFY_PASSWORD": wrong})
        self.assertEqual(proc.returncode, 125, describe(proc))
        self.assertIn(b"SOCKSIFY_PASSWORD", proc.stderr, describe(proc))
        self.assertNeverWritten(self.user.password, wrong)

    def test_password_from_config_file(self):
        wrong = "FileWr0ngHyg" + os.urandom(3).hex()
        for what, pw in (("file ok", self.user.password), ("file wrong", wrong)):
            conf = self.write_config(f"{what.replace(' ', '-')}.conf",
                                     f"proxy socks5://{netns.PROXY4}:{DANTED_AUTH_PORT}\nusername {self.user.name}\n"
                                     f"password {pw}\nlog_level debug\nlog_file {self.log_file}\n")
            proc = self.run_logged(what, CURL, None, options=["-f", conf])
            self.assertEqual(proc.returncode == 0, pw == self.user.password, describe(proc))
            self.check(what, None, {"SOCKSIFY_CONF_FILE": conf})
        # A broken file with a password in it: errors name lines, never values.
        broken = self.write_config("broken.conf", f"proxy socks5://{self.user.name}:{wrong}@{netns.PROXY4}:0\n"
                                                  f"password {wrong}\npassword {wrong}x\nudp perhaps\n")
        proc = self.run_logged("broken file", CURL, None, options=["-f", broken])
        self.assertEqual(proc.returncode, 125, describe(proc))
        self.assertIn(b"broken.conf:", proc.stderr, describe(proc))
        self.check("broken file", None, {"SOCKSIFY_CONF_FILE": broken})
        # Readable by others: a warning, which names the file, not the password.
        loose = self.write_config("loose.conf", f"proxy socks5://{netns.PROXY4}:{DANTED_AUTH_PORT}\n"
                                                f"username {self.user.name}\npassword {self.user.password}\n",
                                  mode=0o644)
        proc = self.run_logged("world-readable file", CURL, None, options=["-f", loose])
        self.assertSucceeded(proc, "curl with a world-readable config")
        self.assertIn(b"readable by other users", proc.stderr, describe(proc))
        self.check("world-readable file", None, {"SOCKSIFY_CONF_FILE": loose})
        self.assertNeverWritten(self.user.password, wrong, wrong + "x")

    def test_percent_encoded_password_with_special_characters(self):
        server = self.start_test_server(auth=(ODD_USER, ODD_PASSWORD))
        url = server.url(userinfo=f"{ODD_USER}:{urllib.parse.quote(ODD_PASSWORD, safe='')}")
        env = {"SOCKSIFY_LOG_FILE": self.log_file}
        proc = self.run_logged("odd ok", CURL, url, env)
        self.assertSucceeded(proc, "curl with a percent-encoded password")
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.auth, bytes([1, len(ODD_USER)]) + ODD_USER.encode() + bytes([len(ODD_PASSWORD)])
                         + ODD_PASSWORD.encode(), "the decoded password was not what the proxy got")
        bad_url = server.url(userinfo=f"{ODD_USER}:{urllib.parse.quote(ODD_PASSWORD + '!', safe='')}")
        proc = self.run_logged("odd wrong", CURL, bad_url, env)
        self.assertNotEqual(proc.returncode, 0, describe(proc))
        self.check("odd", url)
        self.assertNeverWritten(ODD_PASSWORD, ODD_PASSWORD + "!")


if __name__ == "__main__":
    unittest.main()
