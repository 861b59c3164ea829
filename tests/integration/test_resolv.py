"""glibc's own resolver calls under socks5h: res_query, res_search,
res_querydomain, res_nquery, res_nsend, the pre-2.34 name __res_query,
libresolv's compatibility-only res_gethostbyname, and
getaddrinfo_a (GAI_WAIT, GAI_NOWAIT with SIGEV_SIGNAL and with SIGEV_THREAD).
glibc sends these queries with libc-internal socket calls that LD_PRELOAD
cannot see, so without socksify's interposition they would reach the resolver
directly (here the trap on 127.0.0.1:53). A C program (clients/resolv_client.c)
makes each call, then GETs the target by the address it got: the fake address
is carried by name through danted, which resolves it in the proxy namespace.
Types the table cannot answer (MX, the SRV apt asks for) are NODATA. With
socks5:// the originals run: the query reaches the trap."""

import json
import os
import socket
import subprocess
import textwrap
import unittest

from harness import netns, servers
from harness.capture import CapturesLink
from harness.dns_sentinel import WatchesDns
from harness.testcase import DANTED_PORT, IntegrationTest, describe

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "resolv-origin.socksify.test"  # known to the proxy's /etc/hosts only
DANTED_H = f"socks5h://{netns.PROXY4}:{DANTED_PORT}"
DANTED = f"socks5://{netns.PROXY4}:{DANTED_PORT}"
LISTED = "client-known.socksify.test"  # the client's /etc/hosts only
LISTED_ADDR = "10.200.1.99"
NO_DATA = 4  # netdb.h
TRY_AGAIN = 2


