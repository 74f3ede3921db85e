/* Mutually authenticated TLS 1.3 over non-blocking TCP, with pinned Ed25519
 * keys instead of certificate authorities.
 *
 * Each side builds a throw-away self-signed certificate for its identity key;
 * the verify callback ignores every chain error and accepts only when the
 * leaf certificate's raw Ed25519 key equals a pinned key. The decision is
 * repeated on the finished connection so it never rests on callback order.
 *
 * In TLS 1.3 the client finishes its handshake before the server has looked
 * at the client certificate. The server therefore issues one session ticket
 * after verifying it, and the client waits for that ticket (or the alert that
 * replaces it) before reporting success, so a rejected client learns it at
 * connect time, not on its first read. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "core/guard.h"
#include "net/sock.h"
#include "net/transport.h"

/* The largest plaintext of one TLS record (RFC 8446 §5.1). */
#define OVL_TLS_RECORD_MAX 16384u
/* Record bytes read from the socket at once (see sock_read). */
#define OVL_TLS_READ_AHEAD 65536u
#define OVL_TLS_HEADER 5u
/* Between connection attempts while the peer is not listening yet. */
#define OVL_CONNECT_RETRY_MS 150
#define OVL_LISTEN_BACKLOG 64
/* Certificate validity; only ever checked by us, and we ignore it. */
#define OVL_CERT_BEFORE_S (-3600L)
#define OVL_CERT_AFTER_S 86400L

struct ovl_listener {
    int fd;
    uint16_t port;
    char label[OVL_LABEL_MAX];
};

/* What the verify callback saw, for the error message. */
typedef struct {
    const ovl_pubkey *pins; /* only during the handshake */
    size_t npins;
    const ovl_fpr_pin *fpins; /* pins by fingerprint, after the key pins */
    size_t nfpins;
    bool rejected;
    bool not_ed25519;
    uint8_t presented[OVL_PK_LEN];
} pin_state;

struct ovl_conn {
    int fd;
    SSL *ssl;
    bool server;
    bool ready;     /* handshake done and the peer authenticated */
    bool dead;      /* fatal error: no close_notify, every call fails */
    bool confirmed; /* client: the server accepted our certificate */
    bool eof;
    bool read_wants_write;
    bool write_wants_write;
    int last_errno;
    /* Set while a write offers more than one record: every record but the
     * last of it goes out with MSG_MORE (sock_write). */
    bool more;
    /* Record bytes received but not yet handed to OpenSSL: rbuf[rpos..rlen). */
    size_t rpos, rlen;
    uint8_t rbuf[OVL_TLS_READ_AHEAD];
    ovl_err failed;
    char failed_detail[256]; /* repeated by every later call */
    uint64_t sent, received;
    pin_state pin;
    ovl_pubkey peer;
    char label[OVL_LABEL_MAX];
    char self_fpr[OVL_FPR_LEN];
};

/* ---- a socket BIO that counts record bytes and never raises SIGPIPE ---- */

static BIO_METHOD *sock_method;
static pthread_once_t sock_method_once = PTHREAD_ONCE_INIT;

static int sock_write(BIO *b, const char *p, size_t len, size_t *written)
{
    ovl_conn *c = BIO_get_data(b);
    ssize_t n;
    BIO_clear_retry_flags(b);
    do
        n = send(c->fd, p, len, MSG_NOSIGNAL | (c->more ? MSG_MORE : 0));
    while (n < 0 && errno == EINTR);
    if (n >= 0) {
        *written = (size_t)n;
        c->sent += (uint64_t)n;
        return 1;
    }
    c->last_errno = errno;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        BIO_set_retry_write(b);
    return 0;
}

/* OpenSSL reads a record as two exact reads, its 5-byte header and then its
 * body: two system calls per record. Instead one recv takes whatever the
 * socket holds, up to OVL_TLS_READ_AHEAD bytes, and OpenSSL's reads are served
 * from that. OpenSSL stops reading at the end of a record, so what is left
 * here always starts at a record boundary (ovl_conn_pending relies on it). */
