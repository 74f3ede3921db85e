/* Two parties in one process: the listener runs on a thread, the connector on
 * the main thread, over 127.0.0.1 with an ephemeral port. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "net/identity.h"
#include "net/transport.h"
#include "test.h"

static ovl_identity *server_id, *client_id, *stranger_id;

typedef struct srv srv;
struct srv {
    ovl_listener *l;
    const ovl_pubkey *peers;
    size_t npeers;
    int timeout_ms;
    int handshake_ms;
    bool by_fd;               /* accept by hand, keep a dup of the socket */
    void (*then)(srv *s);     /* runs on the thread with the connection */
    size_t payload;
    /* results */
    ovl_err rc;
    char detail[512];
    char peer_name[OVL_NAME_MAX + 1];
    ovl_conn *conn;
    int raw;
    ovl_err then_rc;
    char then_detail[512];
    pthread_t thread;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void expect_detail(const char *detail, const char *needle)
{
    OVL_T_RECORD(strstr(detail, needle) != NULL, "detail \"%s\" lacks \"%s\"", detail, needle);
}

static ovl_err accept_by_hand(srv *s)
{
    struct pollfd p = {.fd = ovl_listener_fd(s->l), .events = POLLIN, .revents = 0};
    if (poll(&p, 1, s->timeout_ms) != 1)
        return ovl_err_set(OVL_ERR_TIMEOUT, "test: nobody connected");
    int fd = accept(ovl_listener_fd(s->l), NULL, NULL);
    if (fd < 0)
        return ovl_err_set(OVL_ERR_IO, "test: accept failed");
    s->raw = dup(fd);
    return ovl_accept_fd(&s->conn, fd, "client", server_id, s->peers, s->npeers, s->handshake_ms);
}

static void *srv_main(void *arg)
{
    srv *s = arg;
    s->raw = -1;
    if (s->by_fd)
        s->rc = accept_by_hand(s);
    else
        s->rc = ovl_accept(&s->conn, s->l, server_id, s->peers, s->npeers, s->timeout_ms,
                           s->handshake_ms);
    snprintf(s->detail, sizeof s->detail, "%s", ovl_err_detail());
    if (s->rc == OVL_OK) {
        snprintf(s->peer_name, sizeof s->peer_name, "%s", ovl_conn_peer(s->conn)->name);
        if (s->then != NULL)
            s->then(s);
        snprintf(s->then_detail, sizeof s->then_detail, "%s", ovl_err_detail());
    }
    ovl_conn_close(s->conn);
    if (s->raw >= 0)
        close(s->raw);
    return NULL;
}

static void srv_start(srv *s, ovl_listener *l, const ovl_pubkey *peers, size_t npeers)
{
    s->l = l;
    s->peers = peers;
    s->npeers = npeers;
    if (s->timeout_ms == 0)
        s->timeout_ms = 10000;
    if (s->handshake_ms == 0)
        s->handshake_ms = 5000;
    pthread_create(&s->thread, NULL, srv_main, s);
}

static void hostport(char *out, size_t n, ovl_listener *l)
{
    snprintf(out, n, "127.0.0.1:%u", (unsigned)ovl_listener_port(l));
}

/* Listens on an ephemeral loopback port, starts the server thread there and
 * writes the address to dial into hp; false when listening failed. */
static bool srv_listen(srv *s, ovl_listener **l, const ovl_pubkey *peers, size_t npeers,
                       char hp[static 64])
{
    EXPECT_OK(ovl_listen(l, "127.0.0.1:0"));
    if (*l == NULL)
        return false;
    srv_start(s, *l, peers, npeers);
    hostport(hp, 64, *l);
    return true;
}

static uint8_t pattern(size_t i, uint8_t seed) { return (uint8_t)(i * 31u + seed + (i >> 9)); }

/* Waits as a caller polling several descriptors would: on ovl_conn_fd. */
static ovl_err wait_on_fd(ovl_conn *c, bool want_write)
{
    struct pollfd p = {.fd = ovl_conn_fd(c), .events = POLLIN, .revents = 0};
    if (ovl_conn_pending(c))
        return OVL_OK;
    if (want_write || ovl_conn_wants_write(c))
        p.events |= POLLOUT;
    if (poll(&p, 1, 1000) < 0 && errno != EINTR)
        return ovl_err_set(OVL_ERR_IO, "test: poll failed");
    return OVL_OK;
}

