/* A vfork() child that touches the parent's sockets before it execs: it shares
 * the parent's memory (socksify's descriptor table with it) but has a
 * descriptor table of its own. Run through the launcher:
 *
 *   vfork_child MODE TARGET TCP_PORT UDP_PORT
 *
 * The parent opens a UDP socket (one datagram echoed through the proxy) and a
 * TCP tunnel, then vforks; the child, by MODE:
 *   close    close()s the tunnel and the UDP socket, execs /bin/true
 *   dup2     dup2()s /dev/null onto both, close_range(3, ~0U), execs
 *   socket   close()s the UDP socket, makes a UDP socket (same number) and
 *            sends on it, connect()s a TCP socket: what it got is kept in
 *            shared memory for the parent to print; then execs
 *   rawfork  first a child of a raw clone syscall (own memory, no atfork
 *            handlers) closes the UDP socket and echoes over a new one
 *            (its exit status is printed as child_socket); then as close
 * Afterwards the parent prints one JSON line: getpeername, a TCP and a UDP
 * echo, and the errno of a datagram to 127.0.0.1:53. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* errname(int e) {
  switch (e) {
    case 0:
      return "0";
    case EACCES:
      return "EACCES";
    case EPERM:
      return "EPERM";
    case EBADF:
      return "EBADF";
    case ECONNRESET:
      return "ECONNRESET";
    case ENETUNREACH:
      return "ENETUNREACH";
    case EAGAIN:
      return "EAGAIN";
    case ENOTCONN:
      return "ENOTCONN";
    case ECONNREFUSED:
      return "ECONNREFUSED";
    default:
      return "other";
  }
}

static struct sockaddr_in addr_of(const char* host, int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  inet_pton(AF_INET, host, &a.sin_addr);
  return a;
}

static void with_timeout(int fd) {
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* The echo's reply ("..." or the errno name) into out. */
static void udp_echo(int fd, const struct sockaddr_in* to, const char* tag, char* out, size_t n) {
  if (sendto(fd, tag, strlen(tag), 0, (const struct sockaddr*)to, sizeof *to) < 0) {
    snprintf(out, n, "send %s", errname(errno));
    return;
  }
  char buf[256];
  ssize_t got = recvfrom(fd, buf, sizeof buf - 1, 0, NULL, NULL);
  if (got < 0) {
    snprintf(out, n, "recv %s", errname(errno));
    return;
  }
  buf[got] = 0;
  snprintf(out, n, "%s", buf);
}

static void tcp_echo(int fd, const char* tag, char* out, size_t n) {
  if (send(fd, tag, strlen(tag), 0) < 0) {
    snprintf(out, n, "send %s", errname(errno));
    return;
  }
  char buf[256];
  size_t have = 0;
  while (have < strlen(tag)) {
    ssize_t got = recv(fd, buf + have, strlen(tag) - have, 0);
    if (got <= 0) {
      snprintf(out, n, "recv %s", got == 0 ? "EOF" : errname(errno));
      return;
    }
    have += (size_t)got;
  }
  buf[have] = 0;
  snprintf(out, n, "%s", buf);
}

