/* The aggregate engine: SPEC.md §5 (computation) and §6 (state machine). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "aggregate/aggregate.h"
#include "core/guard.h"
#include "core/mem.h"
#include "crypto/rng.h"
#include "crypto/share.h"
#include "core/sort.h"
#include "psi/psi.h"

#define PENDING_MAX 8u
#define ELEM_BATCH 4096u
#define VALUES_BATCH 64u
#define CT_BATCH 64u
#define SUM_CHUNK 2048u
#define DUMMY UINT32_MAX
#define TAG_LABEL "overlap-v1 aggregate tag"
#define PARAMS_MAGIC "AGG1"
#define DEFAULT_MAX_PEER_SET (1ull << 26)
#define SUM_BOUND ((uint64_t)1 << 62) /* SPEC.md §5.4 */

enum { J_BLIND = 1, J_ENCRYPT, J_PEER_ELEMS, J_PEER_VALUES, J_SUM, J_MASK, J_DECRYPT };
enum { AGG_RUNNER = 0, AGG_CONTRIBUTOR = 1 };

typedef struct agg_job {
    ovl_job base;
    const struct ovl_agg *a;
    int kind;
    size_t seq, start, count;
    uint8_t *in;     /* received entries (peer jobs) */
    ovl_buf frame;   /* the frame this job produces, header included */
    uint8_t *shares; /* J_MASK: the runner's shares, count * share_len */
    mpz_t acc;       /* J_SUM: partial product */
    bool acc_init;
} agg_job;

/* Jobs whose frames must leave in sequence order. */
typedef struct {
    agg_job **slot;
    size_t njobs, made, sent;
} ostream;

/* One party's analysis statement (SPEC.md §4.1). */
typedef struct {
    uint8_t role;
    char domain[OVL_AGG_DOMAIN_MAX + 1];
    uint64_t min_rows;
    uint16_t bits;
    uint8_t group_by, nvalues;
    ovl_value_col values[OVL_VALUE_COLS_MAX];
    const uint8_t *agreement; /* points into the peer's HELLO payload */
    uint32_t agreement_len;
} agg_params;

typedef enum { ST_SETUP, ST_RUN, ST_DONE, ST_FAILED } agg_state;

struct ovl_agg {
    ovl_agg_config cfg;
    const ovl_group *g;
    uint8_t scalar[OVL_GROUP_MAX_SCALAR];
    uint8_t secret_key[32]; /* dummies; test-mode randomness */
    ovl_rng rng;
    char dst[96], dst_dummy[96];
    agg_state state;
    ovl_err failure;
    bool hello_sent;
    ovl_buf hello_frame;
    uint8_t transcript[OVL_TRANSCRIPT_LEN];
    crypto_hash_sha512_state tag_base;
    size_t ell;
    uint64_t threshold;
    agg_params peer;
    const ovl_value_col *values; /* the analysis' value columns */
    size_t nvalues;

    ovl_paillier_sk *sk_owned;
    const ovl_paillier_sk *sk;
    ovl_paillier_pk *peer_pk;
    const ovl_paillier_pk *pk;
    size_t ct_len, share_len;
    ovl_paillier_packing pack;
    unsigned bits;

    /* Layout: P partitions, sizes and offsets, N elements in total. */
    size_t P;
    uint32_t *psize;
    size_t *poff;
    uint64_t N, m; /* runner's padded total, contributor's set size */

    ostream own;   /* runner: ELEMENTS; contributor: VALUES */
    ostream reply; /* runner: SUMS; contributor: SHARES */
    agg_job *pend_head, *pend_tail;
    size_t npending, running;
    bool prefer_pending;
    uint64_t own_done;

    /* runner */
    uint32_t *order;    /* position -> caller's group */
    uint32_t *pos_of;   /* caller's group -> position */
    uint32_t *slot_src; /* N: membership index or DUMMY */
    bool layout_sent, key_recv, matched_built, mask_ready;
    uint8_t *rtags;     /* N * ell, as received */
    uint64_t rtags_recv;
    uint8_t *ctags, *cts; /* m * ell, m * ct_len */
    uint64_t values_recv, values_done;
    uint64_t *matched;  /* per position */
    uint32_t *match, *match_off; /* contributor indices per position */
    mpz_t *acc;
    bool *acc_set;
    size_t sum_left;
    mpz_t *my_share, *peer_share;
    uint64_t sums_sent, shares_recv;
    int64_t *results; /* per caller's group: 1 + nvalues */
    bool *released;
    size_t nreleased;

    /* contributor */
    uint32_t *perm;
    bool key_sent, layout_recv;
    uint8_t *ptags; /* N records of dlen bytes; the tag is the first ell */
    size_t dlen;
    uint64_t peer_recv, peer_done;
    size_t p_send, p_sent_in;
    bool p_sorted, p_checked;
    uint64_t sums_recv, shares_sent;

    bool finish_sent, finish_recv;
};

static ovl_err fail(ovl_agg *a, ovl_err e)
{
    if (a->state != ST_FAILED) {
        a->state = ST_FAILED;
        a->failure = e;
    }
    return a->failure;
}

static bool is_runner(const ovl_agg *a) { return !a->cfg.contributor; }

/* ---- parameters (SPEC.md §4.1) ---- */

ovl_err ovl_agg_params_encode(ovl_buf *out, const ovl_agg_config *cfg)
{
    ovl_err rc = OVL_OK;
    size_t dlen = strlen(cfg->domain);
    OVL_ENSURE(dlen >= 1 && dlen <= OVL_AGG_DOMAIN_MAX, OVL_ERR_USAGE, "bad identifier domain");
    OVL_TRY(ovl_buf_put_bytes(out, PARAMS_MAGIC, 4));
    OVL_TRY(ovl_buf_put_u8(out, cfg->contributor ? AGG_CONTRIBUTOR : AGG_RUNNER));
    OVL_TRY(ovl_buf_put_u8(out, (uint8_t)dlen));
    OVL_TRY(ovl_buf_put_bytes(out, cfg->domain, dlen));
    OVL_TRY(ovl_buf_put_u64(out, cfg->min_rows));
    OVL_TRY(ovl_buf_put_u16(out, (uint16_t)cfg->paillier_bits));
    OVL_TRY(ovl_buf_put_u8(out, cfg->contributor ? 0 : (uint8_t)cfg->group_by_cols));
    OVL_TRY(ovl_buf_put_u8(out, cfg->contributor ? (uint8_t)cfg->nvalues : 0));
    for (size_t i = 0; cfg->contributor && i < cfg->nvalues; i++) {
        size_t nlen = strlen(cfg->values[i].name);
        OVL_TRY(ovl_buf_put_u8(out, (uint8_t)cfg->values[i].decimals));
        OVL_TRY(ovl_buf_put_u8(out, (uint8_t)nlen));
        OVL_TRY(ovl_buf_put_bytes(out, cfg->values[i].name, nlen));
    }
    /* A negotiated analysis (protocols/setup/SPEC.md §3), identical on both sides. */
    OVL_ENSURE(cfg->agreement_len <= OVL_AGG_AGREEMENT_MAX, OVL_ERR_LIMIT, "agreement too long");
    OVL_TRY(ovl_buf_put_u32(out, (uint32_t)cfg->agreement_len));
    OVL_TRY(ovl_buf_put_bytes(out, cfg->agreement, cfg->agreement_len));
done:
    return rc;
}

static void params_clear(agg_params *p)
{
    for (size_t i = 0; i < OVL_VALUE_COLS_MAX; i++)
        free(p->values[i].name);
    memset(p, 0, sizeof *p);
}

static ovl_err params_parse(agg_params *p, const uint8_t *data, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf r;
    uint8_t magic[4], dlen, nlen;
    params_clear(p);
    ovl_buf_reader(&r, data, len);
    OVL_TRY(ovl_buf_get_bytes(&r, magic, 4));
    OVL_ENSURE(memcmp(magic, PARAMS_MAGIC, 4) == 0, OVL_ERR_POLICY,
               "the peer does not run an aggregate analysis (its --mode parameters differ)");
    OVL_TRY(ovl_buf_get_u8(&r, &p->role));
    OVL_TRY(ovl_buf_get_u8(&r, &dlen));
    OVL_TRY(ovl_buf_get_bytes(&r, p->domain, dlen));
    OVL_TRY(ovl_buf_get_u64(&r, &p->min_rows));
    OVL_TRY(ovl_buf_get_u16(&r, &p->bits));
    OVL_TRY(ovl_buf_get_u8(&r, &p->group_by));
    OVL_TRY(ovl_buf_get_u8(&r, &p->nvalues));
    OVL_ENSURE(p->nvalues <= OVL_VALUE_COLS_MAX && p->group_by <= OVL_GROUP_BY_MAX,
               OVL_ERR_PROTOCOL, "the peer states %u value and %u group-by columns (caps %u, %u)",
               p->nvalues, p->group_by, OVL_VALUE_COLS_MAX, OVL_GROUP_BY_MAX);
    for (size_t i = 0; i < p->nvalues; i++) {
        uint8_t dec;
        OVL_TRY(ovl_buf_get_u8(&r, &dec));
        OVL_TRY(ovl_buf_get_u8(&r, &nlen));
        OVL_ENSURE(dec <= OVL_DECIMALS_MAX && nlen >= 1, OVL_ERR_PROTOCOL,
                   "the peer states a malformed value column");
        p->values[i].decimals = dec;
        OVL_TRY(ovl_calloc((void **)&p->values[i].name, (size_t)nlen + 1, 1));
        OVL_TRY(ovl_buf_get_bytes(&r, p->values[i].name, nlen));
        OVL_ENSURE(memchr(p->values[i].name, '\0', nlen) == NULL, OVL_ERR_PROTOCOL,
                   "the peer states a value column name with a NUL byte");
    }
    OVL_TRY(ovl_buf_get_u32(&r, &p->agreement_len));
    OVL_ENSURE(p->agreement_len <= OVL_AGG_AGREEMENT_MAX, OVL_ERR_PROTOCOL,
               "the peer's agreement of %u bytes exceeds the cap", p->agreement_len);
    OVL_TRY(ovl_buf_get_ptr(&r, p->agreement_len, &p->agreement));
    OVL_TRY(ovl_buf_expect_end(&r));
done:
    if (rc == OVL_ERR_MALFORMED)
        rc = ovl_err_set(OVL_ERR_PROTOCOL, "malformed aggregate parameters in the peer's HELLO");
    return rc;
}

