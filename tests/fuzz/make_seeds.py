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
    "fuzz_socks4_reply": {
        # VN=0 CD DSTPORT DSTIP (the SOCKS4 reply)
        "granted": bytes([0, 90, 0x1F, 0x90, 10, 0, 0, 1]),
        "rejected": bytes([0, 91, 0, 0, 0, 0, 0, 0]),
        "no_identd": bytes([0, 92, 0, 0, 0, 0, 0, 0]),
        "identd_mismatch": bytes([0, 93, 0, 0, 0, 0, 0, 0]),
        "granted_then_data": bytes([0, 90, 0, 80, 1, 2, 3, 4]) + b"HTTP/1.1 200 OK\r\n",
        "socks5_reply": reply(0, V4),
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

CONFIG_FILE = b"""# socksify.conf
proxy socks5h://alice@10.0.0.1:1080, socks5://[fd00::1]:1081
proxy_mode failover
password pa ss # not a comment
dns remote
direct 10.0.0.0/8 .corp.example :443 [fd00::]/8:22
direct_loopback off
udp yes
connect_timeout 2500
fake_ipv4 240.0.0.0/8
fake_ipv6 100::/96
log_level debug
log_file /tmp/socksify#1.log
"""

# fuzz_config: mask byte (bit i sets the i-th variable of kVars from the next
# NUL-terminated chunk; bit 7 sets SOCKSIFY_PASSWORD), then the file.
SEEDS.update({
    "fuzz_proxy_url": {
        "plain": b"socks5://10.0.0.1",
        "remote_dns_port": b"socks5h://proxy.example:1080",
        "credentials": b"socks5://alice:s%40cret@10.0.0.1:1080/",
        "ipv6": b"SOCKS5H://bob:pw@[fd00::1]:9050",
        "no_scheme": b"10.0.0.1:1080",
        "bad_port": b"socks5://h:65536",
    },
    "fuzz_config": {
        "file_only": b"\x00" + CONFIG_FILE,
        "env_only": b"\x01socks5://10.0.0.1\x00",
        "env_over_file": b"\x83socks5h://10.0.0.2:1080\x00carol\x00" + CONFIG_FILE,
        "chain": b"\x11socks5://a:1,socks5://b:2\x00chain\x00",
        "bad_lines": b"\x00proxy socks5://x:0\nfoo bar\nudp maybe\nudp on\nudp off\n",
        "timeout_and_range": b"\x61socks5://h\x00999999999\x00250.0.0.0/25\x00",
    },
    "fuzz_direct_rule": {
        "cidr4": b"10.0.0.0/8",
        "host4_port": b"192.0.2.1:443",
        "cidr6_port": b"fd00::/8:22",
        "bracket6": b"[2001:db8::1]/128:53",
        "suffix": b".Example.TEST.",
        "host": b"intranet:8080",
        "port_only": b":443",
        "host_bits": b"10.0.0.1/8",
    },
    # flags, family, socktype, protocol, control, ni flags, host buffer length, node NUL service
    "fuzz_fake_resolver": {
        "unspec_http": bytes([0x00, 0, 0, 0, 0x20, 0x00, 255]) + b"example.test\x00http",
        "inet_stream_numeric": bytes([0x40, 1, 1, 1, 0x00, 0x03, 64]) + b"a.b\x008080",
        "v6_mapped_all": bytes([0x18, 2, 2, 2, 0x08, 0x00, 255]) + b"EXAMPLE.test\x0053",
        "canonname_dgram": bytes([0x02, 0, 2, 0, 0x18, 0x10, 8]) + b"host\x00domain",
        "null_hints": bytes([0x00, 0, 0, 0, 0x01, 0x00, 255]) + b"x.test",
        "tiny_ranges": bytes([0x00, 0, 1, 0, 0xF8, 0x08, 255]) + b"short\x00",
    },
})



# fuzz_dns_stub: DNS queries (RFC 1035 §4.1), the ID's low bit turns forwarding on.
def dns_name(dotted):
    out = b""
    for label in dotted.split(".") if dotted else []:
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def dns_query(name, qtype, qid=0x1234, ar=b"", arcount=0, flags=0x0100):
    head = qid.to_bytes(2, "big") + flags.to_bytes(2, "big") + bytes([0, 1, 0, 0, 0, 0])
    head += arcount.to_bytes(2, "big")
    return head + dns_name(name) + qtype.to_bytes(2, "big") + b"\x00\x01" + ar


def dns_opt(udp_size, dnssec_ok=False, version=0, options=b""):
    ttl = (version << 16) | (0x8000 if dnssec_ok else 0)
    return (b"\x00\x00\x29" + udp_size.to_bytes(2, "big") + ttl.to_bytes(4, "big")
            + len(options).to_bytes(2, "big") + options)


IP6_REV = ".".join("1" + "0" * 29 + "10") + ".ip6.arpa"
COOKIE = b"\x00\x0a\x00\x08" + bytes(range(8))
SEEDS["fuzz_dns_stub"] = {
    "a": dns_query("Target.Test", 1),
    "aaaa_edns_do": dns_query("target.test", 28, ar=dns_opt(1232, True), arcount=1),
    "any_forward": dns_query("target.test", 255, qid=0x1235),
    "mx_forward": dns_query("mail.test", 15, qid=0x4321 | 1),
    "https_nodata": dns_query("web.test", 65, qid=0x4320),
    "ptr_v4": dns_query("1.0.0.240.in-addr.arpa", 12),
    "ptr_v6": dns_query(IP6_REV, 12),
    "cookie_opt": dns_query("c.test", 1, ar=dns_opt(4096, options=COOKIE), arcount=1),
    "badvers": dns_query("v.test", 1, ar=dns_opt(1232, version=1), arcount=1),
    "compressed_additional": dns_query("x.test", 1, arcount=1,
                                       ar=b"\x01y\xc0\x0c\x00\x01\x00\x01" + bytes(6)),
    "tcp_framed_a": (len(dns_query("t.test", 1))).to_bytes(2, "big") + dns_query("t.test", 1),
    "pointer_loop": dns_query("a", 1)[:12] + b"\x01a\xc0\x0c\x00\x01\x00\x01",
    "notify_opcode": dns_query("z.test", 6, flags=0x2400),
    # an upstream's response (QR, RA, one TXT answer pointing at the question)
    "upstream_txt_response": dns_query("Mail.Test", 16, flags=0x8180)[:6] + b"\x00\x01"
    + dns_query("Mail.Test", 16)[8:]
    + b"\xc0\x0c\x00\x10\x00\x01\x00\x00\x01\x2c\x00\x04\x03abc",
}

for target, seeds in SEEDS.items():
    d = ROOT / target
    d.mkdir(parents=True, exist_ok=True)
    for name, data in seeds.items():
        (d / name).write_bytes(data)
