#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/guard.h"
#include "net/server.h"

/* Signals reach the accept loop through a self-pipe: a handler only writes. */
static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    ssize_t w = write(sig_pipe[1], &c, 1);
    (void)w;
    errno = saved;
}

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t active;
} session_count;

typedef struct {
    const ovl_server_config *cfg;
    session_count *count;
    int fd;
    char label[96];
} session_arg;

static void *session_main(void *p)
{
    session_arg *a = p;
    session_count *count = a->count;
    a->cfg->session(a->cfg->arg, a->fd, a->label);
    free(a);
    /* Last: once counted out, the server may return and the process exit. */
    pthread_mutex_lock(&count->mu);
    count->active--;
    pthread_cond_broadcast(&count->cv);
    pthread_mutex_unlock(&count->mu);
    return NULL;
}

static void peer_label(char *out, size_t cap, const struct sockaddr_storage *ss)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
        port = ntohs(v4->sin_port);
        snprintf(out, cap, "%s:%u", host, port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
        port = ntohs(v6->sin6_port);
        snprintf(out, cap, "[%s]:%u", host, port);
    } else {
        snprintf(out, cap, "unknown peer");
    }
}

static ovl_err start_session(const ovl_server_config *cfg, session_count *count, int fd,
                             const char *label)
{
    session_arg *a = calloc(1, sizeof *a);
    pthread_t t;
    pthread_attr_t attr;
    if (a == NULL) {
        close(fd);
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory for a session");
    }
    a->cfg = cfg;
    a->count = count;
    a->fd = fd;
    snprintf(a->label, sizeof a->label, "%s", label);
    pthread_mutex_lock(&count->mu);
    count->active++;
    pthread_mutex_unlock(&count->mu);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int e = pthread_create(&t, &attr, session_main, a);
    pthread_attr_destroy(&attr);
    if (e != 0) {
        pthread_mutex_lock(&count->mu);
        count->active--;
        pthread_mutex_unlock(&count->mu);
        close(fd);
        free(a);
        return ovl_err_set(OVL_ERR_INTERNAL, "cannot start a session thread: %s", strerror(e));
    }
    return OVL_OK;
}

static void accept_one(const ovl_server_config *cfg, session_count *count)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char label[96];
    int fd = accept(ovl_listener_fd(cfg->listener), (struct sockaddr *)&ss, &sl);
    if (fd < 0)
        return;
    peer_label(label, sizeof label, &ss);
    pthread_mutex_lock(&count->mu);
    size_t active = count->active;
    pthread_mutex_unlock(&count->mu);
    if (active >= cfg->max_sessions) {
        fprintf(stderr, "overlap: refused connection from %s: %zu sessions already running\n",
                label, active);
        close(fd);
        return;
    }
    if (start_session(cfg, count, fd, label) != OVL_OK)
        fprintf(stderr, "overlap: %s\n", ovl_err_detail());
}

ovl_err ovl_server_run(const ovl_server_config *cfg)
{
    ovl_err rc = OVL_OK;
    session_count count = {.active = 0};
    struct sigaction sa, old_int, old_term, old_hup;
    bool stop = false;
    pthread_mutex_init(&count.mu, NULL);
    pthread_cond_init(&count.cv, NULL);
    OVL_ENSURE(pipe(sig_pipe) == 0, OVL_ERR_IO, "cannot create a pipe: %s", strerror(errno));
    fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    while (!stop) {
        struct pollfd fds[2] = {
            {.fd = ovl_listener_fd(cfg->listener), .events = POLLIN},
            {.fd = sig_pipe[0], .events = POLLIN},
        };
        if (poll(fds, 2, -1) < 0) {
            OVL_ENSURE(errno == EINTR, OVL_ERR_IO, "poll failed: %s", strerror(errno));
            continue;
        }
        if (fds[1].revents & POLLIN) {
            char sig;
            if (read(sig_pipe[0], &sig, 1) == 1) {
                if (sig == SIGHUP && cfg->reload) {
                    cfg->reload(cfg->arg);
                } else if (sig != SIGHUP) {
                    fprintf(stderr, "overlap: stopping: no new connections; waiting for %zu "
                                    "running session(s)\n",
                            count.active);
                    stop = true;
                }
            }
            continue;
        }
        if (fds[0].revents & POLLIN)
            accept_one(cfg, &count);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
done:
    pthread_mutex_lock(&count.mu);
    while (count.active > 0)
        pthread_cond_wait(&count.cv, &count.mu);
    pthread_mutex_unlock(&count.mu);
    pthread_mutex_destroy(&count.mu);
    pthread_cond_destroy(&count.cv);
    for (int i = 0; i < 2; i++)
        if (sig_pipe[i] >= 0) {
            close(sig_pipe[i]);
            sig_pipe[i] = -1;
        }
    return rc;
}