/* Sends `total` pattern bytes while receiving `total` of the peer's pattern,
 * through the non-blocking API only. */
static ovl_err pump(ovl_conn *c, uint8_t out_seed, uint8_t in_seed, size_t total, bool by_fd)
{
    ovl_err rc = OVL_OK;
    uint8_t *out = malloc(total), in[32768];
    size_t sent = 0, got = 0;
    int64_t give_up = now_ms() + 60000;
    if (out == NULL)
        return OVL_ERR_NOMEM;
    for (size_t i = 0; i < total; i++)
        out[i] = pattern(i, out_seed);
    while ((sent < total || got < total) && rc == OVL_OK) {
        size_t n = 0;
        bool moved = false, ready;
        if (sent < total && (rc = ovl_conn_write_some(c, out + sent, total - sent, &n)) == OVL_OK) {
            sent += n;
            moved = n > 0;
        }
        while (rc == OVL_OK && got < total &&
               (rc = ovl_conn_read_some(c, in, sizeof in, &n)) == OVL_OK && n > 0) {
            for (size_t i = 0; i < n; i++)
                if (in[i] != pattern(got + i, in_seed))
                    rc = ovl_err_set(OVL_ERR_INTERNAL, "byte %zu differs", got + i);
            got += n;
            moved = true;
        }
        if (rc == OVL_OK && !moved)
            rc = by_fd ? wait_on_fd(c, sent < total) : ovl_conn_wait(c, sent < total, 1000, &ready);
        if (rc == OVL_OK && now_ms() > give_up)
            rc = ovl_err_set(OVL_ERR_TIMEOUT, "test: exchange stuck at %zu/%zu", sent, got);
    }
    free(out);
    return rc;
}

#define BIG (6u << 20)

static void srv_pump(srv *s) { s->then_rc = pump(s->conn, 1, 2, BIG, false); }

static void handshake_and_simultaneous_exchange(void)
{
    ovl_listener *l = NULL;
    ovl_conn *c = NULL;
    char hp[64];
    ovl_pubkey peers[2] = {*ovl_identity_pub(stranger_id), *ovl_identity_pub(client_id)};
    srv s = {.then = srv_pump};
    if (!srv_listen(&s, &l, peers, 2, hp))
        return;
    EXPECT_TRUE(ovl_listener_port(l) != 0);
    EXPECT_OK(ovl_connect(&c, hp, client_id, ovl_identity_pub(server_id), 5000));
    if (c != NULL) {
        EXPECT_STR_EQ(ovl_conn_peer(c)->name, "server");
        EXPECT_STR_EQ(ovl_conn_label(c), hp);
        EXPECT_OK(pump(c, 2, 1, BIG, true));
        EXPECT_TRUE(!ovl_conn_wants_write(c));
        EXPECT_TRUE(ovl_conn_bytes_sent(c) > BIG && ovl_conn_bytes_sent(c) < BIG + BIG / 20);
        EXPECT_TRUE(ovl_conn_bytes_received(c) > BIG &&
                    ovl_conn_bytes_received(c) < BIG + BIG / 20);
    }
    pthread_join(s.thread, NULL);
    EXPECT_OK(s.rc);
    EXPECT_STR_EQ(s.peer_name, "client");
    OVL_T_RECORD(s.then_rc == OVL_OK, "server exchange: %s", s.then_detail);
    ovl_conn_close(c);
    ovl_listener_close(l);
}

static void srv_write_small(srv *s)
{
    uint8_t buf[1000];
    size_t n = 0;
    bool ready;
    memset(buf, 7, sizeof buf);
    s->then_rc = ovl_conn_write_some(s->conn, buf, sizeof buf, &n);
    if (s->then_rc == OVL_OK && n != sizeof buf)
        s->then_rc = OVL_ERR_INTERNAL;
    /* Stay until the client hangs up. */
    for (int i = 0; i < 50 && s->then_rc == OVL_OK; i++) {
        s->then_rc = ovl_conn_wait(s->conn, false, 100, &ready);
        if (ready && ovl_conn_read_some(s->conn, buf, sizeof buf, &n) != OVL_OK)
            break;
    }
}