/* SPEC.md §4.1: the checks that stop incompatible analyses at setup. */
static ovl_err params_check(ovl_agg *a, const agg_params *peer)
{
    ovl_err rc = OVL_OK;
    bool contributor = a->cfg.contributor;
    OVL_ENSURE(peer->role <= AGG_CONTRIBUTOR, OVL_ERR_PROTOCOL, "the peer states an unknown role");
    OVL_ENSURE(peer->role != (contributor ? AGG_CONTRIBUTOR : AGG_RUNNER), OVL_ERR_POLICY,
               contributor ? "both parties give --values: exactly one party (the contributor) "
                             "holds value columns"
                           : "neither party gives --values: the contributor must name its value "
                             "columns with --values");
    /* Both parties may print these (one of them from the other's ABORT):
     * they name the roles, not "the peer" and "this party". */
    const char *run_dom = contributor ? peer->domain : a->cfg.domain;
    const char *con_dom = contributor ? a->cfg.domain : peer->domain;
    OVL_ENSURE(strcmp(peer->domain, a->cfg.domain) == 0, OVL_ERR_POLICY,
               "identifier mismatch: the runner uses '%s', the contributor '%s' (check "
               "--normalize)", run_dom, con_dom);
    OVL_ENSURE(peer->agreement_len == a->cfg.agreement_len &&
                   (peer->agreement_len == 0 ||
                    memcmp(peer->agreement, a->cfg.agreement, peer->agreement_len) == 0),
               OVL_ERR_POLICY,
               "the two parties' negotiated analyses differ (policies, template, "
               "parameters, threshold or receivers)");
    OVL_ENSURE(peer->bits == a->cfg.paillier_bits, OVL_ERR_POLICY,
               "--paillier-bits mismatch: the runner states %u, the contributor %u",
               contributor ? peer->bits : a->cfg.paillier_bits,
               contributor ? a->cfg.paillier_bits : peer->bits);
    OVL_ENSURE(peer->min_rows >= 1, OVL_ERR_PROTOCOL, "the peer states --min-rows 0");
    if (contributor)
        OVL_ENSURE(peer->nvalues == 0, OVL_ERR_PROTOCOL, "the runner states value columns");
    else
        OVL_ENSURE(peer->nvalues >= 1 && peer->group_by == 0, OVL_ERR_PROTOCOL,
                   "the contributor states no value columns or group-by columns");
    a->threshold = peer->min_rows > a->cfg.min_rows ? peer->min_rows : a->cfg.min_rows;
    if (!contributor) {
        a->values = peer->values;
        a->nvalues = peer->nvalues;
    }
done:
    return rc;
}

/* ---- randomness ---- */

/* Test mode only: reproducible bytes for item `index` of stream `label`. */
static void test_stream(const ovl_agg *a, uint8_t label, uint64_t index, uint8_t *out, size_t len)
{
    uint8_t msg[9], sub[32], nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
    msg[0] = label;
    for (int i = 0; i < 8; i++)
        msg[1 + i] = (uint8_t)(index >> (56 - 8 * i));
    crypto_generichash(sub, sizeof sub, msg, sizeof msg, a->secret_key, sizeof a->secret_key);
    crypto_stream_chacha20(out, len, nonce, sub);
    sodium_memzero(sub, sizeof sub);
}

static size_t r_bytes(const ovl_agg *a)
{
    return (a->bits == 2048u ? OVL_PAILLIER_R_BITS_2048 : OVL_PAILLIER_R_BITS_3072) / 8u;
}

/* E(m), from the system CSPRNG or, in test mode, from stream (label, index). */
static ovl_err encrypt_item(const ovl_agg *a, mpz_t ct, const mpz_t m, uint8_t label,
                            uint64_t index)
{
    uint8_t r[64];
    if (a->cfg.test_seed == NULL)
        return a->sk ? ovl_paillier_sk_encrypt(ct, a->sk, m) : ovl_paillier_encrypt(ct, a->pk, m);
    test_stream(a, label, index, r, r_bytes(a));
    ovl_err rc = ovl_paillier_encrypt_with_exponent_for_tests(ct, a->pk, m, r, r_bytes(a));
    sodium_memzero(r, sizeof r);
    return rc;
}

/* Uniform in [0, n). */
static ovl_err random_residue(const ovl_agg *a, mpz_t out, uint8_t label, uint64_t index)
{
    uint8_t buf[OVL_PAILLIER_N_MAX_BYTES + 16];
    size_t len = a->bits / 8u + 16u; /* 128 extra bits make the reduction bias negligible */
    if (a->cfg.test_seed == NULL)
        return ovl_share_random(out, ovl_paillier_pk_modulus(a->pk));
    test_stream(a, label, index, buf, len);
    mpz_import(out, len, 1, 1, 1, 0, buf);
    mpz_mod(out, out, ovl_paillier_pk_modulus(a->pk));
    sodium_memzero(buf, sizeof buf);
    return OVL_OK;
}

/* ---- creation ---- */

static ovl_err make_dst(ovl_agg *a)
{
    const char *suite = a->g->id == OVL_SUITE_RISTRETTO255_SHA512 ? "ristretto255_XMD:SHA-512_R255MAP_RO_"
                        : a->g->id == OVL_SUITE_P256_SHA256     ? "P256_XMD:SHA-256_SSWU_RO_"
                                                                : NULL;
    if (suite == NULL)
        return ovl_err_set(OVL_ERR_INTERNAL, "no aggregate DST for suite %s", a->g->name);
    snprintf(a->dst, sizeof a->dst, "OVERLAP-V1-AGG-%s", suite);
    snprintf(a->dst_dummy, sizeof a->dst_dummy, "OVERLAP-V1-AGG-DUMMY-%s", suite);
    return OVL_OK;
}

static ovl_err make_scalar(ovl_agg *a)
{
    uint8_t wide[64];
    ovl_rng_bytes(&a->rng, a->secret_key, sizeof a->secret_key);
    if (a->cfg.test_seed == NULL)
        return a->g->scalar_random(a->scalar);
    ovl_rng_bytes(&a->rng, wide, sizeof wide);
    ovl_err rc = a->g->scalar_from_bytes(a->scalar, wide);
    sodium_memzero(wide, sizeof wide);
    return rc;
}

static size_t padded(size_t k)
{
    size_t s = OVL_AGG_PAD_MIN;
    while (s < k)
        s *= 2;
    return s;
}

static ovl_err alloc_layout(ovl_agg *a, size_t P)
{
    ovl_err rc = OVL_OK;
    a->P = P;
    OVL_TRY(ovl_calloc((void **)&a->psize, P ? P : 1, sizeof *a->psize));
    OVL_TRY(ovl_calloc((void **)&a->poff, P + 1, sizeof *a->poff));
done:
    return rc;
}

/* SPEC.md §5.1: partitions in random order, each padded with dummies and
 * shuffled. */
static ovl_err runner_layout(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    size_t P = a->cfg.ngroups;
    OVL_ENSURE(P <= OVL_AGG_MAX_GROUPS, OVL_ERR_LIMIT, "%zu groups exceed the cap of %u", P,
               OVL_AGG_MAX_GROUPS);
    OVL_TRY(alloc_layout(a, P));
    OVL_TRY(ovl_calloc((void **)&a->order, P ? P : 1, sizeof *a->order));
    for (size_t i = 0; i < P; i++)
        a->order[i] = (uint32_t)i;
    ovl_rng_shuffle_u32(&a->rng, a->order, P);
    OVL_TRY(ovl_calloc((void **)&a->pos_of, P ? P : 1, sizeof *a->pos_of));
    for (size_t i = 0; i < P; i++)
        a->pos_of[a->order[i]] = (uint32_t)i;
    for (size_t p = 0; p < P; p++) {
        size_t g = a->order[p], k = a->cfg.group_start[g + 1] - a->cfg.group_start[g];
        a->psize[p] = (uint32_t)padded(k);
        a->poff[p + 1] = a->poff[p] + a->psize[p];
        OVL_ENSURE(a->poff[p + 1] <= UINT32_MAX, OVL_ERR_LIMIT, "too many group memberships");
    }
    a->N = a->poff[P];
    OVL_TRY(ovl_calloc((void **)&a->slot_src, a->N ? (size_t)a->N : 1, sizeof *a->slot_src));
    for (size_t p = 0; p < P; p++) {
        size_t g = a->order[p], first = a->cfg.group_start[g];
        size_t k = a->cfg.group_start[g + 1] - first;
        for (size_t j = 0; j < a->psize[p]; j++)
            a->slot_src[a->poff[p] + j] = j < k ? (uint32_t)(first + j) : DUMMY;
        ovl_rng_shuffle_u32(&a->rng, a->slot_src + a->poff[p], a->psize[p]);
    }
done:
    return rc;
}

