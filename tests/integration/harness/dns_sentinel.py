"""A UDP socket on 127.0.0.1:53 in the client namespace that records every DNS
query and never answers. With the namespace's resolv.conf pointing at it, any
query that reaches it is a name the client tried to resolve locally."""

from __future__ import annotations

import socket
import threading

from harness import netns, servers


class DnsSentinel:
    def __init__(self, topo):
        self.sock = topo.socket(topo.client, socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 53))
        self.sock.settimeout(0.1)
        self.queries: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data, _ = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.queries.append(data)  # never answered: the resolver gives up on its own

    def names(self, label: str) -> list[bytes]:
        """Queries whose question contains `label` (one label of a name, as on the wire)."""
        return [q for q in self.queries if label.encode() in q]

    def stop(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


class WatchesDns:
    """Mixin for an IntegrationTest whose client namespace sends DNS to 127.0.0.1
    (start_danted_resolving): a fresh sentinel for every test, and the assertion."""

    def setUp(self):
        super().setUp()
        self.sentinel = DnsSentinel(self.topo)
        self.addCleanup(self.sentinel.stop)

    def assertServedByName(self, name: str, since: int) -> None:
        """The HTTP target served the small file to the proxy, with `name` in Host:
        (it resolves to the target in the proxy namespace only), and danted logged
        the session from the client namespace."""
        (rec,) = self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertEqual(rec["host"], f"{name}:{servers.HTTP_PORT}")
        sessions = [s for s in self.danted.wait_sessions(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)
                    if s.client_host == netns.CLIENT4]
        if not sessions:  # danted may log the name it was given instead of the address
            sessions = self.danted.wait_sessions(f"{name}.{servers.HTTP_PORT}", since=since)
        self.assertTrue(sessions, f"danted did not log the session:\n{self.danted.log_since(since)}")

    def assertNoDnsLeak(self):
        self.assertEqual(self.sentinel.queries, [], "a DNS query left the client namespace")