static void pending_reports_buffered_bytes(void)
{
    ovl_listener *l = NULL;
    ovl_conn *c = NULL;
    char hp[64];
    uint8_t buf[1000];
    size_t n = 0, total = 0;
    bool ready = false;
    srv s = {.then = srv_write_small};
    if (!srv_listen(&s, &l, ovl_identity_pub(client_id), 1, hp))
        return;
    EXPECT_OK(ovl_connect(&c, hp, client_id, ovl_identity_pub(server_id), 5000));
    if (c != NULL) {
        for (int i = 0; i < 50 && n == 0; i++) {
            EXPECT_OK(ovl_conn_wait(c, false, 100, &ready));
            EXPECT_OK(ovl_conn_read_some(c, buf, 10, &n));
        }
        EXPECT_EQ(n, 10);
        EXPECT_TRUE(ovl_conn_pending(c));
        EXPECT_OK(ovl_conn_wait(c, false, 0, &ready));
        EXPECT_TRUE(ready);
        total = n;
        EXPECT_OK(ovl_conn_read_some(c, buf, sizeof buf, &n));
        total += n;
        EXPECT_EQ(total, 1000);
        EXPECT_TRUE(!ovl_conn_pending(c));
        EXPECT_OK(ovl_conn_wait(c, false, 0, &ready));
        EXPECT_TRUE(!ready);
    }
    ovl_conn_close(c);
    pthread_join(s.thread, NULL);
    EXPECT_OK(s.rc);
    ovl_listener_close(l);
}

static void connector_pins_wrong_key(void)
{
    ovl_listener *l = NULL;
    ovl_conn *c = NULL;
    char hp[64];
    srv s = {.by_fd = true};
    if (!srv_listen(&s, &l, ovl_identity_pub(client_id), 1, hp))
        return;
    EXPECT_ERR(OVL_ERR_AUTH, ovl_connect(&c, hp, client_id, ovl_identity_pub(stranger_id), 5000));
    expect_detail(ovl_err_detail(), "which is not the pinned key SHA256:");
    expect_detail(ovl_err_detail(), "(stranger)");
    EXPECT_TRUE(c == NULL);
    pthread_join(s.thread, NULL);
    EXPECT_ERR(OVL_ERR_AUTH, s.rc);
    expect_detail(s.detail, "peer client rejected our key SHA256:");
    ovl_listener_close(l);
}

static void listener_does_not_pin_client(void)
{
    ovl_listener *l = NULL;
    ovl_conn *c = NULL;
    char hp[64], want[OVL_FPR_LEN + 16];
    srv s = {.by_fd = true};
    if (!srv_listen(&s, &l, ovl_identity_pub(stranger_id), 1, hp))
        return;
    EXPECT_ERR(OVL_ERR_AUTH, ovl_connect(&c, hp, client_id, ovl_identity_pub(server_id), 5000));
    expect_detail(ovl_err_detail(), "rejected our key");
    pthread_join(s.thread, NULL);
    EXPECT_ERR(OVL_ERR_AUTH, s.rc);
    ovl_fingerprint(want, ovl_identity_pub(client_id)->pk);
    expect_detail(s.detail, want);
    expect_detail(s.detail, "which is not the pinned key");
    ovl_listener_close(l);
}

