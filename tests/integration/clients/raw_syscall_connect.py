#!/usr/bin/python3
"""raw_syscall_connect.py HOST PORT: connect an IPv4 TCP socket with
syscall(SYS_connect) instead of libc's connect(), as some runtimes do, and
report the result as JSON {"rc": int, "errno": "ECONNREFUSED" | "OK"}."""

import ctypes
import errno
import json
import socket
import struct
import sys

SYS_CONNECT = 42  # x86_64


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    sock = socket.socket()
    addr = struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + socket.inet_aton(host) + bytes(8)
    rc = libc.syscall(ctypes.c_long(SYS_CONNECT), ctypes.c_long(sock.fileno()), addr,
                      ctypes.c_long(len(addr)))
    code = 0 if rc == 0 else ctypes.get_errno()
    print(json.dumps({"rc": rc, "errno": "OK" if code == 0 else errno.errorcode.get(code, str(code))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
