// write() of 1 byte to /dev/null, N times, timed inside the process: the cost
// a preloaded library adds to a call on a descriptor it does not manage.
// Run it twice, with and without LD_PRELOAD=libsocksify.so (write_devnull.py).
//
// usage: socksify_bench_write_devnull [COUNT]   (default 10000000)
// Prints: calls=N seconds=S ns_per_call=X
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  const long count = argc > 1 ? std::atol(argv[1]) : 10'000'000;
  const int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    std::perror("write_devnull: open /dev/null");
    return 1;
  }
  const char byte = 'x';
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    // Through the PLT like any program's write(): an interposed write() is hit.
    if (write(fd, &byte, 1) != 1) {
      std::perror("write_devnull: write");
      return 1;
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("calls=%ld seconds=%.6f ns_per_call=%.2f\n", count, s, s * 1e9 / count);
  close(fd);
  return 0;
}
