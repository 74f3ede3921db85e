/* Multi-party PSI engine (protocols/mpsi/SPEC.md). */
#include "mpsi/mpsi.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/frame.h"
#include "core/guard.h"
#include "core/mem.h"
#include "crypto/rng.h"
#include "mpc/okvs.h"
#include "common/engine.h"

#define ELEM 32u
#define W OVL_MPSI_SHARE_WORDS
#define SEAL_TAG crypto_aead_chacha20poly1305_ietf_ABYTES

static const char DST_SET[] = "OVERLAP-V1-MPSI-ristretto255_XMD:SHA-512_R255MAP_RO_";
static const char DST_CA[] = "OVERLAP-V1-MPSI-CA-ristretto255_XMD:SHA-512_R255MAP_RO_";

typedef struct {
    unsigned to;
    ovl_buf frame;
} outmsg;

typedef struct {
    unsigned from;
    uint8_t type;
    uint8_t *payload;
    size_t len;
} pending;

struct ovl_mpsi {
    ovl_mpsi_config cfg;
    unsigned k, self;
    const ovl_group *g;
    uint64_t size[OVL_MPSI_MAX_MEMBERS];
    uint8_t member_pk[OVL_MPSI_MAX_MEMBERS][32];
    uint8_t session[32];
    bool failed;
    ovl_err failure;
    ovl_rng rng;
    bool seeded;
    /* keys (§5.1) */
    uint8_t eph_sk[32], eph_pk[32];
    bool have_key[OVL_MPSI_MAX_MEMBERS];
    unsigned nkeys;
    uint8_t tx[OVL_MPSI_MAX_MEMBERS][32], rx[OVL_MPSI_MAX_MEMBERS][32];
    uint8_t seed[OVL_MPSI_MAX_MEMBERS][32];
    uint64_t tx_seq[OVL_MPSI_MAX_MEMBERS], rx_seq[OVL_MPSI_MAX_MEMBERS];
    pending *held;
    size_t nheld;
    /* joint blinding (§5.2) */
    uint8_t key[OVL_GROUP_MAX_SCALAR], unmask[OVL_GROUP_MAX_SCALAR];
    uint32_t *perm; /* chain position -> ids index */
    uint8_t *fval;  /* F(y) in chain order, then the OKVS keys */
    uint64_t own_back;
    bool f_ready;
    uint64_t relayed[OVL_MPSI_MAX_MEMBERS];
    /* membership (§5.3, §5.4) */
    uint8_t *tbl[OVL_MPSI_MAX_MEMBERS];
    uint64_t tbl_got[OVL_MPSI_MAX_MEMBERS];
    unsigned tables_in;
    bool *matched;
    bool result;
    uint64_t count;
    /* cardinality (§5.5) */
    uint8_t ca_key[OVL_GROUP_MAX_SCALAR];
    uint8_t *ca_mine;   /* R: tags of C's elements, sorted; C: nothing */
    uint64_t ca_elems, ca_tags, ca_hits;
    uint8_t *ca_tagbuf; /* R: tags C returned */
    uint64_t *share;    /* own zero shares for the current receiver */
    /* output */
    outmsg *out;
    size_t nout, outcap, outpos;
    uint64_t bytes_sent;
};

static const char *who(const ovl_mpsi *m, unsigned i)
{
    static _Thread_local char buf[96];
    const char *n = m->cfg.names && m->cfg.names[i] ? m->cfg.names[i] : "?";
    snprintf(buf, sizeof buf, "member %u (%s)", i, n);
    return buf;
}

static bool is_receiver(const ovl_mpsi *m, unsigned i)
{
    if (m->cfg.mode == OVL_MODE_CARDINALITY)
        return i == 0;
    return m->cfg.reveal == OVL_REVEAL_BOTH || i == 0;
}

/* ---- output queue ---- */

static ovl_err out_push(ovl_mpsi *m, unsigned to, ovl_buf *frame)
{
    if (m->nout == m->outcap) {
        size_t cap = m->outcap ? m->outcap * 2 : 16;
        outmsg *n = realloc(m->out, cap * sizeof *n);
        if (n == NULL)
            return ovl_err_set(OVL_ERR_NOMEM, "mpsi: out of memory");
        m->out = n;
        m->outcap = cap;
    }
    m->out[m->nout].to = to;
    m->out[m->nout].frame = *frame;
    m->nout++;
    m->bytes_sent += frame->wpos;
    return OVL_OK;
}

static void nonce_of(uint8_t nonce[12], uint64_t seq)
{
    memset(nonce, 0, 4);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
}

/* Seals body for `to` (§4.2) and queues the frame. */
static ovl_err send_sealed(ovl_mpsi *m, unsigned to, uint8_t type, const uint8_t *body, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf f = {0};
    uint8_t nonce[12], ad[3] = {type, (uint8_t)m->self, (uint8_t)to};
    uint8_t *ct;
    size_t mark;
    OVL_ENSURE(len + SEAL_TAG <= OVL_FRAME_MAX_PAYLOAD, OVL_ERR_INTERNAL, "mpsi: frame too long");
    OVL_TRY(ovl_buf_alloc(&f, OVL_FRAME_HDR + len + SEAL_TAG, OVL_FRAME_HDR + len + SEAL_TAG));
    OVL_TRY(ovl_frame_begin(&f, type, &mark));
    OVL_TRY(ovl_buf_reserve(&f, len + SEAL_TAG, &ct));
    nonce_of(nonce, m->tx_seq[to]++);
    crypto_aead_chacha20poly1305_ietf_encrypt(ct, NULL, body, len, ad, sizeof ad, NULL, nonce,
                                              m->tx[to]);
    OVL_TRY(ovl_frame_end(&f, mark));
    OVL_TRY(out_push(m, to, &f));
    return OVL_OK;
done:
    ovl_buf_free(&f);
    return rc;
}

/* ---- keys (§5.1) ---- */

static void key_message(uint8_t msg[19 + 32 + 1 + 32], const uint8_t session[32], unsigned idx,
                        const uint8_t pk[32])
{
    memcpy(msg, "overlap-v1 mpsi key", 19);
    memcpy(msg + 19, session, 32);
    msg[51] = (uint8_t)idx;
    memcpy(msg + 52, pk, 32);
}

