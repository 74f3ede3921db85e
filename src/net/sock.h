/* Internal socket helpers for the TLS transport: "HOST:PORT" parsing,
 * numeric peer labels, monotonic deadlines and poll waits. */
#ifndef OVL_NET_SOCK_H
#define OVL_NET_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <netdb.h>
#include <sys/socket.h>

#include "core/error.h"

/* Longest "HOST:PORT" accepted from a command line. */
#define OVL_HOSTPORT_MAX 300
/* "[" INET6_ADDRSTRLEN "]:65535" fits comfortably. */
#define OVL_LABEL_MAX 72

/* Milliseconds on the monotonic clock. */
int64_t ovl_net_now_ms(void);
/* Absolute deadline for timeout_ms; -1 (never) when timeout_ms <= 0. */
int64_t ovl_net_deadline(int timeout_ms);
/* A poll(2) timeout for the time left before deadline: -1 forever, 0 expired. */
int ovl_net_left_ms(int64_t deadline);

/* Resolves "HOST:PORT" or "[V6]:PORT" (an empty host means any address when
 * passive). The result is freed with freeaddrinfo. */
ovl_err ovl_net_resolve(struct addrinfo **out, const char *hostport, bool passive) OVL_MUST_USE;

/* "127.0.0.1:7700" or "[::1]:7700". */
void ovl_net_label(char out[OVL_LABEL_MAX], const struct sockaddr *sa, socklen_t len);

/* O_NONBLOCK and FD_CLOEXEC, and TCP_NODELAY when tcp. */
ovl_err ovl_net_prepare_fd(int fd, bool tcp) OVL_MUST_USE;

/* Polls fd for events until deadline, retrying on EINTR. *revents is 0 when
 * the deadline passed first. */
ovl_err ovl_net_wait_fd(int fd, short events, int64_t deadline, short *revents) OVL_MUST_USE;

#endif
