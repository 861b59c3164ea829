"""Descriptor-lifecycle client run through the launcher: children that share the
parent's memory, and a program that closes or overwrites descriptors it never
opened (socksify's own). Prints one JSON line with what it saw.

    fd_safety.py child MODE TARGET TCP_PORT UDP_PORT
        A UDP socket associated through the proxy and a TCP tunnel, then a child:
        MODE subprocess (subprocess.run, close_fds: vfork + close_range in the
        child), spawn (subprocess.run close_fds=False: posix_spawn), file-actions
        (os.posix_spawn closing the UDP socket and dup2'ing over the tunnel).
        Afterwards: getpeername, a TCP echo, a UDP echo, a datagram to
        127.0.0.1:53 (its errno).
    fd_safety.py own MODE TARGET UDP_PORT
        A UDP socket associated through the proxy; MODE closerange (os.closerange
        around it), close-range-call (libc close_range(2) up to ~0U),
        close-range-syscall (the same through syscall(2)), closefrom (libc's
        closefrom above it), close-each (close() on every other number), dup2
        (a file dup2'd onto every descriptor the program does not know). Then files reuse the numbers, a
        UDP echo, the socket is closed, and every file is checked.
"""

import ctypes
import errno
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile

TIMEOUT_S = 5
SYS_CLOSE_RANGE = 436  # the same number on every Linux architecture
OWN_LIMIT = 1024


def out(**result) -> None:
    print(json.dumps(result), flush=True)


def fd_set_now() -> set[int]:
    fds = set()
    for fd in range(0, resource.getrlimit(resource.RLIMIT_NOFILE)[0]):
        try:
            os.fstat(fd)
            fds.add(fd)
        except OSError:
            pass
    return fds


def udp_echo(s: socket.socket, target: str, port: int, tag: bytes) -> dict:
    try:
        s.sendto(tag, (target, port))
        data, addr = s.recvfrom(2048)
        return {"data": data.decode(errors="replace"), "from": [addr[0], addr[1]]}
    except OSError as e:
        return {"errno": errno.errorcode.get(e.errno, str(e.errno)) if e.errno else str(e)}


def tcp_echo(t: socket.socket, tag: bytes) -> dict:
    try:
        t.sendall(tag)
        got = b""
        while len(got) < len(tag):
            chunk = t.recv(len(tag) - len(got))
            if not chunk:
                break
            got += chunk
        return {"data": got.decode(errors="replace")}
    except OSError as e:
        return {"errno": errno.errorcode.get(e.errno, str(e.errno))}


def dns_errno(s: socket.socket) -> str:
    # Under socks5h a query to the system resolver is answered by socksify's
    # DNS stub, never sent: the test's trap resolver on 127.0.0.1:53 counts
    # what arrives. (Refused with EACCES before the stub existed.)
    try:
        s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04trap\x04test\x00\x00\x01\x00\x01",
                 ("127.0.0.1", 53))
        return "sent"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def child(mode: str, target: str, tcp_port: int, udp_port: int) -> None:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(TIMEOUT_S)
    before_udp = udp_echo(u, target, udp_port, b"udp-before")
    t = socket.create_connection((target, tcp_port), timeout=TIMEOUT_S)
    before_tcp = tcp_echo(t, b"tcp-before")
    if mode == "subprocess":
        rc = subprocess.run(["/bin/true"]).returncode
    elif mode == "spawn":
        rc = subprocess.run(["/bin/true"], close_fds=False).returncode
    elif mode == "file-actions":
        devnull = os.open(os.devnull, os.O_RDWR)
        pid = os.posix_spawn("/bin/true", ["/bin/true"], os.environ,
                             file_actions=[(os.POSIX_SPAWN_CLOSE, u.fileno()),
                                           (os.POSIX_SPAWN_DUP2, devnull, t.fileno())])
        rc = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        os.close(devnull)
    else:
        raise SystemExit(f"unknown mode {mode}")
    try:
        peer = list(t.getpeername())
    except OSError as e:
        peer = errno.errorcode.get(e.errno, str(e.errno))
    out(ok=True, child_status=rc, before_udp=before_udp, before_tcp=before_tcp, peer=peer,
        after_tcp=tcp_echo(t, b"tcp-after"), after_udp=udp_echo(u, target, udp_port, b"udp-after"),
        dns=dns_errno(u))