/* SPEC.md §5.1: an identifier in two groups would have the same
 * double-blinded element in both partitions, so the runner would learn which
 * combination of groups each matched identifier belongs to (§7). */
static ovl_err runner_disjoint(const ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    size_t total = a->cfg.ngroups ? a->cfg.group_start[a->cfg.ngroups] : 0;
    uint8_t *ids = NULL;
    OVL_TRY(ovl_calloc((void **)&ids, total ? total : 1, 32));
    if (total > 0)
        memcpy(ids, a->cfg.memb, total * 32);
    OVL_TRY(ovl_sort_fixed(ids, total, 32));
    OVL_ENSURE(ovl_find_adjacent_dup(ids, total, 32) == SIZE_MAX, OVL_ERR_INPUT,
               "an identifier has rows in more than one group (different --group-by values): "
               "aggregate groups must be disjoint, since overlapping groups would reveal which "
               "identifiers matched; keep one group per identifier or run one analysis per group");
done:
    free(ids);
    return rc;
}

/* SPEC.md §5.4: every group sum must decode exactly. */
static ovl_err contributor_bound(const ovl_agg *a)
{
    size_t w = 1 + a->cfg.nvalues;
    for (size_t c = 0; c < a->cfg.nvalues; c++) {
        uint64_t total = 0;
        for (size_t i = 0; i < a->cfg.nids; i++) {
            int64_t v = a->cfg.vectors[i * w + 1 + c];
            uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
            if (mag >= SUM_BOUND - total)
                return ovl_err_set(OVL_ERR_LIMIT,
                                   "value column '%s': the sums over identifiers can reach 2^62 "
                                   "(in units of 10^-%u); aggregates this large cannot be "
                                   "computed exactly, refusing",
                                   a->cfg.values[c].name, a->cfg.values[c].decimals);
            total += mag;
        }
    }
    return OVL_OK;
}

static ovl_err make_packing(ovl_agg *a)
{
    uint64_t terms = a->m ? a->m : 1;
    unsigned tb = 0;
    while (tb < 64 && (terms >> tb) != 0)
        tb++;
    a->pack = (ovl_paillier_packing){
        .slot_bits = OVL_AGG_VALUE_BITS + tb,
        .slots = (unsigned)(1 + a->nvalues),
        .value_bits = OVL_AGG_VALUE_BITS,
        .max_terms = terms,
    };
    ovl_err rc = ovl_paillier_packing_check(&a->pack, a->bits);
    return rc == OVL_OK ? rc : ovl_err_wrap(rc, "aggregate packing: ");
}

static ovl_err make_hello(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    ovl_buf params = {0};
    OVL_TRY(ovl_buf_alloc(&params, 256, OVL_HELLO_PARAMS_MAX));
    OVL_TRY(ovl_agg_params_encode(&params, &a->cfg));
    ovl_hello h = {
        .version = OVL_PROTOCOL_VERSION,
        .suite = (uint16_t)a->g->id,
        .mode = OVL_MODE_AGGREGATE,
        .reveal = a->cfg.contributor == (a->cfg.role == OVL_ROLE_LISTENER) ? OVL_REVEAL_CONNECTOR
                                                                           : OVL_REVEAL_LISTENER,
        .role = (uint8_t)a->cfg.role,
        .set_size = is_runner(a) ? a->N : a->cfg.nids,
        .params = params.data,
        .params_len = (uint32_t)params.wpos,
    };
    ovl_rng_bytes(&a->rng, h.nonce, sizeof h.nonce);
    OVL_TRY(ovl_buf_alloc(&a->hello_frame, 128, OVL_FRAME_HDR + 128 + OVL_HELLO_PARAMS_MAX));
    OVL_TRY(ovl_hello_write(&a->hello_frame, &h));
done:
    ovl_buf_free(&params);
    return rc;
}

static ovl_err check_config(const ovl_agg_config *cfg)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(cfg->group != NULL && cfg->domain != NULL, OVL_ERR_USAGE, "no group or domain");
    OVL_ENSURE(cfg->min_rows >= 1, OVL_ERR_USAGE, "--min-rows must be at least 1");
    OVL_ENSURE(cfg->paillier_bits == 2048u || cfg->paillier_bits == 3072u, OVL_ERR_USAGE,
               "--paillier-bits must be 2048 or 3072");
    if (cfg->contributor) {
        OVL_ENSURE(cfg->nvalues >= 1 && cfg->nvalues <= OVL_VALUE_COLS_MAX, OVL_ERR_USAGE,
                   "the contributor needs 1..%u value columns", OVL_VALUE_COLS_MAX);
        OVL_ENSURE(cfg->nids <= UINT32_MAX, OVL_ERR_LIMIT, "too many identifiers");
        for (size_t i = 0; i < cfg->nvalues; i++)
            OVL_ENSURE(strlen(cfg->values[i].name) >= 1 &&
                           strlen(cfg->values[i].name) <= OVL_COL_NAME_MAX &&
                           cfg->values[i].decimals <= OVL_DECIMALS_MAX,
                       OVL_ERR_USAGE, "bad value column specification");
    } else {
        OVL_ENSURE(cfg->group_by_cols <= OVL_GROUP_BY_MAX, OVL_ERR_USAGE, "too many group-by columns");
        OVL_ENSURE(cfg->ngroups == 0 || cfg->group_start != NULL, OVL_ERR_USAGE, "no groups given");
    }
done:
    return rc;
}

static ovl_err contributor_setup(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(contributor_bound(a));
    if (a->cfg.test_key != NULL) {
        a->sk = a->cfg.test_key;
    } else if (a->cfg.test_seed != NULL) {
        uint8_t seed[OVL_PAILLIER_SEED_BYTES];
        ovl_rng_bytes(&a->rng, seed, sizeof seed);
        rc = ovl_paillier_keygen_from_seed_for_tests(&a->sk_owned, a->cfg.paillier_bits, seed);
        sodium_memzero(seed, sizeof seed);
        OVL_TRY(rc);
        a->sk = a->sk_owned;
    } else {
        OVL_TRY(ovl_paillier_keygen(&a->sk_owned, a->cfg.paillier_bits));
        a->sk = a->sk_owned;
    }
    a->pk = ovl_paillier_sk_public(a->sk);
    OVL_ENSURE(ovl_paillier_pk_bits(a->pk) == a->cfg.paillier_bits, OVL_ERR_USAGE,
               "the test key has the wrong size");
    a->values = a->cfg.values;
    a->nvalues = a->cfg.nvalues;
    a->m = a->cfg.nids;
    OVL_TRY(make_packing(a));
    OVL_TRY(ovl_calloc((void **)&a->perm, a->cfg.nids ? a->cfg.nids : 1, sizeof *a->perm));
    for (size_t i = 0; i < a->cfg.nids; i++)
        a->perm[i] = (uint32_t)i;
    ovl_rng_shuffle_u32(&a->rng, a->perm, a->cfg.nids);
done:
    return rc;
}

ovl_err ovl_agg_precheck(const ovl_agg_config *cfg)
{
    ovl_agg *a = NULL;
    ovl_err rc = check_config(cfg);
    if (rc == OVL_OK)
        rc = ovl_calloc((void **)&a, 1, sizeof *a);
    if (rc == OVL_OK) {
        a->cfg = *cfg;
        rc = cfg->contributor ? contributor_bound(a) : runner_disjoint(a);
    }
    free(a);
    return rc;
}

ovl_err ovl_agg_new(ovl_agg **out, const ovl_agg_config *cfg)
{
    ovl_err rc = OVL_OK;
    ovl_agg *a = NULL;
    *out = NULL;
    OVL_TRY(check_config(cfg));
    OVL_TRY(ovl_paillier_init());
    OVL_TRY(ovl_calloc((void **)&a, 1, sizeof *a));
    a->cfg = *cfg;
    a->bits = cfg->paillier_bits;
    if (a->cfg.max_peer_set == 0)
        a->cfg.max_peer_set = DEFAULT_MAX_PEER_SET;
    if (a->cfg.max_jobs == 0 || a->cfg.max_jobs > 64)
        a->cfg.max_jobs = 8;
    a->g = cfg->group;
    if (cfg->test_seed != NULL)
        ovl_rng_init_seeded(&a->rng, cfg->test_seed, "overlap-v1 aggregate test");
    else
        ovl_rng_init_system(&a->rng);
    OVL_TRY(make_dst(a));
    OVL_TRY(make_scalar(a));
    if (cfg->contributor)
        OVL_TRY(contributor_setup(a));
    else {
        OVL_TRY(runner_disjoint(a));
        OVL_TRY(runner_layout(a));
    }
    OVL_TRY(make_hello(a));
    *out = a;
    a = NULL;
done:
    ovl_agg_free(a);
    return rc;
}

static void job_free(agg_job *j)
{
    if (j == NULL)
        return;
    free(j->in);
    free(j->shares);
    ovl_buf_free(&j->frame);
    if (j->acc_init)
        mpz_clear(j->acc);
    free(j);
}

