"""One remote-DNS name table for the whole process tree (issue 10 item 1).

Under socksify -x socks5h://..., a fake address handed out in one process of
the tree maps back to its name in every other: a fork+exec loop over 50
names, a parent feeding 1,000 addresses to children it started before
resolving, a double-forked setsid daemon connecting after the main program
exited (the launcher has returned, its keeper holds the table); the resident
parent returns the program's status. Python only, so that the ASan stage runs
it (test_remote_dns_tree_programs has curl, getent, close_range and lftp). The client namespace's resolver is
a trap (0 queries), the targets are reachable only through the proxy, and
nothing leaves the client but for the proxy. Before the tree table, the
second process said "a remote-DNS address with no name behind it"."""

import json
import os
import time
import unittest

from harness import launcher, netns, servers
from harness.capture import CapturesLink
from harness.dns_sentinel import WatchesDns
from harness.socks_test_server import ATYP_NAME, Mode
from harness.testcase import CLIENTS, DANTED_PORT, PYTHON, IntegrationTest, describe

NAME = "origin.tree.test"  # known to the proxy only
DANTED_H = f"socks5h://{netns.PROXY4}:{DANTED_PORT}"
URLPATH = f":{servers.HTTP_PORT}/{servers.SMALL_FILE}"
NO_NAME = b"no name behind it"


class TreeTableTest(CapturesLink, WatchesDns, IntegrationTest):
    """What both tree-table modules share (test_remote_dns_tree_programs too):
    danted resolving NAME, the tree_programs.py client, the clean-run checks.
    No tests of its own."""
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


class RemoteDnsTree(TreeTableTest):
    # -- processes of one tree
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

    def test_a_socksify_inside_the_tree_shares_its_table(self):
        name = "nested.tree.test"
        server = self.start_test_server(hosts={name: netns.TARGET4})
        echo = " ".join(self.tree("echo", "$ip", servers.ECHO_PORT))
        inner = launcher.command(["/bin/sh", "-c", f"echo inner=$SOCKSIFY_NAME_TABLE >&2; exec {echo}"],
                                 server.url("socks5h"))
        script = (f"export ip=$({PYTHON} -c \"import socket; print(socket.gethostbyname('{name}'))\")\n"
                  "echo \"outer=$SOCKSIFY_NAME_TABLE\" >&2\n"
                  "exec " + " ".join(f"'{a}'" for a in inner) + "\n")
        proc = self.socksify(["/bin/sh", "-c", script], server.url("socks5h"))
        self.assertSucceeded(proc, "socksify inside socksify")
        self.assertEqual(self.json_output(proc), {"errno": 0, "echo": "ping"}, describe(proc))
        (rec,) = server.wait_records(1)
        self.assertEqual((rec.atyp, rec.address), (ATYP_NAME, name))
        tables = dict(line.split("=", 1) for line in proc.stderr.decode().splitlines()
                      if line.startswith(("outer=", "inner=")))
        self.assertEqual(tables.get("inner"), tables.get("outer"), describe(proc))
        self.assertNotIn(NO_NAME, proc.stderr, describe(proc))
        self.assertNoDirectPackets()
        self.assertNoDnsLeak()

    def test_a_process_that_cannot_attach_fails_closed(self):
        # Root's keeper refuses its /proc entry to a process that became nobody.
        script = ("import errno, json, os, socket\n"
                  "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
                  "out = {}\n"
                  "try:\n"
                  f"    socket.getaddrinfo('{NAME}', 80, socket.AF_INET)\n"
                  "    out['lookup'] = 'answered'\n"
                  "except socket.gaierror as e:\n"
                  "    out['lookup'] = 'EAI_FAIL' if e.errno == socket.EAI_FAIL else e.errno\n"
                  "s = socket.socket()\n"
                  "try:\n"
                  f"    s.connect(('240.0.0.1', {servers.ECHO_PORT}))\n"
                  "    out['connect'] = 0\n"
                  "except OSError as e:\n"
                  "    out['connect'] = errno.errorcode[e.errno]\n"
                  "print(json.dumps(out))\n")
        since = self.danted.log_size()
        proc = self.socksify([PYTHON, "-c", script], DANTED_H)
        self.assertSucceeded(proc, "a process that cannot attach")
        self.assertEqual(self.json_output(proc), {"lookup": "EAI_FAIL", "connect": "EHOSTUNREACH"},
                         describe(proc))
        self.assertIn(b"cannot attach the tree's remote-DNS name table", proc.stderr, describe(proc))
        self.assertEqual(proc.stderr.count(b"cannot attach"), 1, describe(proc))
        self.assertEqual(self.danted.sessions(since), [])
        self.assertNoDirectPackets()
        self.assertNoDnsLeak()

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