static ovl_err send_keys(ovl_mpsi *m)
{
    ovl_err rc = OVL_OK;
    uint8_t msg[84], sig[64];
    key_message(msg, m->session, m->self, m->eph_pk);
    if (m->cfg.sign_sk)
        crypto_sign_detached(sig, NULL, msg, sizeof msg, m->cfg.sign_sk);
    else
        OVL_TRY(m->cfg.sign(m->cfg.sign_arg, sig, msg, sizeof msg));
    for (unsigned j = 0; j < m->k; j++) {
        if (j == m->self)
            continue;
        ovl_buf f = {0};
        size_t mark;
        OVL_TRY(ovl_buf_alloc(&f, 128, 128));
        if (ovl_frame_begin(&f, OVL_MPSI_KEY, &mark) != OVL_OK ||
            ovl_buf_put_bytes(&f, m->eph_pk, 32) != OVL_OK ||
            ovl_buf_put_bytes(&f, sig, 64) != OVL_OK || ovl_frame_end(&f, mark) != OVL_OK ||
            out_push(m, j, &f) != OVL_OK) {
            ovl_buf_free(&f);
            OVL_FAIL(OVL_ERR_INTERNAL);
        }
    }
done:
    return rc;
}

static void derive(uint8_t out[32], const uint8_t base[32], const char *label, unsigned a,
                   unsigned b)
{
    crypto_generichash_state st;
    uint8_t ab[2] = {(uint8_t)a, (uint8_t)b};
    crypto_generichash_init(&st, base, 32, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
    crypto_generichash_update(&st, ab, 2);
    crypto_generichash_final(&st, out, 32);
}

static ovl_err recv_key(ovl_mpsi *m, unsigned from, const uint8_t *p, size_t len)
{
    uint8_t msg[84], dh[32], base[32];
    crypto_generichash_state st;
    if (m->have_key[from])
        return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: %s sent KEY twice", who(m, from));
    if (len != 96)
        return ovl_err_set(OVL_ERR_MALFORMED, "mpsi: %s sent a KEY of %zu bytes (96 expected)",
                           who(m, from), len);
    key_message(msg, m->session, from, p);
    if (crypto_sign_verify_detached(p + 32, msg, sizeof msg, m->member_pk[from]) != 0)
        return ovl_err_set(OVL_ERR_AUTH,
                           "mpsi: %s's KEY is not signed by its key on the member list",
                           who(m, from));
    if (crypto_scalarmult(dh, m->eph_sk, p) != 0)
        return ovl_err_set(OVL_ERR_CRYPTO, "mpsi: %s sent a low-order key", who(m, from));
    unsigned lo = from < m->self ? from : m->self, hi = from < m->self ? m->self : from;
    crypto_generichash_init(&st, m->session, 32, 32);
    crypto_generichash_update(&st, (const uint8_t *)"mpsi pair", 9);
    crypto_generichash_update(&st, dh, 32);
    crypto_generichash_update(&st, lo == m->self ? m->eph_pk : p, 32);
    crypto_generichash_update(&st, lo == m->self ? p : m->eph_pk, 32);
    crypto_generichash_final(&st, base, 32);
    derive(m->tx[from], base, "dir", m->self, from);
    derive(m->rx[from], base, "dir", from, m->self);
    derive(m->seed[from], base, "seed", lo, hi);
    sodium_memzero(dh, sizeof dh);
    sodium_memzero(base, sizeof base);
    m->have_key[from] = true;
    m->nkeys++;
    return OVL_OK;
}

/* ---- joint blinding (§5.2) ---- */

static unsigned next_of(const ovl_mpsi *m, unsigned i) { return (i + 1) % m->k; }

/* A slice of one batch's group operations: out[i] = key · in[i], or with
 * ids, out[i] = key · H(ids[perm[i]]) (the chain's first hop). */
typedef struct {
    ovl_job base;
    const ovl_group *g;
    const uint8_t *key;
    uint8_t *out;
    const uint8_t *in;
    const uint8_t (*ids)[32];
    const uint32_t *perm;
    size_t n;
    size_t bad; /* the first element that failed, or n */
} mult_job;

static void mult_slice(mult_job *j)
{
    uint8_t h[ELEM];
    j->bad = j->n;
    for (size_t i = 0; i < j->n; i++) {
        const uint8_t *src = j->in ? j->in + i * ELEM : h;
        if (j->ids && j->g->hash_to_group(h, j->ids[j->perm[i]], 32, (const uint8_t *)DST_SET,
                                          sizeof DST_SET - 1) != OVL_OK) {
            j->bad = i;
            return;
        }
        if (j->g->scalar_mult(j->out + i * ELEM, j->key, src) != OVL_OK) {
            j->bad = i;
            return;
        }
    }
}

static void mult_run(ovl_job *job) { mult_slice((mult_job *)job); }

#define MULT_SLICES 16u    /* at most, one per worker plus the caller's */
#define MULT_MIN_SLICE 64u /* smaller batches are not worth a thread */

/* Runs a batch's operations on the pool's workers and this thread, waits,
 * and gives the first failed element's index (or n). */
static size_t mult_batch(const ovl_mpsi *m, const uint8_t *key, uint8_t *out, const uint8_t *in,
                         const uint32_t *perm, size_t n)
{
    mult_job jobs[MULT_SLICES];
    size_t workers = m->cfg.pool ? ovl_pool_threads(m->cfg.pool) : 0, slices = workers + 1;
    if (slices > MULT_SLICES)
        slices = MULT_SLICES;
    if (slices > n / MULT_MIN_SLICE)
        slices = n / MULT_MIN_SLICE ? n / MULT_MIN_SLICE : 1;
    size_t per = (n + slices - 1) / slices, bad = n;
    for (size_t s = 0; s < slices; s++) {
        size_t lo = s * per, hi = lo + per < n ? lo + per : n;
        jobs[s] = (mult_job){.base = {.run = mult_run}, .g = m->g, .key = key,
                             .out = out + lo * ELEM, .in = in ? in + lo * ELEM : NULL,
                             .ids = perm ? m->cfg.ids : NULL, .perm = perm ? perm + lo : NULL,
                             .n = hi > lo ? hi - lo : 0};
        if (s + 1 < slices)
            ovl_pool_submit(m->cfg.pool, &jobs[s].base);
    }
    mult_slice(&jobs[slices - 1]);
    if (slices > 1) {
        ovl_pool_drain(m->cfg.pool);
        while (ovl_pool_collect(m->cfg.pool) != NULL)
            ;
    }
    for (size_t s = 0; s < slices && bad == n; s++)
        if (jobs[s].bad < jobs[s].n)
            bad = s * per + jobs[s].bad;
    return bad;
}

/* Sends elements [off, off+n) of a chain to `to`. */
static ovl_err send_chain(ovl_mpsi *m, unsigned to, unsigned origin, unsigned hop, uint64_t off,
                          const uint8_t *elems, size_t n)
{
    ovl_err rc = OVL_OK;
    size_t len = 10 + n * ELEM;
    uint8_t *body = malloc(len);
    OVL_ENSURE(body != NULL, OVL_ERR_NOMEM, "mpsi: out of memory");
    body[0] = (uint8_t)origin;
    body[1] = (uint8_t)hop;
    for (int i = 0; i < 4; i++) {
        body[2 + i] = (uint8_t)(off >> (24 - 8 * i));
        body[6 + i] = (uint8_t)(n >> (24 - 8 * i));
    }
    memcpy(body + 10, elems, n * ELEM);
    OVL_TRY(send_sealed(m, to, OVL_MPSI_CHAIN, body, len));
done:
    free(body);
    return rc;
}

static ovl_err start_chain(ovl_mpsi *m)
{
    ovl_err rc = OVL_OK;
    uint8_t mask[OVL_GROUP_MAX_SCALAR];
    uint8_t *batch = NULL;
    size_t n = m->cfg.nids;
    OVL_TRY(ovl_engine_scalar(m->g, mask, &m->rng, m->seeded));
    OVL_TRY(m->g->scalar_invert(m->unmask, mask));
    /* one multiplication on the way back: F = (k / a) * V (§5.2) */
    crypto_core_ristretto255_scalar_mul(m->unmask, m->unmask, m->key);
    batch = malloc((n < OVL_MPSI_BATCH ? n : OVL_MPSI_BATCH) * ELEM + 1);
    OVL_ENSURE(batch != NULL, OVL_ERR_NOMEM, "mpsi: out of memory");
    for (size_t off = 0; off < n; off += OVL_MPSI_BATCH) {
        size_t c = n - off < OVL_MPSI_BATCH ? n - off : OVL_MPSI_BATCH;
        OVL_ENSURE(mult_batch(m, mask, batch, NULL, m->perm + off, c) == c, OVL_ERR_CRYPTO,
                   "mpsi: hashing an identifier to the group failed");
        OVL_TRY(send_chain(m, next_of(m, m->self), m->self, 0, off, batch, c));
    }
done:
    sodium_memzero(mask, sizeof mask);
    free(batch);
    return rc;
}

static ovl_err after_f(ovl_mpsi *m);

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* Our key on a batch of the chain of `origin`, then on to the next member. */
static ovl_err relay_chain(ovl_mpsi *m, unsigned from, unsigned origin, unsigned hop,
                           uint64_t off, uint8_t *elems, size_t n)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(hop <= m->k - 2 && m->self == (origin + hop + 1) % m->k &&
                   from == (origin + hop) % m->k,
               OVL_ERR_PROTOCOL, "mpsi: %s sent a CHAIN batch off its route (origin %u, hop %u)",
               who(m, from), origin, hop);
    OVL_ENSURE(off == m->relayed[origin] && n <= m->size[origin] - off, OVL_ERR_PROTOCOL,
               "mpsi: %s sent elements %llu..%llu of %s's set, which announced %llu",
               who(m, from), (unsigned long long)off, (unsigned long long)(off + n),
               who(m, origin), (unsigned long long)m->size[origin]);
    OVL_ENSURE(mult_batch(m, m->key, elems, elems, NULL, n) == n, OVL_ERR_PROTOCOL,
               "mpsi: %s sent an invalid group element", who(m, from));
    m->relayed[origin] += n;
    if (hop + 1 == m->k - 1)
        OVL_TRY(send_chain(m, origin, origin, m->k - 1, off, elems, n));
    else
        OVL_TRY(send_chain(m, next_of(m, m->self), origin, hop + 1, off, elems, n));
done:
    return rc;
}