static int raw_connect(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Captures what the listener logs to stderr. */
static int stderr_to(FILE *f)
{
    fflush(stderr);
    int saved = dup(2);
    dup2(fileno(f), 2);
    return saved;
}

static void stderr_back(int saved)
{
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
}

static size_t count_lines(FILE *f, const char *needle)
{
    char line[1024];
    size_t n = 0;
    rewind(f);
    while (fgets(line, sizeof line, f) != NULL)
        if (strstr(line, needle) != NULL)
            n++;
    return n;
}

static void listener_survives_junk_then_accepts(void)
{
    ovl_listener *l = NULL;
    ovl_conn *c = NULL;
    char hp[64];
    FILE *log = tmpfile();
    srv s = {.handshake_ms = 500};
    EXPECT_OK(ovl_listen(&l, "127.0.0.1:0"));
    if (l == NULL || log == NULL)
        return;
    int saved = stderr_to(log);
    srv_start(&s, l, ovl_identity_pub(client_id), 1);
    uint16_t port = ovl_listener_port(l);
    int junk = raw_connect(port);
    EXPECT_TRUE(junk >= 0);
    static const char http[] = "GET / HTTP/1.0\r\n\r\n";
    EXPECT_TRUE(write(junk, http, sizeof http - 1) == (ssize_t)(sizeof http - 1));
    close(junk);
    close(raw_connect(port)); /* a port scan */
    int stalled = raw_connect(port); /* says nothing; handshake_ms ends it */
    hostport(hp, sizeof hp, l);
    EXPECT_OK(ovl_connect(&c, hp, client_id, ovl_identity_pub(server_id), 5000));
    pthread_join(s.thread, NULL);
    stderr_back(saved);
    EXPECT_OK(s.rc);
    EXPECT_STR_EQ(s.peer_name, "client");
    EXPECT_EQ(count_lines(log, "overlap: rejected connection from 127.0.0.1:"), 3);
    EXPECT_EQ(count_lines(log, "TLS handshake failed"), 1);
    EXPECT_EQ(count_lines(log, "closed the connection during the TLS handshake"), 1);
    if (count_lines(log, "overlap: rejected") != 3) {
        char line[1024];
        rewind(log);
        while (fgets(line, sizeof line, log) != NULL)
            fputs(line, stderr);
    }
    EXPECT_EQ(count_lines(log, "did not complete the TLS handshake within 500 ms"), 1);
    if (stalled >= 0)
        close(stalled);
    ovl_conn_close(c);
    ovl_listener_close(l);
    fclose(log);
}

static void accept_times_out(void)
{
    ovl_listener *l = NULL;
    ovl_conn *c = NULL;
    EXPECT_OK(ovl_listen(&l, "127.0.0.1:0"));
    if (l == NULL)
        return;
    int64_t t0 = now_ms();
    EXPECT_ERR(OVL_ERR_TIMEOUT,
               ovl_accept(&c, l, server_id, ovl_identity_pub(client_id), 1, 300, 1000));
    EXPECT_TRUE(now_ms() - t0 >= 290);
    expect_detail(ovl_err_detail(), "no authenticated peer connected");
    EXPECT_TRUE(c == NULL);
    ovl_listener_close(l);
}

/* A port nobody listens on (bound, read, released). */
static uint16_t free_port(void)
{
    ovl_listener *l = NULL;
    uint16_t port = 0;
    if (ovl_listen(&l, "127.0.0.1:0") == OVL_OK)
        port = ovl_listener_port(l);
    ovl_listener_close(l);
    return port;
}

static void connect_to_closed_port_fails(void)
{
    ovl_conn *c = NULL;
    char hp[64];
    snprintf(hp, sizeof hp, "127.0.0.1:%u", (unsigned)free_port());
    int64_t t0 = now_ms();
    ovl_err e = ovl_connect(&c, hp, client_id, ovl_identity_pub(server_id), 400);
    EXPECT_TRUE(e == OVL_ERR_TIMEOUT || e == OVL_ERR_IO);
    expect_detail(ovl_err_detail(), "refused");
    EXPECT_TRUE(now_ms() - t0 >= 390); /* it kept retrying */
    EXPECT_TRUE(c == NULL);
}

static void connect_rejects_bad_addresses(void)
{
    ovl_conn *c = NULL;
    ovl_listener *l = NULL;
    const ovl_pubkey *pk = ovl_identity_pub(server_id);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_connect(&c, "127.0.0.1", client_id, pk, 100));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_connect(&c, "127.0.0.1:99999", client_id, pk, 100));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_connect(&c, "::1:7700", client_id, pk, 100));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_listen(&l, "127.0.0.1:port"));
    EXPECT_TRUE(c == NULL && l == NULL);
}