static void ostream_free(ostream *s)
{
    if (s->slot != NULL)
        for (size_t i = 0; i < s->njobs; i++)
            job_free(s->slot[i]);
    free(s->slot);
    memset(s, 0, sizeof *s);
}

static void mpz_array_free(mpz_t *v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        mpz_clear(v[i]);
    free(v);
}

void ovl_agg_free(ovl_agg *a)
{
    if (a == NULL)
        return;
    ostream_free(&a->own);
    ostream_free(&a->reply);
    while (a->pend_head) {
        agg_job *j = a->pend_head;
        a->pend_head = (agg_job *)j->base.next;
        job_free(j);
    }
    ovl_buf_free(&a->hello_frame);
    params_clear(&a->peer);
    ovl_paillier_sk_free(a->sk_owned);
    ovl_paillier_pk_free(a->peer_pk);
    free(a->psize);
    free(a->poff);
    free(a->order);
    free(a->pos_of);
    free(a->slot_src);
    free(a->rtags);
    free(a->ctags);
    free(a->cts);
    free(a->matched);
    free(a->match);
    free(a->match_off);
    mpz_array_free(a->acc, a->acc ? a->P : 0);
    free(a->acc_set);
    mpz_array_free(a->my_share, a->my_share ? a->P : 0);
    mpz_array_free(a->peer_share, a->peer_share ? a->P : 0);
    free(a->results);
    free(a->released);
    free(a->perm);
    free(a->ptags);
    ovl_rng_wipe(&a->rng);
    sodium_memzero(&a->tag_base, sizeof a->tag_base);
    sodium_memzero(a->scalar, sizeof a->scalar);
    sodium_memzero(a->secret_key, sizeof a->secret_key);
    free(a);
}

/* ---- jobs (worker threads: read-only engine state, own output) ---- */

/* The first `len` bytes of the digest whose first ell bytes are the tag. */
static void tag_of(const ovl_agg *a, uint8_t *tag, const uint8_t *elem, size_t len)
{
    crypto_hash_sha512_state st = a->tag_base;
    uint8_t h[crypto_hash_sha512_BYTES];
    crypto_hash_sha512_update(&st, elem, a->g->elem_len);
    crypto_hash_sha512_final(&st, h);
    memcpy(tag, h, len);
}

static void job_error(agg_job *j, ovl_err e, const char *what, size_t item)
{
    j->base.rc = e;
    snprintf(j->base.detail, sizeof j->base.detail, "%s (item %zu)", what, item + 1);
}

/* Frame body space after header and u32 count. */
static uint8_t *frame_body(agg_job *j) { return j->frame.data + OVL_FRAME_HDR + 4; }

static ovl_err put_ct(uint8_t *out, size_t len, const mpz_t v)
{
    size_t used = mpz_sizeinbase(v, 256);
    if (mpz_sgn(v) < 0 || used > len)
        return ovl_err_set(OVL_ERR_INTERNAL, "value does not fit %zu bytes", len);
    memset(out, 0, len);
    if (mpz_sgn(v) > 0)
        mpz_export(out + (len - used), NULL, 1, 1, 1, 0, v);
    return OVL_OK;
}

static ovl_err blind_id(const ovl_agg *a, uint8_t *out, const uint8_t id[32])
{
    uint8_t h[OVL_GROUP_MAX_ELEM];
    ovl_err rc = a->g->hash_to_group(h, id, 32, (const uint8_t *)a->dst, strlen(a->dst));
    return rc == OVL_OK ? a->g->scalar_mult(out, a->scalar, h) : rc;
}

static void run_blind(agg_job *j)
{
    const ovl_agg *a = j->a;
    uint8_t *out = frame_body(j);
    for (size_t i = 0; i < j->count; i++) {
        size_t s = j->start + i;
        uint32_t src = a->slot_src[s];
        ovl_err rc;
        if (src == DUMMY) {
            /* SPEC.md §5.1: a dummy is a hash of secret randomness, a uniform element. */
            uint8_t msg[40];
            memcpy(msg, a->secret_key, 32);
            for (int b = 0; b < 8; b++)
                msg[32 + b] = (uint8_t)((uint64_t)s >> (56 - 8 * b));
            rc = a->g->hash_to_group(out + i * a->g->elem_len, msg, sizeof msg,
                                     (const uint8_t *)a->dst_dummy, strlen(a->dst_dummy));
            sodium_memzero(msg, sizeof msg);
        } else {
            rc = blind_id(a, out + i * a->g->elem_len, a->cfg.memb[src]);
        }
        if (rc != OVL_OK) {
            job_error(j, OVL_ERR_CRYPTO, "blinding an own element failed", s);
            return;
        }
    }
}

static void run_encrypt(agg_job *j)
{
    const ovl_agg *a = j->a;
    size_t w = 1 + a->nvalues, elen = a->g->elem_len, entry = elen + a->ct_len;
    uint8_t *out = frame_body(j);
    mpz_t m, ct;
    mpz_inits(m, ct, NULL);
    for (size_t i = 0; i < j->count; i++) {
        size_t pos = j->start + i, id = a->perm[pos];
        uint8_t *e = out + i * entry;
        ovl_err rc = blind_id(a, e, a->cfg.ids[id]);
        if (rc == OVL_OK)
            rc = ovl_paillier_pack(m, &a->pack, a->bits, a->cfg.vectors + id * w, w);
        if (rc == OVL_OK)
            rc = encrypt_item(a, ct, m, 'v', pos);
        if (rc != OVL_OK) {
            job_error(j, rc, "encrypting an own value vector failed", pos);
            break;
        }
        if ((rc = put_ct(e + elen, a->ct_len, ct)) != OVL_OK) {
            job_error(j, rc, "serialising a ciphertext failed", pos);
            break;
        }
    }
    mpz_clears(m, ct, NULL);
}

static void run_peer_elems(agg_job *j)
{
    const ovl_agg *a = j->a;
    size_t elen = a->g->elem_len;
    uint8_t d[OVL_GROUP_MAX_ELEM];
    for (size_t i = 0; i < j->count; i++) {
        if (a->g->scalar_mult(d, a->scalar, j->in + i * elen) != OVL_OK) {
            job_error(j, OVL_ERR_PROTOCOL, "the peer sent an invalid group element", j->start + i);
            return;
        }
        tag_of(a, a->ptags + (j->start + i) * a->dlen, d, a->dlen);
    }
}

static void run_peer_values(agg_job *j)
{
    const ovl_agg *a = j->a;
    size_t elen = a->g->elem_len, entry = elen + a->ct_len;
    uint8_t d[OVL_GROUP_MAX_ELEM];
    mpz_t ct;
    mpz_init(ct);
    for (size_t i = 0; i < j->count; i++) {
        const uint8_t *e = j->in + i * entry;
        size_t idx = j->start + i;
        if (a->g->scalar_mult(d, a->scalar, e) != OVL_OK) {
            job_error(j, OVL_ERR_PROTOCOL, "the peer sent an invalid group element", idx);
            break;
        }
        if (ovl_paillier_ct_from_bytes(ct, a->pk, e + elen, a->ct_len) != OVL_OK) {
            job_error(j, OVL_ERR_PROTOCOL, "the peer sent an invalid Paillier ciphertext", idx);
            break;
        }
        tag_of(a, a->ctags + idx * a->ell, d, a->ell);
        memcpy(a->cts + idx * a->ct_len, e + elen, a->ct_len);
    }
    mpz_clear(ct);
}

static void run_sum(agg_job *j)
{
    const ovl_agg *a = j->a;
    const uint32_t *list = a->match + a->match_off[j->seq] + j->start;
    mpz_t ct;
    mpz_init(ct);
    for (size_t i = 0; i < j->count; i++) {
        /* Validated on receipt (run_peer_values). */
        mpz_import(ct, a->ct_len, 1, 1, 1, 0, a->cts + (size_t)list[i] * a->ct_len);
        if (i == 0)
            mpz_set(j->acc, ct);
        else if (ovl_paillier_add(j->acc, a->pk, j->acc, ct) != OVL_OK) {
            job_error(j, OVL_ERR_INTERNAL, "homomorphic addition failed", i);
            break;
        }
    }
    mpz_clear(ct);
}

/* SPEC.md §5.6: a passing group's masked sum, or an encryption of a random
 * value for a suppressed group; the two are indistinguishable. */
static ovl_err mask_one(const ovl_agg *a, size_t pos, mpz_t ct, mpz_t share)
{
    ovl_err rc = OVL_OK;
    mpz_t t, z;
    mpz_inits(t, z, NULL);
    if (a->matched[pos] >= a->threshold) {
        if (a->cfg.test_seed == NULL) {
            OVL_TRY(ovl_paillier_mask(ct, share, a->pk, a->acc[pos]));
            goto done;
        }
        OVL_TRY(random_residue(a, t, 't', pos));
        OVL_TRY(ovl_paillier_add_plain(ct, a->pk, a->acc[pos], t));
        OVL_TRY(encrypt_item(a, z, z, 'z', pos)); /* E(0): rerandomises */
        OVL_TRY(ovl_paillier_add(ct, a->pk, ct, z));
        mpz_sub(share, ovl_paillier_pk_modulus(a->pk), t);
        mpz_mod(share, share, ovl_paillier_pk_modulus(a->pk));
    } else {
        OVL_TRY(random_residue(a, t, 'u', pos));
        OVL_TRY(encrypt_item(a, ct, t, 'e', pos));
        mpz_set_ui(share, 0);
    }
done:
    mpz_clears(t, z, NULL);
    return rc;
}

