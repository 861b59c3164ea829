"""The public C interface (include/socksify/socksify.h) without the launcher: a
program linked with -lsocksify is carried by the proxy with no LD_PRELOAD, and a
program that dlopen()s the library with RTLD_LOCAL reaches it through the
R-prefixed names (Rgetaddrinfo, Rconnect), remote DNS included, while its plain
connect() stays libc's. The client namespace has no route to the target, so a
body received proves the proxy carried it; danted's log says so too."""

import os
import subprocess
import unittest

from harness import launcher, netns, servers
from harness.testcase import DANTED_PORT, DANTED_URL, IntegrationTest, describe

CLIENT_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clients", "linked_api.c")
NAME = "target.socksify.test"
DANTED_H = f"socks5h://{netns.PROXY4}:{DANTED_PORT}"
PORT = str(servers.HTTP_PORT)


class LinkedLibrary(IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls):
        cls.start_danted_resolving({NAME: netns.TARGET4})  # only danted can resolve NAME
        build_dir = os.path.dirname(os.path.abspath(launcher.require_launcher()))
        cls.library = os.path.join(build_dir, "libsocksify.so")
        include = os.path.join(launcher.REPO_ROOT, "include")
        cls.linked = os.path.join(cls.workdir, "linked_api_linked")
        cls.unlinked = os.path.join(cls.workdir, "linked_api_dlopen")
        cc = ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", include, CLIENT_SRC]
        subprocess.run(cc + ["-DLINKED", "-o", cls.linked, "-L", build_dir, "-lsocksify",
                             f"-Wl,-rpath,{build_dir}"], check=True)
        subprocess.run(cc + ["-o", cls.unlinked, "-ldl"], check=True)
        cls.version = subprocess.run([launcher.require_launcher(), "--version"], check=True,
                                     capture_output=True, text=True).stdout.split()[-1]

    def run_client(self, argv: list[str], proxy_url: str | None) -> subprocess.CompletedProcess:
        env = {"SOCKSIFY_PROXY": proxy_url} if proxy_url else {}
        proc = self.topo.run(self.topo.client, argv, timeout=30, env=launcher.clean_env(env))
        self.assertNoCrash(proc)
        return proc

    def assertFetched(self, proc: subprocess.CompletedProcess, since: int) -> None:
        self.assertEqual(proc.returncode, 0, describe(proc))
        self.assertEqual(proc.stdout, servers.SMALL_BODY, describe(proc))
        self.assertIn(f"socksify_version {self.version}".encode(), proc.stderr, describe(proc))
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)

    def test_linked_program_is_carried_without_preload(self):
        since = self.danted.log_size()
        proc = self.run_client([self.linked, "linked", netns.TARGET4, PORT, servers.SMALL_FILE],
                               DANTED_URL)
        self.assertFetched(proc, since)

    def test_linked_program_resolves_names_at_the_proxy(self):
        since = self.danted.log_size()
        proc = self.run_client([self.linked, "linked", NAME, PORT, servers.SMALL_FILE], DANTED_H)
        self.assertFetched(proc, since)

    def test_linked_program_without_a_proxy_fails_closed(self):
        proc = self.run_client([self.linked, "linked", netns.TARGET4, PORT, servers.SMALL_FILE], None)
        self.assertEqual(proc.returncode, 1, describe(proc))
        self.assertEqual(proc.stdout, b"FAILED connect: ENETUNREACH\n", describe(proc))
        self.assertIn(b"SOCKSIFY_PROXY is not set", proc.stderr, describe(proc))

    def test_r_names_reach_socksify_in_a_library_loaded_locally(self):
        since = self.danted.log_size()
        proc = self.run_client([self.unlinked, "dlopen", self.library, NAME, PORT, servers.SMALL_FILE],
                               DANTED_H)
        self.assertFetched(proc, since)

    def test_plain_connect_beside_a_locally_loaded_library_is_libcs(self):
        # The control for the test above: the same program with the plain name
        # connects directly, and the client namespace has no route to the target.
        proc = self.run_client([self.unlinked, "dlopen-plain", self.library, netns.TARGET4, PORT,
                                servers.SMALL_FILE], DANTED_URL)
        self.assertEqual(proc.returncode, 1, describe(proc))
        self.assertEqual(proc.stdout, b"FAILED connect: ENETUNREACH\n", describe(proc))


if __name__ == "__main__":
    unittest.main()
