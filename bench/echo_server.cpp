// A TCP echo server for the connect-cycle benchmark: one thread, poll(); echoes
// what each client sends and closes the connection once it has echoed LIMIT
// bytes (or when the client closes). Fast enough that the proxy, not the
// server, limits the cycle rate.
//
// Why the server closes first: the side that closes first keeps TIME_WAIT. If
// the client closed first, every cycle would leave two TIME_WAIT sockets on
// ephemeral ports of 127.0.0.1 (the client's, and danted's outgoing one, which
// danted bind()s to port 0, where tcp_tw_reuse does not help), and ~28k ports
// last only ~14k cycles a minute: danted then fails with "out of free ports".
// Closing here puts TIME_WAIT on the fixed server ports instead.
//
// usage: socksify_bench_echo_server HOST PORT [LIMIT]   (runs until killed;
//        LIMIT 0 = never close first; default 4)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s HOST PORT [LIMIT]\n", argv[0]);
    return 2;
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
    std::fprintf(stderr, "echo_server: bad address %s\n", argv[1]);
    return 2;
  }
  const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(lfd, 512) != 0) {
    std::perror("echo_server: bind/listen");
    return 1;
  }
  const long limit = argc > 3 ? std::atol(argv[3]) : 4;
  std::vector<pollfd> fds{{lfd, POLLIN, 0}};
  std::vector<long> echoed{0};  // parallel to fds
  char buf[16384];
  for (;;) {
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      std::perror("echo_server: poll");
      return 1;
    }
    if (fds[0].revents & POLLIN) {
      const int c = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) {
        fds.push_back({c, POLLIN, 0});
        echoed.push_back(0);
      }
    }
    for (std::size_t i = 1; i < fds.size();) {
      bool done = false;
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = read(fds[i].fd, buf, sizeof buf);
        // A blocking write of at most 16 KiB to a loopback peer: good enough here.
        done = n <= 0 || write(fds[i].fd, buf, static_cast<size_t>(n)) != n;
        if (!done) echoed[i] += n;
        done = done || (limit > 0 && echoed[i] >= limit);
      }
      if (done) {
        close(fds[i].fd);
        fds[i] = fds.back();
        fds.pop_back();
        echoed[i] = echoed.back();
        echoed.pop_back();
      } else {
        fds[i].revents = 0;
        ++i;
      }
    }
  }
}
