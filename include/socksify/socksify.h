/* socksify: the public C interface of libsocksify.so.
 *
 * Most programs never include this: `socksify program` preloads the library and
 * every socket call is carried by the proxy. A program may instead link the
 * library (-lsocksify): its socket calls are then interposed in the same way,
 * configured by the same SOCKSIFY_* environment and config file.
 *
 * The R-prefixed names are those of the original SOCKS library (Rconnect, ...),
 * for programs written against it or built with -Dconnect=Rconnect and so on.
 * Each is the very function that interposes the libc call of the same name:
 * same arguments, same return value and errno, same routing (a destination the
 * rules send direct goes direct; a proxied one fails closed, never around the
 * proxy). They reach socksify even where the plain name does not, e.g. when the
 * library was loaded with dlopen(RTLD_LOCAL).
 */
#ifndef SOCKSIFY_SOCKSIFY_H
#define SOCKSIFY_SOCKSIFY_H

#include <netdb.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH". */
const char* socksify_version(void);

/* TCP: CONNECT through the proxy; UDP: the association's relay. */
int Rconnect(int fd, const struct sockaddr* addr, socklen_t len);
/* The destination the program asked for, not the proxy. */
int Rgetpeername(int fd, struct sockaddr* addr, socklen_t* len);
int Rclose(int fd);

/* SOCKS BIND (with `bind on`): a TCP socket bound to port 0 of a non-loopback
 * address listens at the proxy; getsockname tells where, accept returns the one
 * connection the proxy relays. */
int Rbind(int fd, const struct sockaddr* addr, socklen_t len);
int Rlisten(int fd, int backlog);
int Rgetsockname(int fd, struct sockaddr* addr, socklen_t* len);
int Raccept(int fd, struct sockaddr* addr, socklen_t* len);
int Rdup(int fd);
int Rdup2(int from, int to);

/* Readiness that waits for the tunnel of a non-blocking connect. */
int Rpoll(struct pollfd* fds, nfds_t n, int timeout);
int Rselect(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds,
            struct timeval* timeout);

/* Datagrams through the UDP relay. */
ssize_t Rsendto(int fd, const void* buf, size_t len, int flags, const struct sockaddr* addr,
                socklen_t addrlen);
ssize_t Rrecvfrom(int fd, void* buf, size_t len, int flags, struct sockaddr* addr,
                  socklen_t* addrlen);
ssize_t Rsendmsg(int fd, const struct msghdr* msg, int flags);
ssize_t Rrecvmsg(int fd, struct msghdr* msg, int flags);
ssize_t Rsend(int fd, const void* buf, size_t len, int flags);
ssize_t Rrecv(int fd, void* buf, size_t len, int flags);
ssize_t Rwrite(int fd, const void* buf, size_t len);
ssize_t Rread(int fd, void* buf, size_t len);

/* Names: with remote DNS (socks5h://) stand-in addresses whose names go to the proxy. */
int Rgetaddrinfo(const char* node, const char* service, const struct addrinfo* hints,
                 struct addrinfo** res);
void Rfreeaddrinfo(struct addrinfo* ai);
int Rgetnameinfo(const struct sockaddr* addr, socklen_t addrlen, char* host, socklen_t hostlen,
                 char* serv, socklen_t servlen, int flags);
struct hostent* Rgethostbyname(const char* name);
struct hostent* Rgethostbyname2(const char* name, int af);
struct hostent* Rgethostbyaddr(const void* addr, socklen_t len, int type);

#ifdef __cplusplus
}
#endif

#endif /* SOCKSIFY_SOCKSIFY_H */
