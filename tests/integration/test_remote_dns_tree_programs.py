"""One remote-DNS name table for the whole process tree, with real programs (issue 10 item 1).

Real programs: python resolves and a subprocess curl connects to the address
(the issue's case), a shell script hands `getent ahosts` output to curl, a
program close_range()s every descriptor before it resolves and execs curl,
and lftp resolves in a forked child. The client namespace's resolver is
a trap (0 queries), the targets are reachable only through the proxy, and
nothing leaves the client but for the proxy. Before the tree table, the
second process said "a remote-DNS address with no name behind it"."""

import unittest

from harness import netns, servers
from harness.testcase import PYTHON
from test_remote_dns_tree import DANTED_H, NAME, URLPATH, TreeTableTest


class RemoteDnsTreePrograms(TreeTableTest):
    # -- the cases
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



if __name__ == "__main__":
    unittest.main()