static ovl_err own_back(ovl_mpsi *m, unsigned from, unsigned hop, uint64_t off,
                        const uint8_t *elems, size_t n)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(hop == m->k - 1 && from == (m->self + m->k - 1) % m->k, OVL_ERR_PROTOCOL,
               "mpsi: %s returned our set off its route (hop %u)", who(m, from), hop);
    OVL_ENSURE(off == m->own_back && n <= m->cfg.nids - off, OVL_ERR_PROTOCOL,
               "mpsi: %s returned elements %llu..%llu of our %zu", who(m, from),
               (unsigned long long)off, (unsigned long long)(off + n), m->cfg.nids);
    OVL_ENSURE(mult_batch(m, m->unmask, m->fval + off * ELEM, elems, NULL, n) == n,
               OVL_ERR_PROTOCOL, "mpsi: %s sent an invalid group element", who(m, from));
    m->own_back += n;
    if (m->own_back == m->cfg.nids)
        OVL_TRY(after_f(m));
done:
    return rc;
}

static ovl_err recv_chain(ovl_mpsi *m, unsigned from, uint8_t *p, size_t len)
{
    if (len < 10)
        return ovl_err_set(OVL_ERR_MALFORMED, "mpsi: %s sent a short CHAIN", who(m, from));
    unsigned origin = p[0], hop = p[1];
    uint32_t off = rd32(p + 2), n = rd32(p + 6);
    if (n == 0 || n > OVL_MPSI_BATCH || len != 10 + (size_t)n * ELEM)
        return ovl_err_set(OVL_ERR_MALFORMED, "mpsi: %s sent a CHAIN of %u elements in %zu bytes",
                           who(m, from), n, len);
    if (origin >= m->k)
        return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: %s sent a CHAIN of member %u of %u",
                           who(m, from), origin, m->k);
    if (origin == m->self)
        return own_back(m, from, hop, off, p + 10, n);
    return relay_chain(m, from, origin, hop, off, p + 10, n);
}

