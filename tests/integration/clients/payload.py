"""Deterministic test payloads, shared by the client scripts (imported from this directory)."""

import hashlib


def payload(size: int, tag: int = 0) -> bytes:
    """`size` bytes that differ per tag and per position, so a swapped, lost or
    duplicated chunk anywhere shows up as a mismatch."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{tag}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])
