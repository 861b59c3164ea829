#!/bin/bash
# 10M one-byte write()s to /dev/null with and without libsocksify.so preloaded. See write_devnull.py.
exec /usr/bin/python3 "$(dirname "$0")/write_devnull.py" "$@"
