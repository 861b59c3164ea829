#!/bin/bash
# Time to first byte of a small HTTP GET through danted behind a relay adding
# BENCH_DELAY_MS (25) each way: socksify (pipelined) vs curl's own SOCKS5, with
# and without a login; proxychains4 beside them. See first_byte.py.
exec /usr/bin/python3 "$(dirname "$0")/first_byte.py" "$@"
