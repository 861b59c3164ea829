"""A packet capture on the client namespace's only link (eth0, toward the proxy),
for tests that must prove nothing went around the proxy.

The client normally has no route to the target networks, so a direct connect()
fails with ENETUNREACH before any packet exists: that would hide a fail-open bug
behind an error. `LinkCapture.open(topo)` therefore also gives the client
default routes via the proxy namespace (which does not forward): a direct packet
now really leaves on eth0, is dropped by the proxy's kernel, and is recorded
here. Any outgoing IP packet on eth0 whose destination is not the proxy's
client-side address (IPv6 neighbour discovery and multicast aside) is direct.

What tcpdump would show, without tcpdump: an AF_PACKET socket bound to eth0
inside the client namespace, read on a background thread (headers only).
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import threading
import time
from dataclasses import dataclass

from . import netns

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
_PROTO_NAMES = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6"}


@dataclass(frozen=True)
class Packet:
    src: str
    dst: str
    proto: str
    dport: int  # 0 when the protocol has no ports

    def __str__(self) -> str:
        return f"{self.proto} {self.src} -> {self.dst}:{self.dport}"


def _parse(frame: bytes) -> Packet | None:
    if len(frame) < 14:
        return None
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    ip = frame[14:]
    if ethertype == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 0x0F) * 4
        proto = ip[9]
        src, dst = socket.inet_ntop(socket.AF_INET, ip[12:16]), socket.inet_ntop(socket.AF_INET, ip[16:20])
        ports = ip[ihl:ihl + 4]
    elif ethertype == 0x86DD and len(ip) >= 40:
        proto = ip[6]
        src, dst = socket.inet_ntop(socket.AF_INET6, ip[8:24]), socket.inet_ntop(socket.AF_INET6, ip[24:40])
        ports = ip[40:44]
    else:
        return None  # ARP and the like
    dport = struct.unpack("!HH", ports)[1] if proto in (6, 17) and len(ports) == 4 else 0
    return Packet(src, dst, _PROTO_NAMES.get(proto, str(proto)), dport)


class LinkCapture:
    """Records every outgoing IP packet on the client's eth0 from start to stop."""

    def __init__(self, topo, sock: socket.socket):
        self.topo = topo
        self.sock = sock
        self.packets: list[Packet] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="link-capture")
        self._thread.start()

    @classmethod
    def open(cls, topo) -> "LinkCapture":
        for family, via in (("-4", netns.PROXY4), ("-6", netns.PROXY6)):
            netns._ip("-n", topo.client, family, "route", "replace", "default", "via", via, "dev", "eth0")

        def make() -> socket.socket:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            s.bind(("eth0", 0))
            return s

        sock = netns.run_in_netns(topo.client, make)
        sock.settimeout(0.05)
        return cls(topo, sock)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame, addr = self.sock.recvfrom(128)  # headers are enough
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] != PACKET_OUTGOING:
                continue
            pkt = _parse(frame)
            if pkt is not None:
                with self._lock:
                    self.packets.append(pkt)

    def clear(self) -> None:
        with self._lock:
            self.packets.clear()

    def direct(self, settle_s: float = 0.2) -> list[Packet]:
        """Outgoing packets to anything but the proxy (after letting the reader
        catch up with what the kernel has already queued for it)."""
        time.sleep(settle_s)
        allowed = {netns.PROXY4, netns.PROXY6}
        with self._lock:
            seen = list(self.packets)
        out = []
        for p in seen:
            if p.dst in allowed:
                continue
            dst = ipaddress.ip_address(p.dst)
            if dst.is_multicast or (p.proto == "icmp6" and dst.is_link_local):
                continue  # neighbour discovery, MLD
            out.append(p)
        return out

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


class CapturesLink:
    """Mixin for an IntegrationTest: a fresh capture of the client link for every
    test, and the assertion that nothing went anywhere but the proxy."""

    @classmethod
    def start_extra(cls) -> None:
        super().start_extra()
        cls.capture = LinkCapture.open(cls.topo)
        cls.addClassCleanup(cls.capture.stop)

    def setUp(self) -> None:
        super().setUp()
        self.capture.clear()

    def assertNoDirectPackets(self, what: str = "") -> None:
        leaked = self.capture.direct()
        self.assertEqual([str(p) for p in leaked], [],
                         f"packets went around the proxy{(' (' + what + ')') if what else ''}")
