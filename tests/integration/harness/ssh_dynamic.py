"""OpenSSH's SOCKS server (`ssh -D`, SOCKS 4, 4a and 5) in the proxy namespace:
sshd on the namespace's 127.0.0.1 and a dynamic forward on PROXY4:1096, reaching
the target from the proxy. Used by test_tcp_socks4 and test_tcp_pipeline."""

import os
import shutil
import subprocess

from harness import netns, servers

SSHD_PORT = 2222
SSH_SOCKS_PORT = 1096


def start_ssh_dynamic(topo, workdir: str):
    """sshd on 127.0.0.1 of the proxy namespace and `ssh -D PROXY4:1096` to it:
    OpenSSH's SOCKS server (4, 4a and 5), reaching the target from the proxy."""
    d = os.path.join(workdir, "sshd")
    os.makedirs(d, exist_ok=True)
    os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege-separation directory
    for key in ("host_key", "user_key"):
        if not os.path.exists(os.path.join(d, key)):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, key)],
                           check=True, timeout=30)
    shutil.copy(os.path.join(d, "user_key.pub"), os.path.join(d, "authorized_keys"))
    conf = os.path.join(d, "sshd_config")
    with open(conf, "w") as fh:
        fh.write(f"""ListenAddress 127.0.0.1:{SSHD_PORT}
HostKey {d}/host_key
AuthorizedKeysFile {d}/authorized_keys
PidFile {d}/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
""")
    sshd = topo.spawn(topo.proxy, ["/usr/sbin/sshd", "-D", "-e", "-f", conf], log_path=os.path.join(d, "sshd.log"))
    servers.wait_listening(sshd, SSHD_PORT, what="sshd")
    ssh = topo.spawn(topo.proxy, ["ssh", "-N", "-v", "-D", f"{netns.PROXY4}:{SSH_SOCKS_PORT}", "-i",
                                  os.path.join(d, "user_key"), "-p", str(SSHD_PORT), "-F", "/dev/null",
                                  "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                                  "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes", "root@127.0.0.1"],
                     log_path=os.path.join(d, "ssh.log"))
    servers.wait_listening(ssh, SSH_SOCKS_PORT, what="ssh -D")
    return sshd, ssh
