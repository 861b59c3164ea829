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
  dante-server microsocks tinyproxy squid
  # real programs the integration tests run through socksify
  curl wget netcat-openbsd nodejs python3 bind9-dnsutils bind9-host aria2 openssh-client git
  # a browser (tree-wide name table and DNS stub: it resolves in one process and
  # connects in another, and sends its own DNS queries)
  chromium fonts-liberation
  # lftp resolves in a forked child (the tree-wide name table, issue 10 item 1)
  lftp
  # a real SOCKS4/4a/5 server: OpenSSH's ssh -D (client and server in the proxy namespace)
  openssh-server
  # benchmarks' comparison (bench/connect_cycles, bench/first_byte)
  proxychains4
  # an FTP server for SOCKS BIND (FTP active mode)
  python3-pyftpdlib
  # a local apt repository for `apt-get update` through socksify (apt-ftparchive,
  # dpkg-deb; apt itself is in every Debian)
  apt-utils dpkg-dev
  # programs LD_PRELOAD cannot reach, for the supervised (seccomp) mode's tests:
  # Go clients (cgo and static), a static musl program, a liburing program
  golang-go musl-tools liburing-dev file
  # test topology (ip netns) and process tools
  iproute2 procps psmisc passwd
)
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
