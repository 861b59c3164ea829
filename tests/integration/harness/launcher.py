"""Where the socksify launcher is, and the command line and environment for it."""

from __future__ import annotations

import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))

# socksify[PID]: error: ...   (the one line the library prints when the proxy fails)
ERROR_LINE = re.compile(rb"^socksify\[\d+\]: error: .+$", re.MULTILINE)

# Variables that would make a client program pick a proxy on its own, or change
# socksify's behaviour behind a test's back.
_SCRUB_PREFIXES = ("SOCKSIFY_",)
_SCRUB_NAMES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy", "LD_PRELOAD"}


class LauncherMissing(AssertionError):
    pass


def launcher_path() -> str:
    """The launcher to test: $SOCKSIFY_LAUNCHER, else $SOCKSIFY_BUILD_DIR/socksify,
    else build/socksify in this source tree."""
    explicit = os.environ.get("SOCKSIFY_LAUNCHER")
    if explicit:
        return explicit
    build_dir = os.environ.get("SOCKSIFY_BUILD_DIR") or os.path.join(REPO_ROOT, "build")
    return os.path.join(build_dir, "socksify")


def require_launcher() -> str:
    path = launcher_path()
    if not os.path.isfile(path):
        raise LauncherMissing(
            f"socksify launcher not found at {path}. Build it first "
            f"(cmake -S . -B build -G Ninja && cmake --build build) or point "
            f"SOCKSIFY_LAUNCHER / SOCKSIFY_BUILD_DIR at it. These tests do not skip.")
    if not os.access(path, os.X_OK):
        raise LauncherMissing(f"socksify launcher at {path} is not executable")
    return path


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(_SCRUB_PREFIXES) and k.lower() not in _SCRUB_NAMES}
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    env["LC_ALL"] = "C.UTF-8"  # stable messages from curl, wget, nc
    if extra:
        env.update(extra)
    return env


def command(program: list[str], proxy_url: str | None = None, options: list[str] | None = None) -> list[str]:
    """socksify [-x URL] [options] -- program..."""
    argv = [require_launcher()]
    if proxy_url is not None:
        argv += ["-x", proxy_url]
    argv += list(options or [])
    return argv + ["--", *program]


def error_lines(stderr: bytes) -> list[bytes]:
    return ERROR_LINE.findall(stderr)
