"""Route rules and named proxies (issue 13): destinations picked by CIDR, domain
suffix and port go to three different proxies in one run of one program, each
proxy's log showing exactly its own; `block`; a round_robin pool spreading 100
connections; `isolate on` giving each process its own login; the -v trace (text
and JSON); --check --check-target naming the rule and proxy."""

import errno
import json
import os
import unittest

from harness import launcher, netns, servers
from harness.capture import CapturesLink
from harness.dns_sentinel import WatchesDns
from harness.socks_test_server import Mode
from harness.testcase import DANTED_PORT, TEST_SERVER_PORT, IntegrationTest, describe

ECHO = servers.ECHO_PORT
HTTP = servers.HTTP_PORT
NAME = "echo.routes.test"
A_PORT, B_PORT = 1091, 1092
UDP_PORT = 7017


def connected(log: str, host: str, port: int) -> int:
    return log.count(f"connected to {host}:{port}")


class RoutesThroughLauncher(WatchesDns, CapturesLink, IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls) -> None:
        super().start_extra()
        # danted resolves NAME itself (remote DNS); the client cannot.
        cls.start_danted_resolving({NAME: netns.TARGET4})
        cls.a = servers.start_microsocks(cls.topo, cls.workdir, port=A_PORT)
        cls.b = servers.start_microsocks(cls.topo, cls.workdir, port=B_PORT)
        cls.udp_echo = servers.start_udp_echo(cls.topo, cls.workdir, port=UDP_PORT)

    def write_conf(self, text: str) -> str:
        path = os.path.join(self.workdir, f"routes-{self.id().rsplit('.', 1)[-1]}.conf")
        with open(path, "w") as fh:
            fh.write(text)
        os.chmod(path, 0o600)
        return path

    def three_route_conf(self, unnamed: str) -> str:
        return self.write_conf(
            f"proxy {unnamed}\n"
            f"proxy a socks5://{netns.PROXY4}:{A_PORT}\n"
            f"proxy b socks5://{netns.PROXY4}:{B_PORT}\n"
            f"proxy names socks5h://{netns.PROXY4}:{DANTED_PORT}\n"
            f"route :{HTTP} via b\n"
            f"route .routes.test via names\n"
            f"route {netns.TARGET4}/32 via a\n")

    def probe(self, *args, options=None, env=None, proxy=None):
        return self.socksify(self.python_client("route_probe.py", *args), proxy, options=options,
                             env=env)

    def test_cidr_suffix_and_port_rules_pick_three_proxies_in_one_program(self):
        spare = self.start_test_server()  # the unnamed proxy: no rule leads there
        conf = self.three_route_conf(f"socks5h://{netns.PROXY4}:{TEST_SERVER_PORT}")
        a0, b0, d0 = len(self.a.log()), len(self.b.log()), self.danted.log_size()
        proc = self.probe("echo", netns.TARGET4, ECHO, "get", netns.TARGET4, HTTP,
                          f"/{servers.SMALL_FILE}", "echo", NAME, ECHO, options=["-f", conf])
        self.assertSucceeded(proc, "three connections by three rules")
        self.assertEqual(json.loads(proc.stdout), ["ok", "ok", "ok"], describe(proc))
        a_log, b_log = self.a.log()[a0:], self.b.log()[b0:]
        # a: exactly the CIDR destination; b: exactly the port one; danted: the name.
        self.assertEqual(connected(a_log, netns.TARGET4, ECHO), 1, a_log)
        self.assertEqual(a_log.count("connected to"), 1, a_log)
        self.assertEqual(connected(b_log, netns.TARGET4, HTTP), 1, b_log)
        self.assertEqual(b_log.count("connected to"), 1, b_log)
        sessions = self.danted.wait_sessions(f"{netns.TARGET4}.{ECHO}", since=d0)
        self.assertEqual(len(sessions), 1, self.danted.log_since(d0))
        self.assertEqual(spare.records(), [])
        self.assertNoDirectPackets()

    def test_verbose_json_names_rule_and_proxy_per_connection(self):
        self.start_test_server()
        conf = self.three_route_conf(f"socks5h://{netns.PROXY4}:{TEST_SERVER_PORT}")
        proc = self.probe("echo", netns.TARGET4, ECHO, "echo", NAME, ECHO, options=["-v", "-f", conf],
                          env={"SOCKSIFY_LOG_FORMAT": "json"})
        self.assertSucceeded(proc)
        events = [json.loads(line) for line in proc.stderr.decode().splitlines()
                  if line.startswith("{")]
        connects = [e for e in events if e["event"] == "connect"]
        self.assertEqual(len(connects), 2, describe(proc))
        by_dst = {e["dst"]: e for e in connects}
        cidr = by_dst[f"{netns.TARGET4}:{ECHO}"]
        self.assertEqual((cidr["via"], cidr["rule"], cidr["outcome"]),
                         ("a", f"{netns.TARGET4}/32 via a", "ok"))
        self.assertEqual(cidr["proxies"], [f"socks5://{netns.PROXY4}:{A_PORT}"])
        self.assertIsInstance(cidr["ms"], int)
        named = by_dst[f"{NAME}:{ECHO}"]
        self.assertEqual((named["via"], named["rule"]), ("names", ".routes.test via names"))
        lookups = [e for e in events if e["event"] == "lookup" and e["dst"] == NAME]
        self.assertTrue(lookups, events)
        self.assertEqual((lookups[0]["outcome"], lookups[0]["via"], lookups[0]["rule"]),
                         ("remote", "names", ".routes.test via names"))

    def test_verbose_text_line_per_connection(self):
        proc = self.probe("echo", netns.TARGET4, ECHO, options=["-v"],
                          proxy=f"socks5://{netns.PROXY4}:{A_PORT}")
        self.assertSucceeded(proc)
        lines = [l for l in proc.stderr.decode().splitlines() if " connect " in l]
        self.assertEqual(len(lines), 1, describe(proc))
        self.assertRegex(lines[0], rf"^socksify\[\d+\]: connect {netns.TARGET4}:{ECHO} via default "
                                   rf"\[socks5://{netns.PROXY4}:{A_PORT}\]: ok \d+ ms$")

    def test_verbose_traces_direct_and_blocked_connects(self):
        proc = self.probe("echo", "127.0.0.1", 9, "echo", netns.TARGET4, 25, options=["-v"],
                          proxy=f"socks5://{netns.PROXY4}:{A_PORT}",
                          env={"SOCKSIFY_ROUTE": ":25 via block"})
        self.assertEqual(json.loads(proc.stdout), ["ECONNREFUSED", "EACCES"], describe(proc))
        err = proc.stderr.decode()
        # Python connects with a timeout, i.e. non-blocking: the call's own outcome.
        self.assertRegex(err, r"connect 127\.0\.0\.1:9 via direct: (EINPROGRESS|ECONNREFUSED) \d+ ms")
        self.assertRegex(err, rf"connect {netns.TARGET4}:25 rule ':25 via block' via block: EACCES")
        self.assertNoDirectPackets()

    def test_verbose_lines_go_to_the_log_file(self):
        log_file = os.path.join(self.workdir, "verbose.log")
        proc = self.probe("echo", netns.TARGET4, ECHO, options=["-v"],
                          proxy=f"socks5://{netns.PROXY4}:{A_PORT}",
                          env={"SOCKSIFY_LOG_FILE": log_file})
        self.assertSucceeded(proc)
        self.assertNotIn(b" connect ", proc.stderr)
        with open(log_file) as fh:
            lines = [l for l in fh.read().splitlines() if " connect " in l]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(f"connect {netns.TARGET4}:{ECHO} via default", lines[0])

    def test_block_fails_with_eacces_and_one_line(self):
        a0 = len(self.a.log())
        proc = self.probe("echo", netns.TARGET4, ECHO, proxy=f"socks5://{netns.PROXY4}:{A_PORT}",
                          env={"SOCKSIFY_ROUTE": f":{HTTP} via direct; :{ECHO} via block"})
        self.assertEqual(json.loads(proc.stdout), ["EACCES"], describe(proc))
        blocking = [l for l in proc.stderr.decode().splitlines() if "blocking" in l]
        self.assertEqual(len(blocking), 1, describe(proc))
        self.assertIn(f":{ECHO} via block", blocking[0])
        self.assertEqual(self.a.log()[a0:].count("connected to"), 0)
        self.assertNoDirectPackets()

    def test_round_robin_spreads_100_connections(self):
        a0, b0 = len(self.a.log()), len(self.b.log())
        pool = f"socks5://{netns.PROXY4}:{A_PORT},socks5://{netns.PROXY4}:{B_PORT}"
        proc = self.probe("many", 100, netns.TARGET4, ECHO, proxy=pool,
                          env={"SOCKSIFY_PROXY_MODE": "round_robin"}, )
        self.assertSucceeded(proc)
        self.assertEqual(json.loads(proc.stdout), ["ok"], describe(proc))
        on_a = connected(self.a.log()[a0:], netns.TARGET4, ECHO)
        on_b = connected(self.b.log()[b0:], netns.TARGET4, ECHO)
        self.assertEqual(on_a + on_b, 100)
        self.assertTrue(40 <= on_a <= 60, (on_a, on_b))

    def test_named_round_robin_pool_by_route(self):
        a0, b0 = len(self.a.log()), len(self.b.log())
        conf = self.write_conf(
            f"proxy socks5://{netns.PROXY4}:{DANTED_PORT}\n"
            f"proxy pool round_robin socks5://{netns.PROXY4}:{A_PORT} socks5://{netns.PROXY4}:{B_PORT}\n"
            f"route :{ECHO} via pool\n")
        proc = self.probe("many", 20, netns.TARGET4, ECHO, options=["-f", conf])
        self.assertSucceeded(proc)
        self.assertEqual(connected(self.a.log()[a0:], netns.TARGET4, ECHO), 10)
        self.assertEqual(connected(self.b.log()[b0:], netns.TARGET4, ECHO), 10)

    def test_isolate_gives_each_process_its_own_login(self):
        server = self.start_test_server(auth=("*", ""))
        probe = " ".join(self.python_client("route_probe.py", "echo", netns.TARGET4, str(ECHO)))
        proc = self.socksify(["/bin/sh", "-c", f"{probe} && {probe}"],
                             f"socks5h://{netns.PROXY4}:{TEST_SERVER_PORT}",
                             env={"SOCKSIFY_ISOLATE": "on"})
        self.assertSucceeded(proc)
        recs = server.wait_records(2)
        users = [r.username for r in recs]
        self.assertEqual(len(users), 2, recs)
        self.assertNotEqual(users[0], users[1])
        for u in users:
            self.assertRegex(u, rb"^socksify-\d+-[0-9a-f]{16}$")

    def test_isolate_off_sends_no_login(self):
        server = self.start_test_server()
        proc = self.probe("echo", netns.TARGET4, ECHO, proxy=f"socks5h://{netns.PROXY4}:{TEST_SERVER_PORT}")
        self.assertSucceeded(proc)
        (rec,) = server.wait_records(1)
        self.assertIsNone(rec.username)

    def test_check_target_names_rule_and_proxy(self):
        self.start_test_server()
        conf = self.three_route_conf(f"socks5h://{netns.PROXY4}:{TEST_SERVER_PORT}")
        proc = self.socksify([], None, options=["-f", conf, "--check", "--check-target", f"{NAME}:{ECHO}"])
        out = proc.stdout.decode()
        self.assertIn(f"route: {NAME}:{ECHO} -> rule 2 '.routes.test via names'", out, describe(proc))
        self.assertIn(f"names (failover: socks5h://{netns.PROXY4}:{DANTED_PORT})", out)
        self.assertIn("pool of 1 proxies (names), as the library connects:", out)
        blocked = self.socksify([], None, options=["--check", "--check-target", f"{netns.TARGET4}:25"],
                                env={"SOCKSIFY_PROXY": f"socks5://{netns.PROXY4}:{A_PORT}",
                                     "SOCKSIFY_ROUTE": ":25 via block"})
        self.assertIn(f"route: {netns.TARGET4}:25 -> blocked by rule 1 ':25 via block'",
                      blocked.stdout.decode(), describe(blocked))

    def udp_send(self, env):
        return self.socksify(self.python_client("udp_client.py", "send", netns.TARGET4, UDP_PORT),
                             None, env=env)

    def test_udp_follows_the_route_to_a_proxy_that_carries_it(self):
        d0 = self.danted.log_size()
        self.udp_echo.clear()
        proc = self.udp_send({"SOCKSIFY_PROXY": f"socks5://{netns.PROXY4}:{A_PORT}; "
                                                f"udp socks5://{netns.PROXY4}:{DANTED_PORT}",
                              "SOCKSIFY_ROUTE": f":{UDP_PORT} via udp"})
        self.assertSucceeded(proc)
        out = json.loads(proc.stdout)
        self.assertEqual((out["errno"], out["reply"]), (0, "probe"), describe(proc))
        (rec,) = self.udp_echo.wait_records("udp", 1)
        self.assertEqual(rec["peer"], netns.PROXY_OUT4, rec)  # danted's relay, not the client
        self.assertNoDirectPackets()

    def test_udp_routed_to_an_http_proxy_is_refused_with_one_line(self):
        self.udp_echo.clear()
        proc = self.udp_send({"SOCKSIFY_PROXY": f"socks5://{netns.PROXY4}:{DANTED_PORT}; "
                                                f"corp http://{netns.PROXY4}:3128",
                              "SOCKSIFY_ROUTE": f":{UDP_PORT} via corp"})
        out = json.loads(proc.stdout)
        self.assertEqual(out["errno"], errno.EOPNOTSUPP, describe(proc))
        self.assertEqual(len(launcher.error_lines(proc.stderr)), 1, describe(proc))
        self.assertEqual(self.udp_echo.records("udp"), [])
        self.assertNoDirectPackets()

    def test_onion_goes_to_the_proxy_by_name_despite_direct_rules(self):
        onion = "abcdefghijklmnop.onion"
        server = self.start_test_server(hosts={onion: netns.TARGET4})
        proc = self.probe("echo", onion, ECHO, proxy=f"socks5h://{netns.PROXY4}:{TEST_SERVER_PORT}",
                          env={"SOCKSIFY_DIRECT": ".onion", "SOCKSIFY_ROUTE": ".onion via direct"})
        self.assertSucceeded(proc)
        self.assertEqual(json.loads(proc.stdout), ["ok"], describe(proc))
        (rec,) = server.wait_records(1)
        self.assertEqual(rec.address, onion)
        self.assertNoDnsLeak()
        self.assertNoDirectPackets()

    def test_onion_is_never_resolved_locally(self):
        code = ("import socket\ntry:\n    socket.getaddrinfo('abcdefghijklmnop.onion', 80)\n"
                "    print('resolved')\nexcept socket.gaierror as e:\n    print('refused', e.errno)\n")
        proc = self.socksify(["/usr/bin/python3", "-c", code], f"socks5://{netns.PROXY4}:{A_PORT}")
        self.assertTrue(proc.stdout.startswith(b"refused"), describe(proc))
        self.assertIn(b"need remote DNS", proc.stderr)
        self.assertNoDnsLeak()


if __name__ == "__main__":
    unittest.main()
