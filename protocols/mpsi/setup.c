/* Setup frames of multi-party PSI (protocols/mpsi/SPEC.md §3.2, §3.4). */
#include "mpsi/setup.h"

#include <sodium.h>
#include <string.h>

#include "core/frame.h"
#include "core/guard.h"

static const char SESSION_TAG[] = "overlap-v1 mpsi session";
static const char DONE_TAG[] = "overlap-v1 mpsi done";

/* The analysis fields JOIN and LIST share. */
static ovl_err put_analysis(ovl_buf *b, unsigned k, ovl_mode mode, ovl_reveal reveal,
                            ovl_norm norm)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_put_u8(b, OVL_MPSI_SETUP_VERSION));
    OVL_TRY(ovl_buf_put_u8(b, (uint8_t)k));
    OVL_TRY(ovl_buf_put_u8(b, (uint8_t)mode));
    OVL_TRY(ovl_buf_put_u8(b, (uint8_t)reveal));
    OVL_TRY(ovl_buf_put_u8(b, (uint8_t)norm));
done:
    return rc;
}

static ovl_err get_analysis(ovl_buf *r, const char *what, unsigned *k, ovl_mode *mode,
                            ovl_reveal *reveal, ovl_norm *norm)
{
    uint8_t v[5];
    if (ovl_buf_get_bytes(r, v, sizeof v) != OVL_OK)
        return ovl_err_set(OVL_ERR_MALFORMED, "mpsi: a short %s", what);
    if (v[0] != OVL_MPSI_SETUP_VERSION)
        return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: %s of setup version %u (this build speaks %u)",
                           what, v[0], OVL_MPSI_SETUP_VERSION);
    if (v[1] < OVL_MPSI_MIN_MEMBERS || v[1] > OVL_MPSI_MAX_MEMBERS)
        return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: %s for %u members (3 to 10 take part)", what,
                           v[1]);
    if (v[2] != OVL_MODE_INTERSECTION && v[2] != OVL_MODE_CARDINALITY)
        return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: %s of mode %u", what, v[2]);
    if (v[3] != OVL_REVEAL_BOTH && v[3] != OVL_REVEAL_LISTENER)
        return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: %s of reveal setting %u", what, v[3]);
    if (v[4] > OVL_NORM_PHONE)
        return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: %s of normalisation %u", what, v[4]);
    *k = v[1];
    *mode = (ovl_mode)v[2];
    *reveal = (ovl_reveal)v[3];
    *norm = (ovl_norm)v[4];
    return OVL_OK;
}

ovl_err ovl_mpsi_join_write(ovl_buf *out, const ovl_mpsi_join *j)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_TRY(ovl_frame_begin(out, OVL_MPSI_JOIN, &mark));
    OVL_TRY(put_analysis(out, j->members, j->mode, j->reveal, j->norm));
    OVL_TRY(ovl_buf_put_u64(out, j->size));
    OVL_TRY(ovl_buf_put_bytes(out, j->nonce, 32));
    OVL_TRY(ovl_frame_end(out, mark));
done:
    return rc;
}

ovl_err ovl_mpsi_join_read(ovl_mpsi_join *j, const uint8_t *p, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf r;
    memset(j, 0, sizeof *j);
    ovl_buf_reader(&r, p, len);
    OVL_TRY(get_analysis(&r, "JOIN", &j->members, &j->mode, &j->reveal, &j->norm));
    OVL_ENSURE(ovl_buf_get_u64(&r, &j->size) == OVL_OK &&
                   ovl_buf_get_bytes(&r, j->nonce, 32) == OVL_OK && ovl_buf_remaining(&r) == 0,
               OVL_ERR_MALFORMED, "mpsi: a JOIN of %zu bytes (45 expected)", len);
    OVL_ENSURE(j->size <= OVL_MPSI_MAX_SET, OVL_ERR_LIMIT,
               "mpsi: a JOIN announcing %llu identifiers, over the cap of %u",
               (unsigned long long)j->size, OVL_MPSI_MAX_SET);
done:
    return rc;
}

/* The list's body: everything but the index, which differs per member. */
static ovl_err list_body(ovl_buf *b, const ovl_mpsi_list *l)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(put_analysis(b, l->members, l->mode, l->reveal, l->norm));
    for (unsigned i = 0; i < l->members; i++) {
        size_t n = strlen(l->name[i]);
        OVL_ENSURE(n >= 1 && n <= OVL_NAME_MAX, OVL_ERR_INTERNAL, "mpsi: member %u's name", i);
        OVL_TRY(ovl_buf_put_bytes(b, l->pk[i], OVL_PK_LEN));
        OVL_TRY(ovl_buf_put_u64(b, l->size[i]));
        OVL_TRY(ovl_buf_put_bytes(b, l->nonce[i], 32));
        OVL_TRY(ovl_buf_put_u8(b, (uint8_t)n));
        OVL_TRY(ovl_buf_put_bytes(b, l->name[i], n));
    }
done:
    return rc;
}

ovl_err ovl_mpsi_list_write(ovl_buf *out, const ovl_mpsi_list *l)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_TRY(ovl_frame_begin(out, OVL_MPSI_LIST, &mark));
    OVL_TRY(ovl_buf_put_u8(out, (uint8_t)l->index));
    OVL_TRY(list_body(out, l));
    OVL_TRY(ovl_frame_end(out, mark));
done:
    return rc;
}