static int sock_read(BIO *b, char *p, size_t len, size_t *got)
{
    ovl_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (c->rpos == c->rlen) {
        ssize_t n;
        c->rpos = c->rlen = 0;
        do
            n = recv(c->fd, c->rbuf, sizeof c->rbuf, 0);
        while (n < 0 && errno == EINTR);
        if (n == 0) {
            c->eof = true;
            return 0;
        }
        if (n < 0) {
            c->last_errno = errno;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                BIO_set_retry_read(b);
            return 0;
        }
        c->rlen = (size_t)n;
        c->received += (uint64_t)n;
    }
    size_t k = len < c->rlen - c->rpos ? len : c->rlen - c->rpos;
    memcpy(p, c->rbuf + c->rpos, k);
    c->rpos += k;
    *got = k;
    return 1;
}

/* A whole record waits in rbuf: reading will make progress without the socket. */
static bool record_buffered(const ovl_conn *c)
{
    size_t have = c->rlen - c->rpos;
    const uint8_t *h = c->rbuf + c->rpos;
    return have >= OVL_TLS_HEADER && have >= OVL_TLS_HEADER + ((size_t)h[3] << 8 | h[4]);
}

static long sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    ovl_conn *c = BIO_get_data(b);
    (void)num;
    (void)ptr;
    if (cmd == BIO_CTRL_FLUSH)
        return 1; /* send() does not buffer */
    if (cmd == BIO_CTRL_EOF)
        return c != NULL && c->eof && c->rpos == c->rlen;
    return 0;
}

static void sock_method_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "overlap socket");
    if (m != NULL && BIO_meth_set_write_ex(m, sock_write) && BIO_meth_set_read_ex(m, sock_read) &&
        BIO_meth_set_ctrl(m, sock_ctrl)) {
        sock_method = m;
        return;
    }
    BIO_meth_free(m);
}

/* ---- OpenSSL errors ---------------------------------------------------- */

static const char *ossl_reason(void)
{
    unsigned long e = ERR_peek_error();
    const char *s = e != 0 ? ERR_reason_error_string(e) : NULL;
    return s != NULL ? s : "unknown OpenSSL error";
}

/* Records "what: reason" and empties the thread's OpenSSL error queue. */
static ovl_err ossl_fail(ovl_err code, const char *what)
{
    ovl_err rc = ovl_err_set(code, "%s: %s", what, ossl_reason());
    ERR_clear_error();
    return rc;
}

/* ---- certificate and context ------------------------------------------ */

static ovl_err make_cert(X509 **out, EVP_PKEY *pkey, const char *name)
{
    ovl_err rc = OVL_OK;
    char cn[OVL_NAME_MAX + 16];
    uint64_t serial;
    X509 *x = X509_new();
    OVL_ENSURE(x != NULL, OVL_ERR_NOMEM, "out of memory making the TLS certificate");
    randombytes_buf(&serial, sizeof serial);
    serial = (serial >> 1) | 1; /* positive and non-zero */
    snprintf(cn, sizeof cn, "overlap %s", name);
    X509_NAME *xn = X509_get_subject_name(x);
    bool ok = X509_set_version(x, X509_VERSION_3) &&
              ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) &&
              X509_gmtime_adj(X509_getm_notBefore(x), OVL_CERT_BEFORE_S) != NULL &&
              X509_gmtime_adj(X509_getm_notAfter(x), OVL_CERT_AFTER_S) != NULL &&
              X509_NAME_add_entry_by_txt(xn, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
                                         -1, 0) &&
              X509_set_issuer_name(x, xn) && X509_set_pubkey(x, pkey) &&
              X509_sign(x, pkey, NULL) > 0;
    if (!ok)
        OVL_FAIL(ossl_fail(OVL_ERR_CRYPTO, "cannot make the TLS certificate"));
    *out = x;
    x = NULL;
done:
    X509_free(x);
    return rc;
}

/* The leaf certificate's raw Ed25519 key, matched against the pins.
 * Returns the index of the matching pin or -1 (details kept in st). */
static long match_pin(pin_state *st, X509 *cert)
{
    uint8_t raw[OVL_PK_LEN];
    size_t len = sizeof raw;
    EVP_PKEY *pk = cert != NULL ? X509_get0_pubkey(cert) : NULL;
    if (pk == NULL || EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519 ||
        EVP_PKEY_get_raw_public_key(pk, raw, &len) != 1 || len != OVL_PK_LEN) {
        st->not_ed25519 = true;
        st->rejected = true;
        return -1;
    }
    memcpy(st->presented, raw, OVL_PK_LEN);
    for (size_t i = 0; i < st->npins; i++)
        if (sodium_memcmp(raw, st->pins[i].pk, OVL_PK_LEN) == 0)
            return (long)i;
    if (st->nfpins > 0) {
        char fpr[OVL_FPR_LEN];
        ovl_fingerprint(fpr, raw);
        for (size_t i = 0; i < st->nfpins; i++)
            if (strcmp(fpr, st->fpins[i].fpr) == 0)
                return (long)(st->npins + i);
    }
    st->rejected = true;
    return -1;
}

