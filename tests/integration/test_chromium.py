"""Chromium (Debian's `chromium`, headless) loads a page by name through danted.

A browser is what users most want to proxy, and it breaks both halves of
per-process remote DNS: Chromium resolves in one process and connects in
another (the tree-wide name table), and its built-in resolver sends its own UDP
queries to the resolv.conf nameserver (the DNS stub). The client namespace's
resolver is the trap (WatchesDns) and the target is reachable only through the
proxy (CapturesLink: no packet leaves the client for anything but the proxy).

Two runs: as root with --no-sandbox, and socksify run by an unprivileged user
with Chromium's sandbox on (namespaces and seccomp-bpf; the library starts no
thread and opens no descriptor before the sandbox checks for them). If the
sandbox cannot start on this kernel (no user namespaces), that test says why
and is skipped; the no-sandbox case still runs."""

import shutil
import subprocess
import tempfile
import unittest

from harness import launcher, netns, servers, users
from harness.capture import CapturesLink
from harness.dns_sentinel import WatchesDns
from harness.testcase import DANTED_PORT, IntegrationTest, describe

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NAME = "browser-origin.socksify.test"  # known to the proxy only
DANTED_H = f"socks5h://{netns.PROXY4}:{DANTED_PORT}"
URL = f"http://{NAME}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"
# Quiet: no first-run, sync, component or safe-browsing traffic to wait for.
FLAGS = ["--headless=new", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps",
         "--disable-extensions", "--disable-dev-shm-usage", "--dump-dom"]
TIMEOUT_S = 90


def sandbox_blocker() -> str | None:
    """Why Chromium's sandbox cannot start here, or None."""
    try:
        with open("/proc/sys/kernel/unprivileged_userns_clone") as f:
            if f.read().strip() == "0":
                return "kernel.unprivileged_userns_clone is 0"
    except FileNotFoundError:
        pass
    try:
        with open("/proc/sys/user/max_user_namespaces") as f:
            if f.read().strip() == "0":
                return "user.max_user_namespaces is 0"
    except FileNotFoundError:
        return "no user namespaces"
    return None


class ChromiumByName(CapturesLink, WatchesDns, IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls):
        super().start_extra()
        cls.start_danted_resolving({NAME: netns.TARGET4})

    def profile_dir(self, owner: str | None = None) -> str:
        path = tempfile.mkdtemp(prefix="socksify-chromium-", dir="/tmp")
        self.addCleanup(shutil.rmtree, path, True)
        if owner:
            shutil.chown(path, owner, owner)
        return path

    def assertPageLoaded(self, proc, since: int) -> None:
        self.assertEqual(proc.returncode, 0, f"chromium failed{describe(proc)}")
        self.assertIn(servers.SMALL_BODY.strip(), proc.stdout, f"the page is not in the DOM{describe(proc)}")
        self.assertServedByName(NAME, since)
        self.assertNoDnsLeak()
        self.assertNoDirectPackets()

    def test_chromium_no_sandbox_as_root_loads_a_page_by_name(self):
        since = self.danted.log_size()
        profile = self.profile_dir()
        proc = self.socksify([CHROMIUM, "--no-sandbox", f"--user-data-dir={profile}", *FLAGS, URL], DANTED_H,
                             env={"HOME": profile}, timeout=TIMEOUT_S)
        self.assertPageLoaded(proc, since)

    def test_chromium_with_its_sandbox_as_a_user_loads_a_page_by_name(self):
        blocker = sandbox_blocker()
        if blocker:
            self.skipTest(f"Chromium's sandbox cannot start on this kernel: {blocker}; "
                          "the --no-sandbox test covers Chromium")
        since = self.danted.log_size()
        with users.TestUser() as user:
            profile = self.profile_dir(user.name)
            # The user runs socksify itself: the tree's name table is then the
            # user's (a process that changed user inside a root tree cannot
            # open a root keeper's /proc entry, and fails closed).
            argv = ["setpriv", f"--reuid={user.name}", f"--regid={user.name}", "--init-groups",
                    *launcher.command([CHROMIUM, f"--user-data-dir={profile}", *FLAGS, URL], DANTED_H)]
            try:
                proc = self.topo.run(self.topo.client, argv, timeout=TIMEOUT_S,
                                     env=launcher.clean_env({"HOME": profile}))
            except subprocess.TimeoutExpired:
                self.fail(f"timed out after {TIMEOUT_S} s: {' '.join(argv)}")
        self.assertNotIn(b"No usable sandbox", proc.stderr, f"the sandbox did not start{describe(proc)}")
        self.assertPageLoaded(proc, since)


if __name__ == "__main__":
    unittest.main()
