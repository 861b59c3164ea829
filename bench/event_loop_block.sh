#!/bin/bash
# Time a non-blocking connect() keeps an event loop inside the call, and time
# until the socket is ready: socksify (EINPROGRESS + helper thread) vs a
# handshake run inside connect() (and proxychains4 / dante socksify if
# installed). Starts the echo server and danted, kills them. See event_loop_block.py.
exec /usr/bin/python3 "$(dirname "$0")/event_loop_block.py" "$@"