static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok; /* chain errors (self-signed, no CA) are expected */
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    ovl_conn *c = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
    if (c == NULL)
        return 0;
    if (X509_STORE_CTX_get_error_depth(store) != 0)
        return 1; /* only the leaf decides */
    if (match_pin(&c->pin, X509_STORE_CTX_get_current_cert(store)) >= 0) {
        X509_STORE_CTX_set_error(store, X509_V_OK);
        return 1;
    }
    /* Makes the peer receive a bad_certificate alert. */
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
}

/* Client side: the server sends its ticket only after accepting our certificate. */
static int on_ticket(SSL *ssl, SSL_SESSION *sess)
{
    (void)sess;
    ovl_conn *c = SSL_get_app_data(ssl);
    if (c != NULL)
        c->confirmed = true;
    return 0; /* we keep no sessions: OpenSSL frees it */
}

static ovl_err ctx_use_identity(SSL_CTX *ctx, const ovl_identity *self)
{
    ovl_err rc = OVL_OK;
    X509 *cert = NULL;
    EVP_PKEY *pkey =
        EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, ovl_identity_seed(self), 32);
    if (pkey == NULL)
        OVL_FAIL(ossl_fail(OVL_ERR_CRYPTO, "cannot load the identity key into OpenSSL"));
    OVL_TRY(make_cert(&cert, pkey, ovl_identity_pub(self)->name));
    if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        OVL_FAIL(ossl_fail(OVL_ERR_CRYPTO, "cannot install the TLS certificate"));
done:
    X509_free(cert);
    EVP_PKEY_free(pkey);
    return rc;
}

static ovl_err ctx_new(SSL_CTX **out, const ovl_identity *self, bool server)
{
    ovl_err rc = OVL_OK;
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (ctx == NULL)
        OVL_FAIL(ossl_fail(OVL_ERR_CRYPTO, "cannot create a TLS context"));
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
        OVL_FAIL(ossl_fail(OVL_ERR_CRYPTO, "cannot restrict TLS to version 1.3"));
    /* AES-128-GCM first: every other primitive of a run is at the 128-bit
     * level (ristretto255, κ = 128 OT and garbling), and the aggregate
     * protocols move tens of GB through the records, where AES-256's extra
     * rounds cost about a tenth of the record CPU. The others stay offered. */
    if (SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                      "TLS_CHACHA20_POLY1305_SHA256") != 1)
        OVL_FAIL(ossl_fail(OVL_ERR_CRYPTO, "cannot set the TLS 1.3 cipher suites"));
    OVL_TRY(ctx_use_identity(ctx, self));
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (server) {
        if (SSL_CTX_set_num_tickets(ctx, 1) != 1)
            OVL_FAIL(ossl_fail(OVL_ERR_CRYPTO, "cannot configure TLS session tickets"));
    } else {
        SSL_CTX_set_session_cache_mode(ctx,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, on_ticket);
    }
    *out = ctx;
    ctx = NULL;
done:
    SSL_CTX_free(ctx);
    return rc;
}

/* ---- connection objects ------------------------------------------------ */

/* Takes ownership of fd, also on failure. */
static ovl_err conn_new(ovl_conn **out, int fd, const char *label, const ovl_identity *self,
                        const ovl_pubkey *pins, size_t npins, bool server)
{
    ovl_err rc = OVL_OK;
    SSL_CTX *ctx = NULL;
    ovl_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        close(fd);
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory for a connection");
    }
    c->fd = fd;
    c->server = server;
    c->pin.pins = pins;
    c->pin.npins = npins;
    snprintf(c->label, sizeof c->label, "%s", label);
    ovl_fingerprint(c->self_fpr, ovl_identity_pub(self)->pk);
    pthread_once(&sock_method_once, sock_method_init);
    OVL_ENSURE(sock_method != NULL, OVL_ERR_NOMEM, "cannot create the socket BIO method");
    OVL_TRY(ctx_new(&ctx, self, server));
    c->ssl = SSL_new(ctx);
    if (c->ssl == NULL)
        OVL_FAIL(ossl_fail(OVL_ERR_NOMEM, "cannot create a TLS connection"));
    BIO *bio = BIO_new(sock_method);
    if (bio == NULL)
        OVL_FAIL(ossl_fail(OVL_ERR_NOMEM, "cannot create a socket BIO"));
    BIO_set_data(bio, c);
    BIO_set_init(bio, 1);
    SSL_set_bio(c->ssl, bio, bio);
    SSL_set_app_data(c->ssl, c);
    if (server)
        SSL_set_accept_state(c->ssl);
    else
        SSL_set_connect_state(c->ssl);
    *out = c;
    c = NULL;