/* ---- membership (§5.3) ---- */

static void okvs_key(ovl_block *out, const uint8_t session[32], const uint8_t f[ELEM])
{
    uint8_t h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, session, 32, 16);
    crypto_generichash_update(&st, (const uint8_t *)"mpsi okvs", 9);
    crypto_generichash_update(&st, f, ELEM);
    crypto_generichash_final(&st, h, 16);
    memcpy(out, h, 16);
}

/* σ_self^R(y) = XOR over i ∉ {self, R} of PRF(s_{self,i}, R, F(y)). */
static void zero_share(const ovl_mpsi *m, uint64_t out[W], unsigned r, const uint8_t f[ELEM])
{
    uint8_t msg[1 + ELEM], h[16];
    msg[0] = (uint8_t)r;
    memcpy(msg + 1, f, ELEM);
    out[0] = out[1] = 0;
    for (unsigned i = 0; i < m->k; i++) {
        if (i == m->self || i == r)
            continue;
        uint64_t w[2];
        crypto_generichash(h, 16, msg, sizeof msg, m->seed[i], 32);
        memcpy(w, h, 16);
        out[0] ^= w[0];
        out[1] ^= w[1];
    }
}

static ovl_err send_table(ovl_mpsi *m, unsigned r, const ovl_block *keys)
{
    ovl_err rc = OVL_OK;
    size_t n = m->cfg.nids;
    uint64_t *vals = calloc(n ? n * W : 1, sizeof *vals);
    ovl_okvs o = {0};
    ovl_buf wire = {0};
    uint8_t *body = NULL;
    OVL_ENSURE(vals != NULL, OVL_ERR_NOMEM, "mpsi: out of memory");
    for (size_t i = 0; i < n; i++)
        zero_share(m, vals + i * W, r, m->fval + i * ELEM);
    OVL_TRY(ovl_okvs_encode(&o, keys, vals, n, W, &m->rng));
    size_t total = ovl_okvs_wire_len(n, W);
    OVL_TRY(ovl_buf_alloc(&wire, total, total));
    OVL_TRY(ovl_okvs_write(&o, &wire));
    body = malloc(4 + OVL_MPSI_CHUNK);
    OVL_ENSURE(body != NULL, OVL_ERR_NOMEM, "mpsi: out of memory");
    for (size_t off = 0; off < total; off += OVL_MPSI_CHUNK) {
        size_t c = total - off < OVL_MPSI_CHUNK ? total - off : OVL_MPSI_CHUNK;
        wr32(body, off);
        memcpy(body + 4, wire.data + off, c);
        OVL_TRY(send_sealed(m, r, OVL_MPSI_TABLE, body, 4 + c));
    }
done:
    if (vals)
        sodium_memzero(vals, (n ? n * W : 1) * sizeof *vals);
    free(vals);
    free(body);
    ovl_okvs_free(&o);
    ovl_buf_free(&wire);
    return rc;
}

/* XOR of every expected table decoded at our keys (§5.3). */
static ovl_err decode_tables(ovl_mpsi *m, const ovl_block *keys, uint64_t *acc, unsigned skip)
{
    ovl_err rc = OVL_OK;
    size_t n = m->cfg.nids;
    uint64_t *tmp = malloc((n ? n : 1) * W * sizeof *tmp);
    OVL_ENSURE(tmp != NULL, OVL_ERR_NOMEM, "mpsi: out of memory");
    memset(acc, 0, n * W * sizeof *acc);
    for (unsigned j = 0; j < m->k; j++) {
        if (j == m->self || j == skip)
            continue;
        /* decoded where it arrived: a native copy of each table would cost its size again */
        ovl_okvs_view v;
        if (ovl_okvs_view_init(&v, m->tbl[j], ovl_okvs_wire_len(m->size[j], W), m->size[j], W) !=
            OVL_OK) {
            rc = ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: %s sent a malformed table", who(m, j));
            goto done;
        }
        OVL_TRY(ovl_okvs_view_decode(&v, tmp, keys, n));
        for (size_t i = 0; i < n * W; i++)
            acc[i] ^= tmp[i];
    }
done:
    free(tmp);
    return rc;
}

static ovl_err ca_send_blind(ovl_mpsi *m, unsigned to, const uint64_t *vals);
static ovl_err try_finish(ovl_mpsi *m);

static int block_cmp(const void *a, const void *b) { return memcmp(a, b, sizeof(ovl_block)); }

/* Our identifiers are distinct, so equal F values mean a member on our
 * chain's route sent elements twice (§8). */
static ovl_err check_distinct(const ovl_mpsi *m, const ovl_block *keys, size_t n)
{
    ovl_block *c = malloc((n ? n : 1) * sizeof *c);
    if (c == NULL)
        return ovl_err_set(OVL_ERR_NOMEM, "mpsi: out of memory");
    memcpy(c, keys, n * sizeof *c);
    qsort(c, n, sizeof *c, block_cmp);
    bool dup = false;
    for (size_t i = 1; i < n && !dup; i++)
        dup = memcmp(&c[i - 1], &c[i], sizeof *c) == 0;
    free(c);
    if (dup)
        return ovl_err_set(OVL_ERR_PROTOCOL,
                           "mpsi: our set came back from %s with repeated elements",
                           who(m, (m->self + m->k - 1) % m->k));
    return OVL_OK;
}

