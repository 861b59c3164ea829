#!/usr/bin/python3
"""bind_accept.py HOST [blocking|nonblocking]: listen the way an FTP client in
active mode does, and report what the program sees.

bind((HOST, 0)), listen(1), getsockname(): printed as the first JSON line
{"listening": [host, port]}, for the test to connect to. Then accept() (blocking,
or a non-blocking socket waited for with select(), as event loops do), read until
the peer shuts its side, answer "ack:" + the bytes, and print
{"peer": [...], "getpeername": [...], "data": "...", "second_accept": errno name}.
"""

import errno
import json
import select
import socket
import sys


def main() -> int:
    host = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "blocking"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    lst = socket.socket(family, socket.SOCK_STREAM)
    lst.bind((host, 0))
    lst.listen(1)
    print(json.dumps({"listening": list(lst.getsockname()[:2])}), flush=True)
    if mode == "nonblocking":
        lst.setblocking(False)
        readable, _, _ = select.select([lst], [], [], 20)
        if not readable:
            print(json.dumps({"error": "no connection within 20 s"}), flush=True)
            return 1
    else:
        lst.settimeout(20)
    conn, peer = lst.accept()
    conn.settimeout(20)
    data = b""
    while chunk := conn.recv(4096):
        data += chunk
    conn.sendall(b"ack:" + data)
    result = {"peer": list(peer[:2]), "getpeername": list(conn.getpeername()[:2]),
              "data": data.decode()}
    # SOCKS BIND carries one connection: a second accept finds nothing.
    lst.setblocking(False)
    try:
        lst.accept()
        result["second_accept"] = "OK"
    except OSError as e:
        result["second_accept"] = errno.errorcode.get(e.errno, str(e.errno))
    conn.close()
    lst.close()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