/* Skipped (with a note) where the host has no IPv6 loopback. */
static void ipv6_loopback(void)
{
    ovl_listener *l = NULL;
    ovl_conn *c = NULL;
    char hp[64];
    srv s = {.timeout_ms = 5000};
    if (ovl_listen(&l, "[::1]:0") != OVL_OK) {
        fprintf(stderr, "SKIP IPv6 loopback test: no IPv6 loopback here (%s)\n", ovl_err_detail());
        return;
    }
    srv_start(&s, l, ovl_identity_pub(client_id), 1);
    snprintf(hp, sizeof hp, "[::1]:%u", (unsigned)ovl_listener_port(l));
    EXPECT_OK(ovl_connect(&c, hp, client_id, ovl_identity_pub(server_id), 5000));
    if (c != NULL)
        EXPECT_STR_EQ(ovl_conn_label(c), hp);
    pthread_join(s.thread, NULL);
    EXPECT_OK(s.rc);
    ovl_conn_close(c);
    ovl_listener_close(l);
}

typedef struct {
    char hp[64];
    ovl_err rc;
    char detail[512];
    ovl_conn *c;
} early_client;

static void *early_main(void *arg)
{
    early_client *e = arg;
    e->rc = ovl_connect(&e->c, e->hp, client_id, ovl_identity_pub(server_id), 5000);
    snprintf(e->detail, sizeof e->detail, "%s", ovl_err_detail());
    return NULL;
}

static void connector_may_start_first(void)
{
    early_client e = {.c = NULL};
    ovl_listener *l = NULL;
    ovl_conn *c = NULL;
    pthread_t t;
    uint16_t port = free_port();
    snprintf(e.hp, sizeof e.hp, "127.0.0.1:%u", (unsigned)port);
    pthread_create(&t, NULL, early_main, &e);
    poll(NULL, 0, 400);
    char hp[64];
    snprintf(hp, sizeof hp, "127.0.0.1:%u", (unsigned)port);
    EXPECT_OK(ovl_listen(&l, hp));
    if (l != NULL)
        EXPECT_OK(ovl_accept(&c, l, server_id, ovl_identity_pub(client_id), 1, 5000, 5000));
    pthread_join(t, NULL);
    OVL_T_RECORD(e.rc == OVL_OK, "early connect: %s", e.detail);
    ovl_conn_close(e.c);
    ovl_conn_close(c);
    ovl_listener_close(l);
}

static void srv_send_then_close(srv *s)
{
    uint8_t buf[4096];
    size_t done = 0, n;
    bool ready;
    memset(buf, 9, sizeof buf);
    while (done < s->payload && s->then_rc == OVL_OK) {
        s->then_rc = ovl_conn_write_some(s->conn, buf, sizeof buf, &n);
        done += n;
        if (n == 0 && s->then_rc == OVL_OK)
            s->then_rc = ovl_conn_wait(s->conn, true, 1000, &ready);
    }
}

/* Reads until an error; returns it and the byte count. */
static ovl_err drain(ovl_conn *c, size_t *total)
{
    uint8_t buf[8192];
    size_t n;
    bool ready;
    ovl_err rc = OVL_OK;
    *total = 0;
    for (int64_t end = now_ms() + 5000; rc == OVL_OK && now_ms() < end;) {
        rc = ovl_conn_read_some(c, buf, sizeof buf, &n);
        *total += n;
        if (rc == OVL_OK && n == 0)
            rc = ovl_conn_wait(c, false, 200, &ready);
    }
    return rc;
}

static void peer_closes_mid_stream(void)
{
    ovl_listener *l = NULL;
    ovl_conn *c = NULL;
    char hp[64];
    size_t total = 0;
    srv s = {.then = srv_send_then_close, .payload = 40 * 4096};
    if (!srv_listen(&s, &l, ovl_identity_pub(client_id), 1, hp))
        return;
    EXPECT_OK(ovl_connect(&c, hp, client_id, ovl_identity_pub(server_id), 5000));
    if (c != NULL) {
        EXPECT_ERR(OVL_ERR_PEER_CLOSED, drain(c, &total));
        expect_detail(ovl_err_detail(), "closed the connection");
        EXPECT_EQ(total, s.payload);
        size_t n;
        uint8_t b;
        EXPECT_ERR(OVL_ERR_PEER_CLOSED, ovl_conn_read_some(c, &b, 1, &n));
    }
    pthread_join(s.thread, NULL);
    EXPECT_OK(s.then_rc);
    ovl_conn_close(c);
    ovl_listener_close(l);
}