/* Written by the vfork child, read by the parent after it resumes. */
static volatile int g_child_socket = -2, g_child_socket_errno, g_child_send_errno,
                    g_child_connect_errno;

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s close|dup2|socket|rawfork TARGET TCP_PORT UDP_PORT\n", argv[0]);
    return 2;
  }
  const char* mode = argv[1];
  const struct sockaddr_in tcp_to = addr_of(argv[2], atoi(argv[3]));
  const struct sockaddr_in udp_to = addr_of(argv[2], atoi(argv[4]));
  const struct sockaddr_in dns = addr_of("127.0.0.1", 53);

  int u = socket(AF_INET, SOCK_DGRAM, 0);
  with_timeout(u);
  char before_udp[128];
  udp_echo(u, &udp_to, "udp-before", before_udp, sizeof before_udp);
  int t = socket(AF_INET, SOCK_STREAM, 0);
  with_timeout(t);
  if (connect(t, (const struct sockaddr*)&tcp_to, sizeof tcp_to) != 0) {
    printf("{\"ok\": false, \"connect\": \"%s\"}\n", errname(errno));
    return 1;
  }
  char before_tcp[128];
  tcp_echo(t, "tcp-before", before_tcp, sizeof before_tcp);

  if (strcmp(mode, "rawfork") == 0) {
    /* A child with memory of its own but no pthread_atfork handlers run (as
     * Chromium's zygote makes them): it closes its copy of the UDP socket and
     * makes a new one, which must be carried like any other (exit 0). */
    pid_t raw = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (raw == 0) {
      close(u);
      int s = socket(AF_INET, SOCK_DGRAM, 0);
      with_timeout(s);
      char got[128];
      udp_echo(s, &udp_to, "udp-raw-child", got, sizeof got);
      _exit(s >= 0 && strcmp(got, "udp-raw-child") == 0 ? 0 : 3);
    }
    int raw_status = 0;
    waitpid(raw, &raw_status, 0);
    g_child_socket = WIFEXITED(raw_status) ? WEXITSTATUS(raw_status) : -1;
    mode = "close"; /* then the vfork case as well */
  }
  pid_t pid = vfork();
  if (pid == 0) {
    if (strcmp(mode, "close") == 0) {
      close(t);
      close(u);
    } else if (strcmp(mode, "dup2") == 0) {
      int null = open("/dev/null", O_RDWR);
      dup2(null, t);
      dup2(null, u);
      close_range(3, ~0U, 0);
    } else if (strcmp(mode, "socket") == 0) {
      close(u);
      int s = socket(AF_INET, SOCK_DGRAM, 0);
      g_child_socket = s;
      g_child_socket_errno = s < 0 ? errno : 0;
      if (s >= 0 && sendto(s, "x", 1, 0, (const struct sockaddr*)&udp_to, sizeof udp_to) < 0) {
        g_child_send_errno = errno;
      }
      int c = socket(AF_INET, SOCK_STREAM, 0);
      if (c >= 0 && connect(c, (const struct sockaddr*)&tcp_to, sizeof tcp_to) != 0) {
        g_child_connect_errno = errno;
      }
    }
    execl("/bin/true", "true", (char*)NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);

  struct sockaddr_in peer;
  socklen_t peer_len = sizeof peer;
  char peer_text[64] = "";
  if (getpeername(t, (struct sockaddr*)&peer, &peer_len) == 0) {
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
    snprintf(peer_text, sizeof peer_text, "%s:%d", ip, ntohs(peer.sin_port));
  } else {
    snprintf(peer_text, sizeof peer_text, "%s", errname(errno));
  }
  char after_tcp[128], after_udp[128];
  tcp_echo(t, "tcp-after", after_tcp, sizeof after_tcp);
  udp_echo(u, &udp_to, "udp-after", after_udp, sizeof after_udp);
  const char* dns_result = "sent";
  if (sendto(u, "q", 1, 0, (const struct sockaddr*)&dns, sizeof dns) < 0)
    dns_result = errname(errno);
  printf(
      "{\"ok\": true, \"child_status\": %d, \"before_udp\": \"%s\", \"before_tcp\": \"%s\", "
      "\"peer\": \"%s\", \"after_tcp\": \"%s\", \"after_udp\": \"%s\", \"dns\": \"%s\", "
      "\"child_socket\": %d, \"child_socket_errno\": \"%s\", \"child_send_errno\": \"%s\", "
      "\"child_connect_errno\": \"%s\"}\n",
      WIFEXITED(status) ? WEXITSTATUS(status) : -1, before_udp, before_tcp, peer_text, after_tcp,
      after_udp, dns_result, g_child_socket, errname(g_child_socket_errno),
      errname(g_child_send_errno), errname(g_child_connect_errno));
  return 0;
}
