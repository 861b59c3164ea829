// A TCP relay that adds a fixed delay to each direction, for bench/first_byte:
// it stands in for a proxy far away (every round trip through it costs 2 x D
// more). Each chunk read from one side is written to the other D ms after it
// was read, whatever else is in flight, so back-to-back messages keep their
// spacing (a pipelined handshake pays one delay, a sequential one a delay per
// message). TCP_NODELAY on both sockets: the relay must not add Nagle's waits.
//
// usage: socksify_bench_first_byte_relay LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS
// Prints "listening" once it accepts; runs until killed (the benchmark kills
// its process group). Links nothing of socksify.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Chunk {
  Clock::time_point due;
  std::vector<char> bytes;  // empty: end of stream (or a read error)
};

// One direction: a reader that timestamps what it reads, a writer that sends
// each chunk when it is due.
class Direction {
 public:
  Direction(int from, int to, std::chrono::milliseconds delay)
      : from_(from), to_(to), delay_(delay) {}

  void read_loop() {
    std::vector<char> buf(64 * 1024);
    for (;;) {
      ssize_t n = ::read(from_, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      Chunk c{Clock::now() + delay_, {}};
      if (n > 0) c.bytes.assign(buf.data(), buf.data() + n);
      push(std::move(c));
      if (n <= 0) return;
    }
  }

  void write_loop() {
    for (;;) {
      Chunk c = pop();
      std::this_thread::sleep_until(c.due);
      if (c.bytes.empty()) {
        ::shutdown(to_, SHUT_WR);
        return;
      }
      const char* p = c.bytes.data();
      std::size_t left = c.bytes.size();
      while (left > 0) {
        ssize_t n = ::write(to_, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          // The far side is gone: stop reading this direction too.
          ::shutdown(from_, SHUT_RD);
          drain();
          return;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
      }
    }
  }

 private:
  void push(Chunk c) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(c));
    }
    cv_.notify_one();
  }
  Chunk pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty(); });
    Chunk c = std::move(queue_.front());
    queue_.pop_front();
    return c;
  }
  // Consumes what the reader still queues, until its end marker.
  void drain() {
    for (;;) {
      if (pop().bytes.empty()) return;
    }
  }

  int from_;
  int to_;
  std::chrono::milliseconds delay_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> queue_;
};

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

sockaddr_in address(const char* host, const char* port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::atoi(port)));
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    std::fprintf(stderr, "relay: bad IPv4 address %s\n", host);
    std::exit(2);
  }
  return a;
}

void serve(int client, sockaddr_in target, std::chrono::milliseconds delay) {
  int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (up < 0 || ::connect(up, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
    std::perror("relay: connect to target");
    if (up >= 0) ::close(up);
    ::close(client);
    return;
  }
  set_nodelay(client);
  set_nodelay(up);
  // The connection to the target is made at once; its own handshake is not
  // delayed (the proxy's is, through the bytes it sends and receives).
  auto to_target = std::make_shared<Direction>(client, up, delay);
  auto to_client = std::make_shared<Direction>(up, client, delay);
  std::thread r1([to_target] { to_target->read_loop(); });
  std::thread w1([to_target] { to_target->write_loop(); });
  std::thread r2([to_client] { to_client->read_loop(); });
  std::thread w2([to_client] { to_client->write_loop(); });
  r1.join();
  w1.join();
  r2.join();
  w2.join();
  ::close(up);
  ::close(client);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS\n",
                 argv[0]);
    return 2;
  }
  const sockaddr_in listen_at = address(argv[1], argv[2]);
  const sockaddr_in target = address(argv[3], argv[4]);
  const std::chrono::milliseconds delay{std::atoi(argv[5])};
  int ls = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(ls, reinterpret_cast<const sockaddr*>(&listen_at), sizeof listen_at) != 0 ||
      ::listen(ls, 128) != 0) {
    std::perror("relay: listen");
    return 1;
  }
  std::printf("listening\n");
  std::fflush(stdout);
  for (;;) {
    int c = ::accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      std::perror("relay: accept");
      return 1;
    }
    std::thread(serve, c, target, delay).detach();
  }
}
