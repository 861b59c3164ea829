"""A throw-away system user with a password, for danted's `socksmethod: username`
(danted checks system accounts). Names carry our pid so parallel runs never share
one, and a later run deletes what a killed run left behind."""

from __future__ import annotations

import atexit
import os
import pwd
import re
import secrets
import subprocess

from harness.netns import pid_alive

PREFIX = "sfyu"
_NAME_RE = re.compile(rf"^{PREFIX}(\d+)x(\d+)$")
_created: list[str] = []
_seq = 0
_atexit_registered = False


class UserError(RuntimeError):
    pass


def _run(argv: list[str], input: str | None = None) -> None:
    proc = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise UserError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")


def delete_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    _run(["userdel", name])
    if name in _created:
        _created.remove(name)


def sweep_stale() -> None:
    for entry in pwd.getpwall():
        m = _NAME_RE.match(entry.pw_name)
        if m and int(m.group(1)) != os.getpid() and not pid_alive(int(m.group(1))):
            delete_user(entry.pw_name)


class TestUser:
    """Context manager: a system user (no home, no shell) with a random password."""

    def __init__(self, password: str | None = None):
        global _seq
        _seq += 1
        self.name = f"{PREFIX}{os.getpid()}x{_seq}"
        # Letters and digits only, so the password is safe inside a proxy URL.
        self.password = password or "pw" + secrets.token_hex(8)

    def create(self) -> "TestUser":
        sweep_stale()
        _run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", self.name])
        global _atexit_registered
        _created.append(self.name)
        if not _atexit_registered:
            _atexit_registered = True
            atexit.register(_delete_all)
        try:
            _run(["chpasswd"], input=f"{self.name}:{self.password}\n")
        except BaseException:
            delete_user(self.name)
            raise
        return self

    def delete(self) -> None:
        delete_user(self.name)

    def __enter__(self) -> "TestUser":
        return self.create()

    def __exit__(self, *exc_info) -> None:
        self.delete()


def _delete_all() -> None:
    for name in list(_created):
        try:
            delete_user(name)
        except UserError:
            pass
