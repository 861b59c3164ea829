#!/bin/bash
# The tree-wide name table against the per-process one (issue 10): new names
# from 8 threads and 8 processes, median and p99 ratio <= 1.5. No network.
# See shared_name_table.py.
exec /usr/bin/python3 "$(dirname "$0")/shared_name_table.py" "$@"