/* Names as key files spell them: 1..64 of [A-Za-z0-9._-]. */
static bool name_ok(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              (p[i] >= '0' && p[i] <= '9') || p[i] == '.' || p[i] == '_' || p[i] == '-'))
            return false;
    return n >= 1 && n <= OVL_NAME_MAX;
}

static ovl_err get_member(ovl_buf *r, ovl_mpsi_list *l, unsigned i)
{
    uint8_t n;
    const uint8_t *name;
    if (ovl_buf_get_bytes(r, l->pk[i], OVL_PK_LEN) != OVL_OK ||
        ovl_buf_get_u64(r, &l->size[i]) != OVL_OK ||
        ovl_buf_get_bytes(r, l->nonce[i], 32) != OVL_OK || ovl_buf_get_u8(r, &n) != OVL_OK ||
        ovl_buf_get_ptr(r, n, &name) != OVL_OK)
        return ovl_err_set(OVL_ERR_MALFORMED, "mpsi: the member list ends inside member %u", i);
    if (!name_ok(name, n))
        return ovl_err_set(OVL_ERR_MALFORMED, "mpsi: member %u's name in the list is not a key "
                           "name (1 to 64 of A-Z a-z 0-9 . _ -)", i);
    if (l->size[i] > OVL_MPSI_MAX_SET)
        return ovl_err_set(OVL_ERR_LIMIT, "mpsi: member %u announced %llu identifiers, over the "
                           "cap of %u", i, (unsigned long long)l->size[i], OVL_MPSI_MAX_SET);
    memcpy(l->name[i], name, n);
    l->name[i][n] = '\0';
    for (unsigned j = 0; j < i; j++)
        if (memcmp(l->pk[j], l->pk[i], OVL_PK_LEN) == 0)
            return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: the member list holds one key twice "
                               "(members %u and %u)", j, i);
    return OVL_OK;
}

ovl_err ovl_mpsi_list_read(ovl_mpsi_list *l, const uint8_t *p, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf r;
    uint8_t idx;
    memset(l, 0, sizeof *l);
    ovl_buf_reader(&r, p, len);
    OVL_ENSURE(ovl_buf_get_u8(&r, &idx) == OVL_OK, OVL_ERR_MALFORMED, "mpsi: an empty LIST");
    OVL_TRY(get_analysis(&r, "member list", &l->members, &l->mode, &l->reveal, &l->norm));
    OVL_ENSURE(idx >= 1 && idx < l->members, OVL_ERR_PROTOCOL,
               "mpsi: the member list places this member at index %u of %u", idx, l->members);
    l->index = idx;
    for (unsigned i = 0; i < l->members; i++)
        OVL_TRY(get_member(&r, l, i));
    OVL_ENSURE(ovl_buf_remaining(&r) == 0, OVL_ERR_MALFORMED,
               "mpsi: %zu bytes after the member list", ovl_buf_remaining(&r));
done:
    return rc;
}

ovl_err ovl_mpsi_list_session(uint8_t sid[32], const ovl_mpsi_list *l)
{
    ovl_err rc = OVL_OK;
    ovl_buf b = {0};
    crypto_hash_sha256_state st;
    OVL_TRY(ovl_buf_alloc(&b, 1024, 4096));
    OVL_TRY(list_body(&b, l));
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)SESSION_TAG, sizeof SESSION_TAG - 1);
    crypto_hash_sha256_update(&st, b.data, b.wpos);
    crypto_hash_sha256_final(&st, sid);
done:
    ovl_buf_free(&b);
    return rc;
}

void ovl_mpsi_done_hash(uint8_t out[32], const uint8_t sid[32])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)DONE_TAG, sizeof DONE_TAG - 1);
    crypto_hash_sha256_update(&st, sid, 32);
    crypto_hash_sha256_final(&st, out);
}

ovl_err ovl_mpsi_sign_write(ovl_buf *out, const uint8_t sig[OVL_SIG_LEN])
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_TRY(ovl_frame_begin(out, OVL_MPSI_SIGN, &mark));
    OVL_TRY(ovl_buf_put_bytes(out, sig, OVL_SIG_LEN));
    OVL_TRY(ovl_frame_end(out, mark));
done:
    return rc;
}

ovl_err ovl_mpsi_sign_read(uint8_t sig[OVL_SIG_LEN], const uint8_t *p, size_t len)
{
    if (len != OVL_SIG_LEN)
        return ovl_err_set(OVL_ERR_MALFORMED, "mpsi: a SIGN of %zu bytes (%u expected)", len,
                           OVL_SIG_LEN);
    memcpy(sig, p, OVL_SIG_LEN);
    return OVL_OK;
}

ovl_err ovl_mpsi_sigs_write(ovl_buf *out, unsigned members, const uint8_t (*sigs)[OVL_SIG_LEN])
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_TRY(ovl_frame_begin(out, OVL_MPSI_SIGS, &mark));
    for (unsigned i = 0; i < members; i++)
        OVL_TRY(ovl_buf_put_bytes(out, sigs[i], OVL_SIG_LEN));
    OVL_TRY(ovl_frame_end(out, mark));
done:
    return rc;
}

ovl_err ovl_mpsi_sigs_read(uint8_t (*sigs)[OVL_SIG_LEN], unsigned members, const uint8_t *p,
                           size_t len)
{
    if (members > OVL_MPSI_MAX_MEMBERS || len != (size_t)members * OVL_SIG_LEN)
        return ovl_err_set(OVL_ERR_MALFORMED, "mpsi: a SIGS of %zu bytes (%u signatures "
                           "expected)", len, members);
    memcpy(sigs, p, len);
    return OVL_OK;
}