static void run_mask(agg_job *j)
{
    const ovl_agg *a = j->a;
    uint8_t *out = frame_body(j);
    mpz_t ct, share;
    mpz_inits(ct, share, NULL);
    for (size_t i = 0; i < j->count; i++) {
        ovl_err rc = mask_one(a, j->start + i, ct, share);
        if (rc == OVL_OK)
            rc = put_ct(out + i * a->ct_len, a->ct_len, ct);
        if (rc == OVL_OK)
            rc = put_ct(j->shares + i * a->share_len, a->share_len, share);
        if (rc != OVL_OK) {
            job_error(j, OVL_ERR_INTERNAL, "masking a group sum failed", j->start + i);
            break;
        }
    }
    mpz_clears(ct, share, NULL);
}

static void run_decrypt(agg_job *j)
{
    const ovl_agg *a = j->a;
    uint8_t *out = frame_body(j);
    mpz_t ct, m;
    mpz_inits(ct, m, NULL);
    for (size_t i = 0; i < j->count; i++) {
        if (ovl_paillier_ct_from_bytes(ct, a->pk, j->in + i * a->ct_len, a->ct_len) != OVL_OK) {
            job_error(j, OVL_ERR_PROTOCOL, "the peer sent an invalid Paillier ciphertext",
                      j->start + i);
            break;
        }
        if (ovl_paillier_decrypt(m, a->sk, ct) != OVL_OK ||
            put_ct(out + i * a->share_len, a->share_len, m) != OVL_OK) {
            job_error(j, OVL_ERR_PROTOCOL, "the peer sent an undecryptable ciphertext",
                      j->start + i);
            break;
        }
    }
    mpz_clears(ct, m, NULL);
}

static void job_run(ovl_job *job)
{
    agg_job *j = (agg_job *)job;
    switch (j->kind) {
    case J_BLIND: run_blind(j); break;
    case J_ENCRYPT: run_encrypt(j); break;
    case J_PEER_ELEMS: run_peer_elems(j); break;
    case J_PEER_VALUES: run_peer_values(j); break;
    case J_SUM: run_sum(j); break;
    case J_MASK: run_mask(j); break;
    default: run_decrypt(j); break;
    }
}

static ovl_err job_new(ovl_agg *a, agg_job **out, int kind, size_t seq, size_t start, size_t count)
{
    ovl_err rc = ovl_calloc((void **)out, 1, sizeof **out);
    if (rc != OVL_OK)
        return rc;
    (*out)->base.run = job_run;
    (*out)->a = a;
    (*out)->kind = kind;
    (*out)->seq = seq;
    (*out)->start = start;
    (*out)->count = count;
    return OVL_OK;
}

/* A job whose output is one frame of `count` entries of `entry` bytes. */
static ovl_err job_with_frame(ovl_agg *a, agg_job **out, int kind, uint8_t type, size_t seq,
                              size_t start, size_t count, size_t entry)
{
    ovl_err rc = OVL_OK;
    agg_job *j = NULL;
    size_t body = 4 + count * entry, mark;
    uint8_t *space;
    OVL_TRY(job_new(a, &j, kind, seq, start, count));
    OVL_TRY(ovl_buf_alloc(&j->frame, OVL_FRAME_HDR + body, OVL_FRAME_HDR + body));
    OVL_TRY(ovl_frame_begin(&j->frame, type, &mark));
    OVL_TRY(ovl_buf_put_u32(&j->frame, (uint32_t)count));
    OVL_TRY(ovl_buf_reserve(&j->frame, count * entry, &space));
    memset(space, 0, count * entry);
    OVL_TRY(ovl_frame_end(&j->frame, mark));
    *out = j;
    j = NULL;
done:
    job_free(j);
    return rc;
}

static void pend_push(ovl_agg *a, agg_job *j)
{
    j->base.next = NULL;
    if (a->pend_tail)
        a->pend_tail->base.next = &j->base;
    else
        a->pend_head = j;
    a->pend_tail = j;
    a->npending++;
}

static agg_job *pend_pop(ovl_agg *a)
{
    agg_job *j = a->pend_head;
    if (j == NULL)
        return NULL;
    a->pend_head = (agg_job *)j->base.next;
    if (a->pend_head == NULL)
        a->pend_tail = NULL;
    a->npending--;
    return j;
}

static ovl_err ostream_init(ostream *s, size_t njobs)
{
    s->njobs = njobs;
    return ovl_calloc((void **)&s->slot, njobs ? njobs : 1, sizeof *s->slot);
}

/* The next job of the own stream, if its frames are not too far ahead. */
static ovl_err own_job(ovl_agg *a, agg_job **out)
{
    *out = NULL;
    ostream *s = &a->own;
    if (s->made >= s->njobs || s->made - s->sent >= a->cfg.max_jobs)
        return OVL_OK;
    if (is_runner(a)) {
        size_t start = s->made * ELEM_BATCH, count = (size_t)a->N - start;
        if (count > ELEM_BATCH)
            count = ELEM_BATCH;
        ovl_err rc = job_with_frame(a, out, J_BLIND, OVL_AGG_ELEMENTS, s->made, start, count,
                                    a->g->elem_len);
        if (rc != OVL_OK)
            return rc;
    } else {
        size_t start = s->made * VALUES_BATCH, count = a->cfg.nids - start;
        if (count > VALUES_BATCH)
            count = VALUES_BATCH;
        ovl_err rc = job_with_frame(a, out, J_ENCRYPT, OVL_AGG_VALUES, s->made, start, count,
                                    a->g->elem_len + a->ct_len);
        if (rc != OVL_OK)
            return rc;
    }
    s->made++;
    return OVL_OK;
}

static ovl_err advance(ovl_agg *a);

static ovl_err agg_job_take(void *proto, ovl_job **out)
{
    ovl_agg *a = proto;
    ovl_err rc = OVL_OK;
    agg_job *j = NULL;
    *out = NULL;
    if (a->state == ST_FAILED)
        return a->failure;
    if (a->state != ST_RUN || a->running >= a->cfg.max_jobs)
        return OVL_OK;
    OVL_TRY(advance(a));
    if (a->pend_head != NULL && (a->prefer_pending || a->own.made >= a->own.njobs))
        j = pend_pop(a);
    if (j == NULL)
        OVL_TRY(own_job(a, &j));
    if (j == NULL)
        j = pend_pop(a);
    if (j != NULL) {
        a->prefer_pending = !a->prefer_pending;
        a->running++;
        j->base.next = NULL;
        *out = &j->base;
    }
done:
    return rc == OVL_OK ? rc : fail(a, rc);
}

static ovl_err agg_job_finish(void *proto, ovl_job *job)
{
    ovl_agg *a = proto;
    agg_job *j = (agg_job *)job;
    ovl_err rc = OVL_OK;
    a->running--;
    if (j->base.rc != OVL_OK) {
        ovl_err e = ovl_err_set(j->base.rc, "%s", j->base.detail);
        job_free(j);
        return fail(a, e);
    }
    switch (j->kind) {
    case J_BLIND:
    case J_ENCRYPT:
        a->own_done += j->count;
        a->own.slot[j->seq] = j;
        return OVL_OK;
    case J_MASK:
        for (size_t i = 0; i < j->count; i++)
            mpz_import(a->my_share[j->start + i], a->share_len, 1, 1, 1, 0,
                       j->shares + i * a->share_len);
        a->reply.slot[j->seq] = j;
        return OVL_OK;
    case J_DECRYPT:
        a->reply.slot[j->seq] = j;
        return OVL_OK;
    case J_PEER_ELEMS:
        a->peer_done += j->count;
        break;
    case J_PEER_VALUES:
        a->values_done += j->count;
        break;
    case J_SUM: {
        size_t pos = j->seq;
        if (!a->acc_set[pos]) {
            mpz_set(a->acc[pos], j->acc);
            a->acc_set[pos] = true;
        } else {
            rc = ovl_paillier_add(a->acc[pos], a->pk, a->acc[pos], j->acc);
        }
        a->sum_left--;
        break;
    }
    default:
        break;
    }
    job_free(j);
    return rc == OVL_OK ? rc : fail(a, rc);
}

/* ---- receiving ---- */

/* SPEC.md §5.3: records long enough that two of the N distinct elements
 * collide with probability below 2^-40, and at least a tag long. */
static size_t dedup_len(uint64_t n, size_t ell)
{
    unsigned lg = 0;
    while (lg < 64 && ((uint64_t)1 << lg) < n)
        lg++;
    size_t len = (40u + 2u * lg + 7u) / 8u;
    return len > ell ? len : ell;
}

