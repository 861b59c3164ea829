#!/bin/bash
# UDP request/response round trips through danted's relay: LD_PRELOAD socksify
# vs the same binary wrapping the RFC 1928 §7 header itself. See udp_rtt.py.
exec /usr/bin/python3 "$(dirname "$0")/udp_rtt.py" "$@"