def own(mode: str, target: str, udp_port: int) -> None:
    # The usual soft limit, whatever this environment's: every loop below is
    # bounded by it, and socksify places its descriptors by it.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, OWN_LIMIT), hard))
    baseline = fd_set_now()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(TIMEOUT_S)
    before = udp_echo(u, target, udp_port, b"udp-before")
    mine = baseline | {u.fileno()}
    unknown = sorted(fd_set_now() - mine)  # socksify's own: the program never opened them
    keep = u.fileno()
    close_errors = []
    if mode == "closerange":
        os.closerange(3, keep)
        os.closerange(keep + 1, 1 << 20)
    elif mode in ("close-range-call", "close-range-syscall"):
        libc = ctypes.CDLL(None, use_errno=True)
        if mode == "close-range-call":
            libc.close_range.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_int]
            close_range = libc.close_range
        else:
            libc.syscall.restype = ctypes.c_long
            close_range = lambda a, b, f: libc.syscall(ctypes.c_long(SYS_CLOSE_RANGE), ctypes.c_long(a),
                                                       ctypes.c_long(b), ctypes.c_long(f))
        if keep > 3 and close_range(3, keep - 1, 0) != 0:
            close_errors.append(ctypes.get_errno())
        if close_range(keep + 1, 0xFFFFFFFF, 0) != 0:
            close_errors.append(ctypes.get_errno())
    elif mode == "closefrom":
        os.closerange(3, keep)
        ctypes.CDLL(None).closefrom(keep + 1)
    elif mode == "close-each":
        for fd in range(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0]):
            if fd == keep:
                continue
            try:
                os.close(fd)
            except OSError as e:
                if fd in unknown:
                    close_errors.append(errno.errorcode.get(e.errno, str(e.errno)))
    elif mode != "dup2":
        raise SystemExit(f"unknown mode {mode}")

    # Files take every free number up to the highest of ours (or a bound): a
    # number socksify lost is one of them now.
    tmp = tempfile.mkdtemp(prefix="fd-safety-")
    files: dict[int, bytes] = {}
    dup_errors = []
    if mode == "dup2":
        first = os.open(os.path.join(tmp, "dup2-source"), os.O_RDWR | os.O_CREAT)
        os.write(first, b"dup2-source")
        files[first] = b"dup2-source"
        for n in unknown:
            try:
                os.dup2(first, n)
                files[n] = b"dup2-source"
            except OSError as e:
                dup_errors.append(errno.errorcode.get(e.errno, str(e.errno)))
    else:
        top = max(unknown, default=16) + 1
        for i in range(top + 4):
            fd = os.open(os.path.join(tmp, f"f{i}"), os.O_RDWR | os.O_CREAT)
            marker = f"file-{i}-at-{fd}".encode()
            os.write(fd, marker)
            files[fd] = marker
            if fd > top:
                break
    reused = sorted(n for n in unknown if n in files)
    after = udp_echo(u, target, udp_port, b"udp-after")
    u.close()
    intact, damaged = 0, []
    for fd, marker in files.items():
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            got = os.read(fd, 100)
            if got != marker:
                damaged.append([fd, got.decode(errors="replace")])
            else:
                intact += 1
        except OSError as e:
            damaged.append([fd, errno.errorcode.get(e.errno, str(e.errno))])
    for fd in files:
        try:
            os.close(fd)
        except OSError:
            pass
    for name in os.listdir(tmp):
        os.unlink(os.path.join(tmp, name))
    os.rmdir(tmp)
    left = sorted(fd_set_now() - baseline)
    out(ok=True, limit=resource.getrlimit(resource.RLIMIT_NOFILE)[0], unknown=unknown, before=before, after=after, files=len(files), intact=intact,
        damaged=damaged, reused=reused, close_errors=close_errors, dup_errors=dup_errors, left=left,
        baseline=len(baseline), final=len(fd_set_now()))


def main() -> None:
    what = sys.argv[1]
    if what == "child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif what == "own":
        own(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        raise SystemExit(f"unknown command {what}")


if __name__ == "__main__":
    main()
