"""Processes the way programs make them, each connection through the proxy:
fork, exec from a shell (sh -c and a script), posix_spawn, a daemon (double
fork, setsid, fds 0-2 closed) and fork while other threads are busy
connecting. Children inherit LD_PRELOAD and load the library.

The client namespace has no route to the target, so a successful echo or GET
already implies the proxy; the target's log (peer = the proxy) and danted's
log (one session per connection, from the client namespace) confirm it."""

import hashlib
import json
import os
import unittest

from harness import netns, servers
from harness.servers import wait_for
from harness.testcase import DANTED_URL, HTTP4, IntegrationTest, describe

CURL = "curl -sS --fail --max-time 20"
SMALL_URL = f"{HTTP4}/{servers.SMALL_FILE}"
ECHO_TARGET = f"{netns.TARGET4}.{servers.ECHO_PORT}"
HTTP_TARGET = f"{netns.TARGET4}.{servers.HTTP_PORT}"


class LifecycleThroughLauncher(IntegrationTest):
    start = ("danted",)

    def lifecycle(self, *args: str, timeout: float = 60):
        return self.socksify(self.python_client("lifecycle.py", *args), DANTED_URL, timeout=timeout)

    # -- fork -----------------------------------------------------------------------
    def test_forked_children_and_parent_connect_through_the_proxy(self):
        since = self.danted.log_size()
        proc = self.lifecycle("fork", netns.TARGET4, servers.ECHO_PORT)
        self.assertSucceeded(proc, "fork scenario")
        result = self.json_output(proc)
        self.assertEqual((result["parent"], result["children"]), ("ok", [0, 0, 0]), describe(proc))
        self.assertEqual(len(self.assertEchoServed(count=4, min_bytes=4096)), 4)
        self.assertEqual(len(self.assertDantedCarried(ECHO_TARGET, count=4, since=since, min_to_client=4096)), 4)

    def test_fork_while_threads_connect_does_not_hang_the_children(self):
        since = self.danted.log_size()
        proc = self.lifecycle("threads-fork", netns.TARGET4, servers.ECHO_PORT)
        self.assertSucceeded(proc, "threads + fork scenario")
        result = self.json_output(proc)
        self.assertEqual(result["children"], [0] * 5, f"99 = the child hung until its alarm{describe(proc)}")
        self.assertEqual(result["thread_failures"], [], describe(proc))
        total = 5 + result["thread_echoes"]
        recs = self.assertEchoServed(count=total, min_bytes=4096)
        self.assertEqual(len(recs), total)
        self.assertEqual(len(self.assertDantedCarried(ECHO_TARGET, count=total, since=since)), total)

    # -- exec ------------------------------------------------------------------------
    def test_shell_running_curl_twice_is_proxied(self):
        since = self.danted.log_size()
        proc = self.socksify(["sh", "-c", f"{CURL} {SMALL_URL} && {CURL} {SMALL_URL}"], DANTED_URL)
        self.assertSucceeded(proc, "sh -c 'curl; curl'")
        self.assertEqual(proc.stdout, servers.SMALL_BODY * 2)
        self.assertEqual(len(self.assertHttpServed(f"/{servers.SMALL_FILE}", count=2)), 2)
        self.assertEqual(len(self.assertDantedCarried(HTTP_TARGET, count=2, since=since)), 2)

    def test_script_children_inherit_ld_preload_and_are_proxied(self):
        # A script: a child that reports its own LD_PRELOAD and mappings, a child
        # curl, then curl by exec replacing the shell.
        script = os.path.join(self.workdir, "fetch.sh")
        with open(script, "w") as fh:
            fh.write("#!/bin/sh\n"
                     "printf 'preload=%s\\n' \"$LD_PRELOAD\"\n"
                     "printf 'mapped=%s\\n' \"$(grep -c libsocksify /proc/self/maps)\"\n"
                     f"{CURL} -o /dev/null \"$1\" || exit 3\n"
                     f"exec {CURL} \"$1\"\n")
        os.chmod(script, 0o755)
        since = self.danted.log_size()
        proc = self.socksify([script, SMALL_URL], DANTED_URL)
        self.assertSucceeded(proc, "fetch.sh")
        lines = proc.stdout.split(b"\n", 2)
        self.assertIn(b"libsocksify", lines[0], f"the child's LD_PRELOAD lacks the library{describe(proc)}")
        mapped = lines[1].split(b"=", 1)[1]
        self.assertGreaterEqual(int(mapped or b"0"), 1, f"grep did not have the library mapped{describe(proc)}")
        self.assertEqual(lines[2], servers.SMALL_BODY, describe(proc))
        self.assertEqual(len(self.assertHttpServed(f"/{servers.SMALL_FILE}", count=2)), 2)
        self.assertEqual(len(self.assertDantedCarried(HTTP_TARGET, count=2, since=since)), 2)

    # -- posix_spawn ------------------------------------------------------------------------
    def test_posix_spawned_curl_is_proxied(self):
        since = self.danted.log_size()
        proc = self.lifecycle("spawn", SMALL_URL)
        self.assertSucceeded(proc, "posix_spawn scenario")
        result = self.json_output(proc)
        self.assertEqual(result["sha256"], hashlib.sha256(servers.SMALL_BODY).hexdigest(), describe(proc))
        self.assertIn("libsocksify", result["ld_preload"], describe(proc))
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertDantedCarried(HTTP_TARGET, since=since)

    # -- a daemon --------------------------------------------------------------------------
    def test_daemon_without_stdio_connects_through_the_proxy(self):
        result_file = os.path.join(self.workdir, "daemon.json")
        since = self.danted.log_size()
        proc = self.lifecycle("daemon", netns.TARGET4, servers.ECHO_PORT, result_file)
        self.assertSucceeded(proc, "daemon scenario (the launching side)")
        self.assertTrue(wait_for(lambda: os.path.exists(result_file), deadline_s=25),
                        f"the daemon wrote no result{describe(proc)}")
        with open(result_file) as fh:
            record = json.load(fh)
        self.assertEqual(record["echo"], "ok", record)
        self.assertNotEqual(record["sid"], record["launcher_sid"], f"the daemon kept the session: {record}")
        # Nothing the library might have written on fd 2 (the daemon's socket, had
        # it been reused) could have passed the byte comparison above.
        self.assertEchoServed(min_bytes=4096)
        self.assertDantedCarried(ECHO_TARGET, since=since, min_to_client=4096)


if __name__ == "__main__":
    unittest.main()