done:
    SSL_CTX_free(ctx);
    ovl_conn_close(c);
    return rc;
}

void ovl_conn_close(ovl_conn *c)
{
    if (c == NULL)
        return;
    if (c->ssl != NULL) {
        ERR_clear_error();
        /* Best effort: a non-blocking shutdown queues close_notify if it fits. */
        if (c->ready && !c->dead)
            (void)SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        ERR_clear_error();
    }
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

const ovl_pubkey *ovl_conn_peer(const ovl_conn *c) { return &c->peer; }
const char *ovl_conn_label(const ovl_conn *c) { return c->label; }
uint64_t ovl_conn_bytes_sent(const ovl_conn *c) { return c->sent; }
uint64_t ovl_conn_bytes_received(const ovl_conn *c) { return c->received; }

/* ---- error mapping ----------------------------------------------------- */

static ovl_err pin_error(const ovl_conn *c)
{
    char got[OVL_FPR_LEN], want[OVL_FPR_LEN];
    if (c->pin.not_ed25519)
        return ovl_err_set(OVL_ERR_AUTH, "peer %s presented a certificate without an Ed25519 key",
                           c->label);
    ovl_fingerprint(got, c->pin.presented);
    if (c->pin.npins != 1 || c->pin.nfpins != 0)
        return ovl_err_set(OVL_ERR_AUTH, "peer %s presented key %s which is none of the %zu "
                           "pinned keys", c->label, got, c->pin.npins + c->pin.nfpins);
    ovl_fingerprint(want, c->pin.pins[0].pk);
    return ovl_err_set(OVL_ERR_AUTH, "peer %s presented key %s which is not the pinned key %s (%s)",
                       c->label, got, want, c->pin.pins[0].name);
}

/* Alerts a peer sends when it does not accept our certificate. */
static bool is_cert_refusal(int reason)
{
    return reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
           reason == SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE ||
           reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN ||
           reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA || reason == SSL_R_TLSV1_ALERT_ACCESS_DENIED ||
           reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED;
}

static bool is_disconnect(const ovl_conn *c, int sslerr, int lib, int reason)
{
    if (sslerr == SSL_ERROR_ZERO_RETURN)
        return true;
    if (sslerr == SSL_ERROR_SYSCALL)
        return c->eof || c->last_errno == 0 || c->last_errno == ECONNRESET ||
               c->last_errno == EPIPE;
    return lib == ERR_LIB_SSL && reason == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

/* Maps a failed SSL call to one error; the connection stays failed. */
static ovl_err conn_error(ovl_conn *c, int sslerr, bool handshake)
{
    unsigned long e = ERR_peek_error();
    int lib = ERR_GET_LIB(e), reason = ERR_GET_REASON(e);
    const char *stage = handshake ? " during the TLS handshake" : "";
    ovl_err rc;
    if (c->pin.rejected)
        rc = pin_error(c);
    else if (is_disconnect(c, sslerr, lib, reason))
        rc = ovl_err_set(OVL_ERR_PEER_CLOSED, "peer %s closed the connection%s", c->label, stage);
    else if (sslerr == SSL_ERROR_SYSCALL)
        rc = ovl_err_set(OVL_ERR_IO, "peer %s: connection failed%s: %s", c->label, stage,
                         strerror(c->last_errno));
    else if (lib == ERR_LIB_SSL && is_cert_refusal(reason))
        rc = ovl_err_set(OVL_ERR_AUTH, "peer %s rejected our key %s; it must pin our .pub file",
                         c->label, c->self_fpr);
    else if (lib == ERR_LIB_SSL && reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
        rc = ovl_err_set(OVL_ERR_AUTH, "peer %s presented no certificate", c->label);
    else
        rc = ovl_err_set(OVL_ERR_TLS, "peer %s: TLS %s failed: %s", c->label,
                         handshake ? "handshake" : "connection", ossl_reason());
    ERR_clear_error();
    if (sslerr != SSL_ERROR_ZERO_RETURN)
        c->dead = true;
    c->failed = rc;
    snprintf(c->failed_detail, sizeof c->failed_detail, "%s", ovl_err_detail());
    return rc;
}

/* ---- handshake --------------------------------------------------------- */

/* After a non-blocking SSL call returned r: waits for what it wants. */
static ovl_err handshake_wait(ovl_conn *c, int r, int64_t deadline, int budget_ms)
{
    int sslerr = SSL_get_error(c->ssl, r);
    short events, revents = 0;
    if (sslerr == SSL_ERROR_WANT_READ)
        events = POLLIN;
    else if (sslerr == SSL_ERROR_WANT_WRITE)
        events = POLLOUT;
    else
        return conn_error(c, sslerr, true);
    ovl_err rc = ovl_net_wait_fd(c->fd, events, deadline, &revents);
    if (rc == OVL_OK && revents == 0)
        rc = ovl_err_set(OVL_ERR_TIMEOUT, "peer %s did not complete the TLS handshake within %d ms",
                         c->label, budget_ms);
    return rc;
}

static ovl_err check_peer(ovl_conn *c)
{
    long i = match_pin(&c->pin, SSL_get0_peer_certificate(c->ssl));
    if (i < 0)
        return pin_error(c);
    if ((size_t)i < c->pin.npins) {
        c->peer = c->pin.pins[i];
    } else {
        memcpy(c->peer.pk, c->pin.presented, OVL_PK_LEN);
        snprintf(c->peer.name, sizeof c->peer.name, "%s", c->pin.fpins[(size_t)i - c->pin.npins].name);
    }
    c->pin.pins = NULL;
    c->pin.fpins = NULL;
    c->ready = true;
    return OVL_OK;
}

static ovl_err conn_handshake(ovl_conn *c, int64_t deadline, int budget_ms)
{
    ovl_err rc = OVL_OK;
    int r;
    for (;;) {
        ERR_clear_error();
        r = SSL_do_handshake(c->ssl);
        if (r == 1)
            break;
        OVL_TRY(handshake_wait(c, r, deadline, budget_ms));
    }
    while (!c->server && !c->confirmed) {
        uint8_t byte;
        size_t got;
        ERR_clear_error();
        r = SSL_peek_ex(c->ssl, &byte, 1, &got);
        if (r == 1)
            break; /* our server writes data only after its handshake completed */
        if (c->confirmed) {
            /* Records after the ticket (data, close_notify, garbage) belong to
             * the session: a failure among them surfaces on the first read. */
            int sslerr = SSL_get_error(c->ssl, r);
            if (sslerr != SSL_ERROR_WANT_READ && sslerr != SSL_ERROR_WANT_WRITE)
                (void)conn_error(c, sslerr, false);
            ERR_clear_error();
            break;
        }
        OVL_TRY(handshake_wait(c, r, deadline, budget_ms));
    }
    OVL_TRY(check_peer(c));
done:
    if (rc != OVL_OK && !c->dead) {
        c->dead = true;
        c->failed = rc;
        snprintf(c->failed_detail, sizeof c->failed_detail, "%s", ovl_err_detail());
    }
    return rc;
}

/* ---- listening and accepting ------------------------------------------- */

static ovl_err listen_on(int *fd_out, const struct addrinfo *a)
{
    int one = 1;
    int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0)
        return OVL_ERR_IO;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, OVL_LISTEN_BACKLOG) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return OVL_ERR_IO;
    }
    *fd_out = fd;
    return OVL_OK;
}