static ovl_err on_hello(ovl_agg *a, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_hello mine, peer, mine_c, peer_c;
    const uint8_t *my_payload = a->hello_frame.data + OVL_FRAME_HDR;
    size_t my_len = a->hello_frame.wpos - OVL_FRAME_HDR;
    OVL_TRY(ovl_hello_parse(&mine, my_payload, my_len));
    OVL_TRY(ovl_hello_parse(&peer, payload, len));
    /* Each party states its own side of the analysis, so the parameters are
     * compared by params_check rather than byte for byte (SPEC.md §4.1). The
     * reveal field follows from the roles and is checked there too. */
    mine_c = mine;
    peer_c = peer;
    mine_c.params_len = peer_c.params_len = 0;
    peer_c.reveal = mine_c.reveal;
    OVL_TRY(ovl_hello_check(&mine_c, &peer_c, a->cfg.max_peer_set));
    OVL_TRY(params_parse(&a->peer, peer.params, peer.params_len));
    OVL_TRY(params_check(a, &a->peer));
    OVL_ENSURE(peer.reveal == mine.reveal, OVL_ERR_PROTOCOL,
               "the peer's HELLO names the wrong receiver of the result");
    if (a->cfg.role == OVL_ROLE_LISTENER)
        ovl_hello_transcript(a->transcript, my_payload, my_len, payload, len);
    else
        ovl_hello_transcript(a->transcript, payload, len, my_payload, my_len);
    /* The runner's set_size counts padded memberships: checked on LAYOUT. */
    if (a->cfg.expect_peer_set && is_runner(a))
        OVL_TRY(ovl_hello_check_negotiated(&peer, a->cfg.peer_set_expected));
    if (is_runner(a))
        a->m = peer.set_size;
    else
        a->N = peer.set_size;
    a->ell = ovl_psi_tag_len_for(a->N, a->m);
    crypto_hash_sha512_init(&a->tag_base);
    crypto_hash_sha512_update(&a->tag_base, (const uint8_t *)TAG_LABEL, sizeof TAG_LABEL - 1);
    crypto_hash_sha512_update(&a->tag_base, a->transcript, sizeof a->transcript);
    if (is_runner(a)) {
        OVL_TRY(ovl_calloc((void **)&a->rtags, a->N ? (size_t)a->N : 1, a->ell));
        OVL_TRY(ostream_init(&a->own, (size_t)((a->N + ELEM_BATCH - 1) / ELEM_BATCH)));
    } else {
        a->dlen = dedup_len(a->N, a->ell);
        a->ct_len = ovl_paillier_ct_len(a->pk);
        a->share_len = ovl_share_len(ovl_paillier_pk_modulus(a->pk));
        OVL_TRY(ostream_init(&a->own, (a->cfg.nids + VALUES_BATCH - 1) / VALUES_BATCH));
    }
    a->state = ST_RUN;
done:
    return rc;
}

static ovl_err read_count(ovl_buf *r, const char *what, uint32_t cap, uint32_t *count)
{
    if (ovl_buf_get_u32(r, count) != OVL_OK)
        return ovl_err_set(OVL_ERR_PROTOCOL, "malformed %s frame from the peer", what);
    if (*count == 0 || *count > cap)
        return ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent a %s frame with %u entries (1..%u allowed)",
                           what, *count, cap);
    return OVL_OK;
}

/* Reads `count` entries of `entry` bytes, at most `room` more expected. */
static ovl_err read_entries(ovl_buf *r, const char *what, uint32_t cap, size_t entry,
                            uint64_t room, uint32_t *count)
{
    ovl_err rc = read_count(r, what, cap, count);
    if (rc != OVL_OK)
        return rc;
    if (*count > room)
        return ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent more %s entries than announced", what);
    if (ovl_buf_remaining(r) != (size_t)*count * entry)
        return ovl_err_set(OVL_ERR_PROTOCOL, "%s frame from the peer has %zu bytes for %u entries",
                           what, ovl_buf_remaining(r), *count);
    return OVL_OK;
}

static ovl_err queue_input(ovl_agg *a, int kind, size_t seq, size_t start, const ovl_buf *r,
                           uint32_t count)
{
    ovl_err rc = OVL_OK;
    agg_job *j = NULL;
    size_t len = ovl_buf_remaining(r);
    OVL_TRY(job_new(a, &j, kind, seq, start, count));
    OVL_TRY(ovl_calloc((void **)&j->in, len ? len : 1, 1));
    memcpy(j->in, ovl_buf_rptr(r), len);
    pend_push(a, j);
    j = NULL;
done:
    job_free(j);
    return rc;
}

static ovl_err on_layout(ovl_agg *a, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    uint32_t P;
    uint64_t least = 0;
    OVL_ENSURE(!a->layout_recv, OVL_ERR_PROTOCOL, "the peer sent a second LAYOUT");
    OVL_TRY(ovl_buf_get_u32(r, &P));
    OVL_ENSURE(P <= OVL_AGG_MAX_GROUPS, OVL_ERR_PROTOCOL, "the peer announced %u groups (cap %u)",
               P, OVL_AGG_MAX_GROUPS);
    OVL_ENSURE(ovl_buf_remaining(r) == (size_t)P * 4, OVL_ERR_PROTOCOL, "malformed LAYOUT frame");
    OVL_TRY(alloc_layout(a, P));
    for (size_t p = 0; p < P; p++) {
        OVL_TRY(ovl_buf_get_u32(r, &a->psize[p]));
        uint32_t s = a->psize[p];
        OVL_ENSURE(s >= OVL_AGG_PAD_MIN && (s & (s - 1)) == 0, OVL_ERR_PROTOCOL,
                   "the peer's partition %zu has size %u (not a padded size)", p, s);
        a->poff[p + 1] = a->poff[p] + s;
        /* padded(k) == s needs k > s/2 once s is past the minimum */
        least += s > OVL_AGG_PAD_MIN ? s / 2u + 1u : 0u;
    }
    OVL_ENSURE(a->poff[P] == a->N, OVL_ERR_PROTOCOL,
               "the peer's partitions hold %zu elements, its HELLO announced %llu", a->poff[P],
               (unsigned long long)a->N);
    OVL_ENSURE(!a->cfg.expect_peer_set || least <= a->cfg.peer_set_expected, OVL_ERR_PROTOCOL,
               "the peer's partitions pad at least %llu identifiers after it negotiated %llu",
               (unsigned long long)least, (unsigned long long)a->cfg.peer_set_expected);
    OVL_TRY(ovl_calloc((void **)&a->ptags, a->N ? (size_t)a->N : 1, a->dlen));
    OVL_TRY(ostream_init(&a->reply, P));
    a->layout_recv = true;
done:
    if (rc == OVL_ERR_MALFORMED)
        rc = ovl_err_set(OVL_ERR_PROTOCOL, "malformed LAYOUT frame from the peer");
    return rc;
}

static ovl_err on_elements(ovl_agg *a, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    uint32_t count;
    OVL_ENSURE(a->layout_recv, OVL_ERR_PROTOCOL, "the peer sent ELEMENTS before LAYOUT");
    OVL_TRY(read_entries(r, "ELEMENTS", OVL_AGG_BATCH_MAX, a->g->elem_len, a->N - a->peer_recv,
                         &count));
    OVL_TRY(queue_input(a, J_PEER_ELEMS, 0, (size_t)a->peer_recv, r, count));
    a->peer_recv += count;
done:
    return rc;
}

static ovl_err on_sums(ovl_agg *a, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    uint32_t count;
    OVL_ENSURE(a->layout_recv && a->p_send == a->P && a->own.sent == a->own.njobs, OVL_ERR_PROTOCOL,
               "the peer sent SUMS before it could have every tag and value");
    OVL_TRY(read_entries(r, "SUMS", OVL_AGG_CT_BATCH_MAX, a->ct_len, a->P - a->sums_recv, &count));
    agg_job *j = NULL;
    size_t seq = a->reply.made++;
    OVL_TRY(job_with_frame(a, &j, J_DECRYPT, OVL_AGG_SHARES, seq, (size_t)a->sums_recv, count,
                           a->share_len));
    rc = ovl_calloc((void **)&j->in, (size_t)count * a->ct_len, 1);
    if (rc != OVL_OK) {
        job_free(j);
        goto done;
    }
    memcpy(j->in, ovl_buf_rptr(r), (size_t)count * a->ct_len);
    pend_push(a, j);
    a->sums_recv += count;
done:
    return rc;
}

static ovl_err on_key(ovl_agg *a, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(!a->key_recv, OVL_ERR_PROTOCOL, "the peer sent a second KEY");
    rc = ovl_paillier_pk_read(&a->peer_pk, r);
    if (rc != OVL_OK)
        OVL_FAIL(ovl_err_wrap(OVL_ERR_PROTOCOL, "the peer's Paillier key: "));
    OVL_TRY(ovl_buf_expect_end(r));
    OVL_ENSURE(ovl_paillier_pk_bits(a->peer_pk) == a->bits, OVL_ERR_PROTOCOL,
               "the peer's Paillier key has %u bits, the session states %u",
               ovl_paillier_pk_bits(a->peer_pk), a->bits);
    a->pk = a->peer_pk;
    a->ct_len = ovl_paillier_ct_len(a->pk);
    a->share_len = ovl_share_len(ovl_paillier_pk_modulus(a->pk));
    OVL_TRY(make_packing(a));
    OVL_TRY(ovl_calloc((void **)&a->ctags, a->m ? (size_t)a->m : 1, a->ell));
    OVL_TRY(ovl_calloc((void **)&a->cts, a->m ? (size_t)a->m : 1, a->ct_len));
    a->key_recv = true;
done:
    return rc;
}

