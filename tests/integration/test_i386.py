"""32-bit (i386) programs through the launcher: carried by the i386 library
through the one "$LIB" LD_PRELOAD entry, never leaked. The clients are a C
program compiled here with gcc -m32 (and once more with -D_TIME_BITS=64, which
sends select/getsockopt/fcntl to glibc's time64 entry points). Every test checks
that no packet left the client for anything but the proxy; the by-name ones
that no DNS query left it either. Without gcc -m32 or the i386 library the
tests FAIL (scripts/install-deps.sh installs gcc-multilib; tests/run-all.sh
builds the i386 tree)."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import launcher, netns, servers
from harness.capture import CapturesLink
from harness.dns_sentinel import WatchesDns
from harness.testcase import DANTED_PORT, IntegrationTest, describe

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_SRC = os.path.join(HERE, "clients", "i386_client.c")
NAME = "target.i386.test"
DANTED_H = f"socks5h://{netns.PROXY4}:{DANTED_PORT}"
DANTED = f"socks5://{netns.PROXY4}:{DANTED_PORT}"
ECHO = str(servers.ECHO_PORT)
REFUSAL = b"is a 32-bit (i386) program and the i386 library"


def build_dir() -> str:
    return os.path.dirname(launcher.require_launcher())


class I386Programs(CapturesLink, WatchesDns, IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls):
        cls.start_danted_resolving({NAME: netns.TARGET4})
        super().start_extra()
        cls.udp_echo = servers.start_udp_echo(cls.topo, cls.workdir, port=servers.ECHO_PORT)
        cls.client = os.path.join(cls.workdir, "client32")
        cls.client_t64 = os.path.join(cls.workdir, "client32_time64")
        cc = ["gcc", "-m32", "-std=gnu11", "-Wall", "-Wextra", "-Werror", CLIENT_SRC]
        subprocess.run(cc + ["-o", cls.client], check=True)
        subprocess.run(cc + ["-D_TIME_BITS=64", "-D_FILE_OFFSET_BITS=64", "-o", cls.client_t64],
                       check=True)
        cls.client64 = os.path.join(cls.workdir, "client64")
        subprocess.run(["gcc", "-std=gnu11", "-Wall", "-Werror", CLIENT_SRC, "-o", cls.client64],
                       check=True)

    def setUp(self):
        super().setUp()
        self.udp_echo.clear()
        lib32 = os.path.join(build_dir(), "lib32", "libsocksify.so")
        if not os.path.isfile(lib32):
            self.fail(f"no i386 library at {lib32}: configure the build with "
                      f"-DSOCKSIFY_I386_BUILD_DIR=<a tree built with cmake/i386.cmake> "
                      f"(tests/run-all.sh does). These tests do not skip.")

    def run_client(self, argv: list[str], proxy: str = DANTED) -> dict:
        proc = self.socksify(argv, proxy)
        self.assertSucceeded(proc, " ".join(argv))
        out = json.loads(proc.stdout.decode().strip().splitlines()[-1])
        self.assertTrue(out["ok"], describe(proc))
        self.assertNotIn(b"wrong ELF class", proc.stderr, describe(proc))
        self.assertNotIn(b"socksify[", proc.stderr, describe(proc))
        return out

    def assertCarried(self, out: dict, bits: int = 32) -> None:
        self.assertEqual(out, {"ok": True, "bytes": 4096, "bits": bits})
        self.assertEqual(len(self.assertEchoServed(min_bytes=4096)), 1)
        self.assertNoDirectPackets()
        self.assertNoDnsLeak()

    # -- TCP -------------------------------------------------------------------
    def test_blocking_connect_by_ip(self):
        self.assertCarried(self.run_client([self.client, "tcp", netns.TARGET4, ECHO]))

    def test_blocking_connect_by_name_socks5h(self):
        since = self.danted.log_size()
        self.assertCarried(self.run_client([self.client, "tcp", NAME, ECHO], DANTED_H))
        self.assertTrue(self.danted.wait_sessions(f"{NAME}.{ECHO}", since=since) or
                        self.danted.wait_sessions(f"{netns.TARGET4}.{ECHO}", since=since),
                        self.danted.log_since(since))

    def test_nonblocking_connect_with_poll(self):
        self.assertCarried(self.run_client([self.client, "poll", NAME, ECHO], DANTED_H))

    def test_nonblocking_connect_with_epoll(self):
        self.assertCarried(self.run_client([self.client, "epoll", NAME, ECHO], DANTED_H))

    def test_nonblocking_connect_with_select(self):
        self.assertCarried(self.run_client([self.client, "select", NAME, ECHO], DANTED_H))

    def test_time64_program_select_getsockopt_fcntl(self):
        # __select64, __getsockopt64, __fcntl_time64: the time64 entry points.
        self.assertCarried(self.run_client([self.client_t64, "select", NAME, ECHO], DANTED_H))

    # -- UDP -------------------------------------------------------------------
    def test_udp_through_danted(self):
        out = self.run_client([self.client, "udp", netns.TARGET4, ECHO])
        self.assertEqual(out, {"ok": True, "bytes": 14, "bits": 32})
        recs = self.udp_echo.wait_records("udp", 1)
        self.assertTrue(recs and all(r["peer"] == netns.PROXY_OUT4 for r in recs), recs)
        self.assertNoDirectPackets()
        self.assertNoDnsLeak()

    # -- exec across classes ---------------------------------------------------
    def test_64_bit_shell_runs_the_32_bit_client(self):
        self.assertCarried(self.run_client(
            ["sh", "-c", f'"$0" tcp {NAME} {ECHO}', self.client], DANTED_H))

    def test_32_bit_program_execs_a_64_bit_one(self):
        out = self.run_client([self.client, "exec", self.client64, "tcp", NAME, ECHO], DANTED_H)
        self.assertCarried(out, bits=64)

    # -- no i386 library: refused ----------------------------------------------
    def test_refused_without_the_i386_library(self):
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("socksify", "libsocksify.so"):
                shutil.copy2(os.path.realpath(os.path.join(build_dir(), name)), tmp)
            argv = [os.path.join(tmp, "socksify"), "-x", DANTED, "--",
                    self.client, "tcp", netns.TARGET4, ECHO]
            proc = self.topo.run(self.topo.client, argv, timeout=30, env=launcher.clean_env())
        self.assertEqual(proc.returncode, 126, describe(proc))
        self.assertEqual(proc.stdout, b"", describe(proc))
        lines = proc.stderr.decode().strip().splitlines()
        self.assertEqual(len(lines), 1, describe(proc))
        self.assertIn(REFUSAL.decode(), lines[0])
        self.assertIn(self.client, lines[0])
        self.assertEqual(self.echo.records("tcp"), [])
        self.assertNoDirectPackets()

    def without_i386_library(self, program: list[str]) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("socksify", "libsocksify.so"):
                shutil.copy2(os.path.realpath(os.path.join(build_dir(), name)), tmp)
            argv = [os.path.join(tmp, "socksify"), "-x", DANTED, "--", *program]
            return self.topo.run(self.topo.client, argv, timeout=30, env=launcher.clean_env())

    def assertExecRefused(self, proc: subprocess.CompletedProcess) -> None:
        self.assertIn(f"socksify: refusing to exec {self.client}: it is a 32-bit (i386) program and "
                      f"socksify's library for it is not installed".encode(), proc.stderr,
                      describe(proc))
        self.assertNotIn(b'"ok": true', proc.stdout, describe(proc))
        self.assertEqual(self.echo.records("tcp"), [])
        self.assertNoDirectPackets()

    def test_64_bit_shell_cannot_exec_the_32_bit_client_without_its_library(self):
        proc = self.without_i386_library(["sh", "-c", f'"$0" tcp {netns.TARGET4} {ECHO}',
                                          self.client])
        self.assertEqual(proc.returncode, 126, describe(proc))  # sh: Permission denied
        self.assertExecRefused(proc)

    def test_64_bit_execv_of_the_32_bit_client_without_its_library_fails_eacces(self):
        proc = self.without_i386_library([self.client64, "exec", self.client, "tcp",
                                          netns.TARGET4, ECHO])
        self.assertEqual(json.loads(proc.stdout), {"ok": False, "step": "execv", "errno": 13,
                                                   "bits": 64}, describe(proc))
        self.assertExecRefused(proc)

    def test_64_bit_program_still_runs_without_the_i386_library(self):
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("socksify", "libsocksify.so"):
                shutil.copy2(os.path.realpath(os.path.join(build_dir(), name)), tmp)
            argv = [os.path.join(tmp, "socksify"), "-x", DANTED, "--",
                    self.client64, "tcp", netns.TARGET4, ECHO]
            proc = self.topo.run(self.topo.client, argv, timeout=30, env=launcher.clean_env())
        self.assertSucceeded(proc, "64-bit client")
        self.assertCarried(json.loads(proc.stdout), bits=64)

    def test_check_reports_which_classes_are_covered(self):
        proc = self.socksify([], DANTED, options=["--check"])
        self.assertIn(b"programs: x86-64 and i386 covered (", proc.stdout, describe(proc))
        self.assertIn(b"/$LIB/libsocksify.so)", proc.stdout, describe(proc))
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("socksify", "libsocksify.so"):
                shutil.copy2(os.path.realpath(os.path.join(build_dir(), name)), tmp)
            proc = self.topo.run(self.topo.client, [os.path.join(tmp, "socksify"), "-x", DANTED,
                                                    "--check"], timeout=30, env=launcher.clean_env())
        self.assertIn(f"i386 NOT covered (no {tmp}/lib32/libsocksify.so): 32-bit programs are "
                      f"refused".encode(), proc.stdout, describe(proc))


if __name__ == "__main__":
    unittest.main()
