"""One remote-DNS name table for the whole process tree (issue 10 item 1).

Under socksify -x socks5h://..., a fake address handed out in one process of
the tree maps back to its name in every other: a process that resolves and
then execs another that connects (python -> curl, a shell script with getent,
a fork+exec loop, a parent feeding 1,000 addresses to children it started
before resolving), a double-forked setsid daemon connecting after the main
program exited (the launcher has returned, its keeper holds the table), a
program that close_range()s every descriptor before it resolves and execs,
and lftp, which resolves in a forked child. The client namespace's resolver is
a trap (0 queries), the targets are reachable only through the proxy, and
nothing leaves the client but for the proxy. Before the tree table, the
second process said "a remote-DNS address with no name behind it"."""

import json
import os
import time
import unittest

from harness import netns, servers
from harness.capture import CapturesLink
from harness.dns_sentinel import WatchesDns
from harness.socks_test_server import ATYP_NAME, Mode
from harness.testcase import CLIENTS, DANTED_PORT, PYTHON, IntegrationTest, describe

NAME = "origin.tree.test"  # known to the proxy only
DANTED_H = f"socks5h://{netns.PROXY4}:{DANTED_PORT}"
URLPATH = f":{servers.HTTP_PORT}/{servers.SMALL_FILE}"
NO_NAME = b"no name behind it"


