/* overlap: a standing TCP endpoint that runs one session per connection on
 * its own thread, up to a limit, reloads on SIGHUP and stops cleanly on
 * SIGTERM/SIGINT (no new connections; running sessions finish). */
#ifndef OVERLAP_SERVER_H
#define OVERLAP_SERVER_H

#include <stddef.h>

#include "core/error.h"
#include "net/transport.h"

typedef struct {
    ovl_listener *listener;
    size_t max_sessions; /* connections beyond this are closed at once, with a log line */
    /* Runs on a new thread for each accepted connection and owns fd. */
    void (*session)(void *arg, int fd, const char *peer_label);
    /* Runs on the accepting thread after SIGHUP (may be NULL). */
    void (*reload)(void *arg);
    void *arg;
} ovl_server_config;

/* Serves until SIGTERM or SIGINT, then waits for running sessions. */
ovl_err ovl_server_run(const ovl_server_config *cfg) OVL_MUST_USE;

#endif