static ovl_err after_f(ovl_mpsi *m)
{
    ovl_err rc = OVL_OK;
    size_t n = m->cfg.nids;
    ovl_block *keys = malloc((n ? n : 1) * sizeof *keys);
    OVL_ENSURE(keys != NULL, OVL_ERR_NOMEM, "mpsi: out of memory");
    for (size_t i = 0; i < n; i++)
        okvs_key(&keys[i], m->session, m->fval + i * ELEM);
    OVL_TRY(check_distinct(m, keys, n));
    m->f_ready = true;
    if (m->cfg.mode == OVL_MODE_CARDINALITY) {
        if (m->self >= 2)
            OVL_TRY(send_table(m, 0, keys));
        if (m->self == 1) {
            OVL_ENSURE((m->share = calloc(n ? n * W : 1, sizeof *m->share)) != NULL,
                       OVL_ERR_NOMEM, "mpsi: out of memory");
            for (size_t i = 0; i < n; i++)
                zero_share(m, m->share + i * W, 0, m->fval + i * ELEM);
            OVL_TRY(ca_send_blind(m, 0, m->share));
        }
    } else {
        for (unsigned r = 0; r < m->k; r++)
            if (r != m->self && is_receiver(m, r))
                OVL_TRY(send_table(m, r, keys));
    }
    free(m->fval);
    m->fval = (uint8_t *)keys;
    keys = NULL;
    OVL_TRY(try_finish(m));
done:
    free(keys);
    return rc;
}

static ovl_err recv_table(ovl_mpsi *m, unsigned from, const uint8_t *p, size_t len)
{
    bool wanted = m->cfg.mode == OVL_MODE_CARDINALITY ? m->self == 0 && from >= 2
                                                       : is_receiver(m, m->self);
    if (!wanted)
        return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: %s sent a TABLE to a member that receives none",
                           who(m, from));
    size_t total = ovl_okvs_wire_len(m->size[from], W);
    if (len < 4 || len - 4 > OVL_MPSI_CHUNK)
        return ovl_err_set(OVL_ERR_MALFORMED, "mpsi: %s sent a TABLE frame of %zu bytes",
                           who(m, from), len);
    uint32_t off = rd32(p);
    if (off != m->tbl_got[from] || len - 4 > total - m->tbl_got[from])
        return ovl_err_set(OVL_ERR_PROTOCOL,
                           "mpsi: %s sent table bytes %u..%zu of %zu (announced set %llu)",
                           who(m, from), off, off + len - 4, total,
                           (unsigned long long)m->size[from]);
    if (m->tbl[from] == NULL && (m->tbl[from] = malloc(total ? total : 1)) == NULL)
        return ovl_err_set(OVL_ERR_NOMEM, "mpsi: out of memory");
    memcpy(m->tbl[from] + off, p + 4, len - 4);
    m->tbl_got[from] += len - 4;
    if (m->tbl_got[from] == total)
        m->tables_in++;
    return try_finish(m);
}

/* ---- cardinality: PSI-CA between R = 0 and C = 1 (§5.4) ---- */

static void ca_tag(uint8_t out[OVL_MPSI_TAG], const uint8_t session[32], const uint8_t d[ELEM])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, session, 32, OVL_MPSI_TAG);
    crypto_generichash_update(&st, (const uint8_t *)"mpsi ca", 7);
    crypto_generichash_update(&st, d, ELEM);
    crypto_generichash_final(&st, out, OVL_MPSI_TAG);
}

static int tag_cmp(const void *a, const void *b) { return memcmp(a, b, OVL_MPSI_TAG); }

static ovl_err ca_send_blind(ovl_mpsi *m, unsigned to, const uint64_t *vals)
{
    ovl_err rc = OVL_OK;
    size_t n = m->cfg.nids;
    uint8_t h[ELEM], *body = malloc(4 + OVL_MPSI_BATCH * ELEM);
    OVL_ENSURE(body != NULL, OVL_ERR_NOMEM, "mpsi: out of memory");
    for (size_t off = 0; off < n; off += OVL_MPSI_BATCH) {
        size_t c = n - off < OVL_MPSI_BATCH ? n - off : OVL_MPSI_BATCH;
        wr32(body, c);
        for (size_t i = 0; i < c; i++) {
            OVL_TRY(m->g->hash_to_group(h, (const uint8_t *)(vals + (off + i) * W), W * 8,
                                        (const uint8_t *)DST_CA, sizeof DST_CA - 1));
            OVL_TRY(m->g->scalar_mult(body + 4 + i * ELEM, m->ca_key, h));
        }
        OVL_TRY(send_sealed(m, to, OVL_MPSI_BLIND, body, 4 + c * ELEM));
    }
done:
    free(body);
    return rc;
}

static ovl_err ca_send_tags(ovl_mpsi *m)
{
    ovl_err rc = OVL_OK;
    uint64_t n = m->size[0];
    uint8_t *body = malloc(4 + OVL_MPSI_BATCH * OVL_MPSI_TAG);
    OVL_ENSURE(body != NULL, OVL_ERR_NOMEM, "mpsi: out of memory");
    /* Sorted, so R cannot tell which of its elements the tags answer. */
    qsort(m->ca_tagbuf, n, OVL_MPSI_TAG, tag_cmp);
    for (uint64_t off = 0; off < n; off += OVL_MPSI_BATCH) {
        size_t c = n - off < OVL_MPSI_BATCH ? (size_t)(n - off) : OVL_MPSI_BATCH;
        wr32(body, c);
        memcpy(body + 4, m->ca_tagbuf + off * OVL_MPSI_TAG, c * OVL_MPSI_TAG);
        OVL_TRY(send_sealed(m, 0, OVL_MPSI_TAGS, body, 4 + c * OVL_MPSI_TAG));
    }
done:
    free(body);
    return rc;
}

