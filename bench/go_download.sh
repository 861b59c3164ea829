#!/bin/bash
# 100 MiB download by a Go client through danted: under the seccomp supervisor
# (socksify --mode seccomp) vs the same client speaking SOCKS5 itself. See go_download.py.
exec /usr/bin/python3 "$(dirname "$0")/go_download.py" "$@"