static ovl_err on_values(ovl_agg *a, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    uint32_t count;
    OVL_ENSURE(a->key_recv, OVL_ERR_PROTOCOL, "the peer sent VALUES before its KEY");
    OVL_TRY(read_entries(r, "VALUES", OVL_AGG_CT_BATCH_MAX, a->g->elem_len + a->ct_len,
                         a->m - a->values_recv, &count));
    OVL_TRY(queue_input(a, J_PEER_VALUES, 0, (size_t)a->values_recv, r, count));
    a->values_recv += count;
done:
    return rc;
}

static ovl_err on_tags(ovl_agg *a, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    uint32_t count;
    OVL_TRY(read_entries(r, "TAGS", OVL_AGG_BATCH_MAX, a->ell, a->N - a->rtags_recv, &count));
    memcpy(a->rtags + a->rtags_recv * a->ell, ovl_buf_rptr(r), (size_t)count * a->ell);
    a->rtags_recv += count;
done:
    return rc;
}

static ovl_err on_shares(ovl_agg *a, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    uint32_t count;
    OVL_TRY(read_entries(r, "SHARES", OVL_AGG_CT_BATCH_MAX, a->share_len,
                         a->sums_sent - a->shares_recv, &count));
    for (uint32_t i = 0; i < count; i++) {
        rc = ovl_share_read(a->peer_share[a->shares_recv + i], r, ovl_paillier_pk_modulus(a->pk));
        if (rc != OVL_OK)
            OVL_FAIL(ovl_err_wrap(OVL_ERR_PROTOCOL, "the peer's share: "));
    }
    a->shares_recv += count;
done:
    return rc;
}

static ovl_err on_finish(ovl_agg *a, size_t len)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(len == 0, OVL_ERR_PROTOCOL, "malformed FINISH frame from the peer");
    OVL_ENSURE(a->layout_recv && a->shares_sent == a->P, OVL_ERR_PROTOCOL,
               "the peer finished before receiving every share");
    a->finish_recv = true;
    a->state = ST_DONE;
done:
    return rc;
}

static ovl_err feed_runner(ovl_agg *a, uint8_t type, ovl_buf *r)
{
    switch (type) {
    case OVL_AGG_KEY: return on_key(a, r);
    case OVL_AGG_VALUES: return on_values(a, r);
    case OVL_AGG_TAGS: return on_tags(a, r);
    case OVL_AGG_SHARES: return on_shares(a, r);
    default:
        return ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent frame type 0x%02x, which a contributor "
                           "never sends", type);
    }
}

static ovl_err feed_contributor(ovl_agg *a, uint8_t type, ovl_buf *r)
{
    switch (type) {
    case OVL_AGG_LAYOUT: return on_layout(a, r);
    case OVL_AGG_ELEMENTS: return on_elements(a, r);
    case OVL_AGG_SUMS: return on_sums(a, r);
    case OVL_AGG_FINISH: return on_finish(a, ovl_buf_remaining(r));
    default:
        return ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent frame type 0x%02x, which a runner "
                           "never sends", type);
    }
}

static ovl_err agg_feed(void *proto, uint8_t type, const uint8_t *payload, size_t len)
{
    ovl_agg *a = proto;
    ovl_err rc = OVL_OK;
    ovl_buf r;
    if (a->state == ST_FAILED)
        return a->failure;
    if (type == OVL_FRAME_ABORT)
        return fail(a, ovl_frame_abort_decode(payload, len));
    if (a->state == ST_SETUP) {
        OVL_ENSURE(type == OVL_HELLO_TYPE, OVL_ERR_PROTOCOL,
                   "the peer sent frame type 0x%02x before HELLO", type);
        OVL_TRY(on_hello(a, payload, len));
        goto done;
    }
    OVL_ENSURE(a->state == ST_RUN, OVL_ERR_PROTOCOL, "the peer sent frame type 0x%02x after the end",
               type);
    OVL_ENSURE(type != OVL_HELLO_TYPE, OVL_ERR_PROTOCOL, "the peer sent a second HELLO");
    ovl_buf_reader(&r, payload, len);
    if (is_runner(a))
        OVL_TRY(feed_runner(a, type, &r));
    else
        OVL_TRY(feed_contributor(a, type, &r));
done:
    return rc == OVL_OK ? rc : fail(a, rc);
}

/* ---- the runner's matching and sums (SPEC.md §5.5, §5.6) ---- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static ovl_err index_contributor(ovl_agg *a, uint8_t **recs_out)
{
    ovl_err rc = OVL_OK;
    size_t w = a->ell + 4, m = (size_t)a->m;
    uint8_t *recs = NULL;
    OVL_TRY(ovl_calloc((void **)&recs, m ? m : 1, w));
    for (size_t i = 0; i < m; i++) {
        memcpy(recs + i * w, a->ctags + i * a->ell, a->ell);
        for (int b = 0; b < 4; b++)
            recs[i * w + a->ell + (size_t)b] = (uint8_t)(i >> (24 - 8 * b));
    }
    OVL_TRY(ovl_sort_fixed(recs, m, w));
    for (size_t i = 1; i < m; i++)
        OVL_ENSURE(memcmp(recs + (i - 1) * w, recs + i * w, a->ell) != 0, OVL_ERR_PROTOCOL,
                   "the peer sent the same identifier twice");
    *recs_out = recs;
    recs = NULL;
done:
    free(recs);
    return rc;
}

static ovl_err queue_sums(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    for (size_t p = 0; p < a->P; p++) {
        if (a->matched[p] < a->threshold)
            continue;
        for (size_t s = 0; s < a->matched[p]; s += SUM_CHUNK) {
            agg_job *j = NULL;
            size_t n = a->matched[p] - s < SUM_CHUNK ? (size_t)a->matched[p] - s : SUM_CHUNK;
            OVL_TRY(job_new(a, &j, J_SUM, p, s, n));
            mpz_init(j->acc);
            j->acc_init = true;
            pend_push(a, j);
            a->sum_left++;
        }
    }
done:
    return rc;
}

static ovl_err build_matches(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    uint8_t *recs = NULL;
    size_t w = a->ell + 4, total = 0;
    OVL_TRY(index_contributor(a, &recs));
    OVL_TRY(ovl_calloc((void **)&a->matched, a->P ? a->P : 1, sizeof *a->matched));
    OVL_TRY(ovl_calloc((void **)&a->match_off, a->P + 1, sizeof *a->match_off));
    OVL_TRY(ovl_calloc((void **)&a->match, a->N ? (size_t)a->N : 1, sizeof *a->match));
    for (size_t p = 0; p < a->P; p++) {
        a->match_off[p] = (uint32_t)total;
        for (size_t s = a->poff[p]; s < a->poff[p + 1]; s++) {
            size_t k = ovl_search_prefix(recs, (size_t)a->m, w, a->rtags + s * a->ell, a->ell);
            if (k != SIZE_MAX)
                a->match[total++] = rd32(recs + k * w + a->ell);
        }
        a->matched[p] = total - a->match_off[p];
    }
    a->match_off[a->P] = (uint32_t)total;
    OVL_TRY(ovl_calloc((void **)&a->acc, a->P ? a->P : 1, sizeof *a->acc));
    OVL_TRY(ovl_calloc((void **)&a->acc_set, a->P ? a->P : 1, sizeof *a->acc_set));
    for (size_t p = 0; p < a->P; p++)
        mpz_init(a->acc[p]);
    a->matched_built = true;
    OVL_TRY(queue_sums(a));
done:
    free(recs);
    return rc;
}

static ovl_err start_masks(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    size_t njobs = (a->P + CT_BATCH - 1) / CT_BATCH;
    OVL_TRY(ostream_init(&a->reply, njobs));
    OVL_TRY(ovl_calloc((void **)&a->my_share, a->P ? a->P : 1, sizeof *a->my_share));
    OVL_TRY(ovl_calloc((void **)&a->peer_share, a->P ? a->P : 1, sizeof *a->peer_share));
    for (size_t p = 0; p < a->P; p++) {
        mpz_init(a->my_share[p]);
        mpz_init(a->peer_share[p]);
    }
    for (size_t k = 0; k < njobs; k++) {
        agg_job *j = NULL;
        size_t start = k * CT_BATCH, n = a->P - start < CT_BATCH ? a->P - start : CT_BATCH;
        OVL_TRY(job_with_frame(a, &j, J_MASK, OVL_AGG_SUMS, k, start, n, a->ct_len));
        rc = ovl_calloc((void **)&j->shares, n, a->share_len);
        if (rc != OVL_OK) {
            job_free(j);
            goto done;
        }
        pend_push(a, j);
    }
    a->reply.made = njobs;
    a->mask_ready = true;
done:
    return rc;
}

static ovl_err complete_runner(ovl_agg *a);

static ovl_err advance(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    if (!is_runner(a) || a->state != ST_RUN)
        return OVL_OK;
    if (!a->matched_built && a->key_recv && a->rtags_recv == a->N && a->values_recv == a->m &&
        a->values_done == a->m)
        OVL_TRY(build_matches(a));
    if (a->matched_built && !a->mask_ready && a->sum_left == 0)
        OVL_TRY(start_masks(a));
    if (a->mask_ready && a->results == NULL && a->shares_recv == a->P)
        OVL_TRY(complete_runner(a));
done:
    return rc;
}

/* SPEC.md §5.7: only passing groups' shares are combined. */
static ovl_err complete_runner(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    size_t w = 1 + a->nvalues;
    mpz_t packed;
    mpz_init(packed);
    OVL_TRY(ovl_calloc((void **)&a->results, (a->P ? a->P : 1) * w, sizeof *a->results));
    OVL_TRY(ovl_calloc((void **)&a->released, a->P ? a->P : 1, sizeof *a->released));
    for (size_t p = 0; p < a->P; p++) {
        size_t g = a->order[p];
        if (a->matched[p] < a->threshold)
            continue;
        OVL_TRY(ovl_share_combine(packed, a->peer_share[p], a->my_share[p],
                                  ovl_paillier_pk_modulus(a->pk)));
        rc = ovl_paillier_unpack(a->results + g * w, w, &a->pack, a->bits, packed, a->matched[p]);
        if (rc != OVL_OK)
            OVL_FAIL(ovl_err_wrap(OVL_ERR_PROTOCOL, "the peer's shares do not decode: "));
        a->released[g] = true;
        a->nreleased++;
    }
done:
    mpz_clear(packed);
    return rc;
}