ovl_err ovl_listen(ovl_listener **out, const char *hostport)
{
    ovl_err rc = OVL_OK;
    struct addrinfo *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int err = 0;
    ovl_listener *l = calloc(1, sizeof *l);
    OVL_ENSURE(l != NULL, OVL_ERR_NOMEM, "out of memory for a listener");
    l->fd = -1;
    OVL_TRY(ovl_net_resolve(&ai, hostport, true));
    for (const struct addrinfo *a = ai; a != NULL && l->fd < 0; a = a->ai_next)
        if (listen_on(&l->fd, a) != OVL_OK)
            err = errno;
    OVL_ENSURE(l->fd >= 0, OVL_ERR_IO, "cannot listen on %s: %s", hostport, strerror(err));
    OVL_TRY(ovl_net_prepare_fd(l->fd, false));
    OVL_ENSURE(getsockname(l->fd, (struct sockaddr *)&ss, &sl) == 0, OVL_ERR_IO,
               "cannot read the address of %s: %s", hostport, strerror(errno));
    ovl_net_label(l->label, (struct sockaddr *)&ss, sl);
    l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    *out = l;
    l = NULL;
done:
    if (ai != NULL)
        freeaddrinfo(ai);
    ovl_listener_close(l);
    return rc;
}

uint16_t ovl_listener_port(const ovl_listener *l) { return l->port; }
int ovl_listener_fd(const ovl_listener *l) { return l->fd; }

