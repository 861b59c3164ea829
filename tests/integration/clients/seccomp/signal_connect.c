/* A blocking connect() hammered by signals, as Go's SIGURG preemption does:
 * a second thread sends SIGURG (handler installed with SA_RESTART, like Go's)
 * to the connecting thread every millisecond until connect returns, then one
 * line is echoed.   signal_connect IP PORT
 * prints "connected after N signals" and the echo, or "connect: ERRNO-TEXT". */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_int done;
static atomic_int sent;
static pid_t main_tid;

static void on_urg(int sig) {
  (void)sig;
}

static void* hammer(void* arg) {
  (void)arg;
  const struct timespec ms = {0, 1000000};
  while (!atomic_load(&done)) {
    syscall(SYS_tgkill, getpid(), main_tid, SIGURG);
    atomic_fetch_add(&sent, 1);
    nanosleep(&ms, NULL);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_urg;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGURG, &sa, NULL);
  struct sockaddr_in sin = {0};
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short)atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) return 2;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 3;
  main_tid = (pid_t)syscall(SYS_gettid);
  pthread_t t;
  pthread_create(&t, NULL, hammer, NULL);
  int rc = connect(fd, (struct sockaddr*)&sin, sizeof sin);
  int e = errno;
  atomic_store(&done, 1);
  pthread_join(t, NULL);
  if (rc != 0) {
    printf("connect: %s\n", strerror(e));
    return 1;
  }
  printf("connected after %s signals\n", atomic_load(&sent) > 20 ? "many" : "few");
  const char msg[] = "hello through signals\n";
  if (send(fd, msg, sizeof msg - 1, 0) != (ssize_t)(sizeof msg - 1)) return 4;
  char buf[64];
  size_t got = 0;
  while (got < sizeof msg - 1) {
    ssize_t n = recv(fd, buf + got, sizeof buf - got, 0);
    if (n <= 0) return 5;
    got += (size_t)n;
  }
  fwrite(buf, 1, got, stdout);
  return 0;
}
