"""Three network namespaces in a line: client -- proxy -- target.

    client  10.200.0.1/24  fd00:200::1/64
              |  veth
    proxy   10.200.0.2/24  fd00:200::2/64     (toward the client)
            10.200.1.1/24  fd00:201::1/64     (toward the target)
              |  veth
    target  10.200.1.2/24  fd00:201::2/64

The client has no route to 10.200.1.0/24 or fd00:201::/64 and the proxy does not
forward, so a byte from the client reaches the target only if a proxy process in
the proxy namespace carried it. Tests use this to prove the proxy was used.

Every namespace name carries our pid, so parallel test processes never collide,
and a later run can recognise (and remove) what a killed run left behind.
"""

from __future__ import annotations

import atexit
import ctypes
import errno
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from typing import Callable

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"
PREFIX = "sfy"
_NAME_RE = re.compile(rf"^{PREFIX}-(\d+)-\d+-(client|proxy|target)$")
WORKDIR_PREFIX = "socksify-itest-"
_WORKDIR_RE = re.compile(rf"^{WORKDIR_PREFIX}(\d+)-")

CLIENT4, CLIENT6 = "10.200.0.1", "fd00:200::1"
PROXY4, PROXY6 = "10.200.0.2", "fd00:200::2"  # proxy, client side
PROXY_OUT4, PROXY_OUT6 = "10.200.1.1", "fd00:201::1"  # proxy, target side
TARGET4, TARGET6 = "10.200.1.2", "fd00:201::2"

_libc = ctypes.CDLL(None, use_errno=True)
_seq_lock = threading.Lock()
_seq = 0
_live: list["Topology"] = []


