#!/usr/bin/env python3
"""Writes the seed corpus for the fuzz targets: a few valid messages each.

Run from anywhere; it rewrites tests/fuzz/corpus/. Layouts follow RFC 1928
§3, §6, §7 and RFC 1929 §2; fuzz_handshake's 3-byte prefix is described in
fuzz_handshake.cpp.
"""
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"

V4 = bytes([0x01, 10, 0, 0, 1, 0x0F, 0xA0])
V6 = bytes([0x04, 0x20, 0x01, 0x0D, 0xB8] + [0] * 11 + [0x00, 0x50])
NAME = bytes([0x03, 10]) + b"relay.test" + bytes([0x04, 0x38])


def reply(rep, addr):
    return bytes([0x05, rep, 0x00]) + addr


SEEDS = {
    "fuzz_decode_reply": {
        "ok_ipv4": reply(0, V4),
        "ok_ipv6": reply(0, V6),
        "ok_name": reply(0, NAME),
        "refused_ipv4": reply(5, V4),
        "ok_ipv4_then_data": reply(0, V4) + b"HTTP/1.1 200 OK\r\n",
    },
    "fuzz_decode_udp_header": {
        "ipv4_payload": bytes([0, 0, 0]) + V4 + b"ping",
        "ipv6_payload": bytes([0, 0, 0]) + V6 + b"ping",
        "name_payload": bytes([0, 0, 0]) + NAME + b"ping",
        "frag1_ipv4": bytes([0, 0, 1]) + V4 + b"x",
    },
    "fuzz_decode_choice": {
        "choose_noauth": bytes([0x05, 0x00]),
        "choose_password": bytes([0x05, 0x02]),
        "choose_none": bytes([0x05, 0xFF]),
        "auth_ok": bytes([0x01, 0x00]),
        "auth_fail": bytes([0x01, 0x01]),
    },
    "fuzz_handshake": {
        # flags, read chunk, write chunk, then the server's bytes
        "noauth_ipv4": bytes([0x00, 0, 0, 0x05, 0x00]) + reply(0, V4),
        "password_name_bytewise": bytes([0x11, 1, 1, 0x05, 0x02, 0x01, 0x00]) + reply(0, NAME),
        "password_ipv6_data_after": bytes([0x09, 3, 2, 0x05, 0x02, 0x01, 0x00])
        + reply(0, V6)
        + b"data",
        "udp_associate_refused": bytes([0x04, 0, 0, 0x05, 0x00]) + reply(7, V4),
        "auth_rejected": bytes([0x01, 0, 0, 0x05, 0x02, 0x01, 0x01]),
        "no_acceptable": bytes([0x00, 0, 0, 0x05, 0xFF]),
    },
}

for target, seeds in SEEDS.items():
    d = ROOT / target
    d.mkdir(parents=True, exist_ok=True)
    for name, data in seeds.items():
        (d / name).write_bytes(data)
