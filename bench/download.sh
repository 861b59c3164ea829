#!/bin/bash
# 100 MiB download through danted: socksify + curl vs curl's own SOCKS5. See download.py.
exec /usr/bin/python3 "$(dirname "$0")/download.py" "$@"