class NetnsError(RuntimeError):
    pass


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check and proc.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (owned by anyone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def namespace_pids(name: str) -> list[int]:
    proc = _ip("netns", "pids", name, check=False)
    if proc.returncode != 0:
        return []
    return [int(tok) for tok in proc.stdout.split() if tok.isdigit()]


def kill_namespace_processes(name: str, deadline_s: float = 3.0) -> None:
    """SIGTERM, then SIGKILL, every process still inside namespace `name`.

    Only processes in a namespace this harness created (pid in its name) are
    ever passed here, so everything killed was started by a test.
    """
    pids = namespace_pids(name)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    end = time.monotonic() + deadline_s
    while pids and time.monotonic() < end:
        pids = [p for p in namespace_pids(name) if p in pids]
        if pids:
            time.sleep(0.05)
    for pid in namespace_pids(name):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def delete_namespace(name: str) -> None:
    kill_namespace_processes(name)
    _ip("netns", "delete", name, check=False)
    etc_dir = os.path.join("/etc/netns", name)
    if os.path.isdir(etc_dir):
        for entry in os.listdir(etc_dir):
            os.unlink(os.path.join(etc_dir, entry))
        os.rmdir(etc_dir)


def sweep_stale() -> list[str]:
    """Delete namespaces left by an earlier harness process that no longer exists
    (for example one killed by a ctest timeout before its cleanup could run)."""
    removed = []
    try:
        names = os.listdir(NETNS_DIR)
    except FileNotFoundError:
        return removed
    for name in names:
        match = _NAME_RE.match(name)
        if not match:
            continue
        owner = int(match.group(1))
        if owner == os.getpid() or pid_alive(owner):
            continue
        delete_namespace(name)
        removed.append(name)
    tmp = tempfile.gettempdir()
    for entry in os.listdir(tmp):
        match = _WORKDIR_RE.match(entry)
        if match and not pid_alive(int(match.group(1))) and not os.environ.get("SOCKSIFY_ITEST_KEEP"):
            shutil.rmtree(os.path.join(tmp, entry), ignore_errors=True)
    return removed


def _setns(name: str) -> None:
    fd = os.open(os.path.join(NETNS_DIR, name), os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({name}): {os.strerror(err)}")
    finally:
        os.close(fd)


def run_in_netns(name: str, func: Callable[[], object]) -> object:
    """Run func on a short-lived thread that has joined namespace `name`.

    A socket belongs to the namespace it was created in for its whole life, so
    sockets made here can then be used from any thread of the test process.
    """
    box: dict[str, object] = {}

    def body() -> None:
        try:
            _setns(name)
            box["value"] = func()
        except BaseException as exc:  # handed back to the caller below
            box["error"] = exc

    worker = threading.Thread(target=body, name=f"netns-{name}", daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():
        raise NetnsError(f"thread in namespace {name} did not finish in 10 s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box.get("value")


class Process:
    """A process started inside a namespace, in its own process group."""

    def __init__(self, popen: subprocess.Popen, argv: list[str], log_path: str | None):
        self.popen = popen
        self.argv = argv
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        if not self.log_path:
            return ""
        try:
            with open(self.log_path, "r", errors="replace") as fh:
                return fh.read()
        except FileNotFoundError:
            return ""

    def stop(self, grace_s: float = 2.0) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(grace_s)
            except subprocess.TimeoutExpired:
                pass
        # The group may hold children (danted forks workers) even after the
        # leader is gone.
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(grace_s)
        except subprocess.TimeoutExpired:
            pass


class Topology:
    """Context manager owning the three namespaces and every process started in them."""

    def __init__(self) -> None:
        global _seq
        with _seq_lock:
            _seq += 1
            seq = _seq
        base = f"{PREFIX}-{os.getpid()}-{seq}"
        self.client = f"{base}-client"
        self.proxy = f"{base}-proxy"
        self.target = f"{base}-target"
        self.processes: list[Process] = []
        self._created: list[str] = []
        self._closed = False
        self._finished = False
        self._paths: list[str] = []

    # -- lifecycle -------------------------------------------------------
    def __enter__(self) -> "Topology":
        _install_exit_hooks()
        sweep_stale()
        _live.append(self)
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _build(self) -> None:
        for name in (self.client, self.proxy, self.target):
            _ip("netns", "add", name)
            self._created.append(name)
            _ip("-n", name, "link", "set", "lo", "up")
        # Interface names live inside each namespace, so fixed short names are safe.
        _ip("link", "add", "eth0", "netns", self.client, "type", "veth",
            "peer", "name", "eth0", "netns", self.proxy)
        _ip("link", "add", "eth1", "netns", self.proxy, "type", "veth",
            "peer", "name", "eth0", "netns", self.target)
        plan = [
            (self.client, "eth0", CLIENT4, CLIENT6),
            (self.proxy, "eth0", PROXY4, PROXY6),
            (self.proxy, "eth1", PROXY_OUT4, PROXY_OUT6),
            (self.target, "eth0", TARGET4, TARGET6),
        ]
        for ns, dev, v4, v6 in plan:
            _ip("-n", ns, "addr", "add", f"{v4}/24", "dev", dev)
            _ip("-n", ns, "-6", "addr", "add", f"{v6}/64", "dev", dev, "nodad")
            _ip("-n", ns, "link", "set", dev, "up")
        # The proxy must not route: only a proxy process may carry traffic across.
        self.sysctl(self.proxy, "net.ipv4.ip_forward", "0")
        self.sysctl(self.proxy, "net.ipv6.conf.all.forwarding", "0")
        self._wait_links_up(plan)
        self._check_no_route_to_target()

    def _wait_links_up(self, plan, deadline_s: float = 5.0) -> None:
        end = time.monotonic() + deadline_s
        pending = [(ns, dev) for ns, dev, _v4, _v6 in plan]
        while pending:
            pending = [(ns, dev) for ns, dev in pending
                       if "state UP" not in _ip("-n", ns, "link", "show", dev).stdout]
            if not pending:
                return
            if time.monotonic() > end:
                raise NetnsError(f"links not up after {deadline_s} s: {pending}")
            time.sleep(0.05)

    def _check_no_route_to_target(self) -> None:
        for dst in (TARGET4, TARGET6):
            proc = _ip("-n", self.client, "route", "get", dst, check=False)
            if proc.returncode == 0:
                raise NetnsError(f"client namespace unexpectedly routes to {dst}: {proc.stdout}")

    def sysctl(self, ns: str, key: str, value: str) -> None:
        proc = subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", f"{key}={value}"],
                              capture_output=True, text=True, timeout=20)
        if proc.returncode != 0:
            raise NetnsError(f"sysctl {key}={value} in {ns}: {proc.stderr.strip()}")

    def close(self) -> None:
        """Stop every process, delete the namespaces. Safe to call again, also
        re-entered from the signal handler while a close is half done: each step
        is idempotent, and only a completed pass marks the topology finished."""
        if self._finished:
            return
        self._closed = True  # no new processes from here on
        for proc in reversed(list(self.processes)):
            proc.stop()
        for name in reversed(self._created):
            delete_namespace(name)
        for path in self._paths:
            shutil.rmtree(path, ignore_errors=True)
        self._finished = True
        if self in _live:
            _live.remove(self)

    def make_workdir(self, keep: bool = False) -> str:
        """A temporary directory for configs and logs, removed with the topology
        (unless keep), and by a later run's sweep if this process is killed."""
        path = tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-")
        if not keep:
            self._paths.append(path)
        return path

    # -- running things --------------------------------------------------
    def set_hosts(self, ns: str, hosts_text: str) -> None:
        """Give namespace `ns` its own /etc/hosts (ip netns exec bind-mounts
        /etc/netns/NAME/hosts over /etc/hosts for processes it starts)."""
        etc_dir = os.path.join("/etc/netns", ns)
        os.makedirs(etc_dir, exist_ok=True)
        with open(os.path.join(etc_dir, "hosts"), "w") as fh:
            fh.write(hosts_text)

    def set_resolv_conf(self, ns: str, text: str) -> None:
        etc_dir = os.path.join("/etc/netns", ns)
        os.makedirs(etc_dir, exist_ok=True)
        with open(os.path.join(etc_dir, "resolv.conf"), "w") as fh:
            fh.write(text)

    def spawn(self, ns: str, argv: list[str], log_path: str | None = None,
              env: dict[str, str] | None = None, cwd: str | None = None) -> Process:
        """Start argv inside namespace ns, stdout and stderr to log_path."""
        if self._closed:
            raise NetnsError("topology already closed")
        full = ["ip", "netns", "exec", ns, *argv]
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL
        try:
            popen = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                     start_new_session=True)
        finally:
            if log_path:
                out.close()  # the child holds its own copy
        proc = Process(popen, full, log_path)
        self.processes.append(proc)
        return proc

    def run(self, ns: str, argv: list[str], timeout: float = 30, env: dict[str, str] | None = None,
            input: bytes | None = None, cwd: str | None = None) -> subprocess.CompletedProcess:
        """Run argv inside ns to completion; stdout and stderr captured as bytes.

        The command gets its own process group and the whole group is killed if
        it outlives `timeout`, so no test client can linger.
        """
        full = ["ip", "netns", "exec", ns, *argv]
        popen = subprocess.Popen(full, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
                                 start_new_session=True)
        proc = Process(popen, full, None)
        self.processes.append(proc)
        try:
            out, err = popen.communicate(input=input, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.stop(grace_s=0.5)
            out, err = popen.communicate()
            raise subprocess.TimeoutExpired(full, timeout, output=out, stderr=err)
        finally:
            try:
                os.killpg(popen.pid, signal.SIGKILL)  # stragglers the command forked
            except (ProcessLookupError, PermissionError):
                pass
            self.processes.remove(proc)
        return subprocess.CompletedProcess(full, popen.returncode, out, err)

    def popen(self, ns: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start argv inside ns with stdin, stdout and stderr as pipes, for tests
        that talk to a program while it runs. Stopped with the topology at the
        latest; callers should wait() for it themselves."""
        full = ["ip", "netns", "exec", ns, *argv]
        popen = subprocess.Popen(full, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=env, start_new_session=True)
        self.processes.append(Process(popen, full, None))
        return popen

    def socket(self, ns: str, family: int = socket.AF_INET, type: int = socket.SOCK_STREAM) -> socket.socket:
        """A socket created inside namespace ns, usable from any thread."""
        return run_in_netns(ns, lambda: socket.socket(family, type))  # type: ignore[return-value]

    def direct_connect_errno(self, ns: str, host: str, port: int, timeout: float = 3.0) -> int:
        """Try a plain TCP connect from ns; return 0 on success or the errno."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = self.socket(ns, family)
        sock.settimeout(timeout)
        try:
            sock.connect((host, port))
            return 0
        except socket.timeout:
            return errno.ETIMEDOUT
        except OSError as exc:
            return exc.errno or -1
        finally:
            sock.close()


# -- cleanup when a test process dies ----------------------------------------
_hooks_installed = False


def _close_all() -> None:
    for topo in list(_live):
        try:
            topo.close()
        except Exception:  # keep closing the others
            pass


def _on_signal(signum, _frame) -> None:
    _close_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_exit_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_close_all)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            if signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler):
                signal.signal(sig, _on_signal)
