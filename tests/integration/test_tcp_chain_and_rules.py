"""Settings beyond one proxy URL: a chain of two proxies, a config file (-f), and a
direct rule that exempts a network from the proxy."""

import json
import os
import unittest

from harness import launcher, netns, servers
from harness.testcase import (DANTED_PORT, DANTED_URL, HTTP4, MICROSOCKS_URL, IntegrationTest,
                              describe)

CURL = ["curl", "-sS", "--fail", "--max-time", "20", f"{HTTP4}/{servers.SMALL_FILE}"]
LOCAL_PORT = servers.LOCAL_ECHO_PORT
SIZE = 30_000


class ChainAndRulesThroughLauncher(IntegrationTest):
    start = ("danted", "microsocks", "local_echo")

    def test_chain_microsocks_then_danted(self):
        # client -> microsocks: CONNECT danted; microsocks -> danted: CONNECT target.
        since = self.danted.log_size()
        proc = self.socksify(CURL, f"{MICROSOCKS_URL},{DANTED_URL}", env={"SOCKSIFY_PROXY_MODE": "chain"})
        self.assertSucceeded(proc, "curl through a two-proxy chain")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertHttpServed(f"/{servers.SMALL_FILE}")
        self.assertIn(f"{netns.CLIENT4}: connected to {netns.PROXY4}:{DANTED_PORT}", self.microsocks.log())
        sessions = self.danted.wait_sessions(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)
        self.assertEqual(len(sessions), 1, self.danted.log_since(since))
        # danted's client is microsocks (in the proxy namespace), not the client.
        self.assertEqual(sessions[0].client_host, netns.PROXY4, sessions[0])

    def test_pool_fails_over_when_a_proxy_dies_mid_run(self):
        first = servers.start_microsocks(self.topo, self.workdir, port=1091)
        second = servers.start_microsocks(self.topo, self.workdir, port=1092)
        pool = f"socks5://{netns.PROXY4}:1091,socks5://{netns.PROXY4}:1092"
        argv = launcher.command(self.python_client("two_echoes.py", netns.TARGET4, servers.ECHO_PORT), pool)
        proc = self.topo.popen(self.topo.client, argv, env=launcher.clean_env())
        try:
            self.assertEqual(proc.stdout.readline().strip(), b"first ok")
            line = f"connected to {netns.TARGET4}:{servers.ECHO_PORT}"
            self.assertIn(line, first.log(), "the first proxy of the pool did not serve")
            self.assertNotIn(line, second.log())
            first.proc.stop()  # the pool's first proxy dies while the program runs
            proc.stdin.write(b"go\n")
            proc.stdin.flush()
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        result = json.loads(out.decode().strip().splitlines()[-1])
        self.assertEqual(result["second"], "ok", err.decode(errors="replace"))
        self.assertIn(line, second.log(), "the second proxy did not take over")
        self.assertIn(b"trying the next proxy", err)
        self.assertEchoServed(count=2)

    def test_config_file_names_the_proxy(self):
        conf = os.path.join(self.workdir, "socksify.conf")
        with open(conf, "w") as fh:
            fh.write(f"# test config\nproxy {DANTED_URL}\nconnect_timeout 5000\n")
        since = self.danted.log_size()
        proc = self.socksify(CURL, None, options=["-f", conf])
        self.assertSucceeded(proc, "curl with -f")
        self.assertEqual(proc.stdout, servers.SMALL_BODY)
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)

    def test_direct_rule_bypasses_the_proxy(self):
        since = self.danted.log_size()
        proc = self.socksify(self.python_client("echo_client.py", netns.CLIENT4, LOCAL_PORT, SIZE), DANTED_URL,
                             env={"SOCKSIFY_DIRECT": "10.200.0.0/24"})
        self.assertSucceeded(proc, "echo to a directly reachable network")
        self.assertTrue(self.json_output(proc)["ok"], describe(proc))
        (rec,) = self.local_echo.wait_records("tcp", 1)
        self.assertEqual(rec["peer"], netns.CLIENT4, "a direct rule's destination was proxied")
        self.assertEqual(self.danted.sessions(since), [])

    def test_direct_rule_does_not_exempt_other_networks(self):
        since = self.danted.log_size()
        proc = self.socksify(CURL, DANTED_URL, env={"SOCKSIFY_DIRECT": "10.200.0.0/24"})
        self.assertSucceeded(proc, "curl to a network outside the direct rule")
        self.assertDantedCarried(f"{netns.TARGET4}.{servers.HTTP_PORT}", since=since)


if __name__ == "__main__":
    unittest.main()