void ovl_listener_close(ovl_listener *l)
{
    if (l == NULL)
        return;
    if (l->fd >= 0)
        close(l->fd);
    free(l);
}

/* One handshake on an accepted socket, pinning keys and/or fingerprints. It
 * takes ownership of fd (closing it on failure), sets it non-blocking, and
 * bounds the handshake by handshake_ms (<= 0: unbounded). */
static ovl_err accept_pinned(ovl_conn **out, int fd, const char *peer_label,
                             const ovl_identity *self, const ovl_pubkey *peers, size_t npeers,
                             const ovl_fpr_pin *fpins, size_t nfpins, int handshake_ms)
{
    ovl_err rc = OVL_OK;
    ovl_conn *c = NULL;
    if (ovl_net_prepare_fd(fd, true) != OVL_OK) {
        rc = ovl_err_wrap(OVL_ERR_IO, "peer %s: ", peer_label);
        close(fd);
        goto done;
    }
    OVL_TRY(conn_new(&c, fd, peer_label, self, peers, npeers, true));
    c->pin.fpins = fpins;
    c->pin.nfpins = nfpins;
    OVL_TRY(conn_handshake(c, ovl_net_deadline(handshake_ms), handshake_ms));
    *out = c;
    c = NULL;
done:
    ovl_conn_close(c);
    return rc;
}

ovl_err ovl_accept_fd(ovl_conn **out, int fd, const char *peer_label, const ovl_identity *self,
                      const ovl_pubkey *peers, size_t npeers, int handshake_ms)
{
    return accept_pinned(out, fd, peer_label, self, peers, npeers, NULL, 0, handshake_ms);
}

ovl_err ovl_accept_fd_fpr(ovl_conn **out, int fd, const char *peer_label,
                          const ovl_identity *self, const ovl_fpr_pin *peers, size_t npeers,
                          int handshake_ms)
{
    return accept_pinned(out, fd, peer_label, self, NULL, 0, peers, npeers, handshake_ms);
}

/* Failures caused by whoever connected; anything else is ours and ends the wait. */
static bool peer_fault(ovl_err e)
{
    return e != OVL_ERR_NOMEM && e != OVL_ERR_INTERNAL && e != OVL_ERR_CRYPTO &&
           e != OVL_ERR_USAGE;
}

/* The rejection detail without its leading "peer HOST:PORT", which the log
 * line already names. */
static const char *strip_peer(const char *detail, const char *label)
{
    size_t n = strlen(label);
    if (strncmp(detail, "peer ", 5) != 0 || strncmp(detail + 5, label, n) != 0)
        return detail;
    detail += 5 + n;
    if (*detail == ':')
        detail++;
    return *detail == ' ' ? detail + 1 : detail;
}

static int accept_budget(int handshake_ms, int64_t deadline)
{
    int left = ovl_net_left_ms(deadline);
    if (left < 0)
        return handshake_ms;
    if (left == 0)
        left = 1;
    return handshake_ms > 0 && handshake_ms < left ? handshake_ms : left;
}

