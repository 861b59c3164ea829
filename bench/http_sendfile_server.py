"""A minimal HTTP/1.1 server for the download benchmark: every GET is answered
with the whole of one file, sent with sendfile(2) so the server spends no time
copying bytes through Python (http.server would be the bottleneck).

usage: http_sendfile_server.py HOST PORT FILE
"""

import os
import socket
import sys


def serve(host, port, path):
    size = os.path.getsize(path)
    header = (f"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
              f"Content-Length: {size}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_server((host, port), backlog=64) as srv, open(path, "rb") as f:
        while True:
            conn, _ = srv.accept()
            with conn:
                try:
                    req = b""
                    while b"\r\n\r\n" not in req and len(req) < 65536:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        req += chunk
                    if not req.startswith(b"GET "):
                        continue
                    conn.sendall(header)
                    offset = 0
                    while offset < size:
                        sent = os.sendfile(conn.fileno(), f.fileno(), offset, size - offset)
                        if sent == 0:
                            break
                        offset += sent
                except OSError:
                    pass  # the client went away; serve the next one


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3])
