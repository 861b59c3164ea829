"""The DNS stub with aria2c and curl: aria2c's asynchronous resolver (c-ares)
gets its own queries to the resolv.conf nameservers answered by socksify and
downloads by name through danted; curl, another process of the tree, reaches
the target at the address dig printed (the tree-wide table). No query at the
trap resolver, no direct packet. Apart from test_dns_stub (same topology)
because aria2c and curl hang at start-up with libasan preloaded alone: this
module stays out of the ASan subset (tests/run-all.sh)."""

import os
import unittest

from harness import servers
from harness.testcase import describe
from test_dns_stub import DANTED_H, NAME, DnsStubSetup


class DnsStubPrograms(DnsStubSetup):
    def test_curl_reaches_the_target_at_the_address_dig_printed(self):
        # dig and curl are separate processes of one tree: the tree-wide table
        # gives dig's answer its name in curl too.
        for args in ("+short", "+tcp +short"):
            since = self.danted.log_size()
            script = (f'ip=$(dig +time=2 +tries=1 {args} {NAME}) && '
                      f'curl -sS --max-time 10 -H "Host: {NAME}:{servers.HTTP_PORT}" '
                      f'"http://$ip:{servers.HTTP_PORT}/{servers.SMALL_FILE}"')
            proc = self.socksify(["/bin/sh", "-c", script], DANTED_H)
            self.assertSucceeded(proc, "dig then curl")
            self.assertEqual(proc.stdout, servers.SMALL_BODY, describe(proc))
            self.assertServedByName(NAME, since)
            self.http.clear()
        self.assertNothingLeft()

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
