#!/bin/bash
# getaddrinfo() of new names under socksify with remote DNS (socks5h), 8 threads:
# median and p99 latency, beside libc resolving a numeric host in the same run.
# Nothing is sent: the proxy address is never contacted by a lookup. See resolve_names.py.
exec /usr/bin/python3 "$(dirname "$0")/resolve_names.py" "$@"
