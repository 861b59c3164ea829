"""Deterministic test payloads, shared by the client scripts (imported from this directory)."""

import hashlib
import socket


def payload(size: int, tag: int = 0) -> bytes:
    """`size` bytes that differ per tag and per position, so a swapped, lost or
    duplicated chunk anywhere shows up as a mismatch."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{tag}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def echo_round_trip(host: str, port: int, size: int, tag: int) -> str | None:
    """One connection to an echo server: send payload(size, tag), read it back.
    None when the echo matched, else what went wrong."""
    data = payload(size, tag=tag)
    try:
        with socket.create_connection((host, port), timeout=20) as sock:
            sock.sendall(data)
            got = bytearray()
            while len(got) < size:
                chunk = sock.recv(size - len(got))
                if not chunk:
                    return f"EOF after {len(got)} of {size} bytes"
                got += chunk
            return None if got == data else "echo differs"
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
