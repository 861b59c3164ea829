"""Issue 12 item 2: what the tree learnt about a proxy that does not take the
pipelined handshake is remembered for the whole process tree, not per process.
A parent learns the fallback on its first connection, then starts a child
program (fork + exec: a fresh copy of the library) whose first connection must
already be sequential. With remote DNS the memory lives in the tree's shared
region (the keeper's memfd); with local DNS there is no such region and each
new program probes once again (documented in socksify.conf(5))."""

import json
import socket
import struct
import unittest

from harness import netns, servers
from harness.capture import CapturesLink
from harness.socks_test_server import Mode
from harness.testcase import MICROSOCKS_PORT, PYTHON, IntegrationTest, describe

FALLBACK_LINE = b"does not take a pipelined handshake"
SEQUENTIAL_GREETING = "050100"

# The parent echoes once, then runs a child program that echoes once; both
# print their outcome, the parent last as JSON.
ECHO = """
import socket, sys
def echo(host, port, payload):
    try:
        with socket.create_connection((host, port), timeout=20) as s:
            s.sendall(payload)
            got = b""
            while len(got) < len(payload):
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        return "ok" if got == payload else "short"
    except OSError as exc:
        return f"error {exc.errno}"
"""
CHILD = ECHO + "print(echo(sys.argv[1], int(sys.argv[2]), b'child\\n' * 64), flush=True)\n"
PARENT = ECHO + f"""
import json, subprocess
first = echo(sys.argv[1], int(sys.argv[2]), b"parent\\n" * 64)
child = subprocess.run([{PYTHON!r}, "-c", {CHILD!r}, sys.argv[1], sys.argv[2]],
                       capture_output=True, timeout=20)
sys.stderr.buffer.write(child.stderr)
print(json.dumps({{"parent": first, "child": child.stdout.decode().strip(),
                  "child_rc": child.returncode}}), flush=True)
"""


def request(port: int) -> bytes:
    return bytes([5, 1, 0, 1]) + socket.inet_aton(netns.TARGET4) + struct.pack(">H", port)


class TreePipelineMemory(CapturesLink, IntegrationTest):
    start = ("microsocks",)

    def parent_and_child(self, proxy: str):
        proc = self.socksify([PYTHON, "-c", PARENT, netns.TARGET4, str(servers.ECHO_PORT)], proxy,
                             env={"SOCKSIFY_LOG_LEVEL": "info"}, timeout=30)
        self.assertSucceeded(proc, "parent and child echoes")
        self.assertEqual(json.loads(proc.stdout.decode().splitlines()[-1]),
                         {"parent": "ok", "child": "ok", "child_rc": 0}, describe(proc))
        return proc

    def test_a_child_program_starts_sequential_after_its_parent_learnt_the_fallback(self):
        server = self.start_test_server(Mode.DROP_AFTER_GREETING)
        proc = self.parent_and_child(server.url(scheme="socks5h"))
        recs = server.wait_records(4, deadline_s=2.0)
        # 1: the parent's probe, its request dropped; 2: the parent's sequential
        # retry; 3: the child's first connection, sequential from the start (a
        # child that probed again would add a dropped request and a retry).
        self.assertEqual(len(recs), 3, [r.to_json() for r in recs])
        self.assertEqual(recs[0].dropped.hex(), request(servers.ECHO_PORT).hex())
        for rec in recs[1:]:
            self.assertEqual(rec.first_read.hex(), SEQUENTIAL_GREETING, rec.to_json())
            self.assertEqual(rec.dropped, b"")
            self.assertEqual(rec.outcome, "relayed")
        self.assertEqual(proc.stderr.count(FALLBACK_LINE), 1, describe(proc))
        self.assertNoDirectPackets()

    def test_microsocks_child_does_not_probe_again(self):
        before = self.microsocks.log().count("connected to")
        proc = self.parent_and_child(f"socks5h://{netns.PROXY4}:{MICROSOCKS_PORT}")
        # The parent's probe is the only one of the tree: the child logs none.
        self.assertEqual(proc.stderr.count(FALLBACK_LINE), 1, describe(proc))
        servers.wait_for(lambda: self.microsocks.log().count("connected to") >= before + 2)
        self.assertEqual(self.microsocks.log().count("connected to"), before + 2)
        self.assertNoDirectPackets()

    def test_local_dns_tree_remembers_per_process(self):
        # socks5:// has no tree region (no keeper is started for local DNS): the
        # child program probes once again, as documented; it still sees no failure.
        server = self.start_test_server(Mode.DROP_AFTER_GREETING)
        proc = self.parent_and_child(server.url(scheme="socks5"))
        recs = server.wait_records(4)
        self.assertEqual(len(recs), 4, [r.to_json() for r in recs])
        self.assertEqual(recs[2].dropped.hex(), request(servers.ECHO_PORT).hex())
        self.assertEqual(recs[3].first_read.hex(), SEQUENTIAL_GREETING)
        self.assertEqual(proc.stderr.count(FALLBACK_LINE), 2, describe(proc))
        self.assertNoDirectPackets()


if __name__ == "__main__":
    unittest.main()
