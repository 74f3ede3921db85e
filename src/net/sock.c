#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/guard.h"
#include "net/sock.h"

int64_t ovl_net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ovl_net_deadline(int timeout_ms)
{
    return timeout_ms > 0 ? ovl_net_now_ms() + timeout_ms : -1;
}

int ovl_net_left_ms(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - ovl_net_now_ms();
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

/* Splits hostport into host and port strings (copied into the given arrays). */
static ovl_err split_hostport(const char *hostport, char host[OVL_HOSTPORT_MAX + 1],
                              char port[6])
{
    ovl_err rc = OVL_OK;
    size_t len = strnlen(hostport, OVL_HOSTPORT_MAX + 1);
    OVL_ENSURE(len <= OVL_HOSTPORT_MAX, OVL_ERR_USAGE, "address is longer than %d characters",
               OVL_HOSTPORT_MAX);
    const char *colon = strrchr(hostport, ':');
    OVL_ENSURE(colon != NULL, OVL_ERR_USAGE, "address \"%s\" lacks a port; use HOST:PORT",
               hostport);
    const char *h = hostport;
    size_t hlen = (size_t)(colon - hostport);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    } else {
        OVL_ENSURE(memchr(h, ':', hlen) == NULL, OVL_ERR_USAGE,
                   "address \"%s\": write IPv6 addresses as [ADDR]:PORT", hostport);
    }
    const char *p = colon + 1;
    size_t plen = strlen(p);
    OVL_ENSURE(plen >= 1 && plen <= 5 && strspn(p, "0123456789") == plen && atoi(p) <= 65535,
               OVL_ERR_USAGE, "address \"%s\": the port must be a number from 0 to 65535",
               hostport);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memcpy(port, p, plen + 1);
done:
    return rc;
}

ovl_err ovl_net_resolve(struct addrinfo **out, const char *hostport, bool passive)
{
    ovl_err rc = OVL_OK;
    char host[OVL_HOSTPORT_MAX + 1];
    char port[6];
    struct addrinfo hints;
    OVL_TRY(split_hostport(hostport, host, port));
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    int e = getaddrinfo(host[0] ? host : NULL, port, &hints, out);
    /* A peer's name that does not resolve is a network failure (exit 4, as
     * README's table says); our own --listen address is a local setting. */
    OVL_ENSURE(e == 0, passive ? OVL_ERR_IO : OVL_ERR_NET, "cannot resolve \"%s\": %s", hostport,
               e == EAI_SYSTEM ? strerror(errno) : gai_strerror(e));
done:
    return rc;
}

void ovl_net_label(char out[OVL_LABEL_MAX], const struct sockaddr *sa, socklen_t len)
{
    char host[NI_MAXHOST], serv[8]; /* numeric ports fit in 6 */
    if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(out, OVL_LABEL_MAX, "(unknown address)");
        return;
    }
    if (sa->sa_family == AF_INET6)
        snprintf(out, OVL_LABEL_MAX, "[%.*s]:%s", OVL_LABEL_MAX - 16, host, serv);
    else
        snprintf(out, OVL_LABEL_MAX, "%.*s:%s", OVL_LABEL_MAX - 16, host, serv);
}

ovl_err ovl_net_prepare_fd(int fd, bool tcp)
{
    int one = 1;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
        return ovl_err_set(OVL_ERR_IO, "cannot make a socket non-blocking: %s", strerror(errno));
    /* Protocol messages are written whole; Nagle would only add round trips. */
    if (tcp && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        return ovl_err_set(OVL_ERR_IO, "cannot set TCP_NODELAY: %s", strerror(errno));
    return OVL_OK;
}

ovl_err ovl_net_wait_fd(int fd, short events, int64_t deadline, short *revents)
{
    struct pollfd pfd = {.fd = fd, .events = events, .revents = 0};
    for (;;) {
        int n = poll(&pfd, 1, ovl_net_left_ms(deadline));
        if (n >= 0) {
            *revents = n > 0 ? pfd.revents : 0;
            return OVL_OK;
        }
        if (errno != EINTR)
            return ovl_err_set(OVL_ERR_IO, "poll failed: %s", strerror(errno));
    }
}
