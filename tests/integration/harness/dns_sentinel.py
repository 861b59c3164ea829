"""A UDP socket on 127.0.0.1:53 in the client namespace that records every DNS
query and never answers. With the namespace's resolv.conf pointing at it, any
query that reaches it is a name the client tried to resolve locally."""

from __future__ import annotations

import socket
import threading


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