class RemoteDnsTree(CapturesLink, WatchesDns, IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls):
        super().start_extra()
        cls.start_danted_resolving({NAME: netns.TARGET4})

    def tree(self, *args) -> list[str]:
        return [PYTHON, os.path.join(CLIENTS, "tree_programs.py"), *map(str, args)]

    def assertClean(self, proc):
        self.assertNotIn(NO_NAME, proc.stderr, describe(proc))
        self.assertNoDirectPackets()
        self.assertNoDnsLeak()

    # -- the cases ---------------------------------------------------------
    def test_python_resolves_and_a_subprocess_curl_connects_by_its_address(self):
        script = ("import socket, subprocess, sys\n"
                  f"ip = socket.gethostbyname('{NAME}')\n"
                  "sys.exit(subprocess.run(['curl', '-sS', '--fail', '--max-time', '20',\n"
                  f"                        f'http://{{ip}}{URLPATH}']).returncode)\n")
        proc = self.socksify([PYTHON, "-c", script], DANTED_H)
        self.assertSucceeded(proc, "python resolving, curl connecting")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}")
        self.assertClean(proc)

    def test_shell_script_resolves_with_getent_and_curl_uses_the_address(self):
        script = (f"ip=$(getent ahosts {NAME} | awk 'NR == 1 {{ print $1 }}')\n"
                  "case $ip in 240.*) ;; *) echo \"not a fake address: $ip\" >&2; exit 3;; esac\n"
                  f"exec curl -sS --fail --max-time 20 \"http://$ip{URLPATH}\"\n")
        proc = self.socksify(["/bin/sh", "-c", script], DANTED_H)
        self.assertSucceeded(proc, "getent then curl")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertClean(proc)

    def test_fork_exec_loop_connects_to_50_names_resolved_by_the_parent(self):
        names = {f"n{i}.loop.test": netns.TARGET4 for i in range(50)}
        server = self.start_test_server(hosts=names)
        proc = self.socksify(self.tree("loop", 50, servers.ECHO_PORT), server.url("socks5h"), timeout=90)
        self.assertSucceeded(proc, "fork+exec loop")
        out = self.json_output(proc)
        self.assertEqual(out["results"], [{"errno": 0, "echo": "ping"}] * 50, describe(proc))
        self.assertEqual(len({addr for _, addr in out["names"]}), 50, out["names"])
        recs = server.wait_records(50)
        self.assertEqual([(r.atyp, r.address, r.port) for r in recs],
                         [(ATYP_NAME, f"n{i}.loop.test", servers.ECHO_PORT) for i in range(50)])
        self.assertEchoServed(count=50, min_bytes=4)
        self.assertClean(proc)

    def test_parent_resolves_1000_names_while_children_connect_to_them(self):
        # The proxy refuses every request: what matters is which name each one carried.
        server = self.start_test_server(mode=Mode.REFUSE)
        proc = self.socksify(self.tree("feed", 1000, servers.ECHO_PORT, 4), server.url("socks5h"),
                             timeout=120)
        self.assertSucceeded(proc, "1,000 names fed to 4 children")
        out = self.json_output(proc)
        resolved = out["resolved"]
        self.assertEqual(len(resolved), 1000)
        self.assertEqual(len(set(resolved.values())), 1000, "two names got one address")
        self.assertEqual(sorted(a for a, _ in out["results"]), sorted(resolved.values()))
        # Every connect reached the proxy (refused there), none was refused here.
        self.assertEqual({e for _, e in out["results"]}, {"ECONNREFUSED"}, describe(proc))
        recs = server.wait_records(1000)
        self.assertEqual(sorted((r.atyp, r.address) for r in recs),
                         sorted((ATYP_NAME, n) for n in resolved))
        self.assertClean(proc)

    def test_a_double_forked_daemon_connects_after_the_program_and_launcher_exited(self):
        outfile = os.path.join(self.workdir, f"daemon-{time.monotonic_ns()}.json")
        start = time.monotonic()
        log = outfile + ".log"
        proc = self.socksify(self.tree("daemon", NAME, servers.ECHO_PORT, outfile), DANTED_H,
                             env={"SOCKSIFY_LOG_FILE": log})
        returned = time.monotonic() - start
        self.assertSucceeded(proc, "daemon's launcher")
        self.assertFalse(os.path.exists(outfile), "the launcher waited for the daemon")
        deadline = time.monotonic() + 15
        while not os.path.exists(outfile) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(os.path.exists(outfile), f"the daemon wrote nothing (launcher took {returned:.2f} s)")
        with open(outfile) as f, open(log) as lines:
            self.assertEqual(json.load(f), {"errno": 0, "echo": "ping"}, lines.read())
        self.assertEchoServed(min_bytes=4)
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.ECHO_PORT}")
        self.assertClean(proc)

    def test_a_program_that_closes_every_descriptor_then_resolves_and_execs(self):
        proc = self.socksify(self.tree("closerange", NAME, URLPATH), DANTED_H)
        self.assertSucceeded(proc, "close_range, resolve, exec curl")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertClean(proc)

    def test_lftp_resolving_in_a_forked_child_downloads_by_name(self):
        proc = self.socksify(["lftp", "-c", "set cmd:fail-exit yes; set net:max-retries 1; "
                              "set net:timeout 10; set dns:use-fork yes; "
                              f"cat http://{NAME}{URLPATH}"], DANTED_H, timeout=40)
        self.assertSucceeded(proc, "lftp by name")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        (rec,) = self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertEqual(rec["host"], f"{NAME}:{servers.HTTP_PORT}")
        self.assertClean(proc)

    # -- the launcher's resident parent ----------------------------------------------
    def test_exit_status_and_fatal_signal_of_the_program_come_back(self):
        proc = self.socksify(["/bin/sh", "-c", "exit 7"], DANTED_H)
        self.assertEqual(proc.returncode, 7, describe(proc))
        proc = self.socksify(["/bin/sh", "-c", "kill -TERM $$"], DANTED_H)
        self.assertEqual(proc.returncode, -15, describe(proc))
        # Local DNS keeps the plain exec: no table, no variable.
        proc = self.socksify(["/bin/sh", "-c", "echo ${SOCKSIFY_NAME_TABLE:-none}"],
                             f"socks5://{netns.PROXY4}:{DANTED_PORT}")
        self.assertEqual(proc.stdout, b"none\n", describe(proc))
        proc = self.socksify(["/bin/sh", "-c", "echo $SOCKSIFY_NAME_TABLE; echo $PPID"], DANTED_H)
        table, parent = proc.stdout.decode().split()
        self.assertEqual(table.rsplit("/fd/", 1)[0], f"/proc/{parent}", describe(proc))


if __name__ == "__main__":
    unittest.main()
