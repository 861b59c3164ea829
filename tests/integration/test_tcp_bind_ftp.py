"""SOCKS BIND with real FTP clients in active mode (`bind on`): curl --ftp-port -
and wget --no-passive-ftp against pyftpdlib (Debian's python3-pyftpdlib) in the
target namespace, through danted. The server's data connection to the address in
PORT/EPRT can only reach the client through the proxy."""

import os
import unittest

from harness import netns, servers
from harness.testcase import DANTED_URL, IntegrationTest, describe

BIND_ON = {"SOCKSIFY_BIND": "on"}
FTP_BODY = b"served over an FTP data connection the server opened\n"


class ActiveFtpThroughDanted(IntegrationTest):
    start = ("danted",)

    @classmethod
    def start_extra(cls):
        cls.ftp_root = os.path.join(cls.workdir, "ftp")
        os.makedirs(cls.ftp_root)
        with open(os.path.join(cls.ftp_root, "file.txt"), "wb") as fh:
            fh.write(FTP_BODY)
        cls.ftp = servers.start_ftp_target(cls.topo, cls.workdir, cls.ftp_root)

    def curl_ftp(self, *args: str, env=BIND_ON):
        return self.socksify(["curl", "-sS", "--max-time", "20", "--ftp-port", "-", *args], DANTED_URL,
                             env=env)

    def test_curl_active_ftp_download_through_danted(self):
        # --ftp-port -: curl listens on its control connection's local address
        # and sends PORT; the FTP server connects back to where the proxy listens.
        proc = self.curl_ftp(f"ftp://{netns.TARGET4}:{servers.FTP_PORT}/file.txt")
        self.assertSucceeded(proc, "curl active FTP")
        self.assertEqual(proc.stdout, FTP_BODY, describe(proc))
        log = self.ftp.proc.log()
        self.assertRegex(log, r"PORT 10,200,1,1,\d+,\d+|EPRT \|1\|10\.200\.1\.1\|", log[-2000:])

    def test_curl_active_ftp_upload_through_danted(self):
        # STOR: the server waits for the client's bytes on the connection it opened.
        src = os.path.join(self.workdir, "upload.txt")
        with open(src, "wb") as fh:
            fh.write(b"uploaded through a BIND\n" * 1000)
        proc = self.curl_ftp("-T", src, f"ftp://{netns.TARGET4}:{servers.FTP_PORT}/up.txt")
        self.assertSucceeded(proc, "curl active FTP upload")
        with open(os.path.join(self.ftp_root, "up.txt"), "rb") as fh:
            self.assertEqual(fh.read(), b"uploaded through a BIND\n" * 1000)

    def test_wget_active_ftp_download_through_danted(self):
        proc = self.socksify(["wget", "-q", "-O", "-", "--no-passive-ftp", "-T", "20", "-t", "1",
                              f"ftp://{netns.TARGET4}:{servers.FTP_PORT}/file.txt"], DANTED_URL, env=BIND_ON)
        self.assertSucceeded(proc, "wget active FTP")
        self.assertEqual(proc.stdout, FTP_BODY, describe(proc))
        self.assertRegex(self.ftp.proc.log(), r"PORT 10,200,1,1,\d+,\d+")

    def test_curl_active_ftp_without_bind_on_cannot_get_its_data(self):
        # Without BIND the PORT names the client namespace, which the server cannot reach.
        proc = self.curl_ftp(f"ftp://{netns.TARGET4}:{servers.FTP_PORT}/file.txt", env={})
        self.assertNotEqual(proc.returncode, 0, describe(proc))
        self.assertNotEqual(proc.stdout, FTP_BODY)


if __name__ == "__main__":
    unittest.main()