static ovl_err recv_blind(ovl_mpsi *m, unsigned from, const uint8_t *p, size_t len)
{
    ovl_err rc = OVL_OK;
    uint8_t d[ELEM];
    OVL_ENSURE(m->cfg.mode == OVL_MODE_CARDINALITY &&
                   ((m->self == 0 && from == 1) || (m->self == 1 && from == 0)),
               OVL_ERR_PROTOCOL, "mpsi: %s sent BLIND out of turn", who(m, from));
    OVL_ENSURE(len >= 4, OVL_ERR_MALFORMED, "mpsi: %s sent a short BLIND", who(m, from));
    uint32_t n = rd32(p);
    OVL_ENSURE(n >= 1 && n <= OVL_MPSI_BATCH && len == 4 + (size_t)n * ELEM, OVL_ERR_MALFORMED,
               "mpsi: %s sent a BLIND of %u elements in %zu bytes", who(m, from), n, len);
    OVL_ENSURE(n <= m->size[from] - m->ca_elems, OVL_ERR_PROTOCOL,
               "mpsi: %s sent more BLIND elements than its %llu", who(m, from),
               (unsigned long long)m->size[from]);
    uint8_t *dst = m->self == 0 ? m->ca_mine : m->ca_tagbuf;
    for (uint32_t i = 0; i < n; i++) {
        OVL_ENSURE(m->g->scalar_mult(d, m->ca_key, p + 4 + (size_t)i * ELEM) == OVL_OK,
                   OVL_ERR_PROTOCOL, "mpsi: %s sent an invalid group element", who(m, from));
        ca_tag(dst + (m->ca_elems + i) * OVL_MPSI_TAG, m->session, d);
    }
    m->ca_elems += n;
    if (m->self == 1 && m->ca_elems == m->size[0])
        OVL_TRY(ca_send_tags(m));
    OVL_TRY(try_finish(m));
done:
    return rc;
}

static ovl_err recv_tags(ovl_mpsi *m, unsigned from, const uint8_t *p, size_t len)
{
    if (m->cfg.mode != OVL_MODE_CARDINALITY || m->self != 0 || from != 1)
        return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: %s sent TAGS out of turn", who(m, from));
    if (len < 4)
        return ovl_err_set(OVL_ERR_MALFORMED, "mpsi: %s sent short TAGS", who(m, from));
    uint32_t n = rd32(p);
    if (n < 1 || n > OVL_MPSI_BATCH || len != 4 + (size_t)n * OVL_MPSI_TAG)
        return ovl_err_set(OVL_ERR_MALFORMED, "mpsi: %s sent TAGS of %u in %zu bytes",
                           who(m, from), n, len);
    if (n > m->cfg.nids - m->ca_tags)
        return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: %s sent more tags than our %zu elements",
                           who(m, from), m->cfg.nids);
    memcpy(m->ca_tagbuf + m->ca_tags * OVL_MPSI_TAG, p + 4, (size_t)n * OVL_MPSI_TAG);
    m->ca_tags += n;
    return try_finish(m);
}

static ovl_err recv_count(ovl_mpsi *m, unsigned from, const uint8_t *p, size_t len)
{
    if (m->cfg.mode != OVL_MODE_CARDINALITY || m->self == 0 || from != 0 || m->result)
        return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: %s sent COUNT out of turn", who(m, from));
    if (len != 8)
        return ovl_err_set(OVL_ERR_MALFORMED, "mpsi: %s sent a COUNT of %zu bytes", who(m, from),
                           len);
    uint64_t c = 0;
    for (int i = 0; i < 8; i++)
        c = c << 8 | p[i];
    if (c > m->cfg.nids || c > m->size[0])
        return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: %s announced a count of %llu, over a set size",
                           who(m, from), (unsigned long long)c);
    m->count = c;
    m->result = true;
    return OVL_OK;
}

/* R's side once everything is in: count, then tell every member (§5.4). */
static ovl_err ca_count(ovl_mpsi *m)
{
    ovl_err rc = OVL_OK;
    uint8_t b[8];
    qsort(m->ca_mine, m->size[1], OVL_MPSI_TAG, tag_cmp);
    m->count = 0;
    for (uint64_t i = 0; i < m->ca_tags; i++)
        if (bsearch(m->ca_tagbuf + i * OVL_MPSI_TAG, m->ca_mine, m->size[1], OVL_MPSI_TAG,
                    tag_cmp) != NULL)
            m->count++;
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(m->count >> (56 - 8 * i));
    for (unsigned j = 1; j < m->k; j++)
        OVL_TRY(send_sealed(m, j, OVL_MPSI_COUNT, b, 8));
    m->result = true;
done:
    return rc;
}

static bool tables_complete(const ovl_mpsi *m)
{
    unsigned want = m->cfg.mode == OVL_MODE_CARDINALITY ? m->k - 2 : m->k - 1;
    return m->tables_in == want;
}

static ovl_err try_finish(ovl_mpsi *m)
{
    ovl_err rc = OVL_OK;
    size_t n = m->cfg.nids;
    uint64_t *acc = NULL;
    if (!m->f_ready || m->result)
        return OVL_OK;
    bool card = m->cfg.mode == OVL_MODE_CARDINALITY;
    if (card && m->self == 0) {
        if (!tables_complete(m))
            return OVL_OK;
        if (m->share == NULL) {
            OVL_ENSURE((acc = calloc(n ? n * W : 1, sizeof *acc)) != NULL, OVL_ERR_NOMEM,
                       "mpsi: out of memory");
            OVL_TRY(decode_tables(m, (const ovl_block *)m->fval, acc, 1));
            m->share = acc;
            acc = NULL;
            OVL_TRY(ca_send_blind(m, 1, m->share));
        }
        if (m->ca_elems == m->size[1] && m->ca_tags == n)
            OVL_TRY(ca_count(m));
    } else if (!card && is_receiver(m, m->self) && tables_complete(m)) {
        OVL_ENSURE((acc = calloc(n ? n * W : 1, sizeof *acc)) != NULL, OVL_ERR_NOMEM,
                   "mpsi: out of memory");
        OVL_TRY(decode_tables(m, (const ovl_block *)m->fval, acc, m->k));
        m->count = 0;
        for (size_t i = 0; i < n; i++) {
            bool hit = (acc[i * W] | acc[i * W + 1]) == 0;
            m->matched[m->perm[i]] = hit;
            m->count += hit;
        }
        m->result = true;
    } else if (!card && !is_receiver(m, m->self)) {
        m->result = true; /* nothing to learn; the tables left in after_f */
    }
done:
    if (acc)
        sodium_memzero(acc, (n ? n * W : 1) * sizeof *acc);
    free(acc);
    return rc;
}