static void srv_abrupt_close(srv *s)
{
    srv_send_then_close(s);
    shutdown(s->raw, SHUT_RDWR); /* FIN without close_notify */
}

static void peer_vanishes_without_close_notify(void)
{
    ovl_listener *l = NULL;
    ovl_conn *c = NULL;
    char hp[64];
    size_t total = 0;
    srv s = {.then = srv_abrupt_close, .payload = 4096, .by_fd = true};
    if (!srv_listen(&s, &l, ovl_identity_pub(client_id), 1, hp))
        return;
    EXPECT_OK(ovl_connect(&c, hp, client_id, ovl_identity_pub(server_id), 5000));
    if (c != NULL) {
        EXPECT_ERR(OVL_ERR_PEER_CLOSED, drain(c, &total));
        EXPECT_EQ(total, 4096);
    }
    pthread_join(s.thread, NULL);
    ovl_conn_close(c);
    ovl_listener_close(l);
}

static void srv_corrupt(srv *s)
{
    /* An application-data record whose ciphertext is random. */
    uint8_t rec[5 + 48] = {0x17, 0x03, 0x03, 0x00, 48};
    bool ready;
    for (size_t i = 5; i < sizeof rec; i++)
        rec[i] = (uint8_t)(i * 77);
    if (write(s->raw, rec, sizeof rec) != (ssize_t)sizeof rec)
        s->then_rc = OVL_ERR_IO;
    if (ovl_conn_wait(s->conn, false, 3000, &ready) != OVL_OK)
        s->then_rc = OVL_ERR_IO;
}

static void corrupted_record_is_tls_error(void)
{
    ovl_listener *l = NULL;
    ovl_conn *c = NULL;
    char hp[64];
    size_t total = 0;
    srv s = {.then = srv_corrupt, .by_fd = true};
    if (!srv_listen(&s, &l, ovl_identity_pub(client_id), 1, hp))
        return;
    EXPECT_OK(ovl_connect(&c, hp, client_id, ovl_identity_pub(server_id), 5000));
    if (c != NULL) {
        EXPECT_ERR(OVL_ERR_TLS, drain(c, &total));
        expect_detail(ovl_err_detail(), "bad record mac");
        size_t n;
        uint8_t b = 0;
        EXPECT_ERR(OVL_ERR_TLS, ovl_conn_write_some(c, &b, 1, &n)); /* stays failed */
    }
    ovl_conn_close(c);
    pthread_join(s.thread, NULL);
    ovl_listener_close(l);
}

int main(void)
{
    if (ovl_identity_generate(&server_id, "server") != OVL_OK ||
        ovl_identity_generate(&client_id, "client") != OVL_OK ||
        ovl_identity_generate(&stranger_id, "stranger") != OVL_OK) {
        fprintf(stderr, "keygen failed: %s\n", ovl_err_detail());
        return 1;
    }
    RUN(handshake_and_simultaneous_exchange);
    RUN(pending_reports_buffered_bytes);
    RUN(connector_pins_wrong_key);
    RUN(listener_does_not_pin_client);
    RUN(listener_survives_junk_then_accepts);
    RUN(accept_times_out);
    RUN(connect_to_closed_port_fails);
    RUN(connect_rejects_bad_addresses);
    RUN(connector_may_start_first);
    RUN(ipv6_loopback);
    RUN(peer_closes_mid_stream);
    RUN(peer_vanishes_without_close_notify);
    RUN(corrupted_record_is_tls_error);
    ovl_identity_free(server_id);
    ovl_identity_free(client_id);
    ovl_identity_free(stranger_id);
    return ovl_t_summary("test_tls");
}
