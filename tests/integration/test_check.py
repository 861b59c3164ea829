"""`socksify --check`: the effective configuration, then one verdict line per step
(tcp, greeting, auth, connect, udp associate) against danted with and without
username auth, with a wrong password, and against a dead proxy. The exit status is
0 only when every step passed, and the password never appears in the output."""

import os
import re
import subprocess
import unittest

from harness import launcher, netns, servers, users
from harness.testcase import DANTED_PORT, DANTED_URL, DEAD_PORT, IntegrationTest, describe

DANTED_AUTH_PORT = 1084
DEAD_URL = f"socks5://{netns.PROXY4}:{DEAD_PORT}"


def verdicts(proc: subprocess.CompletedProcess) -> dict[str, list[str]]:
    """{"tcp": ["ok (...)"], ...}: every "  step: verdict" line, by step (a step
    can appear once per proxy). "connect HOST:PORT" steps are filed as "connect"."""
    out: dict[str, list[str]] = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        m = re.match(r"^  (tcp|greeting|auth|connect(?: \S+)?|udp associate|bind|configuration): (.*)$", line)
        if m:
            step = "connect" if m.group(1).startswith("connect") else m.group(1)
            out.setdefault(step, []).append(m.group(2))
    return out


class CheckCommand(IntegrationTest):
    start = ("danted",)

    @classmethod
    def start_extra(cls) -> None:
        cls.user = users.TestUser()
        cls.addClassCleanup(cls.user.delete)
        cls.user.create()
        cls.danted_auth = servers.start_danted(cls.topo, cls.workdir, method="username", port=DANTED_AUTH_PORT)

    def auth_url(self, password: str, user: str | None = None) -> str:
        return f"socks5://{user or self.user.name}:{password}@{netns.PROXY4}:{DANTED_AUTH_PORT}"

    def check(self, proxy_url: str | None, options: list[str] | None = None,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        argv = [launcher.require_launcher()]
        if proxy_url is not None:
            argv += ["-x", proxy_url]
        argv += ["--check", *(options or [])]
        proc = self.topo.run(self.topo.client, argv, timeout=60, env=launcher.clean_env(env))
        self.assertNoCrash(proc)
        return proc

    def assertSecretAbsent(self, proc: subprocess.CompletedProcess, secret: str) -> None:
        self.assertNotIn(secret.encode(), proc.stdout, f"password in --check output{describe(proc)}")
        self.assertNotIn(secret.encode(), proc.stderr, f"password on stderr{describe(proc)}")

    def assertStep(self, proc, step: str, verdict: str, index: int = 0) -> None:
        got = verdicts(proc).get(step, [])
        self.assertGreater(len(got), index, f"no '{step}' verdict line{describe(proc)}")
        self.assertTrue(got[index].startswith(verdict),
                        f"'{step}' is '{got[index]}', wanted '{verdict}...'{describe(proc)}")

    # -- all good --------------------------------------------------------------
    def test_danted_without_auth_passes_every_step(self):
        since = self.danted.log_size()
        proc = self.check(DANTED_URL)
        self.assertEqual(proc.returncode, 0, describe(proc))
        self.assertStep(proc, "configuration", "ok")
        self.assertStep(proc, "tcp", f"ok (connected to {netns.PROXY4}:{DANTED_PORT})")
        self.assertStep(proc, "greeting", "ok (proxy chose no authentication)")
        self.assertStep(proc, "auth", "skipped (no credentials configured)")
        # The default target is the proxy itself; danted refuses to connect to its
        # own listening address, and --check counts that answer as a working exchange.
        self.assertIn(f"  connect {netns.PROXY4}:{DANTED_PORT}: ok (the proxy answered: connection not "
                      f"allowed by proxy rules".encode(), proc.stdout, describe(proc))
        self.assertStep(proc, "udp associate", "ok (relay ")
        self.assertStep(proc, "bind", "skipped (bind off)")
        self.assertIn(b"result: ok", proc.stdout, describe(proc))
        self.assertTrue(self.danted.wait_blocked("same address we listen to", since),
                        f"danted did not see the CONNECT request:\n{self.danted.log_since(since)}")

    def test_bind_on_asks_the_proxy_to_listen(self):
        proc = self.check(DANTED_URL, env={"SOCKSIFY_BIND": "on"})
        self.assertEqual(proc.returncode, 0, describe(proc))
        self.assertStep(proc, "bind", f"ok (listening at {netns.PROXY_OUT4}:")

    def test_check_target_is_reached_through_the_proxy(self):
        proc = self.check(DANTED_URL, ["--check-target", f"{netns.TARGET4}:{servers.ECHO_PORT}"])
        self.assertEqual(proc.returncode, 0, describe(proc))
        self.assertIn(f"  connect {netns.TARGET4}:{servers.ECHO_PORT}: ok".encode(), proc.stdout, describe(proc))
        # The echo server saw a connection, and from the proxy (the client has no route there).
        recs = self.echo.wait_records("tcp", 1)
        self.assertTrue(recs, f"echo target saw no connection{describe(proc)}")
        self.assertIn(recs[0]["peer"], (netns.PROXY_OUT4, netns.PROXY_OUT6), recs)

    def test_danted_with_auth_passes_and_masks_the_password(self):
        proc = self.check(self.auth_url(self.user.password))
        self.assertEqual(proc.returncode, 0, describe(proc))
        self.assertStep(proc, "greeting", "ok (proxy chose username/password)")
        self.assertStep(proc, "auth", f"ok (accepted user '{self.user.name}')")
        self.assertStep(proc, "connect", "ok")
        self.assertStep(proc, "udp associate", "ok")
        self.assertIn(f"socks5://{self.user.name}:***@".encode(), proc.stdout, describe(proc))
        self.assertIn(b"[command line (SOCKSIFY_PROXY)]", proc.stdout, describe(proc))
        self.assertSecretAbsent(proc, self.user.password)

    def test_credentials_from_a_config_file_show_their_origin(self):
        conf = os.path.join(self.workdir, "check-auth.conf")
        with open(conf, "w") as fh:
            fh.write(f"# for test_check\nproxy socks5://{netns.PROXY4}:{DANTED_AUTH_PORT}\n"
                     f"username {self.user.name}\npassword {self.user.password}\nconnect_timeout 5000\n")
        os.chmod(conf, 0o600)
        proc = self.check(None, env={"SOCKSIFY_CONF_FILE": conf})
        self.assertEqual(proc.returncode, 0, describe(proc))
        out = proc.stdout.decode()
        self.assertIn(f"config file: {conf}", out)
        self.assertRegex(out, rf"password +\*\*\* +\[{re.escape(conf)}:4\]")
        self.assertRegex(out, rf"connect_timeout +5000 +\[{re.escape(conf)}:5\]")
        self.assertRegex(out, r"udp +on +\[default\]")
        self.assertRegex(out, r"proxy_mode +failover +\[default\]")
        self.assertStep(proc, "auth", "ok")
        self.assertSecretAbsent(proc, self.user.password)

    # -- failures ----------------------------------------------------------------
    def test_wrong_password_fails_at_auth(self):
        wrong = "Wr0ng" + self.user.password
        since = self.danted_auth.log_size()
        proc = self.check(self.auth_url(wrong))
        self.assertEqual(proc.returncode, 1, describe(proc))
        self.assertStep(proc, "tcp", "ok")
        self.assertStep(proc, "greeting", "ok (proxy chose username/password)")
        self.assertStep(proc, "auth", "FAILED: proxy rejected credentials (EACCES)")
        self.assertStep(proc, "connect", "skipped (auth failed)")
        self.assertStep(proc, "udp associate", "skipped (auth failed)")
        self.assertIn(b"result: FAILED", proc.stdout, describe(proc))
        self.assertTrue(self.danted_auth.wait_blocked("password authentication failed", since),
                        self.danted_auth.log_since(since))
        self.assertSecretAbsent(proc, wrong)

    def test_password_from_environment_wrong_is_masked_too(self):
        wrong = "EnvWr0ng" + self.user.password
        proc = self.check(f"socks5://{netns.PROXY4}:{DANTED_AUTH_PORT}",
                          env={"SOCKSIFY_USERNAME": self.user.name, "SOCKSIFY_PASSWORD": wrong})
        self.assertEqual(proc.returncode, 1, describe(proc))
        self.assertRegex(proc.stdout.decode(), r"password +\*\*\* +\[SOCKSIFY_PASSWORD\]")
        self.assertStep(proc, "auth", "FAILED")
        self.assertSecretAbsent(proc, wrong)

    def test_missing_credentials_fail_at_greeting(self):
        proc = self.check(f"socks5://{netns.PROXY4}:{DANTED_AUTH_PORT}")
        self.assertEqual(proc.returncode, 1, describe(proc))
        self.assertStep(proc, "greeting", "FAILED: no acceptable auth method (EACCES)")
        self.assertStep(proc, "auth", "skipped (greeting failed)")

    def test_dead_proxy_fails_at_tcp(self):
        proc = self.check(DEAD_URL)
        self.assertEqual(proc.returncode, 1, describe(proc))
        self.assertStep(proc, "tcp", "FAILED: ECONNREFUSED")
        for step in ("greeting", "auth", "connect", "udp associate"):
            self.assertStep(proc, step, "skipped (proxy unreachable)")
        self.assertIn(b"result: FAILED (1 check failed)", proc.stdout, describe(proc))

    def test_pool_with_a_dead_proxy_reports_it_but_the_pool_still_connects(self):
        target = f"{netns.TARGET4}:{servers.ECHO_PORT}"
        proc = self.check(f"{DEAD_URL},{DANTED_URL}", ["--check-target", target])
        self.assertEqual(proc.returncode, 1, describe(proc))
        self.assertIn(f"proxy 1: {DEAD_URL}".encode(), proc.stdout, describe(proc))
        self.assertIn(f"proxy 2: {DANTED_URL}".encode(), proc.stdout, describe(proc))
        self.assertStep(proc, "tcp", "FAILED: ECONNREFUSED", 0)
        self.assertStep(proc, "tcp", "ok", 1)
        self.assertIn(b"pool of 2 proxies, as the library connects:", proc.stdout, describe(proc))
        # proxy 1's connect was skipped; proxy 2's and then the pool's (the
        # library's failover skips the dead proxy) reach the target.
        self.assertStep(proc, "connect", "skipped (proxy unreachable)", 0)
        self.assertStep(proc, "connect", "ok", 1)
        self.assertStep(proc, "connect", "ok", 2)
        self.assertIn(f"  connect {target}: ok".encode(), proc.stdout, describe(proc))

    def test_pool_reason_comes_from_the_library(self):
        proc = self.check(f"{DEAD_URL},{DEAD_URL.replace(str(DEAD_PORT), str(DEAD_PORT - 1))}",
                          ["--check-target", f"{netns.TARGET4}:{servers.ECHO_PORT}"])
        self.assertEqual(proc.returncode, 1, describe(proc))
        # The library's own error line, prefix removed, is the pool's reason.
        self.assertRegex(proc.stdout.decode(), r"  connect \S+: FAILED: connect to \S+ via socks5://\S+ "
                                               r"failed: proxy unreachable")

    def test_chain_names_the_failing_hop(self):
        # Hop 1 (danted) is asked to reach hop 2, where nothing listens: the
        # verdict is the library's outcome, naming hop 1 and danted's refusal.
        target = f"{netns.TARGET4}:{servers.ECHO_PORT}"
        self.echo.clear()
        proc = self.check(f"{DANTED_URL},{DEAD_URL}", ["--check-target", target],
                          env={"SOCKSIFY_PROXY_MODE": "chain"})
        self.assertEqual(proc.returncode, 1, describe(proc))
        self.assertIn(b"chain of 2 proxies, as the library connects:", proc.stdout, describe(proc))
        self.assertRegex(proc.stdout.decode(), rf"  connect {re.escape(target)}: FAILED: connect to "
                                               rf"{re.escape(target)} via chain hop 1 "
                                               rf"\({re.escape(DANTED_URL)}\) failed: .+ \(E[A-Z]+\)")
        self.assertEqual(self.echo.records("tcp"), [], "the target was reached past a dead hop")

    def test_bad_configuration_fails_before_any_connection(self):
        proc = self.check(DANTED_URL, env={"SOCKSIFY_CONNECT_TIMEOUT": "soon"})
        self.assertEqual(proc.returncode, 1, describe(proc))
        self.assertIn(b"error: SOCKSIFY_CONNECT_TIMEOUT: expected milliseconds", proc.stdout, describe(proc))
        self.assertStep(proc, "configuration", "FAILED")
        self.assertNotIn(b"  tcp:", proc.stdout, describe(proc))

    def test_check_refuses_a_program_and_a_malformed_target(self):
        proc = self.check(DANTED_URL, ["--", "true"])
        self.assertEqual(proc.returncode, 125, describe(proc))
        proc = self.check(DANTED_URL, ["--check-target", "no-port"])
        self.assertEqual(proc.returncode, 2, describe(proc))
        self.assertIn(b"HOST:PORT", proc.stderr, describe(proc))


if __name__ == "__main__":
    unittest.main()