/* ---- entry points ---- */

static ovl_err fail(ovl_mpsi *m, ovl_err rc)
{
    if (rc != OVL_OK && !m->failed) {
        m->failed = true;
        m->failure = rc;
    }
    return rc;
}

static ovl_err dispatch(ovl_mpsi *m, unsigned from, uint8_t type, const uint8_t *p, size_t len)
{
    ovl_err rc = OVL_OK;
    uint8_t nonce[12], ad[3] = {type, (uint8_t)from, (uint8_t)m->self};
    uint8_t *body = NULL;
    if (type == OVL_FRAME_ABORT)
        return ovl_frame_abort_decode(p, len);
    OVL_ENSURE(type >= OVL_MPSI_CHAIN && type <= OVL_MPSI_COUNT, OVL_ERR_PROTOCOL,
               "mpsi: %s sent frame type 0x%02x", who(m, from), type);
    OVL_ENSURE(len >= SEAL_TAG, OVL_ERR_MALFORMED, "mpsi: %s sent a frame too short to be sealed",
               who(m, from));
    body = malloc(len - SEAL_TAG + 1);
    OVL_ENSURE(body != NULL, OVL_ERR_NOMEM, "mpsi: out of memory");
    nonce_of(nonce, m->rx_seq[from]++);
    OVL_ENSURE(crypto_aead_chacha20poly1305_ietf_decrypt(body, NULL, NULL, p, len, ad, sizeof ad,
                                                         nonce, m->rx[from]) == 0,
               OVL_ERR_AUTH, "mpsi: a frame from %s failed authentication (altered, replayed or "
               "reordered on the way)", who(m, from));
    size_t n = len - SEAL_TAG;
    switch (type) {
    case OVL_MPSI_CHAIN: rc = recv_chain(m, from, body, n); break;
    case OVL_MPSI_TABLE: rc = recv_table(m, from, body, n); break;
    case OVL_MPSI_BLIND: rc = recv_blind(m, from, body, n); break;
    case OVL_MPSI_TAGS: rc = recv_tags(m, from, body, n); break;
    default: rc = recv_count(m, from, body, n); break;
    }
done:
    free(body);
    return rc;
}

static ovl_err all_keys_in(ovl_mpsi *m)
{
    ovl_err rc = OVL_OK;
    if (m->cfg.nids == 0)
        OVL_TRY(after_f(m));
    else
        OVL_TRY(start_chain(m));
    for (size_t i = 0; i < m->nheld; i++) {
        pending *h = &m->held[i];
        OVL_TRY(dispatch(m, h->from, h->type, h->payload, h->len));
    }
done:
    for (size_t i = 0; i < m->nheld; i++)
        free(m->held[i].payload);
    free(m->held);
    m->held = NULL;
    m->nheld = 0;
    return rc;
}

static ovl_err hold(ovl_mpsi *m, unsigned from, uint8_t type, const uint8_t *p, size_t len)
{
    pending *n = realloc(m->held, (m->nheld + 1) * sizeof *n);
    if (n == NULL)
        return ovl_err_set(OVL_ERR_NOMEM, "mpsi: out of memory");
    m->held = n;
    uint8_t *c = malloc(len ? len : 1);
    if (c == NULL)
        return ovl_err_set(OVL_ERR_NOMEM, "mpsi: out of memory");
    memcpy(c, p, len);
    m->held[m->nheld++] = (pending){from, type, c, len};
    return OVL_OK;
}

ovl_err ovl_mpsi_feed(ovl_mpsi *m, unsigned from, uint8_t type, const uint8_t *payload, size_t len)
{
    if (m->failed)
        return m->failure;
    if (from >= m->k || from == m->self)
        return fail(m, ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: a frame from member %u of %u", from,
                                   m->k));
    ovl_err rc;
    if (type == OVL_MPSI_KEY) {
        rc = recv_key(m, from, payload, len);
        if (rc == OVL_OK && m->nkeys == m->k - 1)
            rc = all_keys_in(m);
    } else if (type != OVL_FRAME_ABORT && !m->have_key[from]) {
        rc = ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: %s sent frame 0x%02x before its KEY",
                         who(m, from), type);
    } else if (type != OVL_FRAME_ABORT && m->nkeys < m->k - 1) {
        rc = hold(m, from, type, payload, len);
    } else {
        rc = dispatch(m, from, type, payload, len);
    }
    return fail(m, rc);
}

ovl_err ovl_mpsi_pull(ovl_mpsi *m, ovl_buf *out, unsigned *to, bool *have)
{
    *have = false;
    if (m->failed)
        return m->failure;
    if (m->outpos == m->nout)
        return OVL_OK;
    outmsg *o = &m->out[m->outpos];
    ovl_err rc = ovl_buf_put_bytes(out, o->frame.data, o->frame.wpos);
    if (rc != OVL_OK)
        return fail(m, rc);
    *to = o->to;
    *have = true;
    ovl_buf_free(&o->frame);
    m->outpos++;
    if (m->outpos == m->nout)
        m->outpos = m->nout = 0;
    return OVL_OK;
}

bool ovl_mpsi_done(const ovl_mpsi *m)
{
    if (m->failed || m->outpos != m->nout || !m->f_ready || !m->result)
        return false;
    for (unsigned o = 0; o < m->k; o++)
        if (o != m->self && m->relayed[o] != m->size[o])
            return false;
    if (m->cfg.mode == OVL_MODE_CARDINALITY && m->self == 1 && m->ca_elems != m->size[0])
        return false;
    return true;
}

