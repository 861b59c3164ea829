#!/bin/bash
# Connect + echo + close cycles through danted: LD_PRELOAD socksify vs the same
# binary's own SOCKS5 client (and proxychains4 if installed). Starts the echo
# server and danted, kills them at the end. See connect_cycles.py.
exec /usr/bin/python3 "$(dirname "$0")/connect_cycles.py" "$@"
