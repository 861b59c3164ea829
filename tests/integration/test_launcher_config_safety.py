"""The config file cannot be swapped under the program (issue 14 items 5, 10, 11).

- A relative `-f FILE` (or SOCKSIFY_CONF_FILE) is made absolute by the launcher:
  a child that runs in another directory reads the file the user named, not a
  file of the same name planted where it runs (which would pick another proxy).
- Who may change the file is checked once for the whole tree: a config file
  others can write, one owned by another user, one in a directory others can
  write without the sticky bit are each reported, by the launcher only.
- A password given with -x is reported (the command line is world-readable).

Two of our SOCKS test servers run in the proxy namespace: the intended one and
the planted one; each records every request it gets.
"""

import os
import re
import unittest

from harness import launcher, netns, servers
from harness.capture import CapturesLink
from harness.testcase import IntegrationTest, PYTHON, describe

INTENDED_PORT = 1090
PLANTED_PORT = 1093
WARNING = re.compile(rb"^socksify(?:\[\d+\])?: warning: .*$", re.MULTILINE)


class ConfigSafety(CapturesLink, IntegrationTest):
    start = ()

    def setUp(self) -> None:
        super().setUp()
        self.intended = self.start_test_server(port=INTENDED_PORT)
        self.planted = self.start_test_server(port=PLANTED_PORT)
        base = os.path.join(self.workdir, self.id().rsplit(".", 1)[-1])
        self.home = os.path.join(base, "home")       # where the user runs socksify
        self.elsewhere = os.path.join(base, "elsewhere")  # where the child goes
        os.makedirs(self.home)
        os.makedirs(self.elsewhere)
        self.write(os.path.join(self.home, "socksify.conf"), self.intended.url())
        self.write(os.path.join(self.elsewhere, "socksify.conf"), self.planted.url())

    @staticmethod
    def write(path: str, proxy_url: str, mode: int = 0o600) -> str:
        with open(path, "w") as fh:
            fh.write(f"proxy {proxy_url}\nconnect_timeout 5000\n")
        os.chmod(path, mode)
        return path

    def run_in(self, cwd: str, program: list[str], options: list[str],
               env: dict[str, str] | None = None):
        argv = launcher.command(program, None, options)
        return self.topo.run(self.topo.client, argv, env=launcher.clean_env(env), cwd=cwd, timeout=30)

    def echo_after_cd(self) -> list[str]:
        """A shell that moves to the planted directory, then starts the program
        (whose library reads the config there)."""
        client = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clients", "echo_client.py")
        return ["/bin/sh", "-c", f"cd '{self.elsewhere}' && exec {PYTHON} {client} "
                f"{netns.TARGET4} {servers.ECHO_PORT} 1000"]

    def assertIntendedProxyOnly(self, proc) -> None:
        self.assertSucceeded(proc, "echo through the config's proxy after cd")
        self.assertTrue(self.json_output(proc)["ok"], describe(proc))
        self.assertEqual(self.planted.records(), [], "the planted config's proxy was used")
        (rec,) = self.intended.wait_records(1)
        self.assertEqual((rec.address, rec.port), (netns.TARGET4, servers.ECHO_PORT), rec)
        self.assertEchoServed(min_bytes=1000)
        self.assertNoDirectPackets()

    # -- item 5: relative names -------------------------------------------
    def test_relative_dash_f_is_read_from_where_socksify_ran(self):
        proc = self.run_in(self.home, self.echo_after_cd(), ["-f", "socksify.conf"])
        self.assertIntendedProxyOnly(proc)

    def test_relative_conf_file_variable_is_read_from_where_socksify_ran(self):
        proc = self.run_in(self.home, self.echo_after_cd(), [],
                           env={"SOCKSIFY_CONF_FILE": "socksify.conf"})
        self.assertIntendedProxyOnly(proc)

    def test_a_symlinked_config_is_pinned_to_its_target(self):
        os.symlink(os.path.join(self.home, "socksify.conf"), os.path.join(self.home, "link.conf"))
        proc = self.run_in(self.home, ["/bin/sh", "-c", "echo $SOCKSIFY_CONF_FILE"],
                           ["-f", "link.conf"])
        self.assertSucceeded(proc)
        self.assertEqual(proc.stdout.decode().strip(), os.path.join(self.home, "socksify.conf"))

    def test_the_library_refuses_a_relative_conf_file(self):
        # A program that hands its child a relative name: the library cannot
        # tell which directory was meant, so the child fails closed.
        client = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clients", "echo_client.py")
        program = ["/bin/sh", "-c", f"cd '{self.elsewhere}' && SOCKSIFY_CONF_FILE=socksify.conf "
                   f"exec {PYTHON} {client} {netns.TARGET4} {servers.ECHO_PORT} 10"]
        proc = self.run_in(self.home, program, ["-f", os.path.join(self.home, "socksify.conf")])
        self.assertFailedCleanly(proc)
        self.assertIn(b"SOCKSIFY_CONF_FILE: 'socksify.conf' is relative", proc.stderr, describe(proc))
        self.assertEqual(self.json_output(proc)["stage"], "connect", describe(proc))
        self.assertEqual(self.planted.records(), [])
        self.assertEqual(self.intended.records(), [])
        self.assertNoDirectPackets()

    # -- item 5: who may change the file ------------------------------------
    def warnings(self, conf: str, program: list[str] | None = None, cwd: str | None = None):
        proc = self.run_in(cwd or self.home, program or ["true"], ["-f", conf])
        self.assertSucceeded(proc)
        return [w.decode() for w in WARNING.findall(proc.stderr)]

    def test_a_private_config_gets_no_warning(self):
        self.assertEqual(self.warnings(os.path.join(self.home, "socksify.conf")), [])

    def test_a_world_writable_config_is_reported(self):
        conf = self.write(os.path.join(self.home, "open.conf"), self.intended.url(), 0o666)
        (line,) = self.warnings(conf)
        self.assertIn(f"{conf}: writable by its group and every user (mode 0666)", line)

    def test_a_config_owned_by_another_user_is_reported(self):
        conf = self.write(os.path.join(self.home, "theirs.conf"), self.intended.url())
        os.chown(conf, 4242, 4242)
        (line,) = self.warnings(conf)
        self.assertIn(f"{conf}: owned by uid 4242, neither you nor root", line)

    def test_a_directory_others_can_write_is_reported_unless_sticky(self):
        shared = os.path.join(self.elsewhere, "shared")
        os.makedirs(shared)
        conf = self.write(os.path.join(shared, "socksify.conf"), self.intended.url())
        os.chmod(shared, 0o777)
        (line,) = self.warnings(conf)
        self.assertIn(f"its directory {shared} is writable by its group and every user without "
                      f"the sticky bit (mode 0777)", line)
        os.chmod(shared, 0o1777)  # as /tmp: others cannot replace a file they do not own
        self.assertEqual(self.warnings(conf), [])

    # -- item 10: once per tree --------------------------------------------
    def test_the_warning_is_printed_once_for_the_whole_tree(self):
        conf = self.write(os.path.join(self.home, "open.conf"), self.intended.url(), 0o666)
        lines = self.warnings(conf, ["/bin/sh", "-c", "true; /bin/sh -c true; /bin/sh -c true"])
        self.assertEqual(len(lines), 1, lines)
        self.assertTrue(lines[0].startswith("socksify: warning: "), lines)  # the launcher's

    def test_quiet_silences_the_warning(self):
        conf = self.write(os.path.join(self.home, "open.conf"), self.intended.url(), 0o666)
        proc = self.run_in(self.home, ["/bin/sh", "-c", "/bin/sh -c true"], ["-q", "-f", conf])
        self.assertSucceeded(proc)
        self.assertEqual(WARNING.findall(proc.stderr), [], describe(proc))

    # -- item 11: the password on the command line --------------------------
    def test_a_password_given_with_dash_x_is_reported_once_without_the_password(self):
        secret = "hunter2-cmdline"
        url = f"socks5://user:{secret}@{netns.PROXY4}:{INTENDED_PORT}"
        proc = self.topo.run(self.topo.client, launcher.command(["/bin/sh", "-c", "/bin/sh -c true"], url),
                             env=launcher.clean_env())
        self.assertSucceeded(proc)
        lines = [w.decode() for w in WARNING.findall(proc.stderr)]
        self.assertEqual(len(lines), 1, describe(proc))
        self.assertIn("the password given with -x is visible to every user", lines[0])
        self.assertNotIn(secret.encode(), proc.stderr)
        # From the environment it is not on a command line: nothing to say.
        proc = self.topo.run(self.topo.client, launcher.command(["true"]),
                             env=launcher.clean_env({"SOCKSIFY_PROXY": url}))
        self.assertSucceeded(proc)
        self.assertEqual(WARNING.findall(proc.stderr), [], describe(proc))


if __name__ == "__main__":
    unittest.main()