static ovl_err check_config(const ovl_mpsi_config *c)
{
    if (c->members < OVL_MPSI_MIN_MEMBERS || c->members > OVL_MPSI_MAX_MEMBERS)
        return ovl_err_set(OVL_ERR_USAGE, "mpsi: %u members (3 to 10 take part in a run)",
                           c->members);
    if (c->self >= c->members)
        return ovl_err_set(OVL_ERR_USAGE, "mpsi: member index %u of %u", c->self, c->members);
    if (c->mode != OVL_MODE_INTERSECTION && c->mode != OVL_MODE_CARDINALITY)
        return ovl_err_set(OVL_ERR_USAGE, "mpsi: runs intersection or cardinality only");
    if (c->reveal != OVL_REVEAL_BOTH && c->reveal != OVL_REVEAL_LISTENER)
        return ovl_err_set(OVL_ERR_USAGE, "mpsi: --reveal all or listener");
    if (c->group == NULL || c->group->id != OVL_SUITE_RISTRETTO255_SHA512 || c->set_sizes == NULL ||
        c->member_pk == NULL || (c->sign_sk == NULL && c->sign == NULL) || c->session == NULL ||
        (c->nids && c->ids == NULL))
        return ovl_err_set(OVL_ERR_USAGE, "mpsi: incomplete configuration");
    for (unsigned i = 0; i < c->members; i++)
        if (c->set_sizes[i] > OVL_MPSI_MAX_SET)
            return ovl_err_set(OVL_ERR_LIMIT, "mpsi: member %u announced %llu identifiers, over "
                               "the cap of %u", i, (unsigned long long)c->set_sizes[i],
                               OVL_MPSI_MAX_SET);
    if (c->set_sizes[c->self] != c->nids)
        return ovl_err_set(OVL_ERR_USAGE, "mpsi: our announced size differs from our set");
    return OVL_OK;
}

static ovl_err alloc_state(ovl_mpsi *m)
{
    size_t n = m->cfg.nids ? m->cfg.nids : 1;
    m->perm = malloc(n * sizeof *m->perm);
    m->fval = malloc(n * ELEM);
    m->matched = calloc(n, sizeof *m->matched);
    if (!m->perm || !m->fval || !m->matched)
        return ovl_err_set(OVL_ERR_NOMEM, "mpsi: out of memory");
    if (m->cfg.mode == OVL_MODE_CARDINALITY && m->self <= 1) {
        size_t theirs = m->size[m->self == 0 ? 1 : 0];
        m->ca_mine = malloc((m->self == 0 ? (theirs ? theirs : 1) : 1) * OVL_MPSI_TAG);
        m->ca_tagbuf = malloc((m->self == 0 ? n : (theirs ? theirs : 1)) * OVL_MPSI_TAG);
        if (!m->ca_mine || !m->ca_tagbuf)
            return ovl_err_set(OVL_ERR_NOMEM, "mpsi: out of memory");
    }
    return OVL_OK;
}

ovl_err ovl_mpsi_new(ovl_mpsi **out, const ovl_mpsi_config *cfg)
{
    ovl_err rc = OVL_OK;
    uint8_t seed[32];
    *out = NULL;
    OVL_TRY(check_config(cfg));
    ovl_mpsi *m = calloc(1, sizeof *m);
    OVL_ENSURE(m != NULL, OVL_ERR_NOMEM, "mpsi: out of memory");
    m->cfg = *cfg;
    m->k = cfg->members;
    m->self = cfg->self;
    m->g = cfg->group;
    memcpy(m->session, cfg->session, 32);
    for (unsigned i = 0; i < m->k; i++) {
        m->size[i] = cfg->set_sizes[i];
        memcpy(m->member_pk[i], cfg->member_pk[i], 32);
    }
    m->seeded = cfg->test_seed != NULL;
    if (m->seeded) {
        /* one stream per member, so that seeded members differ */
        memcpy(seed, cfg->test_seed, 32);
        seed[0] ^= (uint8_t)m->self;
        ovl_rng_init_seeded(&m->rng, seed, "overlap mpsi test");
    } else {
        ovl_rng_init_system(&m->rng);
    }
    *out = m;
    OVL_TRY(alloc_state(m));
    for (size_t i = 0; i < cfg->nids; i++)
        m->perm[i] = (uint32_t)i;
    ovl_rng_shuffle_u32(&m->rng, m->perm, cfg->nids);
    OVL_TRY(ovl_engine_scalar(m->g, m->key, &m->rng, m->seeded));
    OVL_TRY(ovl_engine_scalar(m->g, m->ca_key, &m->rng, m->seeded));
    ovl_rng_bytes(&m->rng, m->eph_sk, 32);
    crypto_scalarmult_base(m->eph_pk, m->eph_sk);
    OVL_TRY(send_keys(m));
done:
    sodium_memzero(seed, sizeof seed);
    if (rc != OVL_OK && *out) {
        ovl_mpsi_free(*out);
        *out = NULL;
    }
    return rc;
}

void ovl_mpsi_free(ovl_mpsi *m)
{
    if (m == NULL)
        return;
    for (size_t i = m->outpos; i < m->nout; i++)
        ovl_buf_free(&m->out[i].frame);
    free(m->out);
    for (size_t i = 0; i < m->nheld; i++)
        free(m->held[i].payload);
    free(m->held);
    for (unsigned j = 0; j < OVL_MPSI_MAX_MEMBERS; j++)
        free(m->tbl[j]);
    if (m->share)
        sodium_memzero(m->share, (m->cfg.nids ? m->cfg.nids * W : 1) * sizeof *m->share);
    free(m->share);
    free(m->perm);
    free(m->fval);
    free(m->matched);
    free(m->ca_mine);
    free(m->ca_tagbuf);
    ovl_rng_wipe(&m->rng);
    sodium_memzero(m, sizeof *m);
    free(m);
}

bool ovl_mpsi_receives(const ovl_mpsi *m)
{
    return m->cfg.mode == OVL_MODE_CARDINALITY || is_receiver(m, m->self);
}

ovl_err ovl_mpsi_result(const ovl_mpsi *m, const bool **matched, uint64_t *count)
{
    if (!ovl_mpsi_done(m))
        return ovl_err_set(OVL_ERR_INTERNAL, "mpsi: result asked before the run ended");
    *matched = m->cfg.mode == OVL_MODE_INTERSECTION && is_receiver(m, m->self) ? m->matched : NULL;
    *count = m->count;
    return OVL_OK;
}

uint64_t ovl_mpsi_bytes_sent(const ovl_mpsi *m) { return m->bytes_sent; }