/* ---- sending ---- */

static ovl_err pull_ostream(ostream *s, ovl_buf *out, bool *have, uint64_t *counter)
{
    ovl_err rc = OVL_OK;
    if (s->sent >= s->njobs || s->slot[s->sent] == NULL)
        return OVL_OK;
    agg_job *j = s->slot[s->sent];
    OVL_TRY(ovl_buf_put_bytes(out, j->frame.data, j->frame.wpos));
    if (counter)
        *counter += j->count;
    s->slot[s->sent++] = NULL;
    job_free(j);
    *have = true;
done:
    return rc;
}

static ovl_err put_layout(ovl_agg *a, ovl_buf *out)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_TRY(ovl_frame_begin(out, OVL_AGG_LAYOUT, &mark));
    OVL_TRY(ovl_buf_put_u32(out, (uint32_t)a->P));
    for (size_t p = 0; p < a->P; p++)
        OVL_TRY(ovl_buf_put_u32(out, a->psize[p]));
    OVL_TRY(ovl_frame_end(out, mark));
    a->layout_sent = true;
done:
    return rc;
}

static ovl_err put_empty(ovl_buf *out, uint8_t type)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_TRY(ovl_frame_begin(out, type, &mark));
    OVL_TRY(ovl_frame_end(out, mark));
done:
    return rc;
}

static ovl_err pull_runner(ovl_agg *a, ovl_buf *out, bool *have)
{
    ovl_err rc = OVL_OK;
    if (!a->layout_sent) {
        OVL_TRY(put_layout(a, out));
        *have = true;
        goto done;
    }
    OVL_TRY(pull_ostream(&a->own, out, have, NULL));
    if (*have)
        goto done;
    if (a->mask_ready) {
        OVL_TRY(pull_ostream(&a->reply, out, have, &a->sums_sent));
        if (*have)
            goto done;
    }
    if (a->results != NULL && !a->finish_sent) {
        OVL_TRY(put_empty(out, OVL_AGG_FINISH));
        a->finish_sent = true;
        a->state = ST_DONE;
        *have = true;
    }
done:
    return rc;
}

/* SPEC.md §5.3: no element twice in the whole layout, within a group or
 * across groups. Overlapping groups would let the runner see which of its
 * identifiers matched (§7), so the contributor refuses them. */
static ovl_err check_disjoint(const ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    uint8_t *all = NULL;
    size_t n = (size_t)a->N;
    OVL_TRY(ovl_calloc((void **)&all, n ? n : 1, a->dlen));
    memcpy(all, a->ptags, n * a->dlen);
    OVL_TRY(ovl_sort_fixed(all, n, a->dlen));
    OVL_ENSURE(ovl_find_adjacent_dup(all, n, a->dlen) == SIZE_MAX, OVL_ERR_PROTOCOL,
               "the peer sent the same element twice (its groups must be disjoint)");
done:
    free(all);
    return rc;
}

/* SPEC.md §5.3: a partition's tags leave sorted, which hides the order, and
 * only once every element of every partition has been checked. */
static ovl_err pull_tags(ovl_agg *a, ovl_buf *out, bool *have)
{
    ovl_err rc = OVL_OK;
    size_t p = a->p_send, mark;
    uint8_t *space;
    if (!a->layout_recv || p >= a->P || a->peer_done < a->N)
        return OVL_OK;
    if (!a->p_checked) {
        OVL_TRY(check_disjoint(a));
        a->p_checked = true;
    }
    uint8_t *seg = a->ptags + a->poff[p] * a->dlen;
    if (!a->p_sorted) {
        OVL_TRY(ovl_sort_fixed(seg, a->psize[p], a->dlen));
        a->p_sorted = true;
    }
    size_t n = a->psize[p] - a->p_sent_in;
    if (n > ELEM_BATCH)
        n = ELEM_BATCH;
    OVL_TRY(ovl_frame_begin(out, OVL_AGG_TAGS, &mark));
    OVL_TRY(ovl_buf_put_u32(out, (uint32_t)n));
    OVL_TRY(ovl_buf_reserve(out, n * a->ell, &space));
    for (size_t i = 0; i < n; i++)
        memcpy(space + i * a->ell, seg + (a->p_sent_in + i) * a->dlen, a->ell);
    OVL_TRY(ovl_frame_end(out, mark));
    a->p_sent_in += n;
    if (a->p_sent_in == a->psize[p]) {
        a->p_send++;
        a->p_sent_in = 0;
        a->p_sorted = false;
    }
    *have = true;
done:
    return rc;
}

static ovl_err pull_contributor(ovl_agg *a, ovl_buf *out, bool *have)
{
    ovl_err rc = OVL_OK;
    if (!a->key_sent) {
        size_t mark;
        OVL_TRY(ovl_frame_begin(out, OVL_AGG_KEY, &mark));
        OVL_TRY(ovl_paillier_pk_write(out, a->pk));
        OVL_TRY(ovl_frame_end(out, mark));
        a->key_sent = true;
        *have = true;
        goto done;
    }
    OVL_TRY(pull_ostream(&a->own, out, have, NULL));
    if (*have)
        goto done;
    OVL_TRY(pull_tags(a, out, have));
    if (*have)
        goto done;
    OVL_TRY(pull_ostream(&a->reply, out, have, &a->shares_sent));
done:
    return rc;
}

static ovl_err agg_pull(void *proto, ovl_buf *out, bool *have)
{
    ovl_agg *a = proto;
    ovl_err rc = OVL_OK;
    *have = false;
    if (a->state == ST_FAILED)
        return a->failure;
    if (!a->hello_sent) {
        OVL_TRY(ovl_buf_put_bytes(out, a->hello_frame.data, a->hello_frame.wpos));
        a->hello_sent = true;
        *have = true;
    } else if (a->state == ST_RUN) {
        OVL_TRY(advance(a));
        if (is_runner(a))
            OVL_TRY(pull_runner(a, out, have));
        else
            OVL_TRY(pull_contributor(a, out, have));
    }
done:
    return rc == OVL_OK ? rc : fail(a, rc);
}

static bool agg_wants_input(const void *proto)
{
    const ovl_agg *a = proto;
    if (a->state == ST_SETUP)
        return true;
    return a->state == ST_RUN && a->npending < PENDING_MAX;
}

static bool agg_done(const void *proto) { return ((const ovl_agg *)proto)->state == ST_DONE; }

const ovl_proto_ops ovl_agg_ops = {
    .feed = agg_feed,
    .pull = agg_pull,
    .job_take = agg_job_take,
    .job_finish = agg_job_finish,
    .wants_input = agg_wants_input,
    .done = agg_done,
};

/* ---- accessors ---- */

void ovl_agg_get_progress(const ovl_agg *a, ovl_agg_progress *out)
{
    out->own_total = is_runner(a) ? a->N : a->cfg.nids;
    out->own_done = a->own_done;
    out->peer_total = is_runner(a) ? a->m : a->N;
    out->peer_done = is_runner(a) ? a->values_done : a->peer_done;
    out->setup_done = a->state == ST_RUN || a->state == ST_DONE;
}

uint64_t ovl_agg_threshold(const ovl_agg *a) { return a->threshold; }
uint64_t ovl_agg_peer_set_size(const ovl_agg *a) { return is_runner(a) ? a->m : a->N; }
size_t ovl_agg_tag_len(const ovl_agg *a) { return a->ell; }
const uint8_t *ovl_agg_transcript(const ovl_agg *a) { return a->transcript; }
size_t ovl_agg_value_count(const ovl_agg *a) { return a->nvalues; }
const char *ovl_agg_value_name(const ovl_agg *a, size_t i) { return a->values[i].name; }
unsigned ovl_agg_value_decimals(const ovl_agg *a, size_t i) { return a->values[i].decimals; }
size_t ovl_agg_groups_released(const ovl_agg *a) { return a->nreleased; }

ovl_err ovl_agg_group_result(const ovl_agg *a, size_t g, uint64_t *matched, bool *released,
                             const int64_t **sums)
{
    if (a->state != ST_DONE)
        return ovl_err_set(OVL_ERR_INTERNAL, "aggregate result requested before the run completed");
    if (!is_runner(a))
        return ovl_err_set(OVL_ERR_POLICY, "the contributor receives no output");
    if (g >= a->P)
        return ovl_err_set(OVL_ERR_USAGE, "no group %zu", g);
    size_t p = a->pos_of[g];
    *matched = a->matched[p];
    *released = a->released[g];
    *sums = a->released[g] ? a->results + g * (1 + a->nvalues) : NULL;
    return OVL_OK;
}
