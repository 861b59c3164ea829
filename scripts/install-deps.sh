#!/bin/bash
# Installs every Debian 12 package that building socksify and running its tests
# needs (run as root). Used by README's first command and by .ci/run.
set -euo pipefail
packages=(
  # build
  cmake ninja-build g++ clang clang-format libclang-rt-14-dev libfmt-dev libgtest-dev
  # the i386 library and the 32-bit test clients (gcc -m32, libc6-i386)
  gcc-multilib g++-multilib
  # real SOCKS5 servers the integration tests run
  dante-server microsocks tinyproxy
  # real programs the integration tests run through socksify
  curl wget netcat-openbsd nodejs python3 bind9-dnsutils openssh-client
  # a real SOCKS4/4a server: OpenSSH's ssh -D (client and server in the proxy namespace)
  openssh-server
  # an FTP server for SOCKS BIND (FTP active mode)
  python3-pyftpdlib
  # a local apt repository for `apt-get update` through socksify (apt-ftparchive,
  # dpkg-deb; apt itself is in every Debian)
  apt-utils dpkg-dev
  # test topology (ip netns) and process tools
  iproute2 procps psmisc passwd
)
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
