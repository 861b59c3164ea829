#!/bin/bash
# DNS stub latency: dig-style UDP queries answered by the stub vs a minimal
# loopback responder. See dns_stub_query.py.
exec /usr/bin/python3 "$(dirname "$0")/dns_stub_query.py" "$@"