ovl_err ovl_accept(ovl_conn **out, ovl_listener *l, const ovl_identity *self,
                   const ovl_pubkey *peers, size_t npeers, int timeout_ms, int handshake_ms)
{
    ovl_err rc = OVL_OK;
    int64_t deadline = ovl_net_deadline(timeout_ms);
    size_t rejected = 0;
    for (;;) {
        short revents = 0;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        char label[OVL_LABEL_MAX];
        OVL_TRY(ovl_net_wait_fd(l->fd, POLLIN, deadline, &revents));
        OVL_ENSURE(revents != 0, OVL_ERR_TIMEOUT,
                   "no authenticated peer connected to %s within %d ms (%zu connection%s "
                   "rejected)", l->label, timeout_ms, rejected, rejected == 1 ? "" : "s");
        int fd = accept(l->fd, (struct sockaddr *)&ss, &sl);
        if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
                       errno == ECONNABORTED || errno == EPROTO))
            continue;
        OVL_ENSURE(fd >= 0, OVL_ERR_IO, "accept on %s failed: %s", l->label, strerror(errno));
        ovl_net_label(label, (struct sockaddr *)&ss, sl);
        rc = ovl_accept_fd(out, fd, label, self, peers, npeers,
                           accept_budget(handshake_ms, deadline));
        if (rc == OVL_OK || !peer_fault(rc))
            goto done;
        fprintf(stderr, "overlap: rejected connection from %s: %s\n", label,
                strip_peer(ovl_err_detail(), label));
        rejected++;
        rc = OVL_OK;
    }
done:
    return rc;
}

/* ---- connecting -------------------------------------------------------- */

/* Connecting to a free port in the ephemeral range on this host can pick that
 * very port as source and connect the socket to itself; nobody listens then. */
static bool is_self_connect(int fd)
{
    struct sockaddr_storage a, b;
    socklen_t al = sizeof a, bl = sizeof b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    return getsockname(fd, (struct sockaddr *)&a, &al) == 0 &&
           getpeername(fd, (struct sockaddr *)&b, &bl) == 0 && al == bl &&
           memcmp(&a, &b, al) == 0;
}

/* One TCP attempt to a; *fd_out stays -1 and *err says why when it fails. */
static ovl_err try_connect(int *fd_out, int *err, const struct addrinfo *a, int64_t deadline)
{
    ovl_err rc = OVL_OK;
    short revents = 0;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) {
        *err = errno;
        return OVL_OK;
    }
    OVL_TRY(ovl_net_prepare_fd(fd, true));
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
        goto connected;
    if (errno != EINPROGRESS) {
        *err = errno;
        goto done;
    }
    OVL_TRY(ovl_net_wait_fd(fd, POLLOUT, deadline, &revents));
    if (revents == 0) {
        *err = ETIMEDOUT;
        goto done;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
        soerr = errno;
    if (soerr != 0) {
        *err = soerr;
        goto done;
    }
connected:
    if (is_self_connect(fd)) {
        *err = ECONNREFUSED;
        goto done;
    }
    *fd_out = fd;
    fd = -1;
done:
    if (fd >= 0)
        close(fd);
    return rc;
}

static bool retryable(int err)
{
    return err == ECONNREFUSED || err == ENETUNREACH || err == EHOSTUNREACH || err == ETIMEDOUT;
}

static ovl_err tcp_connect(int *fd_out, char label[OVL_LABEL_MAX], const char *hostport,
                           int64_t deadline, int timeout_ms)
{
    ovl_err rc = OVL_OK;
    struct addrinfo *ai = NULL;
    int fd = -1, err = 0;
    OVL_TRY(ovl_net_resolve(&ai, hostport, false));
    for (;;) {
        for (const struct addrinfo *a = ai; a != NULL; a = a->ai_next) {
            OVL_TRY(try_connect(&fd, &err, a, deadline));
            if (fd >= 0) {
                ovl_net_label(label, a->ai_addr, a->ai_addrlen);
                *fd_out = fd;
                goto done;
            }
        }
        OVL_ENSURE(retryable(err), OVL_ERR_NET, "cannot connect to %s: %s", hostport,
                   strerror(err));
        int left = ovl_net_left_ms(deadline);
        OVL_ENSURE(left != 0, OVL_ERR_TIMEOUT, "cannot connect to %s: %s (kept trying for %d ms)",
                   hostport, strerror(err), timeout_ms);
        poll(NULL, 0, left > 0 && left < OVL_CONNECT_RETRY_MS ? left : OVL_CONNECT_RETRY_MS);
    }
done:
    if (ai != NULL)
        freeaddrinfo(ai);
    return rc;
}

