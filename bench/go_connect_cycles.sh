#!/bin/bash
# Connect + echo + close cycles of a Go client through danted: under the seccomp
# supervisor (socksify --mode seccomp) vs the same client speaking SOCKS5 itself.
# Starts the echo server and danted, kills them at the end. See go_connect_cycles.py.
exec /usr/bin/python3 "$(dirname "$0")/go_connect_cycles.py" "$@"
