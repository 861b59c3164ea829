#!/usr/bin/python3
"""urlopen.py URL: GET URL with urllib.request (getaddrinfo by name, then connect).

Prints one JSON line {"status", "bytes", "sha256"} or {"error"}; exit status 0
only on a 200.
"""

import hashlib
import json
import sys
import urllib.error
import urllib.request


def main() -> int:
    url = sys.argv[1]
    # No proxy handler: urllib must not pick a proxy of its own from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=20) as resp:
            body = resp.read()
            status = resp.status
    except (urllib.error.URLError, OSError) as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 2
    print(json.dumps({"status": status, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}))
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