class ResolverCallsThroughLauncher(CapturesLink, WatchesDns, IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls):
        cls.start_danted_resolving({NAME: netns.TARGET4}, client_names={LISTED: LISTED_ADDR})
        super().start_extra()
        cls.client = os.path.join(cls.workdir, "resolv_client")
        subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread", "-o", cls.client,
                        os.path.join(HERE, "clients", "resolv_client.c"), "-lresolv"], check=True)

    def run_client(self, mode: str, proxy: str = DANTED_H, name: str = NAME,
                   env: dict[str, str] | None = None) -> tuple[list[dict], bytes]:
        proc = self.socksify([self.client, mode, name, str(servers.HTTP_PORT), servers.SMALL_FILE], proxy,
                             env=env)
        self.assertSucceeded(proc, f"resolv_client {mode}")
        lines = proc.stdout.split(b"\n")
        records = []
        body_start = 0
        for i, line in enumerate(lines):
            if line.startswith(b"{"):
                records.append(json.loads(line))
                body_start = i + 1
        self.assertTrue(records, describe(proc))
        records[-1]["_describe"] = describe(proc)
        return records, b"\n".join(lines[body_start:])

    def assertFetchedByName(self, mode: str) -> list[dict]:
        since = self.danted.log_size()
        records, body = self.run_client(mode)
        out = records[-1]
        self.assertEqual(out["status"], 200, out["_describe"])
        self.assertTrue(out["addr"].startswith(("24", "25")), f"not a fake address{out['_describe']}")
        self.assertEqual(body, servers.SMALL_BODY, out["_describe"])
        self.assertServedByName(NAME, since)
        self.assertNoDnsLeak()
        self.assertNoDirectPackets(mode)
        return records

    # -- libresolv's query calls ------------------------------------------------
    def test_res_query_a_answers_from_the_table_and_the_name_is_fetched(self):
        out = self.assertFetchedByName("query")[-1]
        self.assertGreater(out["rc"], 0, out["_describe"])
        self.assertEqual(out["errno_after"], out["ebadmsg"], f"errno changed{out['_describe']}")
        self.assertEqual(out["h_errno"], 0, out["_describe"])

    def test_pre_2_34_name___res_query_is_answered_too(self):
        self.assertFetchedByName("compat")

    def test_libresolv_compat_res_gethostbyname_is_answered_too(self):
        self.assertFetchedByName("compat-hostent")

    def test_res_search_looks_the_name_up_as_given(self):
        self.assertFetchedByName("search")

    def test_res_querydomain_joins_name_and_domain(self):
        self.assertFetchedByName("querydomain")

    def test_res_nquery_on_a_private_state(self):
        self.assertFetchedByName("nquery")

    def test_res_nsend_of_a_res_nmkquery_packet(self):
        self.assertFetchedByName("nsend")

    def test_mx_and_srv_are_no_data_without_a_query(self):
        for mode in ("mx", "srv"):
            with self.subTest(mode=mode):
                records, _ = self.run_client(mode)
                out = records[-1]
                self.assertEqual((out["rc"], out["h_errno"]), (-1, NO_DATA), out["_describe"])
                self.assertNoDnsLeak()
                self.assertNoDirectPackets(mode)

    def test_a_name_the_user_sends_direct_is_asked_of_the_real_resolver(self):
        # A direct rule means "resolve and connect locally": glibc's own call
        # runs for it, of any type, as getaddrinfo() of that name does.
        for mode in ("query", "mx", "nsend"):
            with self.subTest(mode=mode):
                before = len(self.sentinel.names("direct"))
                records, _ = self.run_client(mode, name="box.direct.test",
                                             env={"SOCKSIFY_DIRECT": ".direct.test"})
                out = records[-1]
                self.assertEqual(out["rc"], -1, out["_describe"])  # the trap never answers
                self.assertGreater(len(self.sentinel.names("direct")), before, out["_describe"])

    # -- getaddrinfo_a ------------------------------------------------------------
    def test_getaddrinfo_a_gai_wait(self):
        records = self.assertFetchedByName("gai-wait")
        self.assertEqual(records[-1]["rc"], 0)
        self.assertEqual(records[0]["gai_error"], 0)
        self.assertEqual(records[0]["gai_cancel"], records[0]["alldone"])  # nothing left to cancel

    def test_getaddrinfo_a_nowait_sigev_signal(self):
        records = self.assertFetchedByName("gai-signal")
        self.assertEqual(records[0]["si_code"], records[0]["si_asyncnl"], records[-1]["_describe"])
        self.assertEqual(records[-1]["notified"], 42, records[-1]["_describe"])  # the sigev_value
        self.assertEqual(records[1]["gai_error"], 0)

    def test_getaddrinfo_a_nowait_sigev_thread(self):
        records = self.assertFetchedByName("gai-thread")
        self.assertEqual(records[-1]["notified"], 7, records[-1]["_describe"])  # on another thread
        self.assertEqual(records[0]["gai_error"], 0)

    # -- reverse lookups of addresses outside the fake ranges ----------------------------
    REVERSE = textwrap.dedent(f"""\
        import json, socket
        out = {{}}
        out["unlisted"] = socket.getnameinfo(("{netns.TARGET4}", 80), 0)[0]
        try:
            socket.getnameinfo(("{netns.TARGET4}", 80), socket.NI_NAMEREQD)
            out["namereqd"] = "found"
        except socket.gaierror as e:
            out["namereqd"] = e.errno
        out["listed"] = socket.getnameinfo(("{LISTED_ADDR}", 80), 0)[0]
        out["listed_gethostbyaddr"] = socket.gethostbyaddr("{LISTED_ADDR}")[0]
        try:
            socket.gethostbyaddr("{netns.TARGET4}")
            out["gethostbyaddr"] = "found"
        except socket.herror as e:
            out["gethostbyaddr"] = e.errno
        print(json.dumps(out))
        """)

    def test_reverse_lookups_of_real_addresses_use_the_hosts_file_only(self):
        proc = self.socksify(["/usr/bin/python3", "-c", self.REVERSE], DANTED_H)
        self.assertSucceeded(proc, "reverse lookups")
        out = self.json_output(proc)
        self.assertEqual(out, {"unlisted": netns.TARGET4, "namereqd": socket.EAI_NONAME,
                               "listed": LISTED, "listed_gethostbyaddr": LISTED,
                               "gethostbyaddr": 1},  # HOST_NOT_FOUND
                         describe(proc))
        self.assertNoDnsLeak()  # glibc would have asked for 2.1.200.10.in-addr.arpa
        self.assertNoDirectPackets("reverse lookups")

    # -- socks5:// keeps local DNS ---------------------------------------------------
    def test_socks5_without_h_runs_glibcs_own_calls(self):
        for mode in ("query", "gai-wait"):
            with self.subTest(mode=mode):
                before = len(self.sentinel.names("resolv-origin"))
                records, _ = self.run_client(mode, proxy=DANTED)
                out = records[-1]
                # The trap never answers: glibc's query reached it, and failed.
                self.assertGreater(len(self.sentinel.names("resolv-origin")), before, out["_describe"])
                self.assertEqual(out["status"], -1, out["_describe"])
                if mode == "query":
                    self.assertEqual((out["rc"], out["h_errno"]), (-1, TRY_AGAIN), out["_describe"])


if __name__ == "__main__":
    unittest.main()
