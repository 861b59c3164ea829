"""`apt-get update` through socksify under socks5h: against a repository built
here (one tiny package, dpkg-deb + apt-ftparchive), served by an HTTP server in
the target namespace and named only by the proxy's /etc/hosts. apt's http
method asks res_query for `_http._tcp.NAME` (SRV) before getaddrinfo; glibc
would send that query from inside libc, around LD_PRELOAD, straight to the
resolver (here the trap on 127.0.0.1:53). Both are answered by socksify, the
Release and Packages files come through danted by name, and apt's state lives
in the test's directory (APT_CONFIG replaces every system setting, so the
system's apt lists, cache and hooks are never touched)."""

import os
import subprocess
import textwrap
import unittest

from harness import launcher, netns, servers
from harness.capture import CapturesLink
from harness.dns_sentinel import WatchesDns
from harness.testcase import DANTED_PORT, IntegrationTest, describe

NAME = "apt-repo.socksify.test"  # known to the proxy's /etc/hosts only
DANTED_H = f"socks5h://{netns.PROXY4}:{DANTED_PORT}"
REPO_PORT = 8081
PROBE = "socksify-resolv-probe"


class AptGetUpdateThroughLauncher(CapturesLink, WatchesDns, IntegrationTest):
    start = ()

    @classmethod
    def start_extra(cls):
        cls.start_danted_resolving({NAME: netns.TARGET4})
        super().start_extra()
        cls.apt_config = cls.make_apt_repository()
        cls.repo_http = servers.start_http_root(cls.topo, cls.workdir, os.path.join(cls.workdir, "repo"),
                                                REPO_PORT)

    @classmethod
    def make_apt_repository(cls) -> str:
        """A flat repository (one package) under workdir/repo, and an apt
        configuration that reads nothing of the system's: its sources, state,
        cache, lists and logs all under workdir/apt. Returns the APT_CONFIG file."""
        wd = cls.workdir
        pkg = os.path.join(wd, "pkg")
        os.makedirs(os.path.join(pkg, "DEBIAN"))
        with open(os.path.join(pkg, "DEBIAN", "control"), "w") as fh:
            fh.write(f"Package: {PROBE}\nVersion: 1.0\nArchitecture: all\n"
                     "Maintainer: socksify tests <tests@socksify.invalid>\n"
                     "Description: fetched by apt-get update through socksify\n")
        repo = os.path.join(wd, "repo")
        os.makedirs(repo)
        subprocess.run(["dpkg-deb", "--build", "--root-owner-group", pkg,
                        os.path.join(repo, f"{PROBE}_1.0_all.deb")], check=True, capture_output=True)
        packages = subprocess.run(["apt-ftparchive", "packages", "."], cwd=repo, check=True,
                                  capture_output=True).stdout
        with open(os.path.join(repo, "Packages"), "wb") as fh:
            fh.write(packages)
        release = subprocess.run(["apt-ftparchive", "release", "."], cwd=repo, check=True,
                                 capture_output=True).stdout
        with open(os.path.join(repo, "Release"), "wb") as fh:
            fh.write(release)
        apt = os.path.join(wd, "apt")
        for d in ("empty", "state/lists/partial", "cache/archives/partial", "log"):
            os.makedirs(os.path.join(apt, d))
        open(os.path.join(apt, "status"), "w").close()
        with open(os.path.join(apt, "sources.list"), "w") as fh:
            fh.write(f"deb [trusted=yes] http://{NAME}:{REPO_PORT}/ ./\n")
        config = os.path.join(apt, "apt.conf")
        with open(config, "w") as fh:
            fh.write(textwrap.dedent(f"""\
                Dir::Etc::Main "/dev/null";
                Dir::Etc::Parts "{apt}/empty";
                Dir::Etc::SourceList "{apt}/sources.list";
                Dir::Etc::SourceParts "{apt}/empty";
                Dir::Etc::PreferencesParts "{apt}/empty";
                Dir::Etc::Preferences "/dev/null";
                Dir::State "{apt}/state";
                Dir::State::status "{apt}/status";
                Dir::Cache "{apt}/cache";
                Dir::Log "{apt}/log";
                Debug::NoLocking "true";
                APT::Sandbox::User "root";
                Acquire::Languages "none";
                Acquire::http::Proxy "DIRECT";
                Acquire::Retries "0";
                Acquire::http::Timeout "20";
                """))
        return config

    def test_apt_get_update_fetches_the_repository_by_name_through_the_proxy(self):
        self.repo_http.clear()
        since = self.danted.log_size()
        apt_dir = os.path.dirname(self.apt_config)
        proc = self.socksify(["apt-get", "update", "-o", f"Dir::Etc::SourceList={apt_dir}/sources.list"],
                             DANTED_H, env={"APT_CONFIG": self.apt_config}, timeout=60)
        self.assertSucceeded(proc, "apt-get update")
        self.assertNotIn(b"Err:", proc.stdout, describe(proc))
        self.assertNotIn(b"W: ", proc.stderr, describe(proc))
        served = {r["path"].replace("/./", "/"): r for r in self.repo_http.wait_records("http", 3)}
        self.assertIn("/Release", served, f"{served}{describe(proc)}")
        self.assertTrue([p for p in served if p.startswith("/Packages")], f"{served}{describe(proc)}")
        for path, rec in served.items():
            self.assertIn(rec["peer"], (netns.PROXY_OUT4, netns.PROXY_OUT6), rec)
            self.assertEqual(rec["host"], f"{NAME}:{REPO_PORT}", rec)
        self.assertTrue(self.danted.wait_sessions(f"{netns.TARGET4}.{REPO_PORT}", since=since)
                        or self.danted.wait_sessions(f"{NAME}.{REPO_PORT}", since=since),
                        self.danted.log_since(since))
        # The package index was read: apt knows the package now (offline query).
        policy = self.topo.run(self.topo.client, ["apt-cache", "policy", PROBE], timeout=30,
                               env=launcher.clean_env({"APT_CONFIG": self.apt_config}))
        self.assertIn(b"Candidate: 1.0", policy.stdout, describe(policy))
        self.assertNoDnsLeak()  # neither the SRV lookup nor the A/AAAA
        self.assertNoDirectPackets("apt-get update")


if __name__ == "__main__":
    unittest.main()