ovl_err ovl_connect(ovl_conn **out, const char *hostport, const ovl_identity *self,
                    const ovl_pubkey *peer, int timeout_ms)
{
    ovl_err rc = OVL_OK;
    ovl_conn *c = NULL;
    int fd = -1;
    char label[OVL_LABEL_MAX];
    /* timeout_ms bounds connecting and the handshake together (<= 0: no bound). */
    int64_t deadline = ovl_net_deadline(timeout_ms);
    OVL_TRY(tcp_connect(&fd, label, hostport, deadline, timeout_ms));
    OVL_TRY(conn_new(&c, fd, label, self, peer, 1, false));
    OVL_TRY(conn_handshake(c, deadline, timeout_ms));
    *out = c;
    c = NULL;
done:
    ovl_conn_close(c);
    return rc;
}

/* ---- data -------------------------------------------------------------- */

static ovl_err conn_usable(const ovl_conn *c)
{
    if (!c->ready)
        return ovl_err_set(OVL_ERR_USAGE, "connection to %s is not established", c->label);
    if (c->dead)
        return ovl_err_set(c->failed, "%s", c->failed_detail);
    return OVL_OK;
}

ovl_err ovl_conn_read_some(ovl_conn *c, uint8_t *p, size_t cap, size_t *n)
{
    size_t got = 0;
    *n = 0;
    ovl_err rc = conn_usable(c);
    if (rc != OVL_OK || cap == 0)
        return rc;
    ERR_clear_error();
    int r = SSL_read_ex(c->ssl, p, cap, &got);
    if (r == 1) {
        c->read_wants_write = false;
        *n = got;
        return OVL_OK;
    }
    int sslerr = SSL_get_error(c->ssl, r);
    if (sslerr == SSL_ERROR_WANT_READ || sslerr == SSL_ERROR_WANT_WRITE) {
        c->read_wants_write = sslerr == SSL_ERROR_WANT_WRITE;
        ERR_clear_error();
        return OVL_OK;
    }
    return conn_error(c, sslerr, false);
}

/* After *n == 0 the caller must offer the same bytes again (OpenSSL retries
 * the pending record); the buffer may move. */
ovl_err ovl_conn_write_some(ovl_conn *c, const uint8_t *p, size_t len, size_t *n)
{
    size_t put = 0;
    *n = 0;
    ovl_err rc = conn_usable(c);
    if (rc != OVL_OK || len == 0)
        return rc;
    ERR_clear_error();
    /* SSL_write_ex sends one record per call (partial writes). With
     * TCP_NODELAY every send() would push its own segment and wake the
     * reader; a record followed by more of this caller's bytes is sent with
     * MSG_MORE instead, so the kernel fills segments up to the MSS (64 KiB on
     * loopback). The caller's last record has no MSG_MORE and pushes
     * everything queued; after a would-block the caller offers the same
     * bytes again, so nothing stays corked behind a caller that stopped. */
    c->more = len > OVL_TLS_RECORD_MAX;
    int r = SSL_write_ex(c->ssl, p, len, &put);
    c->more = false;
    if (r == 1) {
        c->write_wants_write = false;
        *n = put;
        return OVL_OK;
    }
    int sslerr = SSL_get_error(c->ssl, r);
    if (sslerr == SSL_ERROR_WANT_READ || sslerr == SSL_ERROR_WANT_WRITE) {
        c->write_wants_write = sslerr == SSL_ERROR_WANT_WRITE;
        ERR_clear_error();
        return OVL_OK;
    }
    return conn_error(c, sslerr, false);
}

int ovl_conn_fd(const ovl_conn *c) { return c->fd; }

bool ovl_conn_wants_write(const ovl_conn *c) { return c->read_wants_write || c->write_wants_write; }

bool ovl_conn_pending(const ovl_conn *c)
{
    return c->ssl != NULL && (SSL_pending(c->ssl) > 0 || record_buffered(c));
}

ovl_err ovl_conn_wait(ovl_conn *c, bool want_write, int timeout_ms, bool *ready)
{
    short revents = 0;
    short events = POLLIN;
    *ready = false;
    ovl_err rc = conn_usable(c);
    if (rc != OVL_OK)
        return rc;
    if (ovl_conn_pending(c)) {
        *ready = true;
        return OVL_OK;
    }
    if (want_write || ovl_conn_wants_write(c))
        events |= POLLOUT;
    /* Unlike the other timeouts here, 0 means "just look" (as for poll). */
    int64_t deadline = timeout_ms < 0 ? -1 : ovl_net_now_ms() + timeout_ms;
    rc = ovl_net_wait_fd(c->fd, events, deadline, &revents);
    *ready = rc == OVL_OK && revents != 0;
    return rc;
}
