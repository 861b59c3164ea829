"""The launcher's contract: env(1)-style exit codes, the program's own status passed
through, -q and -d, the proxy from -x or SOCKSIFY_PROXY, and a failover pool."""

import os
import re
import shutil
import struct
import subprocess
import unittest

from harness import launcher, netns, servers
from harness.testcase import DANTED_URL, DEAD_PORT, HTTP4, IntegrationTest, describe

CURL = ["curl", "-sS", "--fail", "--max-time", "20", f"{HTTP4}/{servers.SMALL_FILE}"]
DEAD_URL = f"socks5://{netns.PROXY4}:{DEAD_PORT}"
# Python source: attempt() connects to the HTTP target once, returns the errno (0: connected).
ATTEMPT = (
    "import socket\n"
    "def attempt():\n"
    "    s = socket.socket()\n"
    "    try:\n"
    f"        s.connect(('{netns.TARGET4}', {servers.HTTP_PORT}))\n"
    "        return 0\n"
    "    except OSError as e:\n"
    "        return e.errno\n"
    "    finally:\n"
    "        s.close()\n")


class LauncherContract(IntegrationTest):
    start = ("danted",)

    def test_bad_proxy_url_is_socksifys_own_error_125(self):
        for url in ("ftp://10.200.0.2:1080", "socks5://", "socks5://10.200.0.2:99999", "not a url"):
            with self.subTest(url=url):
                proc = self.socksify(["true"], url)
                self.assertEqual(proc.returncode, 125, describe(proc))
                self.assertTrue(proc.stderr.strip(), f"no explanation on stderr{describe(proc)}")

    def test_no_proxy_at_all_is_125(self):
        proc = self.socksify(["true"], None)
        self.assertEqual(proc.returncode, 125, describe(proc))

    def test_unknown_option_is_125(self):
        proc = self.socksify(["true"], DANTED_URL, options=["--no-such-option"])
        self.assertEqual(proc.returncode, 125, describe(proc))

    def test_program_not_found_is_127(self):
        proc = self.socksify(["/nonexistent/socksify-test-program"], DANTED_URL)
        self.assertEqual(proc.returncode, 127, describe(proc))

    def script(self, name: str, text: str, mode: int) -> str:
        path = os.path.join(self.workdir, name)
        with open(path, "w") as fh:
            fh.write(text)
        os.chmod(path, mode)
        return path

    def test_program_not_executable_is_126(self):
        proc = self.socksify([self.script("not-executable", "#!/bin/sh\nexit 0\n", 0o644)], DANTED_URL)
        self.assertEqual(proc.returncode, 126, describe(proc))

    def assertRefusedInSecureMode(self, name: str, privilege, reason: bytes) -> None:
        """A copy of /bin/true given `privilege(path)` is refused with 125 and the reason:
        the loader ignores LD_PRELOAD for it, so its traffic would bypass the proxy."""
        path = os.path.join(self.workdir, name)
        shutil.copy("/bin/true", path)
        privilege(path)
        proc = self.socksify([path], DANTED_URL)
        self.assertEqual(proc.returncode, 125, describe(proc))
        self.assertIn(reason, proc.stderr, describe(proc))

    def test_setuid_program_is_refused_125(self):
        self.assertRefusedInSecureMode("setuid-true", lambda p: os.chmod(p, 0o4755), b"setuid")

    def test_program_with_file_capabilities_is_refused_125(self):
        # What `setcap cap_net_raw+ep` writes: revision 2, effective, CAP_NET_RAW (13).
        caps = struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0)
        self.assertRefusedInSecureMode("capped-true",
                                       lambda p: os.setxattr(p, "security.capability", caps),
                                       b"file capabilities")

    def test_program_gets_its_own_argv0_and_arguments_untouched(self):
        proc = self.socksify(["sh", "-c", 'printf "%s|" "$0" "$@"', "zero", "", "-x", "a b"],
                             DANTED_URL)
        self.assertSucceeded(proc, "sh")
        self.assertEqual(proc.stdout, b"zero||-x|a b|")

    def test_script_without_interpreter_line_runs_under_sh(self):
        # As execvp and the shells do (ENOEXEC): the script still gets the library.
        proc = self.socksify([self.script("no-shebang", 'printf %s "$LD_PRELOAD"\n', 0o755)], DANTED_URL)
        self.assertSucceeded(proc, "script without #!")
        self.assertTrue(proc.stdout.decode().split()[0].endswith("/libsocksify.so"), describe(proc))

    def test_proxy_flag_accepts_the_attached_forms(self):
        for flag in ([f"-x{DANTED_URL}"], [f"--proxy={DANTED_URL}"]):
            with self.subTest(flag=flag):
                since = self.danted.log_size()
                proc = self.socksify(CURL, None, options=flag)
                self.assertSucceeded(proc, f"curl with {flag[0]}")
                self.assertEqual(proc.stdout, servers.SMALL_BODY)
                self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)

    def test_bad_proxy_url_is_one_error_line(self):
        proc = self.socksify(["true"], "socks5://10.200.0.2:99999")
        self.assertEqual(proc.returncode, 125, describe(proc))
        lines = proc.stderr.decode().strip().splitlines()
        self.assertEqual(len(lines), 1, describe(proc))
        self.assertIn("SOCKSIFY_PROXY", lines[0])

    def test_statically_linked_program_runs_with_a_warning_in_preload_mode(self):
        src = os.path.join(self.workdir, "static.c")
        exe = os.path.join(self.workdir, "static-prog")
        with open(src, "w") as fh:
            fh.write("int main(void) { return 4; }\n")
        subprocess.run(["cc", "-static", "-o", exe, src], check=True)
        proc = self.socksify([exe], DANTED_URL, ["--mode", "preload"])
        self.assertEqual(proc.returncode, 4, describe(proc))
        self.assertIn(b"statically linked", proc.stderr, describe(proc))
        # The default (auto) runs it under the seccomp supervisor instead (test_seccomp):
        # no warning, the program's own status.
        supervised = self.socksify([exe], DANTED_URL)
        self.assertEqual(supervised.returncode, 4, describe(supervised))
        self.assertNotIn(b"statically linked", supervised.stderr, describe(supervised))
        dynamic = self.socksify(["/bin/true"], DANTED_URL)
        self.assertNotIn(b"statically linked", dynamic.stderr, describe(dynamic))

    def test_library_is_prepended_to_an_existing_preload(self):
        other = "/lib/x86_64-linux-gnu/libm.so.6"
        proc = self.socksify(["/bin/sh", "-c", 'printf %s "$LD_PRELOAD"'], DANTED_URL,
                             env={"LD_PRELOAD": other})
        self.assertSucceeded(proc, "sh")
        first, *rest = proc.stdout.decode().split()
        self.assertTrue(first.endswith("/libsocksify.so"), describe(proc))
        self.assertEqual(rest, [other], describe(proc))

    def test_program_exit_status_passes_through(self):
        proc = self.socksify(["/bin/sh", "-c", "exit 3"], DANTED_URL)
        self.assertEqual(proc.returncode, 3, describe(proc))

    def test_quiet_suppresses_the_error_line(self):
        proc = self.socksify(CURL, DEAD_URL, options=["-q"])
        self.assertNotEqual(proc.returncode, 0, describe(proc))
        self.assertNoCrash(proc)
        self.assertEqual(launcher.error_lines(proc.stderr), [], describe(proc))
        self.assertNotIn(b"socksify[", proc.stderr, describe(proc))

    def test_without_quiet_the_error_line_names_destination_and_proxy(self):
        proc = self.socksify(CURL, DEAD_URL)
        self.assertFailedCleanly(proc)
        line = launcher.error_lines(proc.stderr)[0]
        self.assertIn(f"{netns.TARGET4}:{servers.HTTP_PORT}".encode(), line, describe(proc))
        self.assertIn(f"{netns.PROXY4}:{DEAD_PORT}".encode(), line, describe(proc))

    def test_a_tight_retry_loop_gets_a_burst_of_error_lines_then_a_count(self):
        # 60 failing connects at once, a pause, one more: 10 lines, then one line
        # saying how many were not shown. Every connect still fails with the errno.
        script = ATTEMPT + (
            "import time\n"
            "codes = {attempt() for _ in range(60)}\n"
            "time.sleep(1.2)\n"
            "codes.add(attempt())\n"
            "print(sorted(map(str, codes)))\n")
        proc = self.socksify(["python3", "-c", script], DEAD_URL)
        self.assertSucceeded(proc, "retry loop")
        self.assertEqual(proc.stdout.strip(), b"['111']", describe(proc))  # ECONNREFUSED, 61 times
        lines = launcher.error_lines(proc.stderr)
        self.assertGreaterEqual(len(lines), 11, describe(proc))
        self.assertLessEqual(len(lines), 13, describe(proc))  # +1 per second the loop took
        self.assertRegex(lines[-1], rb"\((\d+) earlier socksify lines not shown", describe(proc))
        not_shown = sum(int(m.group(1)) for m in map(re.compile(rb"\((\d+) earlier").search, lines) if m)
        self.assertEqual(len(lines) + not_shown, 61, describe(proc))  # every failure accounted for

    def test_error_line_never_goes_into_a_socket_that_took_over_fd_2(self):
        # A daemon closes stderr, then its next socket gets fd 2. socksify's error
        # line for a failed proxied connect must not be written into that socket.
        script = ATTEMPT + (
            "import os\n"
            "srv = socket.create_server(('127.0.0.1', 0))\n"
            "os.close(2)\n"
            "c = socket.socket()\n"
            "assert c.fileno() == 2, c.fileno()\n"
            "c.connect(srv.getsockname())\n"  # loopback: direct
            "peer, _ = srv.accept()\n"
            "print('connect', attempt())\n"
            "c.sendall(b'program data')\n"
            "c.close()\n"
            "got = b''\n"
            "while chunk := peer.recv(4096):\n"
            "    got += chunk\n"
            "print('peer got', got)\n")
        proc = self.socksify(["python3", "-c", script], DEAD_URL)
        self.assertSucceeded(proc, "python with fd 2 a socket")
        self.assertEqual(proc.stdout, b"connect 111\npeer got b'program data'\n", describe(proc))

    def test_debug_reports_decisions_and_still_works(self):
        proc = self.socksify(CURL, DANTED_URL, options=["-d"])
        self.assertSucceeded(proc, "curl with -d")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertIn(b"socksify[", proc.stderr, f"-d printed nothing{describe(proc)}")

    def test_failover_pool_skips_a_dead_proxy(self):
        since = self.danted.log_size()
        proc = self.socksify(CURL, f"{DEAD_URL},{DANTED_URL}")
        self.assertSucceeded(proc, "curl with a failover pool")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)

    def test_option_overrides_environment(self):
        since = self.danted.log_size()
        proc = self.socksify(CURL, DANTED_URL, env={"SOCKSIFY_PROXY": DEAD_URL})
        self.assertSucceeded(proc, "curl with -x over SOCKSIFY_PROXY")
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)


if __name__ == "__main__":
    unittest.main()
