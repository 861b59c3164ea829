"""aria2c's asynchronous resolver (c-ares) under socks5h: its own DNS queries to
the resolv.conf nameservers are answered by socksify and the download by name
goes through danted, with no query at the trap resolver and no direct packet.
Apart from test_dns_stub (same topology) because aria2c, like curl, hangs at
start-up with libasan preloaded alone: this module stays out of the ASan
subset (tests/run-all.sh)."""

import os
import unittest

from harness import servers
from test_dns_stub import DANTED_H, NAME, DnsStubSetup


class DnsStubAria2c(DnsStubSetup):
    def test_aria2c_downloads_by_name_with_its_async_resolver(self):
        since = self.danted.log_size()
        out_dir = os.path.join(self.workdir, "aria2")
        os.makedirs(out_dir, exist_ok=True)
        proc = self.socksify(["aria2c", "--async-dns=true", "--disable-ipv6=true", "--max-tries=1",
                              "--timeout=10", "--allow-overwrite=true", "-d", out_dir,
                              f"http://{NAME}:{servers.HTTP_PORT}/{servers.SMALL_FILE}"],
                             DANTED_H, timeout=40)
        self.assertSucceeded(proc, "aria2c")
        with open(os.path.join(out_dir, servers.SMALL_FILE), "rb") as fh:
            self.assertEqual(fh.read(), servers.SMALL_BODY)
        self.assertServedByName(NAME, since)
        self.assertNothingLeft()


if __name__ == "__main__":
    unittest.main()
